// The loaded versions of several models, managed as TF Serving's
// AspiredVersionsManager with AvailabilityPreservingPolicy manages them: the
// source (version-source.ts) says which versions are aspired; one action at a
// time per model loads the highest new one or unloads an un-aspired one once
// something aspired serves, so a model never goes dark during a swap.
// Requests take handles to AVAILABLE versions; an unload waits for the
// handles taken before it. Labels, routing and status answer with TF's codes
// and words (PARITY §2.2–2.4).
import { status as Status } from '@grpc/grpc-js';
import { errorForStatus, invalidArgument, ModelNotFoundError, ServerUnavailableError } from '../tfserving/errors.js';
import { Listeners } from '../util/listeners.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { AspiredVersion, AspiredVersionsTarget } from './version-source.js';
import { Conditions, errorMessage, nextAction, StateMonitor, type ManagedState, type ManagedVersionStatus, type PolicyAction } from './version-states.js';

/** What a loaded version must offer the manager. */
export interface Servable {
  close(): Promise<void>;
}

export type ServableLoader<S extends Servable> = (model: string, version: number, dir: string) => Promise<S>;

export interface VersionManagerOptions<S extends Servable> {
  load: ServableLoader<S>;
  /** --max_num_load_retries: retries after the first failed load (5). */
  maxLoadRetries?: number;
  /** --load_retry_interval_micros, in ms (60 000). */
  loadRetryIntervalMs?: number;
  /** --allow_version_labels_for_unavailable_models (false): new labels may name versions not yet AVAILABLE. */
  allowLabelsForUnavailable?: boolean;
  log?: Logger;
}

/** A request's hold on one version: the version is not closed until release(). */
export interface ServableHandle<S extends Servable> {
  readonly model: string;
  readonly version: number;
  readonly servable: S;
  release(): void;
}

/** ModelSpec's version choice: a version, a label, or neither (the latest). */
export type VersionChoice = { version?: number; label?: undefined } | { label?: string; version?: undefined };

interface Harness<S extends Servable> {
  version: number;
  dir: string;
  phase: 'new' | 'busy' | 'ready' | 'error';
  servable: S | undefined;
  handles: number;
  /** Called when the last handle is released during an unload. */
  drained: (() => void) | undefined;
  /** Ends a retry wait early (un-aspired or closing). */
  wake: (() => void) | undefined;
}

interface ModelEntry<S extends Servable> {
  name: string;
  /** Aspired version → its directory. */
  aspired: Map<number, string>;
  /** The source has spoken for this model at least once. */
  told: boolean;
  harnesses: Map<number, Harness<S>>;
  labels: Map<string, number>;
  acting: boolean;
  removing: boolean;
}

export class VersionManager<S extends Servable = Servable> implements AspiredVersionsTarget {
  /** Every state published: (model, version, state, error of a failed load). */
  readonly stateChanges = new Listeners<[string, number, ManagedState, Error | undefined]>();
  private readonly monitor = new StateMonitor();
  private readonly conditions = new Conditions();
  private readonly models = new Map<string, ModelEntry<S>>();
  private readonly load: ServableLoader<S>;
  private readonly maxLoadRetries: number;
  private readonly retryMs: number;
  private readonly allowUnavailableLabels: boolean;
  private readonly log: Logger;
  private closing: Promise<void> | undefined;

  constructor(options: VersionManagerOptions<S>) {
    this.load = options.load;
    this.maxLoadRetries = options.maxLoadRetries ?? 5;
    this.retryMs = options.loadRetryIntervalMs ?? 60_000;
    this.allowUnavailableLabels = options.allowLabelsForUnavailable ?? false;
    this.log = options.log ?? silentLogger;
  }

  /** The source's news: these versions of the model should be served (an empty list unloads them all). */
  setAspiredVersions(model: string, versions: AspiredVersion[]): void {
    if (this.closing) return;
    const entry = this.entry(model);
    entry.told = true;
    entry.removing = false;
    entry.aspired = new Map(versions.map((v) => [v.version, v.dir]));
    for (const h of entry.harnesses.values()) if (!entry.aspired.has(h.version)) h.wake?.();
    this.step(entry);
  }

  /** The configured models: those missing are removed (every version unloaded); resolves when they are. */
  async setModels(names: string[]): Promise<void> {
    for (const name of names) this.entry(name);
    await Promise.all([...this.models.keys()].filter((n) => !names.includes(n)).map((n) => this.removeModel(n)));
  }

