// One camera's motion: whether its detection frame is worth sending to the
// model at all, and where in it things moved (as Frigate gates its
// detector). It keeps a running background of a small grey picture
// (grey.ts), marks what differs from it, and boxes the changed cells
// (blobs.ts).
//
// Times are the frame times the caller passes (ms), never the wall clock, so
// a replay or a test behaves the same every time; and the background learns
// by elapsed time, not per frame, so a camera at 2 detect fps and one at 10
// (or one whose frames the scheduler drops under load) see the same motion.
import type { Point } from '../config/schema.js';
import type { Box } from '../types.js';
import { LookoutError } from '../util/errors.js';
import { BlobFinder } from './blobs.js';
import { GreyScaler } from './grey.js';
import { rasterizeMasks, type MaskBitmap } from './mask.js';

export interface MotionSettings {
  /** Grey-level difference (0–255) from the background that counts as changed. Defaults: config/motion.ts. */
  threshold: number;
  /** Least area of a motion box's changed pixels, as a fraction of the frame. */
  minArea: number;
  /** Polygons (normalized points) where changes are ignored (a clock, waving trees). */
  masks: Point[][];
  /** After a (re)start or a global change, this long of learning the background before motion is reported. */
  warmupSeconds: number;
  /** A frame whose changed fraction of the (unmasked) picture is above this is a global change (lights on, IR switch): re-calibrate, not motion. */
  recalibrate: number;
}

export type MotionState = 'calibrating' | 'still' | 'motion';

export interface MotionResult {
  state: MotionState;
  /** Motion boxes, normalized [ymin, xmin, ymax, xmax], largest first; empty unless state is 'motion'. */
  boxes: Box[];
  /** Fraction (0–1) of the unmasked picture that differs from the background in this frame. */
  changed: number;
  /** True when this frame started a re-calibration (a global change, or the first frame / a size change). */
  recalibrated: boolean;
}

export interface MotionStats {
  frames: number;
  calibrations: number;
  motionFrames: number;
}

export class MotionSettingsError extends LookoutError {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly key: string, expected: string, got: unknown) {
    super(`motion: ${key}: expected ${expected}, got ${JSON.stringify(got)}`);
  }

  override fields(): Record<string, unknown> {
    return { key: this.key };
  }
}

/** A frame whose bytes are not the packed RGB24 its size says: the caller's mistake, never a camera's. */
export class MotionFrameError extends LookoutError {
  readonly code = 'IMAGE_UNDECODABLE';
}

/**
 * Two backgrounds, after the classic long-term/short-term pair: the one
 * motion is measured against, and a recent one that follows the picture
 * within a quarter of a second (a frame or two at usual detect rates). A
 * cell that differs from the recent one is moving now; one that differs
 * from the background but not from the recent one has settled: an object
 * that stopped, or the spot one left (a "ghost").
 */
const RECENT_MS = 250;
/**
 * The background's time constant where the picture agrees with it: long
 * enough to average codec noise over many frames, short enough to follow
 * light that changes over tens of seconds (clouds, dusk).
 */
const BACKGROUND_MS = 5_000;
/**
 * Where a change has settled, the background takes it in fast: the spot a
 * person left stops being motion about a second after they leave (1.7 s at
 * most on the person clip, where dark clothes leave white wall), instead of
 * keeping the model busy on an empty room for ten. The price: an object that
 * stands quite still stops being motion after a second or two, as in
 * Frigate; following stationary objects is the tracker's business. A person
 * standing at a table still sways, and the swaying edges stay motion.
 */
const SETTLED_MS = 1_000;
/**
 * Where a cell is moving now, the background learns slower still, so a
 * walker leaves no trail behind. Not stopped altogether: a tree waving for
 * minutes is learnt in the end (a mask is the better answer for it).
 */
const MOVING_MS = 20_000;
/** While calibrating, the background follows the picture within a fraction of a second. */
const WARMUP_MS = 250;
/**
 * The most time one frame's learning stands for: after a stall, the first
 * frame does not overwrite the background (and whatever is in view then
 * with it); a scene that really changed meanwhile is a global change.
 */
