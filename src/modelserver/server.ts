// lookout's embedded model server: TF Serving's gRPC API (grpc-service.ts)
// and, on its own port, its REST API (rest-api.ts), both in front of one
// served model (served-model.ts) whose detector runs in worker threads, so the
// same client code talks to it and to a real TF Serving. This file picks the
// detector and owns the ports' lifecycle: listen, and close in order.
import { status as Status } from '@grpc/grpc-js';
import { ServerError } from '../tfserving/errors.js';
import { cocoLabelMap, type LabelMap } from '../tfserving/label-map.js';
import type { Detector, DetectorStats } from './detector.js';
import { GrpcService } from './grpc-service.js';
import { InferencePool } from './inference-pool.js';
import { resolveServedVersion } from './model-repository.js';
import { RestApi, type RestApiOptions } from './rest-api.js';
import { TfServingMetrics } from './tf-metrics.js';
import { BatchingDetector, type BatchingOptions, type BatchingStats } from './batching.js';
import { ServedModel, type VersionState } from './served-model.js';
import { SyntheticDetector } from './synthetic-detector.js';
import { ModelFleet } from './model-fleet.js';
import type { ModelServerConfig } from './model-config-file.js';
import { ModelConfigPoller } from './model-config-poller.js';
import { loadVersionDetector, SERVED_PLATFORMS } from './version-detectors.js';
import type { ServingCore } from './serving-core.js';

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
  /**
   * The models of a model config file (--model_config_file), already read and
   * checked; modelName, model and modelBasePath are then unused. With `file`
   * and `pollSeconds` > 0 the file is read again that often
   * (--model_config_file_poll_wait_seconds).
   */
  modelConfig?: { config: ModelServerConfig; file?: string; pollSeconds?: number };
  /** --file_system_poll_wait_seconds with a model config: 1 by default. */
  fileSystemPollSeconds?: number;
  /** --max_num_load_retries (5) and --load_retry_interval_micros in ms (60 000), with a model config. */
  maxLoadRetries?: number;
  loadRetryIntervalMs?: number;
  log?: (line: string) => void;
}

/** The detector of the one model served without a model config file, and its version. */
function singleDetector(options: ModelServerOptions, maxQueue: number | undefined): { detector: Detector; version: number } {
  if ((options.model ?? 'centernet') === 'synthetic') {
    return {
      version: 1,
      detector: new SyntheticDetector({ latencyMs: options.latencyMs ?? 20, perFrameMs: options.perFrameMs, capacity: options.capacity ?? 1, maxQueue }),
    };
  }
  const served = resolveServedVersion(options.modelBasePath);
  // The model knows 80 class indexes; they map in order onto the label map's ids.
  const classIds = (options.labelMap ?? cocoLabelMap()).ids();
  const detector = new InferencePool({
    modelJsonPath: served.modelJsonPath,
    classIds,
    scoreThreshold: options.scoreThreshold ?? 0.05,
    workers: options.workers,
    nice: options.workerNice,
    maxQueue,
  });
  return { detector, version: served.version };
}

export class ModelServer {
  /** The model's name; with a model config, the configured names, comma-separated. */
  readonly modelName: string;
  /** The version served; 0 with a model config (each model has its own). */
  readonly version: number;
  /** One model (no model config file), or the models of a config file. */
  private readonly model: ServedModel | undefined;
  private readonly fleet: ModelFleet | undefined;
  private readonly grpc: GrpcService;
  private rest: RestApi | undefined;
  /** TF Serving's own metrics, kept whether or not they are served. */
  readonly metrics = new TfServingMetrics();
  private readonly monitoringPath: string | undefined;
  private batcher: BatchingDetector | undefined;
  private closing: Promise<void> | undefined;
  private configPoller: ModelConfigPoller | undefined;
  private fleetLoading: Promise<void> | undefined;
  /** With a model config: START, LOADING until the first config's models are AVAILABLE, then AVAILABLE; END when that failed or at close. */
  private fleetState: { state: VersionState; error?: string } = { state: 'START' };
  private resolveFleet: (() => void) | undefined;
  private rejectFleet: ((err: Error) => void) | undefined;
  /** Settles when the model (every configured model) is AVAILABLE, or rejects with why it is not. */
  readonly loaded: Promise<void>;