  /** Unloads every version of a model and forgets its labels; its END history stays in the status. */
  removeModel(name: string): Promise<void> {
    const entry = this.models.get(name);
    if (!entry) return Promise.resolve();
    entry.removing = true;
    entry.labels.clear();
    entry.aspired = new Map();
    for (const h of entry.harnesses.values()) h.wake?.();
    this.step(entry);
    return this.conditions.until(() => !this.models.has(name));
  }

  /**
   * A handle to the highest AVAILABLE version, or to the one asked for (by
   * number or label). Throws TF's INVALID_ARGUMENT for no name or an unknown
   * label, NOT_FOUND "Servable not found for request: …" otherwise.
   */
  acquire(model: string, choice: VersionChoice = {}): ServableHandle<S> {
    if (!model) throw invalidArgument('ModelSpec has no name specified.');
    const entry = this.models.get(model);
    let version = choice.version;
    if (choice.label !== undefined) {
      version = entry?.labels.get(choice.label);
      if (version === undefined) throw invalidArgument(`Unrecognized servable version label: ${choice.label}`);
    }
    const ready = [...(entry?.harnesses.values() ?? [])].filter((h) => h.phase === 'ready');
    const h = version === undefined
      ? ready.reduce<Harness<S> | undefined>((best, x) => (!best || x.version > best.version ? x : best), undefined)
      : ready.find((x) => x.version === version);
    if (!h || !h.servable) {
      const what = version === undefined ? `Latest(${model})` : `Specific(${model}, ${version})`;
      throw new ModelNotFoundError(Status.NOT_FOUND, `Servable not found for request: ${what}`);
    }
    h.handles++;
    let released = false;
    return {
      model,
      version: h.version,
      servable: h.servable,
      release: () => {
        if (released) return;
        released = true;
        h.handles--;
        if (h.handles === 0) h.drained?.();
      },
    };
  }

  /** The AVAILABLE versions of a model, highest first. */
  availableVersions(model: string): number[] {
    const entry = this.models.get(model);
    return [...(entry?.harnesses.values() ?? [])].filter((h) => h.phase === 'ready').map((h) => h.version).sort((a, b) => b - a);
  }

  /**
   * Replaces a model's labels. Each must name an AVAILABLE version, else
   * FAILED_PRECONDITION in TF's words, and nothing changes.
   */
  setLabels(model: string, labels: Record<string, number>): void {
    // Checked before the model's entry is made: a refused label must not leave a model behind.
    const current = this.models.get(model)?.labels ?? new Map<string, number>();
    const available = new Set(this.availableVersions(model));
    for (const [label, version] of Object.entries(labels)) {
      const old = current.get(label);
      const exempt = this.allowUnavailableLabels && (old === undefined || old === version);
      if (!exempt && !available.has(version)) {
        throw errorForStatus(Status.FAILED_PRECONDITION, `Request to assign label to version ${version} of model ${model}, which is not currently available for inference`);
      }
    }
    this.entry(model).labels = new Map(Object.entries(labels));
  }

  labels(model: string): Record<string, number> {
    return Object.fromEntries(this.models.get(model)?.labels ?? []);
  }

  /** GetModelStatus: every version seen, highest first (or one version), with TF's NOT_FOUND wording. */
  status(model: string, version?: number): ManagedVersionStatus[] {
    return this.monitor.status(model, version);
  }

  /**
   * Resolves once the highest aspired version of every model (default: all
   * known) is AVAILABLE or END, as TF's startup waits; rejects with UNKNOWN
   * "N servable(s) did not become available: {…}" if some ended in error. A
   * model with no version at all keeps it waiting, as in TF.
   */
  async whenSettled(models?: string[], signal?: AbortSignal, noun = 'servable'): Promise<void> {
    const names = models ?? [...this.models.keys()];
    // The harness, not the monitor: a re-aspired version still unloading shows END there but is not settled.
    const latest = (name: string) => {
      const entry = this.models.get(name);
      return entry?.told && entry.aspired.size > 0 ? entry.harnesses.get(Math.max(...entry.aspired.keys())) : undefined;
    };
    await this.conditions.until(() => names.every((name) => {
      const phase = latest(name)?.phase;
      return phase === 'ready' || phase === 'error';
    }), signal);
    const failed = names.flatMap((name) => {
      const h = latest(name);
      return h?.phase === 'error' ? [`{{name: ${name} version: ${h.version}} due to error: ${this.monitor.status(name, h.version)[0].status.error_message}}, `] : [];
    });
    if (failed.length > 0) throw errorForStatus(Status.UNKNOWN, `${failed.length} ${noun}(s) did not become available: {${failed.join('')}}`);
  }