const MAX_STEP_MS = 1_000;
/** Dilation radius, in cells of the small picture: fragments up to 4 cells (about 1.3% of its width) apart join. */
const DILATE = 2;
/** Boxes this many cells apart (or overlapping) merge into one. */
const JOIN_GAP = 3;

export class MotionDetector {
  private settings: MotionSettings;
  private scaler: GreyScaler | undefined;
  private blobs: BlobFinder | undefined;
  private mask: MaskBitmap | undefined;
  private background: Float32Array | undefined;
  private recent = new Float32Array(0);
  private changedCells = new Uint8Array(0);
  private lastTime = 0;
  /** Time (ms of frame time) and frames since the warm-up began; undefined once warm. */
  private warmup: { elapsed: number; frames: number } | undefined;
  private counts: MotionStats = { frames: 0, calibrations: 0, motionFrames: 0 };

  constructor(settings: MotionSettings) {
    this.settings = checkSettings(settings);
  }

  update(frame: { width: number; height: number; data: Uint8Array }, time: number): MotionResult {
    checkFrame(frame, time);
    this.counts.frames++;
    const sized = this.scaler?.frameWidth === frame.width && this.scaler.frameHeight === frame.height;
    if (!sized) this.resize(frame.width, frame.height);
    const scaler = this.scaler!;
    const grey = scaler.scale(frame.data);
    const step = time - this.lastTime;
    this.lastTime = time;
    if (!sized || !this.background) return this.calibrate(grey, 0);

    const changed = this.compare(grey, this.background);
    if (changed > this.settings.recalibrate) return this.calibrate(grey, changed);
    // Times that go backwards (a looped file) teach and age nothing.
    const dt = Math.max(0, step);
    if (this.warmup) {
      this.warmup.elapsed += dt;
      const done = this.warmup.elapsed >= this.settings.warmupSeconds * 1000 && this.warmup.frames >= 2;
      if (!done) {
        this.warmup.frames++;
        const fast = rate(dt, WARMUP_MS);
        this.learn(grey, fast, fast, fast, fast);
        return { state: 'calibrating', boxes: [], changed, recalibrated: false };
      }
      this.warmup = undefined;
    }

    const { width, height } = scaler;
    const minPixels = Math.max(1, this.settings.minArea * width * height);
    const found = this.blobs!.find(this.changedCells, minPixels, DILATE, JOIN_GAP);
    const learnStep = Math.min(dt, MAX_STEP_MS);
    this.learn(grey, rate(learnStep, BACKGROUND_MS), rate(learnStep, SETTLED_MS), rate(learnStep, MOVING_MS), rate(learnStep, RECENT_MS));
    if (found.length === 0) return { state: 'still', boxes: [], changed, recalibrated: false };
    this.counts.motionFrames++;
    const boxes = found.map((b): Box => [b.y0 / height, b.x0 / width, (b.y1 + 1) / height, (b.x1 + 1) / width]);
    return { state: 'motion', boxes, changed, recalibrated: false };
  }

  /** New settings (threshold, masks, …) apply from the next frame without losing the background. */
  reconfigure(settings: MotionSettings): void {
    this.settings = checkSettings(settings);
    // The masks may have changed; rasterized again at the next frame's size.
    this.mask = undefined;
  }

  /** Forget the background (the camera restarted): the next frame starts a warm-up. */
  reset(): void {
    this.background = undefined;
    this.warmup = undefined;
  }

  stats(): MotionStats {
    return { ...this.counts };
  }

  /** A new frame size: new buffers, and the old background means nothing at the new size. */
  private resize(width: number, height: number): void {
    const scaler = new GreyScaler(width, height);
    this.scaler = scaler;
    this.blobs = new BlobFinder(scaler.width, scaler.height);
    this.changedCells = new Uint8Array(scaler.width * scaler.height);
    this.mask = undefined;
    this.background = undefined;
  }