  constructor(private readonly options: ModelServerOptions = {}) {
    const log = options.log ?? (() => undefined);
    const onRuntime = (model: string, us: number) => this.metrics.runtime(model, 'Predict', us);
    // With batching, a batch already admitted (max_enqueued_batches) must find room at the model: every batch thread's whole batch.
    const maxQueue = options.batching ? Math.max(options.maxQueue ?? 0, options.batching.numBatchThreads * options.batching.maxBatchSize) : options.maxQueue;
    let core: ServingCore;
    if (options.modelConfig) {
      this.modelName = options.modelConfig.config.models.map((m) => m.name).join(', ');
      this.version = 0;
      const lines = { info: log, warn: log, error: log };
      this.fleet = new ModelFleet({
        platforms: SERVED_PLATFORMS,
        loadDetector: (platform, _model, _version, dir) => loadVersionDetector(platform, dir, { ...options, maxQueue }),
        fileSystemPollSeconds: options.fileSystemPollSeconds,
        maxLoadRetries: options.maxLoadRetries,
        loadRetryIntervalMs: options.loadRetryIntervalMs,
        onRuntime,
        log: lines,
      });
      core = this.fleet;
      this.loaded = new Promise<void>((resolve, reject) => {
        this.resolveFleet = resolve;
        this.rejectFleet = reject;
      });
      this.loaded.catch(() => undefined);
    } else {
      this.modelName = options.modelName ?? 'detector';
      const { detector, version } = singleDetector(options, maxQueue);
      this.version = version;
      // --enable_batching: requests of all clients meet in batches before the model (batching.ts).
      const served = options.batching ? (this.batcher = new BatchingDetector(detector, options.batching)) : detector;
      this.model = new ServedModel(this.modelName, this.version, served, log, onRuntime);
      this.loaded = this.model.loaded;
      core = this.model;
    }
    this.grpc = new GrpcService(core, options.serializeAsTensorContent ?? false, this.metrics, this.fleet);
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
    return this.model?.description ?? `models ${this.modelName} (model config file)`;
  }

  get port(): number {
    return this.grpc.port;
  }

  /** The REST API's port, 0 until listenRest() has bound it. */
  get restPort(): number {
    return this.rest?.port ?? 0;
  }

  /** Version state as GetModelStatus reports it (the one model; with a model config, use GetModelStatus). */
  get modelState(): { version: number; state: VersionState; error?: string } {
    return this.model?.modelState ?? { version: 0, ...this.fleetState };
  }

  /** The one model's detector figures; with a model config, zeros (each version has its own detector). */
  stats(): DetectorStats {
    return this.model?.stats() ?? { running: 0, waiting: 0, completed: 0, rejected: 0, cancelled: 0, inferMsAvg: 0, workersReady: 0 };
  }

  /** The models of the model config file as they stand: available versions and labels. */
  fleetVersions() {
    return this.fleet?.versions();
  }

  /** Starts loading: the one model, or the config file's models (once), and the file's re-reading if asked. */
  private startLoading(): void {
    if (this.model) return this.model.startLoading();
    const fleet = this.fleet as ModelFleet;
    const settings = this.options.modelConfig as NonNullable<ModelServerOptions['modelConfig']>;
    if (!this.fleetLoading) this.fleetState = { state: 'LOADING' };
    this.fleetLoading ??= fleet.reload(settings.config).then(
      () => {
        if (this.fleetState.state === 'LOADING') this.fleetState = { state: 'AVAILABLE' };
        this.resolveFleet?.();
      },
      (err: Error) => {
        this.fleetState = { state: 'END', error: err.message };
        this.rejectFleet?.(err);
      },
    );
    if (settings.file && (settings.pollSeconds ?? 0) > 0 && !this.configPoller) {
      this.configPoller = new ModelConfigPoller({ file: settings.file, pollSeconds: settings.pollSeconds ?? 0, fleet, platforms: SERVED_PLATFORMS, log: this.options.log ?? (() => undefined) });
    }
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
    this.startLoading();
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
    const rest = new RestApi((this.model ?? this.fleet) as ServingCore, { metrics: this.metrics, ...(this.monitoringPath !== undefined ? { monitoringPath: this.monitoringPath } : {}), ...options });
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

  /**
   * Stops taking calls, lets in-flight ones finish for up to graceMs, then
   * cuts the rest and stops the workers. Safe to call twice.
   */
  close(graceMs = 5_000): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    const polling = this.configPoller?.close();
    this.model?.stop();
    // The fleet closes beside the front-ends: a reload still waiting ends (UNAVAILABLE) while its call can
    // still be answered, and each version unloads once the requests holding it are done.
    await Promise.all([this.grpc.close(graceMs), this.rest?.close(graceMs), this.fleet?.close()]);
    await this.model?.close();
    await polling;
    this.fleetState = { state: 'END' };
    this.rejectFleet?.(new ServerError(Status.UNAVAILABLE, 'model server closed'));
  }
}
