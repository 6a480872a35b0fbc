// lookout's embedded model server: TF Serving's gRPC API (PredictionService
// Predict and GetModelMetadata, ModelService GetModelStatus) in front of a
// detector running in worker threads, so the same client code talks to it
// and to a real TF Serving.
import * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { TfServingError, InvalidRequestError, ModelNotFoundError, ServerError } from '../tfserving/errors.js';
import { SIGNATURE_DEF_MAP_TYPE_URL, tfServingProtos } from '../tfserving/protos.js';
import { floatTensor } from '../tfserving/tensor.js';
import { cocoLabelMap, type LabelMap } from '../tfserving/label-map.js';
import type { ModelSpec__Output } from '../tfserving/generated/tensorflow/serving/ModelSpec.js';
import type { PredictRequest__Output } from '../tfserving/generated/tensorflow/serving/PredictRequest.js';
import type { PredictResponse } from '../tfserving/generated/tensorflow/serving/PredictResponse.js';
import type { GetModelMetadataRequest__Output } from '../tfserving/generated/tensorflow/serving/GetModelMetadataRequest.js';
import type { GetModelMetadataResponse } from '../tfserving/generated/tensorflow/serving/GetModelMetadataResponse.js';
import type { GetModelStatusRequest__Output } from '../tfserving/generated/tensorflow/serving/GetModelStatusRequest.js';
import type { GetModelStatusResponse } from '../tfserving/generated/tensorflow/serving/GetModelStatusResponse.js';
import type { ModelVersionStatus } from '../tfserving/generated/tensorflow/serving/ModelVersionStatus.js';
import type { TensorProto } from '../tfserving/generated/tensorflow/TensorProto.js';
import { MAX_DETECTIONS, type DetectorOutput } from './centernet.js';
import type { Detector } from './detector.js';
import { InferencePool } from './inference-pool.js';
import { resolveServedVersion } from './model-repository.js';
import { checkInputAliases, checkOutputFilter, MAX_REQUEST_BYTES, planImageInput, type ImageInputPlan } from './predict-request.js';
import { RestApi, type RestApiOptions } from './rest-api.js';
import { DEFAULT_SIGNATURE, SIGNATURES, type OutputAlias } from './signatures.js';
import { SyntheticDetector } from './synthetic-detector.js';

export interface ModelServerOptions {
  /** Name clients put in model_spec.name. Default "detector". */
  modelName?: string;
  /** "centernet" (the real COCO detector, default) or "synthetic". */
  model?: 'centernet' | 'synthetic';
  /** TF Serving-style versioned directory; default: the bundled CenterNet as version 1. */
  modelBasePath?: string;
  /** Worker threads for the real model; default one per core. */
  workers?: number;
  /** Niceness of the real model's worker threads (0-19); default 10, so inference yields busy cores. */
  workerNice?: number;
  /** Frames that may wait for a worker before requests get RESOURCE_EXHAUSTED. */
  maxQueue?: number;
  /** Detections scoring below this are not returned. Default 0.05. */
  scoreThreshold?: number;
  /** Synthetic model: delay per request. */
  latencyMs?: number;
  /** Synthetic model: added delay per frame of a batch. */
  perFrameMs?: number;
  /** Synthetic model: requests served at once. */
  capacity?: number;
  /** Answer with tensor_content instead of typed *_val fields, as TF Serving's flag of the same name. */
  serializeAsTensorContent?: boolean;
  /** Label map whose ids the model's class indexes map onto. Default: COCO. */
  labelMap?: LabelMap;
  log?: (line: string) => void;
}

type VersionState = ModelVersionStatus['state'] & string;

/** TF Serving cuts error messages at 1024 characters. */
function truncate(details: string): string {
  return details.length > 1024 ? `${details.slice(0, 1024)}...TRUNCATED` : details;
}

function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  if (err instanceof TfServingError) return { code: err.code, details: truncate(err.details) };
  return { code: Status.INTERNAL, details: truncate(err instanceof Error ? err.message : String(err)) };
}

function concat(outputs: readonly DetectorOutput[], pick: (o: DetectorOutput) => Float32Array): Float32Array {
  if (outputs.length === 1) return pick(outputs[0]);
  const size = pick(outputs[0]).length;
  const all = new Float32Array(outputs.length * size);
  outputs.forEach((o, i) => all.set(pick(o), i * size));
  return all;
}

