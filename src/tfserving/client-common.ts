// What the two TF Serving clients share, whichever protocol they speak:
// TfServingClient speaks TF Serving's gRPC API, RestTfServingClient its REST
// API. Their options, the batch split, and the readiness wait.
import type { ImageInput } from '../types.js';
import type { CallOptions, DetectResult, ModelVersionInfo } from './client.js';
import { status as Status } from '@grpc/grpc-js';
import { errorForStatus, TfServingError } from './errors.js';
import type { LabelMap } from './label-map.js';
import type { DetectionSignature } from './signature.js';

/** What both clients are configured with, whichever protocol they speak. */
export interface ClientOptions {
  modelName: string;
  /** Default "serving_default". */
  signatureName?: string;
  /** Pin a version; default: the newest AVAILABLE one. */
  version?: number;
  /** Or pin a version label configured on the server. */
  versionLabel?: string;
  /** Deadline of every call, in ms. Default 10 000. */
  deadlineMs?: number;
  /** Detections below this score are dropped. Default 0 (keep all). */
  minScore?: number;
  /** Names for class ids. Default: COCO. */
  labelMap?: LabelMap;
  /** Largest answer accepted. Default 64 MiB (gRPC's own default is 4 MiB). */
  maxReceiveBytes?: number;
  /** Quality for frames sent as JPEG. Default 90. */
  jpegQuality?: number;
}

export type { CallOptions, DetectResult, ModelVersionInfo } from './client.js';

/** What the readiness wait needs of a client. */
export interface StatusSource {
  readonly modelName: string;
  readonly targets: readonly string[];
  modelStatus(options?: CallOptions): Promise<ModelVersionInfo[]>;
}


/** Calls in flight at once when a batch must be split (TF2 exports take one image per call). */
const SPLIT_CONCURRENCY = 4;

/**
 * Runs a batch too big for one call (TF2 exports take one image per call) in
 * parts of `maxBatch`, at most SPLIT_CONCURRENCY at once, in order; the first
 * failure cancels the parts still running instead of loading the server for nothing.
 */
export async function detectInParts(
  images: readonly ImageInput[],
  maxBatch: number,
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
      Array.from({ length: Math.min(SPLIT_CONCURRENCY, parts.length) }, async () => {
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

/**
 * Polls the model's status until a version is AVAILABLE; rejects with
 * DEADLINE_EXCEEDED after timeoutMs (naming the last state or error seen), or
 * CANCELLED when the signal aborts. The same wait for either protocol.
 */
export async function waitForAvailable(client: StatusSource, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const end = Date.now() + timeoutMs;
  let lastError = 'not AVAILABLE yet';
  while (Date.now() < end) {
    if (signal?.aborted) throw errorForStatus(Status.CANCELLED, 'aborted while waiting for the model', 'GetModelStatus');
    try {
      const versions = await client.modelStatus({ deadlineMs: Math.max(100, Math.min(2_000, end - Date.now())), signal });
      if (versions.some((v) => v.state === 'AVAILABLE')) return;
      lastError = versions.map((v) => `version ${v.version} ${v.state}${v.error ? ` (${v.error.message})` : ''}`).join(', ') || 'no versions';
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw errorForStatus(Status.DEADLINE_EXCEEDED, `model "${client.modelName}" at ${client.targets.join(',')} not ready after ${timeoutMs} ms: ${lastError}`, 'GetModelStatus');
}

/** Ready means a version of the model is AVAILABLE; a server that cannot say is not ready. */
export async function readyFromStatus(client: Pick<StatusSource, 'modelStatus'>, options?: CallOptions): Promise<boolean> {
  try {
    return (await client.modelStatus(options)).some((v) => v.state === 'AVAILABLE');
  } catch (err) {
    if (err instanceof TfServingError) return false;
    throw err;
  }
}
