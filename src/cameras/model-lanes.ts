// The models cameras' frames go to: one scheduler per model a camera names
// (name, and a version or version label), each with its own client, so
// frames are batched per model, each model has its own breaker (a model that
// is down pauses only its cameras), and readiness is per model. Cameras that
// name no model share the default one. A lane no camera uses any more is
// closed (its breaker stops asking the server), except the default's.

import type { ModelClient } from '../model/client.js';
import type { BreakerStatus } from '../schedule/breaker.js';
import { Scheduler, type CameraScheduleStats, type DetectionResult, type SchedulerModel, type SchedulerOptions } from '../schedule/scheduler.js';
import { modelKey, type DetectPlan, type Frame, type ModelChoice } from '../types.js';

/** The client of a model choice (null: the default model). */
export type ModelSource = (choice: ModelChoice | null) => SchedulerModel & Partial<ModelClient>;

export interface ModelLaneView {
  /** "name", "name@version" or "name#label". */
  key: string;
  name: string;
  version: number | null;
  label: string | null;
  /** The model cameras use when they name none. */
  default: boolean;
  state: BreakerStatus;
  /** The version that answered most recently (TF Serving's model_spec.version of the answer), or null before any. */
  answeredVersion: number | null;
  cameras: string[];
}

interface Lane {
  key: string;
  /** The lane's client, asked once: the scheduler calls it, readiness asks it. */
  model: ReturnType<ModelSource>;
  choice: ModelChoice | null;
  name: string;
  scheduler: Scheduler;
  cameras: Set<string>;
  answeredVersion: number | null;
}

export class ModelLanes {
  private readonly lanes = new Map<string, Lane>();
  private readonly byCamera = new Map<string, Lane>();

  constructor(
    private readonly source: ModelSource,
    private readonly defaultName: string,
    private readonly options: Partial<SchedulerOptions>,
    private readonly onResult: (result: DetectionResult) => void,
    private readonly onState: (lane: string, status: BreakerStatus) => void,
  ) {
    this.lane(null);
  }

  private lane(choice: ModelChoice | null): Lane {
    // A choice naming the default model and nothing more is the default lane.
    const normal = choice && choice.name === this.defaultName && choice.version === undefined && choice.label === undefined ? null : choice;
    const key = modelKey(normal, this.defaultName);
    let lane = this.lanes.get(key);
    if (!lane) {
      const model = this.source(normal);
      // The scheduler reports to the lane through the map: the lane is the one under its key.
      const scheduler = new Scheduler(model, (r) => this.answered(key, r), this.options, (s) => this.onState(key, s));
      lane = { key, model, choice: normal, name: normal?.name ?? this.defaultName, cameras: new Set(), answeredVersion: null, scheduler };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private answered(key: string, result: DetectionResult): void {
    const lane = this.lanes.get(key);
    if (lane && result.modelVersion !== undefined) lane.answeredVersion = result.modelVersion;
    this.onResult(result);
  }

  addCamera(id: string, choice: ModelChoice | null): void {
    const lane = this.lane(choice);
    lane.cameras.add(id);
    this.byCamera.set(id, lane);
    lane.scheduler.addCamera(id);
  }

  removeCamera(id: string): void {
    const lane = this.byCamera.get(id);
    if (!lane) return;
    this.byCamera.delete(id);
    lane.cameras.delete(id);
    lane.scheduler.removeCamera(id);
    if (lane.cameras.size === 0 && lane.choice !== null) {
      // The camera has stopped: whatever its lane still had in flight has no one to go to.
      lane.scheduler.close();
      this.lanes.delete(lane.key);
    }
  }

  submit(frame: Frame, plan: DetectPlan): void {
    this.byCamera.get(frame.cameraId)?.scheduler.submit(frame, plan);
  }

  stats(id: string): CameraScheduleStats | undefined {
    return this.byCamera.get(id)?.scheduler.stats(id);
  }

  /** The name of the model a camera's frames go to. */
  nameOf(id: string): string {
    return this.byCamera.get(id)?.name ?? this.defaultName;
  }

  /** The breaker of the model a camera uses; of the default model for none. */
  stateOf(id?: string): BreakerStatus {
    const lane = (id !== undefined ? this.byCamera.get(id) : undefined) ?? this.lane(null);
    return lane.scheduler.modelState();
  }

  views(): ModelLaneView[] {
    return [...this.lanes.values()].map((l) => ({
      key: l.key,
      name: l.name,
      version: l.choice?.version ?? null,
      label: l.choice?.label ?? null,
      default: l.choice === null,
      state: l.scheduler.modelState(),
      answeredVersion: l.answeredVersion,
      cameras: [...l.cameras],
    }));
  }

  /** The client of a lane, for readiness and status (per model). */
  clientOf(key: string): ReturnType<ModelSource> | undefined {
    return this.lanes.get(key)?.model;
  }

  async drain(ms: number): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.scheduler.drain(ms)));
  }

  close(): void {
    for (const l of this.lanes.values()) l.scheduler.close();
  }
}
