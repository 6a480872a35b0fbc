// What lookout needs of a model server, whichever protocol reaches it:
// TfServingClient speaks TF Serving's gRPC API, RestTfServingClient its REST
// API. The scheduler, the HTTP routes and `lookout detect` hold a ModelClient.
import type { ImageInput } from '../types.js';
import type { CallOptions, DetectResult, ModelVersionInfo } from './client.js';
import type { DetectionSignature } from './signature.js';

export type { CallOptions, DetectResult, ModelVersionInfo } from './client.js';

export interface ModelClient {
  readonly modelName: string;
  readonly signatureName: string;
  /** Where calls go: gRPC targets, or the REST base URL. */
  readonly targets: readonly string[];
  /** Every version the server reports for the model. */
  modelStatus(options?: CallOptions): Promise<ModelVersionInfo[]>;
  /** Whether a version is AVAILABLE; false (not an error) when the server cannot say. */
  ready(options?: CallOptions): Promise<boolean>;
  /** Polls until a version is AVAILABLE; rejects with DEADLINE_EXCEEDED after timeoutMs. */
  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** The serving signature, discovered once from the model's metadata and cached. */
  signature(options?: CallOptions): Promise<DetectionSignature>;
  forgetSignature(): void;
  /** Detections per image, in order, named from the label map, below minScore left out. */
  detect(images: readonly ImageInput[], options?: CallOptions): Promise<DetectResult>;
  /** Calls in flight end or fail with CANCELLED; later ones fail at once. Safe to call twice. */
  close(): void;
}

/**
 * Runs a batch too big for one call (TF2 exports take one image per call) in
 * parts of `maxBatch`, at most `concurrency` at once, in order; the first
 * failure cancels the parts still running instead of loading the server for nothing.
 */
export async function detectInParts(
  images: readonly ImageInput[],
  maxBatch: number,
  concurrency: number,
  run: (part: readonly ImageInput[], signal: AbortSignal) => Promise<DetectResult>,
  signal?: AbortSignal,
): Promise<DetectResult> {
  const parts: ImageInput[][] = [];
  for (let i = 0; i < images.length; i += maxBatch) parts.push(images.slice(i, i + maxBatch));
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const results: DetectResult[] = new Array(parts.length);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, parts.length) }, async () => {
        while (next < parts.length) {
          const i = next++;
          results[i] = await run(parts[i], controller.signal);
        }
      }),
    );
  } catch (err) {
    controller.abort();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const last = results[results.length - 1];
  return { detections: results.flatMap((r) => r.detections), modelVersion: last.modelVersion, target: last.target };
}