export class ModelServer {
  readonly modelName: string;
  readonly version: number;
  private readonly detector: Detector;
  private readonly server: grpc.Server;
  private readonly tensorContent: boolean;
  private readonly log: (line: string) => void;
  private state: VersionState = 'START';
  private loadError: Error | undefined;
  private boundPort = 0;
  private rest: RestApi | undefined;
  private closing: Promise<void> | undefined;
  /** Settles when the model is AVAILABLE, or rejects with why it is not. */
  readonly loaded: Promise<void>;
  private resolveLoaded!: () => void;
  private rejectLoaded!: (err: Error) => void;

  constructor(options: ModelServerOptions = {}) {
    this.modelName = options.modelName ?? 'detector';
    this.tensorContent = options.serializeAsTensorContent ?? false;
    this.log = options.log ?? (() => undefined);
    this.loaded = new Promise<void>((resolve, reject) => {
      this.resolveLoaded = resolve;
      this.rejectLoaded = reject;
    });
    // Callers that only poll state must not see an unhandled rejection.
    this.loaded.catch(() => undefined);

    if ((options.model ?? 'centernet') === 'synthetic') {
      this.version = 1;
      this.detector = new SyntheticDetector({
        latencyMs: options.latencyMs ?? 20,
        perFrameMs: options.perFrameMs,
        capacity: options.capacity ?? 1,
        maxQueue: options.maxQueue,
      });
    } else {
      const served = resolveServedVersion(options.modelBasePath);
      this.version = served.version;
      // The model knows 80 class indexes; they map in order onto the label map's ids.
      const classIds = (options.labelMap ?? cocoLabelMap()).ids();
      this.detector = new InferencePool({
        modelJsonPath: served.modelJsonPath,
        classIds,
        scoreThreshold: options.scoreThreshold ?? 0.05,
        workers: options.workers,
        nice: options.workerNice,
        maxQueue: options.maxQueue,
      });
    }

    this.server = new grpc.Server({
      // TF Serving takes messages up to 2 GiB; a CPU server taking 64 full-HD
      // frames at most needs far less, and a smaller bound caps what one call can cost.
      'grpc.max_receive_message_length': MAX_REQUEST_BYTES + 1024 * 1024,
      'grpc.max_send_message_length': -1,
      // Calls beyond this per connection wait in HTTP/2 instead of piling up decoded here.
      'grpc.max_concurrent_streams': 256,
    });
    const protos = tfServingProtos();
    this.server.addService(protos.prediction.tensorflow.serving.PredictionService.service, {
      Predict: this.unary((req: PredictRequest__Output, signal) => this.predict(req, signal)),
      GetModelMetadata: this.unary((req: GetModelMetadataRequest__Output) => this.metadata(req)),
    });
    this.server.addService(protos.model.tensorflow.serving.ModelService.service, {
      GetModelStatus: this.unary((req: GetModelStatusRequest__Output) => this.status(req)),
    });
  }

  /** Whether close() has been called. */
  private get closed(): boolean {
    return this.closing !== undefined;
  }

