// lookout's embedded model server: TF Serving's gRPC API (grpc-service.ts)
// and, on its own port, its REST API (rest-api.ts), both in front of one
// served model (served-model.ts) whose detector runs in worker threads, so the
// same client code talks to it and to a real TF Serving. This file picks the
// detector and owns the ports' lifecycle: listen, and close in order.
import { status as Status } from '@grpc/grpc-js';
import { ServerError } from '../tfserving/errors.js';
import { cocoLabelMap, type LabelMap } from '../tfserving/label-map.js';
import type { Detector } from './detector.js';
import { GrpcService } from './grpc-service.js';
import { InferencePool } from './inference-pool.js';
import { resolveServedVersion } from './model-repository.js';
import { RestApi, type RestApiOptions } from './rest-api.js';
import { TfServingMetrics } from './tf-metrics.js';
import { BatchingDetector, type BatchingOptions, type BatchingStats } from './batching.js';
import { ServedModel, type VersionState } from './served-model.js';
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
  /** TF Serving's metrics in its Prometheus format on the REST port at this path (--monitoring_config_file); absent: not served. */
  monitoringPath?: string;
  /** Server-side batching, as --enable_batching with --batching_parameters_file; absent: each request runs as it comes. */
  batching?: BatchingOptions;
  log?: (line: string) => void;
}

export class ModelServer {
  readonly modelName: string;
  readonly version: number;
  private readonly model: ServedModel;
  private readonly grpc: GrpcService;
  private rest: RestApi | undefined;
  /** TF Serving's own metrics, kept whether or not they are served. */
  readonly metrics = new TfServingMetrics();
  private readonly monitoringPath: string | undefined;
  private batcher: BatchingDetector | undefined;
  private closing: Promise<void> | undefined;
  /** Settles when the model is AVAILABLE, or rejects with why it is not. */
  readonly loaded: Promise<void>;

  constructor(options: ModelServerOptions = {}) {
    this.modelName = options.modelName ?? 'detector';
    let detector: Detector;
    // With batching, a batch already admitted (max_enqueued_batches) must find room at the model: every batch thread's whole batch.
    const maxQueue = options.batching ? Math.max(options.maxQueue ?? 0, options.batching.numBatchThreads * options.batching.maxBatchSize) : options.maxQueue;
    if ((options.model ?? 'centernet') === 'synthetic') {
      this.version = 1;
      detector = new SyntheticDetector({
        latencyMs: options.latencyMs ?? 20,
        perFrameMs: options.perFrameMs,
        capacity: options.capacity ?? 1,
        maxQueue,
      });
    } else {
      const served = resolveServedVersion(options.modelBasePath);
      this.version = served.version;
      // The model knows 80 class indexes; they map in order onto the label map's ids.
      const classIds = (options.labelMap ?? cocoLabelMap()).ids();
      detector = new InferencePool({
        modelJsonPath: served.modelJsonPath,
        classIds,
        scoreThreshold: options.scoreThreshold ?? 0.05,
        workers: options.workers,
        nice: options.workerNice,
        maxQueue,
      });
    }
    // --enable_batching: requests of all clients meet in batches before the model (batching.ts).
    if (options.batching) detector = this.batcher = new BatchingDetector(detector, options.batching);
    this.model = new ServedModel(this.modelName, this.version, detector, options.log ?? (() => undefined), (model, us) => this.metrics.runtime(model, 'Predict', us));
    this.loaded = this.model.loaded;
    this.grpc = new GrpcService(this.model, options.serializeAsTensorContent ?? false, this.metrics);
    this.monitoringPath = options.monitoringPath;
  }

  /** What server-side batching has done; undefined without it. */
  batchingStats(): BatchingStats | undefined {
    return this.batcher?.batchingStats();
  }

  /** Whether close() has been called. */
  private get closed(): boolean {
    return this.closing !== undefined;
  }

  get description(): string {
    return this.model.description;
  }

  get port(): number {
    return this.grpc.port;
  }

  /** The REST API's port, 0 until listenRest() has bound it. */
  get restPort(): number {
    return this.rest?.port ?? 0;
  }

  /** Version state as GetModelStatus reports it. */
  get modelState(): { version: number; state: VersionState; error?: string } {
    return this.model.modelState;
  }

  stats() {
    return this.model.stats();
  }

  /**
   * Binds the port (0 picks a free one) and starts loading the model. Calls
   * are answered at once; Predict gets NOT_FOUND until the model is AVAILABLE,
   * as TF Serving answers while a version loads.
   */
  async listen(port = 8500, host = '0.0.0.0'): Promise<number> {
    if (this.closed) throw new ServerError(Status.UNAVAILABLE, 'model server closed');
    const bound = await this.grpc.bind(port, host);
    // close() may have run while the port was being bound: unbind what the bind just opened, load nothing.
    if (this.closed) {
      this.grpc.forceShutdown();
      throw new ServerError(Status.UNAVAILABLE, 'model server closed');
    }
    this.model.startLoading();
    return bound;
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
    const rest = new RestApi(this.model, { metrics: this.metrics, ...(this.monitoringPath !== undefined ? { monitoringPath: this.monitoringPath } : {}), ...options });
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
    this.model.startLoading();
    return bound;
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
    this.model.stop();
    await Promise.all([this.grpc.close(graceMs), this.rest?.close(graceMs)]);
    await this.model.close();
  }
}
