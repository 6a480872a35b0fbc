// A camera's motion gate: for each detection frame, whether the model gets
// it, and what of it (motion/README.md). Nothing moving and no tracked object
// needing a look: the frame is skipped (the steady tracks are held). Motion,
// or a moving or uncertain object: squares around them (regions.ts), or the
// whole frame when that is cheaper or regions are off. Each steady object is
// looked at again once the model has not seen it for refreshSeconds (so
// motion elsewhere does not starve it, and when the model is away its track
// is not held for ever), and the whole frame every fullFrameSeconds and after
// a global change, so an object that never moves is still found.
import type { MotionConfig, RegionsConfig } from '../config/schema.js';
import type { Box, DetectPlan, Frame, Size, TrackedObject } from '../types.js';
import { wholeRect } from '../util/rect.js';
import { MotionDetector, type MotionResult, type MotionStats } from './detector.js';
import { planRegions } from './regions.js';

export interface GateSettings {
  motion: MotionConfig;
  regions: RegionsConfig;
  /** Whole frames are scaled to fit this; regions are squares of its shorter side. */
  size: Size;
}

/** Why a frame went to the model, or did not. */
export type GateReason = 'off' | 'first' | 'periodic' | 'changed' | 'motion' | 'objects' | 'refresh' | 'still' | 'calibrating';

export interface GateDecision {
  /** Undefined: the frame is skipped. */
  plan: DetectPlan | undefined;
  reason: GateReason;
  /** This frame's motion; undefined when motion detection is off. */
  motion: MotionResult | undefined;
}

export interface GateStats {
  /** Frames given to the model whole, and as regions. */
  sentFull: number;
  sentRegions: number;
  /** Frames not given to the model: nothing moved. */
  skipped: number;
  /** Frames that were refreshes of steady objects. */
  refreshes: number;
  /** Regions planned (each one image for the model). */
  regions: number;
  motion: MotionStats | undefined;
  /** The newest frame's motion state and boxes. */
  state: MotionResult['state'] | 'off';
  boxes: Box[];
  changed: number;
  /** Capture time of the last frame with motion, ms since the epoch. */
  lastMotionAt: number | undefined;
}

/** A whole-frame pass asked for and not answered yet is asked again after this (its frame may have been dropped). */
const FULL_RETRY_MS = 2_000;
/**
 * After a global change (re-calibration) the whole frame is looked at, at
 * most this often: a change that fills the picture may be a person or a
 * truck, not the light; a flickering light must not cost every frame.
 */
const CHANGED_LOOK_MS = 5_000;

export class MotionGate {
  private detector: MotionDetector | undefined;
  private run: number | undefined;
  private fullAskedAt: number | undefined;
  private fullDoneAt: number | undefined;
  /** When each steady object's refresh was last asked for: its answer takes the model's time, and the frames meanwhile must not ask again. */
  private readonly refreshAskedAt = new Map<number, number>();
  private changedAt: number | undefined;
  private changedLookAt: number | undefined;
  private last: MotionResult | undefined;
  private lastMotionAt: number | undefined;
  private readonly counts = { sentFull: 0, sentRegions: 0, skipped: 0, refreshes: 0, regions: 0 };

  constructor(private settings: GateSettings) {
    this.detector = settings.motion.enabled ? new MotionDetector(settings.motion) : undefined;
  }

  /** New settings from the next frame on; the background is kept. */
  reconfigure(settings: GateSettings): void {
    this.settings = settings;
    if (!settings.motion.enabled) this.detector = undefined;
    else if (this.detector) this.detector.reconfigure(settings.motion);
    else this.detector = new MotionDetector(settings.motion);
  }