  get description(): string {
    return this.detector.description;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The REST API's port, 0 until listenRest() has bound it. */
  get restPort(): number {
    return this.rest?.port ?? 0;
  }

  /** Version state as GetModelStatus reports it. */
  get modelState(): { version: number; state: VersionState; error?: string } {
    return { version: this.version, state: this.state, ...(this.loadError ? { error: this.loadError.message } : {}) };
  }

  stats() {
    return this.detector.stats();
  }

  /**
   * Binds the port (0 picks a free one) and starts loading the model. Calls
   * are answered at once; Predict gets NOT_FOUND until the model is AVAILABLE,
   * as TF Serving answers while a version loads.
   */
  async listen(port = 8500, host = '0.0.0.0'): Promise<number> {
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    if (this.closed) throw new ServerError(Status.UNAVAILABLE, 'model server closed');
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${hostPart}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    // close() may have run while the port was being bound: unbind what the bind just opened, load nothing.
    if (this.closed) {
      this.server.forceShutdown();
      throw new ServerError(Status.UNAVAILABLE, 'model server closed');
    }
    this.startLoading();
    return this.boundPort;
  }

  /**
   * Also serves TF Serving's REST API (`/v1/models/…`, as TF Serving's
   * --rest_api_port does) on its own port; 0 picks a free one. It answers from
   * the same model and the same predict path as gRPC, and starts loading the
   * model if listen() has not.
   */
  async listenRest(port = 8501, host = '0.0.0.0', options: RestApiOptions = {}): Promise<number> {
    if (this.closed) throw new ServerError(Status.UNAVAILABLE, 'model server closed');
    if (this.rest) throw new Error(`the REST API already listens on port ${this.rest.port}`);
    const rest = new RestApi({
      modelName: this.modelName,
      version: this.version,
      findServable: (name, version, label) => this.findServable(name, version, label),
      predict: (plan, signal) => this.runDetector(plan, signal),
      status: (name, version, label) => this.statusOf(name, version, label),
    }, options);
    this.rest = rest;
    let bound: number;
    try {
      bound = await rest.listen(port, host);
    } catch (err) {
      this.rest = undefined;
      throw err;
    }
    if (this.closed) {
      await rest.close(0);
      throw new ServerError(Status.UNAVAILABLE, 'model server closed');
    }
    this.startLoading();
    return bound;
  }

  /** Starts loading the model once, on the first listen. */
  private startLoading(): void {
    if (this.state !== 'START') return;
    this.state = 'LOADING';
    this.detector.load().then(
      () => {
        if (this.closed) return;
        this.state = 'AVAILABLE';
        this.log(`model "${this.modelName}" version ${this.version} AVAILABLE: ${this.detector.description}`);
        this.resolveLoaded();
      },
      (err: Error) => {
        // A load cut short by close() is no load failure.
        if (this.closed) return;
        this.state = 'END';
        this.loadError = err;
        this.log(`model "${this.modelName}" version ${this.version} failed to load: ${err.message}`);
        this.rejectLoaded(err);
      },
    );
  }

  private unary<Req, Res>(handler: (request: Req, signal: AbortSignal) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const controller = new AbortController();
      const onCancel = (): void => controller.abort();
      call.on('cancelled', onCancel);
      Promise.resolve()
        .then(() => handler(call.request, controller.signal))
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(toServiceError(err)),
        )
        .finally(() => call.off('cancelled', onCancel));
    };
  }

  /** Checks model_spec the way TF Serving's servable lookup does. */
  private checkSpec(spec: ModelSpec__Output | null): ModelSpec__Output {
    if (!spec) throw new InvalidRequestError(Status.INVALID_ARGUMENT, 'Missing ModelSpec');
    const requested = spec.version_choice === 'version' && spec.version ? Number(spec.version.value) : undefined;
    this.findServable(spec.name, requested, spec.version_choice === 'version_label' ? spec.version_label : undefined);
    return spec;
  }

  /** TF Serving's servable lookup, shared by gRPC and REST: NOT_FOUND unless that version is AVAILABLE. */
  private findServable(name: string, requested: number | undefined, label: string | undefined): void {
    if (!name) throw new InvalidRequestError(Status.INVALID_ARGUMENT, 'ModelSpec has no name specified.');
    if (label !== undefined) throw new InvalidRequestError(Status.INVALID_ARGUMENT, `Unrecognized servable version label: ${label}`);
    const what = requested === undefined ? `Latest(${name})` : `Specific(${name}, ${requested})`;
    if (name !== this.modelName || this.state !== 'AVAILABLE' || (requested !== undefined && requested !== this.version)) {
      throw new ModelNotFoundError(Status.NOT_FOUND, `Servable not found for request: ${what}`);
    }
  }

  private signatureFor(spec: ModelSpec__Output) {
    const name = spec.signature_name || DEFAULT_SIGNATURE;
    const signature = SIGNATURES[name];
    if (!signature) throw new InvalidRequestError(Status.FAILED_PRECONDITION, `Serving signature key "${name}" not found.`);
    return { name, ...signature };
  }

  private async predict(request: PredictRequest__Output, signal: AbortSignal): Promise<PredictResponse> {
    const spec = this.checkSpec(request.model_spec);
    const signature = this.signatureFor(spec);
    const plan = planImageInput(checkInputAliases(request.inputs), signature.kind);
    const wanted = checkOutputFilter(request.output_filter);
    const results = await this.runDetector(plan, signal);
    const n = results.length;
    const tensors: Record<OutputAlias, () => TensorProto> = {
      detection_boxes: () => floatTensor([n, MAX_DETECTIONS, 4], concat(results, (o) => o.boxes), this.tensorContent),
      detection_scores: () => floatTensor([n, MAX_DETECTIONS], concat(results, (o) => o.scores), this.tensorContent),
      detection_classes: () => floatTensor([n, MAX_DETECTIONS], concat(results, (o) => o.classes), this.tensorContent),
      num_detections: () => floatTensor([n], Float32Array.from(results, (o) => o.num), this.tensorContent),
    };
    const outputs: Record<string, TensorProto> = {};
    for (const alias of wanted) outputs[alias] = tensors[alias]();
    return { model_spec: { name: this.modelName, version: { value: this.version }, signature_name: signature.name }, outputs };
  }

  /** The one predict path of gRPC and REST: queue room, then decoding, then the detector. */
  private async runDetector(plan: ImageInputPlan, signal: AbortSignal): Promise<DetectorOutput[]> {
    // Hold queue room before decoding anything: a full server refuses at the cost of a check.
    const reservation = this.detector.reserve(plan.count);
    let frames;
    try {
      frames = await plan.decode();
    } catch (err) {
      reservation.release();
      throw err;
    }
    return this.detector.detect(frames, reservation, signal);
  }

  private metadata(request: GetModelMetadataRequest__Output): GetModelMetadataResponse {
    if (!request.model_spec) throw new InvalidRequestError(Status.INVALID_ARGUMENT, 'Missing ModelSpec');
    if (request.metadata_field.length === 0) {
      throw new InvalidRequestError(Status.INVALID_ARGUMENT, 'GetModelMetadataRequest must specify at least one metadata_field');
    }
    for (const field of request.metadata_field) {
      if (field !== 'signature_def') throw new InvalidRequestError(Status.INVALID_ARGUMENT, `Metadata field ${field} is not supported`);
    }
    this.checkSpec(request.model_spec);
    const signatureDefs = Object.fromEntries(Object.entries(SIGNATURES).map(([name, s]) => [name, s.def]));
    return {
      model_spec: { name: this.modelName, version: { value: this.version } },
      metadata: {
        signature_def: { type_url: SIGNATURE_DEF_MAP_TYPE_URL, value: tfServingProtos().encodeSignatureDefMap({ signature_def: signatureDefs }) },
      },
    };
  }

  private status(request: GetModelStatusRequest__Output): GetModelStatusResponse {
    const spec = request.model_spec;
    if (!spec) throw new InvalidRequestError(Status.INVALID_ARGUMENT, 'Missing ModelSpec');
    const requested = spec.version_choice === 'version' && spec.version ? Number(spec.version.value) : undefined;
    return { model_version_status: [this.statusOf(spec.name, requested, spec.version_choice === 'version_label' ? spec.version_label : undefined)] };
  }

  /** GetModelStatus's answer for one model, shared by gRPC and REST. */
  private statusOf(name: string, requested: number | undefined, label: string | undefined) {
    if (name !== this.modelName) throw new ModelNotFoundError(Status.NOT_FOUND, `Could not find any versions of model ${name}`);
    if (label !== undefined) throw new InvalidRequestError(Status.INVALID_ARGUMENT, `Unrecognized servable version label: ${label}`);
    if (requested !== undefined && requested !== this.version) {
      throw new ModelNotFoundError(Status.NOT_FOUND, `Could not find version ${requested} of model ${name}`);
    }
    const status = this.loadError
      ? { error_code: 'UNKNOWN' as const, error_message: this.loadError.message }
      : { error_code: 'OK' as const, error_message: '' };
    return { version: this.version, state: this.state, status };
  }

  /**
   * Stops taking calls, lets in-flight ones finish for up to graceMs, then
   * cuts the rest and stops the workers. Safe to call twice.
   */
  close(graceMs = 5_000): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.state = 'END';
    const grpcDone = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await Promise.all([grpcDone, this.rest?.close(graceMs)]);
    await this.detector.close();
    this.rejectLoaded(new ServerError(Status.UNAVAILABLE, 'model server closed'));
  }
}

