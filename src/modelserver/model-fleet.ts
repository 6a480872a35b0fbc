// The models of a model config file (--model_config_file), served as TF
// Serving's ServerCore serves them: each model's versions found on disk
// (version-source.ts, polled every --file_system_poll_wait_seconds), loaded
// and unloaded so a model never goes dark during a swap (version-manager.ts),
// each version with a detector of its own. A new config (a re-read file, or
// HandleReloadConfigRequest) goes through ServerCore::ReloadConfig's steps:
// its checks, then the models it drops unloaded and the ones it adds loaded,
// waiting until they are AVAILABLE, then its labels. One reload at a time.
import { isDeepStrictEqual } from 'node:util';
import { status as Status } from '@grpc/grpc-js';
import { ServerUnavailableError, statusName } from '../tfserving/errors.js';
import type { Code__Output } from '../tfserving/generated/tensorflow/error/Code.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { Detector } from './detector.js';
import { checkPlatformsUnchanged, checkVersionLabels, validateModelServerConfig, type ModelServerConfig } from './model-config-file.js';
import { predictWith, type RuntimeSink, type ServableRef, type ServingCore, type VersionStatus } from './serving-core.js';
import { VersionManager, type Servable } from './version-manager.js';
import { VersionPoller } from './version-source.js';

/** Builds and loads the detector of one version: its platform, and the version's folder. */
export type DetectorLoader = (platform: string, model: string, version: number, dir: string) => Promise<Detector>;

export interface ModelFleetOptions {
  /** The model_platform values the loader runs. */
  platforms: readonly string[];
  loadDetector: DetectorLoader;
  /** --file_system_poll_wait_seconds (1). */
  fileSystemPollSeconds?: number;
  /** --max_num_load_retries (5) and --load_retry_interval_micros, in ms (60 000). */
  maxLoadRetries?: number;
  loadRetryIntervalMs?: number;
  /** --allow_version_labels_for_unavailable_models (false). */
  allowLabelsForUnavailable?: boolean;
  onRuntime?: RuntimeSink;
  log?: Logger;
}

/** One loaded version: its own detector, closed when the version unloads. */
class LoadedVersion implements Servable {
  constructor(readonly detector: Detector) {}

  close(): Promise<void> {
    return this.detector.close();
  }
}

export class ModelFleet implements ServingCore {
  private served: ModelServerConfig = { models: [], noOp: false };
  private readonly manager: VersionManager<LoadedVersion>;
  private readonly poller: VersionPoller;
  private readonly onRuntime: RuntimeSink;
  private readonly log: Logger;
  /** Reloads run one after another (TF's config mutex). */
  private chain: Promise<unknown> = Promise.resolve();
  private started = false;
  private closed = false;

  constructor(private readonly options: ModelFleetOptions) {
    this.log = options.log ?? silentLogger;
    this.onRuntime = options.onRuntime ?? (() => undefined);
    this.manager = new VersionManager<LoadedVersion>({
      load: async (model, version, dir) => new LoadedVersion(await options.loadDetector(this.platformOf(model), model, version, dir)),
      maxLoadRetries: options.maxLoadRetries,
      loadRetryIntervalMs: options.loadRetryIntervalMs,
      allowLabelsForUnavailable: options.allowLabelsForUnavailable,
      log: this.log,
    });
    this.manager.stateChanges.add((model, version, state, error) => {
      this.log.info(`model "${model}" version ${version} ${state}${error ? `: ${error.message}` : ''}`);
    });
    this.poller = new VersionPoller({ models: [], target: this.manager, pollSeconds: options.fileSystemPollSeconds ?? 1, log: this.log });
  }

  /** The config being served. */
  get config(): ModelServerConfig {
    return this.served;
  }

  /** Every version held now, AVAILABLE or on its way, for what lookout's status pages show. */
  versions(): { model: string; available: number[]; labels: Record<string, number> }[] {
    return this.served.models.map((m) => ({ model: m.name, available: this.manager.availableVersions(m.name), labels: this.manager.labels(m.name) }));
  }

  private platformOf(model: string): string {
    return this.served.models.find((m) => m.name === model)?.modelPlatform ?? 'tensorflow';
  }