  /** What the model gets of this frame; `objects` are the camera's live tracks predicted for the frame's time. */
  decide(frame: Frame, objects: readonly TrackedObject[]): GateDecision {
    const time = frame.capturedAt;
    if (frame.run !== this.run) {
      // A new ffmpeg run: a new picture to learn, and a whole look at it.
      this.run = frame.run;
      this.detector?.reset();
      this.fullAskedAt = this.fullDoneAt = this.changedAt = this.changedLookAt = undefined;
    }
    const motion = this.detector?.update(frame, time);
    this.last = motion;
    if (motion?.state === 'motion') this.lastMotionAt = time;
    if (motion?.recalibrated && this.fullDoneAt !== undefined) this.changedAt = time;
    const decision = this.plan(frame, time, motion, objects);
    if (decision.plan) {
      if (decision.reason === 'changed') this.changedLookAt = time;
      if (decision.plan.kind === 'full') {
        this.counts.sentFull++;
        this.fullAskedAt = time;
      } else {
        this.counts.sentRegions++;
        this.counts.regions += decision.plan.rects.length;
      }
      if (decision.reason === 'refresh') this.counts.refreshes++;
    } else {
      this.counts.skipped++;
    }
    return decision;
  }

  /** The model answered a frame of this camera: a whole-frame answer restarts the fullFrameSeconds clock. */
  answered(plan: DetectPlan, frame: Frame): void {
    // An answer about an earlier run's frame says nothing of this run's picture.
    if (plan.kind === 'full' && frame.run === this.run) this.fullDoneAt = Math.max(this.fullDoneAt ?? 0, frame.capturedAt);
  }

  private plan(frame: Frame, time: number, motion: MotionResult | undefined, objects: readonly TrackedObject[]): GateDecision {
    const whole = (reason: GateReason): GateDecision => ({ plan: { kind: 'full', rects: [wholeRect(frame)], fit: this.settings.size }, reason, motion });
    if (!motion) return whole('off');
    const { regions } = this.settings;
    const fullDue = this.fullDoneAt === undefined || time - this.fullDoneAt >= regions.fullFrameSeconds * 1000;
    const fullPending = this.fullAskedAt !== undefined && time - this.fullAskedAt < FULL_RETRY_MS && this.fullAskedAt > (this.fullDoneAt ?? -Infinity);
    if (fullDue && !fullPending) return whole(this.fullDoneAt === undefined ? 'first' : 'periodic');
    const changed = this.changedAt !== undefined && (this.changedLookAt === undefined || this.changedLookAt < this.changedAt);
    if (changed && !fullPending && (this.changedLookAt === undefined || time - this.changedLookAt >= CHANGED_LOOK_MS)) return whole('changed');
    const needy = objects.filter((o) => o.moving || o.uncertain).map((o) => o.box);
    const due = objects.filter((o) => !o.moving && !o.uncertain && o.unseenMs >= this.settings.motion.refreshSeconds * 1000);
    // Forget objects gone; ask again for one whose refresh went unanswered (its frame dropped) after FULL_RETRY_MS.
    for (const id of this.refreshAskedAt.keys()) if (!objects.some((o) => o.trackId === id)) this.refreshAskedAt.delete(id);
    const stale = due.filter((o) => time - (this.refreshAskedAt.get(o.trackId) ?? -Infinity) >= FULL_RETRY_MS);
    for (const o of stale) this.refreshAskedAt.set(o.trackId, time);
    const staleBoxes = stale.map((o) => o.box);
    const targets = [...motion.boxes, ...needy, ...staleBoxes];
    if (targets.length === 0) return { plan: undefined, reason: motion.state === 'calibrating' ? 'calibrating' : 'still', motion };
    const reason: GateReason = motion.boxes.length > 0 ? 'motion' : needy.length > 0 ? 'objects' : 'refresh';
    if (!regions.enabled) return whole(reason);
    const side = Math.min(this.settings.size.width, this.settings.size.height);
    const planned = planRegions(targets, frame, side, regions.maxRegions);
    if (planned.kind === 'whole') return whole(reason);
    return { plan: { kind: 'regions', rects: planned.rects, fit: { width: side, height: side } }, reason, motion };
  }

  stats(): GateStats {
    return {
      ...this.counts,
      motion: this.detector?.stats(),
      state: this.detector ? this.last?.state ?? 'calibrating' : 'off',
      boxes: this.last?.boxes ?? [],
      changed: this.last?.changed ?? 0,
      lastMotionAt: this.lastMotionAt,
    };
  }
}
