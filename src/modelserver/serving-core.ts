// What the front-ends (gRPC service, REST API) need of the model server,
// whether it serves one model (served-model.ts) or those of a model config
// file (model-fleet.ts): TF Serving's servable lookup, which hands back a
// hold on one version for the length of a request, and GetModelStatus's
// answer. The predict path itself (predictWith) is the same for both.
import type { Code__Output } from '../tfserving/generated/tensorflow/error/Code.js';
import type { ModelVersionStatus } from '../tfserving/generated/tensorflow/serving/ModelVersionStatus.js';
import type { DetectorOutput } from './centernet.js';
import type { Detector } from './detector.js';
import type { ImageInputPlan } from './predict-request.js';

export type VersionState = ModelVersionStatus['state'] & string;

/** One version's entry in GetModelStatus's answer. */
export interface VersionStatus {
  version: number;
  state: VersionState;
  /** tensorflow.error.Code by name (the names are gRPC's). */
  status: { error_code: Code__Output; error_message: string };
}

/** A request's hold on the version that serves it: the version is not unloaded until release(). */
export interface ServableRef {
  readonly name: string;
  readonly version: number;
  /** Queue room, decoding, detection. */
  predict(plan: ImageInputPlan, signal: AbortSignal): Promise<DetectorOutput[]>;
  release(): void;
}

export interface ServingCore {
  /**
   * TF Serving's servable lookup: throws INVALID_ARGUMENT (no name, an
   * unknown label) or NOT_FOUND (no such model, or the version is not
   * AVAILABLE), or returns a hold on the version. Release it when done.
   */
  acquire(name: string, version: number | undefined, label: string | undefined): ServableRef;
  /** GetModelStatus: the version asked for, or every version seen, highest first. */
  status(name: string, version: number | undefined, label: string | undefined): VersionStatus[];
}

/** The model's own time per request is reported here, µs (TF Serving's runtime_latency: its Session::Run, batch wait included, decoding not). */
export type RuntimeSink = (model: string, us: number) => void;

/** A request's images through a detector: queue room first (a full server refuses at the cost of a check), then decoding, then the model. */
export async function predictWith(detector: Detector, model: string, plan: ImageInputPlan, signal: AbortSignal, onRuntime: RuntimeSink): Promise<DetectorOutput[]> {
  const reservation = detector.reserve(plan.count);
  let frames;
  try {
    frames = await plan.decode();
  } catch (err) {
    reservation.release();
    throw err;
  }
  const ran = performance.now();
  const outputs = await detector.detect(frames, reservation, signal);
  onRuntime(model, (performance.now() - ran) * 1000);
  return outputs;
}