  /** Starts a warm-up from this picture: it becomes the background. */
  private calibrate(grey: Float32Array, changed: number): MotionResult {
    this.background = Float32Array.from(grey);
    this.recent = Float32Array.from(grey);
    this.changedCells.fill(0);
    this.warmup = { elapsed: 0, frames: 1 };
    this.counts.calibrations++;
    return { state: 'calibrating', boxes: [], changed, recalibrated: true };
  }

  /** Marks the unmasked cells that differ from the background by more than the threshold; returns their fraction. */
  private compare(grey: Float32Array, background: Float32Array): number {
    const { width, height } = this.scaler!;
    this.mask ??= rasterizeMasks(this.settings.masks, width, height);
    const { masked, open } = this.mask;
    const count = markChanged(grey, background, masked, this.changedCells, this.settings.threshold);
    return open > 0 ? count / open : 0;
  }

  /**
   * Both backgrounds take a step towards the picture. The background's step
   * is per cell: the moving rate where the picture differs from the recent
   * background by more than half the threshold (moving now, not just noise),
   * else the settled rate where it is changed, else the still rate.
   */
  private learn(grey: Float32Array, still: number, settled: number, moving: number, recentRate: number): void {
    const { background, recent, changedCells } = this;
    const half = this.settings.threshold / 2;
    for (let i = 0; i < grey.length; i++) {
      const g = grey[i];
      const a = Math.abs(g - recent[i]) > half ? moving : changedCells[i] === 1 ? settled : still;
      background![i] += a * (g - background![i]);
      recent[i] += recentRate * (g - recent[i]);
    }
  }
}

/** changed[i] = 1 where an unmasked cell differs from the background by more than the threshold; returns how many. */
function markChanged(grey: Float32Array, background: Float32Array, masked: Uint8Array, changed: Uint8Array, threshold: number): number {
  let count = 0;
  for (let i = 0; i < grey.length; i++) {
    const d = grey[i] - background[i];
    // Without branches: the changed cells of a busy picture are no pattern a branch predictor learns.
    const on = (Number(d > threshold) | Number(d < -threshold)) & (masked[i] ^ 1);
    changed[i] = on;
    count += on;
  }
  return count;
}

/** The weight of a new picture after dt ms for a background with time constant tau ms. */
function rate(dt: number, tau: number): number {
  return 1 - Math.exp(-dt / tau);
}

function checkFrame(frame: { width: number; height: number; data: Uint8Array }, time: number): void {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new MotionFrameError(`motion: frame size ${width}x${height} is not a picture's`);
  }
  if (data.length < width * height * 3) {
    throw new MotionFrameError(`motion: a ${width}x${height} RGB24 frame needs ${width * height * 3} bytes, got ${data.length}`);
  }
  if (!Number.isFinite(time)) throw new MotionFrameError(`motion: frame time ${time} is not a number of ms`);
}

function checkSettings(s: MotionSettings): MotionSettings {
  const number = (key: keyof MotionSettings, v: unknown, lo: number, hi: number, open = false) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v > hi || (open ? v <= lo : v < lo)) {
      throw new MotionSettingsError(key, `a number ${open ? 'above' : 'from'} ${lo} ${hi === Infinity ? 'up' : `to ${hi}`}`, v);
    }
  };
  number('threshold', s.threshold, 0, 255, true);
  number('minArea', s.minArea, 0, 1);
  number('warmupSeconds', s.warmupSeconds, 0, Infinity);
  number('recalibrate', s.recalibrate, 0, 1, true);
  const points = Array.isArray(s.masks) && s.masks.every((m) => Array.isArray(m) && m.every(isPoint));
  if (!points) throw new MotionSettingsError('masks', 'polygons of [x, y] points, each 0–1', s.masks);
  // A copy: a caller that edits its settings object later changes nothing until it reconfigures.
  return { ...s, masks: s.masks.map((m) => m.map((p): Point => [p[0], p[1]])) };
}

function isPoint(p: unknown): boolean {
  return Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && v >= 0 && v <= 1);
}
