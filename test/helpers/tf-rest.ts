// What the tests of TF Serving's REST API on the embedded model server share
// (rest-api.test.ts, rest-client.test.ts): a plain fetch with its JSON, the
// error a failing client call gives, and a frame in TF Serving's row format.
import { TfServingError } from '../../src/tfserving/errors.js';

export type Json = Record<string, unknown>;

/** A request with fetch, its body read as JSON (TF Serving answers JSON, errors included). */
export async function call(base: string, method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; json: Json; text: string; type: string | null }> {
  const res = await fetch(`${base}${path}`, { method, body });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Json, text, type: res.headers.get('content-type') };
}

/** The TfServingError `p` rejects with; throws if it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<TfServingError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof TfServingError)) throw new Error(`expected a TfServingError, got ${String(err)}`);
  return err;
}

/** An RGB frame as the nested [H][W][3] lists of TF Serving's row format. */
export function nested(frame: { width: number; height: number; data: Uint8Array }): number[][][] {
  return Array.from({ length: frame.height }, (_, y) =>
    Array.from({ length: frame.width }, (_, x) => {
      const o = (y * frame.width + x) * 3;
      return [frame.data[o], frame.data[o + 1], frame.data[o + 2]];
    }));
}

/** A small grey frame: the synthetic model answers any frame with the same three detections. */
export const tiny = { kind: 'rgb' as const, width: 8, height: 6, data: new Uint8Array(8 * 6 * 3).fill(90) };
