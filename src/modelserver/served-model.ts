// The one model the embedded server serves without a model config file, as
// both front-ends (gRPC and REST) see it: its detector, the version's state
// through loading and shutdown, TF Serving's servable lookup and status
// answer, and the predict path. Facts relied on are TF Serving's: a version is
// START, LOADING, AVAILABLE or END; only an AVAILABLE version is found,
// anything else is NOT_FOUND ("Servable not found for request: Latest(NAME)").
import { status as Status } from '@grpc/grpc-js';
import { invalidArgument, ModelNotFoundError, ServerError } from '../tfserving/errors.js';
import type { Detector, DetectorStats } from './detector.js';
import { predictWith, type RuntimeSink, type ServableRef, type ServingCore, type VersionState, type VersionStatus } from './serving-core.js';

export type { ServingCore, VersionState, VersionStatus } from './serving-core.js';

export class ServedModel implements ServingCore {
  private state: VersionState = 'START';
  private loadError: Error | undefined;
  private stopped = false;
  /** Settles when the model is AVAILABLE, or rejects with why it is not. */
  readonly loaded: Promise<void>;
  private resolveLoaded!: () => void;
  private rejectLoaded!: (err: Error) => void;

  constructor(
    readonly modelName: string,
    readonly version: number,
    private readonly detector: Detector,
    private readonly log: (line: string) => void,
    private readonly onRuntime: RuntimeSink = () => undefined,
  ) {
    this.loaded = new Promise<void>((resolve, reject) => {
      this.resolveLoaded = resolve;
      this.rejectLoaded = reject;
    });
    // Callers that only poll state must not see an unhandled rejection.
    this.loaded.catch(() => undefined);
  }

  get description(): string {
    return this.detector.description;
  }

  /** Version state as GetModelStatus reports it. */
  get modelState(): { version: number; state: VersionState; error?: string } {
    return { version: this.version, state: this.state, ...(this.loadError ? { error: this.loadError.message } : {}) };
  }

  stats(): DetectorStats {
    return this.detector.stats();
  }

  /** Starts loading the model once; later calls do nothing. */
  startLoading(): void {
    if (this.state !== 'START') return;
    this.state = 'LOADING';
    this.detector.load().then(
      () => {
        if (this.stopped) return;
        this.state = 'AVAILABLE';
        this.log(`model "${this.modelName}" version ${this.version} AVAILABLE: ${this.detector.description}`);
        this.resolveLoaded();
      },
      (err: Error) => {
        // A load cut short by shutdown is no load failure.
        if (this.stopped) return;
        this.state = 'END';
        this.loadError = err;
        this.log(`model "${this.modelName}" version ${this.version} failed to load: ${err.message}`);
        this.rejectLoaded(err);
      },
    );
  }

  acquire(name: string, requested: number | undefined, label: string | undefined): ServableRef {
    // Closing: a call that still reaches the model is refused as TF Serving's shutting-down gRPC server refuses it.
    if (this.stopped) throw new ServerError(Status.UNAVAILABLE, 'model server closed');
    if (!name) throw invalidArgument('ModelSpec has no name specified.');
    if (label !== undefined) throw invalidArgument(`Unrecognized servable version label: ${label}`);
    const what = requested === undefined ? `Latest(${name})` : `Specific(${name}, ${requested})`;
    if (name !== this.modelName || this.state !== 'AVAILABLE' || (requested !== undefined && requested !== this.version)) {
      throw new ModelNotFoundError(Status.NOT_FOUND, `Servable not found for request: ${what}`);
    }
    return { name: this.modelName, version: this.version, predict: (plan, signal) => predictWith(this.detector, this.modelName, plan, signal, this.onRuntime), release: () => undefined };
  }

  status(name: string, requested: number | undefined, _label: string | undefined): VersionStatus[] {
    if (name !== this.modelName) throw new ModelNotFoundError(Status.NOT_FOUND, `Could not find any versions of model ${name}`);
    // GetModelStatus ignores version_label (PARITY §2.3): it answers for every version.
    if (requested !== undefined && requested !== this.version) {
      throw new ModelNotFoundError(Status.NOT_FOUND, `Could not find version ${requested} of model ${name}`);
    }
    const status = this.loadError ? { error_code: 'UNKNOWN' as const, error_message: this.loadError.message } : { error_code: 'OK' as const, error_message: '' };
    return [{ version: this.version, state: this.state, status }];
  }

  /** The server is shutting down: the version is END at once, and a load still running counts for nothing. */
  stop(): void {
    this.stopped = true;
    this.state = 'END';
  }

  /** After stop() and once the front-ends have drained: stops the detector's workers. */
  async close(): Promise<void> {
    await this.detector.close();
    this.rejectLoaded(new ServerError(Status.UNAVAILABLE, 'model server closed'));
  }
}