  /**
   * Serves a new config: ServerCore::ReloadConfig. Resolves once every model
   * it adds is AVAILABLE and its labels are set; throws TF's errors
   * (INVALID_ARGUMENT, FAILED_PRECONDITION, UNKNOWN "N model(s) did not
   * become available" — "servable(s)" for the first config, as TF's start-up
   * says), leaving what it could not apply as it was. An identical config is
   * nothing to do; after close(), UNAVAILABLE.
   */
  reload(next: ModelServerConfig): Promise<void> {
    const run = this.chain.then(() => this.apply(next));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async apply(next: ModelServerConfig): Promise<void> {
    this.checkOpen();
    if (next.noOp) {
      this.log.info('Taking no action for empty config.');
      return;
    }
    if (this.started && isDeepStrictEqual(next, this.served)) return;
    validateModelServerConfig(next, { platforms: this.options.platforms });
    checkPlatformsUnchanged(this.served, next);
    // The first config's labels are set once its models are AVAILABLE (as ServerCore's first
    // AddModelsViaModelConfigList does); a later config's are checked before anything loads.
    const first = !this.started;
    if (!first) checkVersionLabels(next, {
      isAvailable: (model, version) => this.manager.availableVersions(model).includes(version),
      currentLabels: (model) => this.manager.labels(model),
      allowUnavailableForNewLabels: this.options.allowLabelsForUnavailable ?? false,
    });
    const before = new Set(this.served.models.map((m) => m.name));
    const added = next.models.filter((m) => !before.has(m.name)).map((m) => m.name);
    this.served = next;
    this.poller.setModels(next.models.map((m) => ({ name: m.name, basePath: m.basePath, policy: m.versionPolicy })));
    const removed = this.manager.setModels(next.models.map((m) => m.name));
    if (this.started) await this.poller.pollNow();
    else {
      this.started = true;
      await this.poller.start();
    }
    await removed;
    this.checkOpen();
    await this.manager.whenSettled(added, undefined, first ? 'servable' : 'model');
    if (first) await this.labelledSettled(next);
    this.checkOpen();
    for (const model of next.models) this.manager.setLabels(model.name, model.versionLabels);
  }

  private checkOpen(): void {
    if (this.closed) throw new ServerUnavailableError(Status.UNAVAILABLE, 'model server closed');
  }

  /** Until every labelled version on its way (START or LOADING) is AVAILABLE or has ended: the first config's labels wait for them. */
  private async labelledSettled(config: ModelServerConfig): Promise<void> {
    const stateOf = (model: string, version: number) => {
      try {
        return this.manager.status(model, version)[0]?.state;
      } catch {
        return undefined; // never seen: not on its way
      }
    };
    const pending = () => config.models.some((m) => Object.values(m.versionLabels).some((v) => {
      const state = stateOf(m.name, v);
      return state === 'START' || state === 'LOADING';
    }));
    if (!pending()) return;
    await new Promise<void>((resolve) => {
      const off = this.manager.stateChanges.add(() => {
        if (pending() && !this.closed) return;
        off();
        resolve();
      });
    });
  }

  acquire(name: string, version: number | undefined, label: string | undefined): ServableRef {
    this.checkOpen();
    const handle = this.manager.acquire(name, label !== undefined ? { label } : { version });
    const detector = handle.servable.detector;
    return {
      name: handle.model,
      version: handle.version,
      predict: (plan, signal) => predictWith(detector, handle.model, plan, signal, this.onRuntime),
      release: () => handle.release(),
    };
  }

  status(name: string, version: number | undefined, _label: string | undefined): VersionStatus[] {
    // GetModelStatus ignores version_label (PARITY §2.3).
    return this.manager.status(name, version).map((s) => ({
      version: s.version,
      state: s.state,
      status: { error_code: statusName(s.status.error_code) as Code__Output, error_message: s.status.error_message },
    }));
  }

  /** Every model's versions through their loads and unloads so far, for logs and tests. */
  whenSettled(models?: string[]): Promise<void> {
    return this.manager.whenSettled(models);
  }

  /** Stops polling and unloads every version (waiting for requests holding them); a reload waiting or running ends with UNAVAILABLE. */
  async close(): Promise<void> {
    this.closed = true;
    this.poller.close();
    await this.manager.close();
    await this.chain;
  }
}
