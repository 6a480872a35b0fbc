// A typed TF Serving client for object detectors: discovers the serving
// signature, sends frames, and returns detections.
import * as grpc from '@grpc/grpc-js';
import type { ImageInput } from '../types.js';
import { onAbort } from '../util/abortable.js';
import { ReplicaSet, parseTargets, type Replica } from './channels.js';
import { decodeDetections } from './detections.js';
import { errorForStatus, fromCallError, InvalidRequestError } from './errors.js';
import { toJpeg } from './image-codec.js';
import { cocoLabelMap, type LabelMap } from './label-map.js';
import { SIGNATURE_DEF_MAP_TYPE_URL, tfServingProtos } from './protos.js';
import { detectionSignature, SignatureError, type DetectionSignature } from './signature.js';
import { floatTensor, stringTensor, uint8Tensor } from './tensor.js';
import type { ModelSpec } from './generated/tensorflow/serving/ModelSpec.js';
import type { PredictRequest } from './generated/tensorflow/serving/PredictRequest.js';
import type { PredictResponse__Output } from './generated/tensorflow/serving/PredictResponse.js';
import type { GetModelStatusResponse__Output } from './generated/tensorflow/serving/GetModelStatusResponse.js';
import type { GetModelMetadataResponse__Output } from './generated/tensorflow/serving/GetModelMetadataResponse.js';
import {
  detectInBatches,
  readyFromStatus,
  rgbBatch,
  SignatureCache,
  waitForAvailable,
  type CallOptions,
  type ClientOptions,
  type DetectResult,
  type ModelVersionInfo,
} from './client-common.js';

// client.js is the import README documents for library use, so the types and
// the error a caller of detect() meets are exported here too, though both
// clients share them from client-common.ts.
export {
  ImageBatchError,
  type CallOptions,
  type DetectResult,
  type ModelVersionInfo,
  type ModelVersionState,
} from './client-common.js';

export interface TfServingClientOptions extends ClientOptions {
  /** "host:port", several (array or comma-separated), or "dns:NAME:PORT". */
  address: string | readonly string[];
  credentials?: grpc.ChannelCredentials;
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
  private readonly signatures = new SignatureCache(() => this.discover());
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
      let stopListening: (() => void) | undefined;
      const call = bind(replica)(request, new grpc.Metadata(), { deadline }, (err, response) => {
        stopListening?.();
        if (err) reject(fromCallError(err, method));
        else if (response === undefined) reject(errorForStatus(grpc.status.INTERNAL, 'empty response', method));
        else resolve(response);
      });
      stopListening = onAbort(signal, () => call.cancel());
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
   * The serving signature, learned once with GetModelMetadata and cached;
   * one caller's abort only stops that caller's wait.
   */
  async signature(options?: CallOptions): Promise<DetectionSignature> {
    return this.signatures.get(options?.signal);
  }

  /** Forgets the cached signature, e.g. after the server loaded a new version. */
  forgetSignature(): void {
    this.signatures.forget();
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
  detect(images: readonly ImageInput[], options?: CallOptions): Promise<DetectResult> {
    return detectInBatches(images, options, (o) => this.signature(o), (batch, signature, o) => this.detectBatch(batch, signature, o));
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
      this.signatures.forgetIfStale(err);
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
    const rgb = await rgbBatch(images);
    const { width, height } = rgb[0];
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
