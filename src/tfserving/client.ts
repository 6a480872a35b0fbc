// A typed TF Serving client for object detectors: discovers the serving
// signature, sends frames, and returns detections.
import * as grpc from '@grpc/grpc-js';
import type { Detection, ImageInput } from '../types.js';
import { LookoutError } from '../util/errors.js';
import { ReplicaSet, parseTargets, type Replica } from './channels.js';
import { decodeDetections } from './detections.js';
import { errorForStatus, fromCallError, InvalidRequestError, ModelNotFoundError } from './errors.js';
import { toJpeg, toRgb } from './image-codec.js';
import { cocoLabelMap, type LabelMap } from './label-map.js';
import { SIGNATURE_DEF_MAP_TYPE_URL, tfServingProtos } from './protos.js';
import { detectionSignature, SignatureError, type DetectionSignature } from './signature.js';
import { floatTensor, stringTensor, uint8Tensor } from './tensor.js';
import type { ModelSpec } from './generated/tensorflow/serving/ModelSpec.js';
import type { PredictRequest } from './generated/tensorflow/serving/PredictRequest.js';
import type { PredictResponse__Output } from './generated/tensorflow/serving/PredictResponse.js';
import type { GetModelStatusResponse__Output } from './generated/tensorflow/serving/GetModelStatusResponse.js';
import type { GetModelMetadataResponse__Output } from './generated/tensorflow/serving/GetModelMetadataResponse.js';
import type { ModelVersionStatus__Output } from './generated/tensorflow/serving/ModelVersionStatus.js';
import { detectInParts, readyFromStatus, waitForAvailable, type ClientOptions } from './client-common.js';

export interface TfServingClientOptions extends ClientOptions {
  /** "host:port", several (array or comma-separated), or "dns:NAME:PORT". */
  address: string | readonly string[];
  credentials?: grpc.ChannelCredentials;
}

