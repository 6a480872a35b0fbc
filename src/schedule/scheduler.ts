// Gets each camera's newest frame to the model server as fast as it can take
// them, and never queues without bound:
// - latest wins: one slot per camera; a newer frame replaces one not yet sent;
// - a global bound on Predict calls in flight (the GPU server's concurrency)
//   and a per-camera bound;
// - round-robin among cameras with a pending frame;
// - frames older than maxFrameAge when their turn comes are dropped;
// - frames of several cameras batched into one call (maxBatch, batchTimeoutMs),
//   each with its plan: the whole frame, or regions of it (motion/gate.ts),
//   all of them images of the same call (detect-plans.ts);
// - a circuit breaker while the model server is down.
import type { ModelClient } from '../model/client.js';
import { wholeRect } from '../util/rect.js';
import type { Detection, DetectPlan, Frame, Rect } from '../types.js';
import { CircuitBreaker, type BreakerStatus } from './breaker.js';
import { detectPlans } from './detect-plans.js';
import { classifyFailure, type DropReason } from './failures.js';
import type { Job } from './model-input.js';
import { RateWindow, SampleRing } from './stats-window.js';

/** What the scheduler needs of the model: detections for a batch, and whether it is AVAILABLE (the breaker's probe). */
export type SchedulerModel = Pick<ModelClient, 'detect' | 'ready'>;

export interface SchedulerOptions {
  /** Predict calls in flight at once, over all cameras. */
  maxInFlight: number;
  /** Predict calls in flight at once for one camera. */
  perCameraInFlight: number;
  /** A frame older than this when its turn comes is dropped as stale, ms. */
  maxFrameAgeMs: number;
  /**
   * Images per Predict call: whole frames and regions (motion/gate.ts) alike;
   * a frame's regions are never split, so a frame with more regions than
   * this goes alone. 1 disables batching across cameras.
   */
  maxBatch: number;
  /** How long a batch may wait for more cameras' frames, ms. */
  batchTimeoutMs: number;
}

/** A camera that offered no frame for this long is not waited for when forming a batch. */
const QUIET_MS = 2_000;

export const DEFAULT_SCHEDULER: SchedulerOptions = {
  maxInFlight: 2,
  perCameraInFlight: 1,
  maxFrameAgeMs: 2_000,
  maxBatch: 1,
  batchTimeoutMs: 0,
};

export type { DropReason };

export interface DetectionResult {
  frame: Frame;
  /** What of the frame the model was asked to look at. */
  plan: DetectPlan;
  /** Every rectangle of the frame the model was given: the plan's, and those re-centred on objects a region cut. */
  looked: Rect[];
  detections: Detection[];
  /** Images of the frame the model was given (regions, and regions re-centred on cut objects). */
  images: number;
  /** Predict round trip, ms. */
  latencyMs: number;
  /** Frame age when sent, ms. */
  queueWaitMs: number;
  batchSize: number;
  /** The model version that answered, when the server said (TF Serving's model_spec.version). */
  modelVersion?: number;
}

export interface CameraScheduleStats {
  detectFps: number;
  submittedFps: number;
  inFlight: number;
  dropped: Record<DropReason, number>;
  detected: number;
  /** Images the model was given for this camera's frames (one per whole frame, one per region). */
  images: number;
  latencyMs: { p50: number | undefined; p95: number | undefined };
  queueWaitMs: { p50: number | undefined; p95: number | undefined };
}

class Lane {
  pending: Job | undefined;
  /** When the camera last offered a frame: a camera that has gone quiet is not waited for in a batch. */
  lastSubmitAt = 0;
  inFlight = 0;
  detected = 0;
  images = 0;
  readonly dropped: Record<DropReason, number> = { superseded: 0, stale: 0, error: 0, busy: 0, modelDown: 0 };
  readonly detectRate = new RateWindow();
  readonly submitRate = new RateWindow();
  readonly latency = new SampleRing();
  readonly queueWait = new SampleRing();
}