  /** Unloads every version (waiting for handles and loads in flight) and stops; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.models.keys()].map((name) => this.removeModel(name)));
      this.conditions.failAll(new ServerUnavailableError(Status.UNAVAILABLE, 'version manager closed'));
    })();
    return this.closing;
  }

  private entry(name: string): ModelEntry<S> {
    let entry = this.models.get(name);
    if (!entry) {
      entry = { name, aspired: new Map(), told: false, harnesses: new Map(), labels: new Map(), acting: false, removing: false };
      this.models.set(name, entry);
    }
    return entry;
  }

  private publish(model: string, version: number, state: ManagedState, error?: Error): void {
    this.monitor.publish(model, version, state, error);
    this.stateChanges.emit(model, version, state, error);
    this.conditions.check();
  }

  /** Manages newly aspired versions, drops dead ones, and starts the policy's next action if none is running. */
  private step(entry: ModelEntry<S>): void {
    for (const [version, dir] of entry.aspired) {
      if (entry.harnesses.has(version)) continue;
      entry.harnesses.set(version, { version, dir, phase: 'new', servable: undefined, handles: 0, drained: undefined, wake: undefined });
      this.publish(entry.name, version, 'START');
    }
    for (const h of [...entry.harnesses.values()]) {
      if (entry.aspired.has(h.version) || (h.phase !== 'new' && h.phase !== 'error')) continue;
      // A failed version stays END with its error; one never loaded ends without one.
      entry.harnesses.delete(h.version);
      if (h.phase === 'new') this.publish(entry.name, h.version, 'END');
    }
    if (entry.acting) return;
    const action = nextAction([...entry.harnesses.values()].map((h) => ({ version: h.version, aspired: entry.aspired.has(h.version), phase: h.phase })));
    if (!action) {
      if (entry.removing && entry.harnesses.size === 0) {
        this.models.delete(entry.name);
        this.conditions.check();
      }
      return;
    }
    entry.acting = true;
    const broke = (err: Error) => this.log.error(`${action.action} of {name: ${entry.name} version: ${action.version}} broke: ${err.message}`);
    void this.perform(entry, action).catch(broke).finally(() => {
      entry.acting = false;
      this.step(entry);
    });
  }

  private async perform(entry: ModelEntry<S>, action: PolicyAction): Promise<void> {
    const h = entry.harnesses.get(action.version);
    if (!h) return;
    h.phase = 'busy';
    if (action.action === 'load') await this.loadVersion(entry, h);
    else await this.unloadVersion(entry, h);
  }

  private async loadVersion(entry: ModelEntry<S>, h: Harness<S>): Promise<void> {
    const id = `{name: ${entry.name} version: ${h.version}}`;
    this.publish(entry.name, h.version, 'LOADING');
    for (let attempt = 0; ; attempt++) {
      try {
        h.servable = await this.load(entry.name, h.version, h.dir);
        h.phase = 'ready';
        this.log.info(`Successfully loaded servable version ${id}`);
        this.publish(entry.name, h.version, 'AVAILABLE');
        return;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        // TF stops retrying a version no longer aspired (cancel_load_retry), and so does a manager closing.
        if (attempt >= this.maxLoadRetries || !entry.aspired.has(h.version) || this.closing) {
          h.phase = 'error';
          this.log.error(`Servable ${id} cannot be loaded: ${errorMessage(err)}`);
          this.publish(entry.name, h.version, 'END', err);
          return;
        }
        this.log.warn(`Loading servable ${id} failed (${errorMessage(err)}); retrying in ${this.retryMs} ms (${attempt + 1} of ${this.maxLoadRetries})`);
        await this.pause(h);
        // Woken early: un-aspired meanwhile, or closing. No further load starts (a worker pool for nothing).
        if (!entry.aspired.has(h.version) || this.closing) {
          h.phase = 'error';
          this.publish(entry.name, h.version, 'END', err);
          return;
        }
      }
    }
  }

  private pause(h: Harness<S>): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        h.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.retryMs);
      timer.unref();
      h.wake = done;
    });
  }

  private async unloadVersion(entry: ModelEntry<S>, h: Harness<S>): Promise<void> {
    // UNLOADING is published as the version stops taking new requests; those holding handles finish first.
    this.publish(entry.name, h.version, 'UNLOADING');
    if (h.handles > 0) await new Promise<void>((resolve) => (h.drained = resolve));
    try {
      await h.servable?.close();
    } catch (err) {
      this.log.warn(`Closing servable version {name: ${entry.name} version: ${h.version}} failed: ${(err as Error).message}`);
    }
    h.servable = undefined;
    entry.harnesses.delete(h.version);
    this.log.info(`Done unloading servable version {name: ${entry.name} version: ${h.version}}`);
    this.publish(entry.name, h.version, 'END');
  }

}