export interface CallOptions {
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** Lets a caller stop waiting for a shared promise without cancelling it for the others. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, method: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(errorForStatus(grpc.status.CANCELLED, 'aborted before the call', method));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(errorForStatus(grpc.status.CANCELLED, 'aborted while waiting', method));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class ImageBatchError extends LookoutError {
  readonly code = 'IMAGE_BATCH_MIXED_SIZES';
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

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall;

export class TfServingClient {
  readonly targets: readonly string[];
  readonly modelName: string;
  readonly signatureName: string;
  private readonly replicas: ReplicaSet;
  private readonly deadlineMs: number;
  private readonly minScore: number;
  private readonly labelMap: LabelMap;
  private readonly jpegQuality: number;
  private readonly version: number | undefined;
  private readonly versionLabel: string | undefined;
  private signaturePromise: Promise<DetectionSignature> | undefined;
  private closed = false;

  constructor(options: TfServingClientOptions) {
    if (!options.modelName) throw new TypeError('TfServingClient: modelName is required');
    this.targets = parseTargets(options.address);
    this.modelName = options.modelName;
    this.signatureName = options.signatureName || 'serving_default';
    this.deadlineMs = options.deadlineMs ?? 10_000;
    this.minScore = options.minScore ?? 0;
    this.labelMap = options.labelMap ?? cocoLabelMap();
    this.jpegQuality = options.jpegQuality ?? 90;
    this.version = options.version;
    this.versionLabel = options.versionLabel;
    if (this.version !== undefined && this.versionLabel !== undefined) {
      throw new TypeError('TfServingClient: give version or versionLabel, not both');
    }
    this.replicas = new ReplicaSet(this.targets, {
      maxReceiveBytes: options.maxReceiveBytes ?? 64 * 1024 * 1024,
      credentials: options.credentials ?? grpc.credentials.createInsecure(),
    });
  }

  private modelSpec(withSignature: boolean): ModelSpec {
    const spec: ModelSpec = { name: this.modelName };
    if (withSignature) spec.signature_name = this.signatureName;
    if (this.version !== undefined) spec.version = { value: this.version };
    else if (this.versionLabel !== undefined) spec.version_label = this.versionLabel;
    return spec;
  }

  private call<Req, Res>(
    method: string,
    bind: (replica: Replica) => Unary<Req, Res>,
    request: Req,
    options: CallOptions = {},
    replica = this.replicas.pick(),
  ): Promise<Res> {
    if (this.closed) return Promise.reject(errorForStatus(grpc.status.CANCELLED, 'client is closed', method));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(errorForStatus(grpc.status.CANCELLED, 'aborted before the call', method));
    const deadline = new Date(Date.now() + (options.deadlineMs ?? this.deadlineMs));
    return new Promise<Res>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const call = bind(replica)(request, new grpc.Metadata(), { deadline }, (err, response) => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        if (err) reject(fromCallError(err, method));
        else if (response === undefined) reject(errorForStatus(grpc.status.INTERNAL, 'empty response', method));
        else resolve(response);
      });
      if (signal) {
        onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /** Every version the server reports for this model. */
  async modelStatus(options?: CallOptions): Promise<ModelVersionInfo[]> {
    const spec = this.modelSpec(false);
    const response = await this.call<{ model_spec: ModelSpec }, GetModelStatusResponse__Output>(
      'GetModelStatus',
      (r) => r.model.GetModelStatus.bind(r.model) as Unary<{ model_spec: ModelSpec }, GetModelStatusResponse__Output>,
      { model_spec: spec },
      options,
    );
    return response.model_version_status.map((s) => ({
      version: Number(s.version),
      state: s.state,
      ...(s.status && s.status.error_code !== 'OK' ? { error: { code: s.status.error_code, message: s.status.error_message } } : {}),
    }));
  }

  /** Ready means a version of the model is AVAILABLE (as GetModelStatus reports). */
  ready(options?: CallOptions): Promise<boolean> {
    return readyFromStatus(this, options);
  }

  /** Polls until ready, for at most timeoutMs. */
  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return waitForAvailable(this, timeoutMs, signal);
  }


  /**
   * The serving signature, learned once with GetModelMetadata and cached.
   * Concurrent callers share one discovery call, which runs with the client's
   * own deadline: one caller's abort only stops that caller's wait.
   */
  async signature(options?: CallOptions): Promise<DetectionSignature> {
    if (!this.signaturePromise) {
      const pending = this.discover();
      this.signaturePromise = pending;
      // A failed discovery is retried on the next call rather than cached.
      pending.catch(() => {
        if (this.signaturePromise === pending) this.signaturePromise = undefined;
      });
    }
    return abortable(this.signaturePromise, options?.signal, 'GetModelMetadata');
  }

  /** Forgets the cached signature, e.g. after the server loaded a new version. */
  forgetSignature(): void {
    this.signaturePromise = undefined;
  }

  private async discover(): Promise<DetectionSignature> {
    type Req = { model_spec: ModelSpec; metadata_field: string[] };
    const response = await this.call<Req, GetModelMetadataResponse__Output>(
      'GetModelMetadata',
      (r) => r.prediction.GetModelMetadata.bind(r.prediction) as Unary<Req, GetModelMetadataResponse__Output>,
      { model_spec: this.modelSpec(false), metadata_field: ['signature_def'] },
    );
    const packed = response.metadata['signature_def'];
    if (!packed) throw new SignatureError('GetModelMetadata answered without "signature_def" metadata');
    if (packed.type_url !== SIGNATURE_DEF_MAP_TYPE_URL) {
      throw new SignatureError(`signature_def metadata has type ${packed.type_url}, expected ${SIGNATURE_DEF_MAP_TYPE_URL}`);
    }
    const map = tfServingProtos().decodeSignatureDefMap(packed.value);
    const def = map.signature_def[this.signatureName];
    if (!def) {
      throw new InvalidRequestError(
        grpc.status.FAILED_PRECONDITION,
        `Serving signature key "${this.signatureName}" not found. The model has: ${Object.keys(map.signature_def).join(', ') || 'none'}`,
        'GetModelMetadata',
      );
    }
    return detectionSignature(this.signatureName, def, Number(response.model_spec?.version?.value ?? 0));
  }

  /** One raw Predict call, on the given replica or the next in turn. */
  predict(request: PredictRequest, options?: CallOptions, replica?: Replica): Promise<PredictResponse__Output> {
    return this.call<PredictRequest, PredictResponse__Output>(
      'Predict',
      // The generated client method is overloaded; this picks the (request, metadata, options, callback) form.
      (r) => r.prediction.Predict.bind(r.prediction) as Unary<PredictRequest, PredictResponse__Output>,
      request,
      options,
      replica,
    );
  }

  /**
   * Runs the detector on images; one call carries them all with a batch
   * dimension, unless the signature fixes the batch at 1, in which case the
   * images go in parallel calls.
   */
  async detect(images: readonly ImageInput[], options?: CallOptions): Promise<DetectResult> {
    if (images.length === 0) return { detections: [], modelVersion: 0, target: '' };
    const signature = await this.signature(options);
    if (images.length > signature.maxBatch) {
      return detectInParts(images, signature.maxBatch, (part, signal) => this.detectBatch(part, signature, { ...options, signal }), options?.signal);
    }
    return this.detectBatch(images, signature, options);
  }

  private async detectBatch(images: readonly ImageInput[], signature: DetectionSignature, options?: CallOptions): Promise<DetectResult> {
    const request: PredictRequest = {
      model_spec: this.modelSpec(true),
      inputs: { [signature.inputAlias]: await this.inputTensor(images, signature) },
      output_filter: [signature.outputs.boxes, signature.outputs.scores, signature.outputs.classes, ...(signature.outputs.numDetections ? [signature.outputs.numDetections] : [])],
    };
    const replica = this.replicas.pick();
    let response: PredictResponse__Output;
    try {
      response = await this.predict(request, options, replica);
    } catch (err) {
      // A new model version may have a different signature: rediscover next time.
      if (err instanceof ModelNotFoundError || err instanceof InvalidRequestError) this.forgetSignature();
      throw err;
    }
    const detections = decodeDetections(response.outputs, signature, images.length, { minScore: this.minScore, labelMap: this.labelMap });
    return { detections, modelVersion: Number(response.model_spec?.version?.value ?? signature.modelVersion), target: replica.target };
  }

  private async inputTensor(images: readonly ImageInput[], signature: DetectionSignature) {
    const n = images.length;
    if (signature.encoding === 'jpeg') {
      const jpegs = await Promise.all(images.map((img) => toJpeg(img, this.jpegQuality)));
      return stringTensor([n], jpegs);
    }
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
    const frameBytes = width * height * 3;
    const shape = [n, height, width, 3];
    if (signature.encoding === 'float') {
      const values = new Float32Array(n * frameBytes);
      rgb.forEach((img, i) => { for (let k = 0; k < frameBytes; k++) values[i * frameBytes + k] = img.data[k]; });
      return floatTensor(shape, values, true);
    }
    if (n === 1) return uint8Tensor(shape, rgb[0].data);
    const batch = Buffer.allocUnsafe(n * frameBytes);
    rgb.forEach((img, i) => batch.set(img.data, i * frameBytes));
    return uint8Tensor(shape, batch);
  }

  /** Closes every channel: calls in flight finish, new ones fail with CANCELLED. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.replicas.close();
  }
}