export class Scheduler {
  private readonly options: SchedulerOptions;
  private readonly lanes = new Map<string, Lane>();
  /** Round-robin order: the camera after the last one served goes first. */
  private order: string[] = [];
  private lastServed: string | undefined;
  private inFlight = 0;
  private draining = false;
  private peakInFlight = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private batchWaitSince: number | undefined;
  private readonly breaker: CircuitBreaker;
  private readonly calls = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly model: SchedulerModel,
    private readonly onResult: (result: DetectionResult) => void,
    options: Partial<SchedulerOptions> = {},
    onModelState: (status: BreakerStatus) => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_SCHEDULER, ...options };
    for (const key of ['maxInFlight', 'perCameraInFlight', 'maxBatch'] as const) {
      if (!Number.isInteger(this.options[key]) || this.options[key] < 1) throw new RangeError(`${key} must be an integer ≥ 1, got ${this.options[key]}`);
    }
    this.breaker = new CircuitBreaker(() => this.model.ready(), (status) => {
      onModelState(status);
      if (status.state === 'closed') this.pump();
    });
  }

  /** Registers a camera, so a forming batch waits for its frame too. submit() registers unknown cameras itself. */
  addCamera(cameraId: string): void {
    // A camera just added is about to send frames: batches wait for it as for any active camera.
    this.lane(cameraId).lastSubmitAt = Date.now();
  }

  private lane(cameraId: string): Lane {
    let lane = this.lanes.get(cameraId);
    if (!lane) {
      lane = new Lane();
      this.lanes.set(cameraId, lane);
      this.order.push(cameraId);
    }
    return lane;
  }

  /**
   * Offers a camera's newest frame, with what of it the model should look at
   * (by default the whole frame as it is); it replaces the one waiting, if any.
   */
  submit(frame: Frame, plan: DetectPlan = { kind: 'full', rects: [wholeRect(frame)], fit: frame }): void {
    if (this.closed) return;
    const lane = this.lane(frame.cameraId);
    lane.submitRate.mark();
    lane.lastSubmitAt = Date.now();
    if (lane.pending) lane.dropped[this.breaker.allows ? 'superseded' : 'modelDown']++;
    lane.pending = { frame, plan };
    this.pump();
  }

  /**
   * Forgets a camera: its waiting frame is dropped; calls in flight finish and
   * settle on the lane they started from. Stop the camera first, or its last
   * frames register it again.
   */
  removeCamera(cameraId: string): void {
    this.lanes.delete(cameraId);
    this.order = this.order.filter((id) => id !== cameraId);
    if (this.lastServed === cameraId) this.lastServed = undefined;
  }

  modelState(): BreakerStatus {
    return this.breaker.status();
  }

  /** The most calls ever in flight at once, for checking the bound holds. */
  get peak(): number {
    return this.peakInFlight;
  }

  stats(cameraId: string): CameraScheduleStats | undefined {
    const lane = this.lanes.get(cameraId);
    if (!lane) return undefined;
    return {
      detectFps: lane.detectRate.perSecond(),
      submittedFps: lane.submitRate.perSecond(),
      inFlight: lane.inFlight,
      dropped: { ...lane.dropped },
      detected: lane.detected,
      images: lane.images,
      latencyMs: { p50: lane.latency.percentile(0.5), p95: lane.latency.percentile(0.95) },
      queueWaitMs: { p50: lane.queueWait.percentile(0.5), p95: lane.queueWait.percentile(0.95) },
    };
  }

  /** Cameras with a frame that may go now; stale frames are dropped on the way. */
  private eligible(now: number): string[] {
    const ready: string[] = [];
    const n = this.order.length;
    // Cameras added since keep their place: the turn is found from the camera last served, not an index.
    const start = this.lastServed === undefined ? 0 : this.order.indexOf(this.lastServed) + 1;
    for (let i = 0; i < n; i++) {
      const id = this.order[(start + i) % n];
      const lane = this.lanes.get(id);
      if (!lane?.pending || lane.inFlight >= this.options.perCameraInFlight) continue;
      if (now - (lane.pending.frame.readyAt ?? lane.pending.frame.capturedAt) > this.options.maxFrameAgeMs) {
        lane.dropped.stale++;
        lane.pending = undefined;
        continue;
      }
      ready.push(id);
    }
    return ready;
  }

  private pump(): void {
    if (this.closed || this.draining || !this.breaker.allows) return;
    while (this.inFlight < this.options.maxInFlight) {
      const now = Date.now();
      const ready = this.eligible(now);
      if (ready.length === 0) return;
      if (this.options.maxBatch > 1 && this.options.batchTimeoutMs > 0) {
        // Wait, up to batchTimeoutMs, for the cameras that could still join this batch:
        // those with room in flight that offered a frame lately (a camera down is not waited for).
        const couldJoin = this.order.filter((id) => {
          const lane = this.lanes.get(id);
          return lane !== undefined && lane.inFlight < this.options.perCameraInFlight && now - lane.lastSubmitAt < QUIET_MS;
        }).length;
        const target = Math.min(this.options.maxBatch, couldJoin);
        if (ready.length < target) {
          this.batchWaitSince ??= now;
          const left = this.options.batchTimeoutMs - (now - this.batchWaitSince);
          if (left > 0) {
            if (!this.batchTimer) this.batchTimer = setTimeout(() => { this.batchTimer = undefined; this.pump(); }, left);
            return;
          }
        }
      }
      if (this.batchTimer) clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
      this.batchWaitSince = undefined;
      const batch: { job: Job; lane: Lane }[] = [];
      let images = 0;
      for (const id of ready) {
        const lane = this.lanes.get(id) as Lane;
        const job = lane.pending as Job;
        // The first frame goes whatever its regions; the others while the call's images stay within maxBatch.
        if (batch.length > 0 && images + job.plan.rects.length > this.options.maxBatch) break;
        images += job.plan.rects.length;
        batch.push({ job, lane });
        lane.pending = undefined;
        lane.inFlight++;
      }
      this.lastServed = batch[batch.length - 1].job.frame.cameraId;
      this.send(batch, now);
    }
    // Every call slot is taken: a batch wait that began earlier starts over when one frees.
    this.batchWaitSince = undefined;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
  }

  /** One Predict call. Counters settle on the lanes the frames came from, even if a camera is removed meanwhile. */
  private send(batch: { job: Job; lane: Lane }[], sentAt: number): void {
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    const controller = new AbortController();
    this.calls.add(controller);
    void (async () => {
      let detections: Detection[][] | undefined;
      let images: number[] = [];
      let looked: Rect[][] = [];
      let latencyMs = 0;
      let modelVersion: number | undefined;
      try {
        const started = Date.now();
        ({ detections, images, looked, modelVersion } = await detectPlans(this.model, batch.map((b) => b.job), { signal: controller.signal }));
        latencyMs = Date.now() - started;
        this.breaker.succeeded();
      } catch (err) {
        const failure = classifyFailure(err);
        for (const { lane } of batch) lane.dropped[failure.reason]++;
        if (failure.tripsBreaker) this.breaker.tripped((err as Error).message);
      } finally {
        this.calls.delete(controller);
        this.inFlight--;
        for (const { lane } of batch) lane.inFlight--;
      }
      if (detections) {
        for (const [i, { job: { frame, plan }, lane }] of batch.entries()) {
          lane.detected++;
          lane.images += images[i] ?? 0;
          lane.detectRate.mark();
          lane.latency.add(latencyMs);
          lane.queueWait.add(sentAt - (frame.readyAt ?? frame.capturedAt));
          if (this.closed || this.lanes.get(frame.cameraId) !== lane) continue;
          try {
            this.onResult({ frame, plan, looked: looked[i] ?? plan.rects, detections: detections[i] ?? [], images: images[i] ?? 0, latencyMs, queueWaitMs: sentAt - (frame.readyAt ?? frame.capturedAt), batchSize: batch.length, ...(modelVersion !== undefined ? { modelVersion } : {}) });
          } catch {
            // A consumer's failure is its own; it is not the model's, and must not stop the others.
          }
        }
      }
      this.pump();
    })();
  }

  /**
   * Sends nothing new and waits for the calls in flight to answer (their
   * results are delivered as usual), at most `timeoutMs`. For shutdown:
   * frames the model is working on still reach the log. close() follows.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const end = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  /** Stops sending, cancels calls in flight, drops waiting frames. Safe to call twice. */
  close(): void {
    this.closed = true;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.breaker.close();
    for (const c of this.calls) c.abort();
    for (const lane of this.lanes.values()) lane.pending = undefined;
  }
}
