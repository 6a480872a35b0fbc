// What the two TF Serving clients share, whichever protocol they speak:
// TfServingClient speaks TF Serving's gRPC API, RestTfServingClient its REST
// API. Their options and result types, the signature cache, detect()'s batch
// split, the RGB batch checks, and the readiness wait.
import { status as Status } from '@grpc/grpc-js';
import type { Detection, ImageInput } from '../types.js';
import { abortable, onAbort } from '../util/abortable.js';
import { LookoutError } from '../util/errors.js';
import { errorForStatus, InvalidRequestError, ModelNotFoundError, TfServingError } from './errors.js';
import type { ModelVersionStatus__Output } from './generated/tensorflow/serving/ModelVersionStatus.js';
import { toRgb, type RgbImage } from './image-codec.js';
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

export interface CallOptions {
  deadlineMs?: number;
  signal?: AbortSignal;
}

export type ModelVersionState = ModelVersionStatus__Output['state'];

export interface ModelVersionInfo {
  version: number;
  state: ModelVersionState;
  error?: { code: string; message: string };
}

/** The result of one detect() call: one list per image, in order. */
export interface DetectResult {
  detections: Detection[][];
  modelVersion: number;
  /** The replica that answered (the last one, if the batch was split). */
  target: string;
}

export class ImageBatchError extends LookoutError {
  readonly code = 'IMAGE_BATCH_MIXED_SIZES';
}

/** What the readiness wait needs of a client. */
export interface StatusSource {
  readonly modelName: string;
  readonly targets: readonly string[];
  modelStatus(options?: CallOptions): Promise<ModelVersionInfo[]>;
}

/**
 * The serving signature, discovered once and shared: concurrent callers wait
 * for one discovery call, which runs with the client's own deadline, so one
 * caller's abort only stops that caller's wait. A failed discovery is retried
 * on the next call rather than cached.
 */
export class SignatureCache {
  private pending: Promise<DetectionSignature> | undefined;

  constructor(private readonly discover: () => Promise<DetectionSignature>) {}

  get(signal?: AbortSignal): Promise<DetectionSignature> {
    if (!this.pending) {
      const pending = this.discover();
      this.pending = pending;
      pending.catch(() => {
        if (this.pending === pending) this.pending = undefined;
      });
    }
    if (signal?.aborted) return Promise.reject(errorForStatus(Status.CANCELLED, 'aborted before the call', 'GetModelMetadata'));
    return abortable(this.pending, signal, () => errorForStatus(Status.CANCELLED, 'aborted while waiting', 'GetModelMetadata'));
  }

  forget(): void {
    this.pending = undefined;
  }

  /** After a failed Predict: a new model version may have a different signature, so rediscover next time. */
  forgetIfStale(err: unknown): void {
    if (err instanceof ModelNotFoundError || err instanceof InvalidRequestError) this.forget();
  }
}

/** Calls in flight at once when a batch must be split (TF2 exports take one image per call). */
const SPLIT_CONCURRENCY = 4;

/**
 * detect() of either client: no call for no images; one call for a batch the
 * signature takes whole; else parts of maxBatch (TF2 exports take one image
 * per call), at most SPLIT_CONCURRENCY at once, in order, where the first
 * failure cancels the parts still running instead of loading the server for nothing.
 */
export async function detectInBatches(
  images: readonly ImageInput[],
  options: CallOptions | undefined,
  signatureOf: (options?: CallOptions) => Promise<DetectionSignature>,
  run: (batch: readonly ImageInput[], signature: DetectionSignature, options?: CallOptions) => Promise<DetectResult>,
): Promise<DetectResult> {
  if (images.length === 0) return { detections: [], modelVersion: 0, target: '' };
  const signature = await signatureOf(options);
  const { maxBatch } = signature;
  if (images.length <= maxBatch) return run(images, signature, options);

  const parts: ImageInput[][] = [];
  for (let i = 0; i < images.length; i += maxBatch) parts.push(images.slice(i, i + maxBatch));
  const controller = new AbortController();
  const stopListening = onAbort(options?.signal, () => controller.abort());
  const results: DetectResult[] = new Array(parts.length);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(SPLIT_CONCURRENCY, parts.length) }, async () => {
        while (next < parts.length) {
          const i = next++;
          results[i] = await run(parts[i], signature, { ...options, signal: controller.signal });
        }
      }),
    );
  } catch (err) {
    controller.abort();
    throw err;
  } finally {
    stopListening();
  }
  const last = results[results.length - 1];
  return { detections: results.flatMap((r) => r.detections), modelVersion: last.modelVersion, target: last.target };
}

/** A batch's images as RGB: one size for all, each the byte length that size needs. */
export async function rgbBatch(images: readonly ImageInput[]): Promise<RgbImage[]> {
  const rgb = await Promise.all(images.map(toRgb));
  const { width, height } = rgb[0];
  for (const img of rgb) {
    if (img.width !== width || img.height !== height) {
      throw new ImageBatchError(`a batch must hold images of one size: got ${width}x${height} and ${img.width}x${img.height}`);
    }
    if (img.data.byteLength !== width * height * 3) {
      throw new ImageBatchError(`an RGB image of ${width}x${height} needs ${width * height * 3} bytes, got ${img.data.byteLength}`);
    }
  }
  return rgb;
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
