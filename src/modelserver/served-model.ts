// The one model the embedded server serves, as both front-ends (gRPC and
// REST) see it: its detector, the version's state through loading and
// shutdown, TF Serving's servable lookup and status answer, and the one
// predict path. Facts relied on are TF Serving's: a version is START, LOADING,
// AVAILABLE or END; only an AVAILABLE version is found, anything else is
// NOT_FOUND ("Servable not found for request: Latest(NAME)").
import { status as Status } from '@grpc/grpc-js';
import { invalidArgument, ModelNotFoundError, ServerError } from '../tfserving/errors.js';
import type { ModelVersionStatus } from '../tfserving/generated/tensorflow/serving/ModelVersionStatus.js';
import type { DetectorOutput } from './centernet.js';
import type { Detector, DetectorStats } from './detector.js';
import type { ImageInputPlan } from './predict-request.js';

export type VersionState = ModelVersionStatus['state'] & string;

/** One version's entry in GetModelStatus's answer. */
export interface VersionStatus {
  version: number;
  state: VersionState;
  status: { error_code: 'OK' | 'UNKNOWN'; error_message: string };
}

/** What the front-ends (gRPC service, REST API) need of the model server: the same lookups and predict path for both. */
export interface ServingCore {
  readonly modelName: string;
  readonly version: number;
  /** TF Serving's servable lookup: throws NOT_FOUND or INVALID_ARGUMENT, or returns if that version is AVAILABLE. */
  findServable(name: string, version: number | undefined, label: string | undefined): void;
  /** Queue room, decoding, detection. */
  predict(plan: ImageInputPlan, signal: AbortSignal): Promise<DetectorOutput[]>;
  /** GetModelStatus's answer for one model. */
  status(name: string, version: number | undefined, label: string | undefined): VersionStatus;
}

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
    /** The model's own time per request, µs (TF Serving's runtime_latency: its Session::Run, batch wait included, decoding not). */
    private readonly onRuntime: (model: string, us: number) => void = () => undefined,
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

  findServable(name: string, requested: number | undefined, label: string | undefined): void {
    if (!name) throw invalidArgument('ModelSpec has no name specified.');
    if (label !== undefined) throw invalidArgument(`Unrecognized servable version label: ${label}`);
    const what = requested === undefined ? `Latest(${name})` : `Specific(${name}, ${requested})`;
    if (name !== this.modelName || this.state !== 'AVAILABLE' || (requested !== undefined && requested !== this.version)) {
      throw new ModelNotFoundError(Status.NOT_FOUND, `Servable not found for request: ${what}`);
    }
  }

  status(name: string, requested: number | undefined, label: string | undefined): VersionStatus {
    if (name !== this.modelName) throw new ModelNotFoundError(Status.NOT_FOUND, `Could not find any versions of model ${name}`);
    if (label !== undefined) throw invalidArgument(`Unrecognized servable version label: ${label}`);
    if (requested !== undefined && requested !== this.version) {
      throw new ModelNotFoundError(Status.NOT_FOUND, `Could not find version ${requested} of model ${name}`);
    }
    const status = this.loadError
      ? { error_code: 'UNKNOWN' as const, error_message: this.loadError.message }
      : { error_code: 'OK' as const, error_message: '' };
    return { version: this.version, state: this.state, status };
  }

  async predict(plan: ImageInputPlan, signal: AbortSignal): Promise<DetectorOutput[]> {
    // Hold queue room before decoding anything: a full server refuses at the cost of a check.
    const reservation = this.detector.reserve(plan.count);
    let frames;
    try {
      frames = await plan.decode();
    } catch (err) {
      reservation.release();
      throw err;
    }
    const ran = performance.now();
    const outputs = await this.detector.detect(frames, reservation, signal);
    this.onRuntime(this.modelName, (performance.now() - ran) * 1000);
    return outputs;
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
