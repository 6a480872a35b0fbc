// A per-camera multi-object tracker in the style of SORT: predict where each
// track's box is now, match this frame's detections to the predictions by IoU
// (same classId only), start tracks for what is left, and end tracks that have
// not been seen for a while. It gives each object a stable integer id so the
// log can make one event per object instead of one row per frame.
//
// Times are the frame times the caller passes (ms), never the wall clock, so
// a replay or a test gives the same ids every time. Detect fps varies (the
// scheduler drops frames under load), so ageing and prediction use elapsed
// time, not frame counts.
import type { Box, Detection, TrackedDetection, TrackedObject } from '../types.js';
import { LookoutError } from '../util/errors.js';

export interface TrackerOptions {
  /** Least IoU between a track's predicted box and a detection for them to match. Default 0.3. */
  iouThreshold?: number;
  /** Matches in a row before a track is confirmed; a tentative track that misses one frame is dropped. Default 2. */
  minHits?: number;
  /** A detection scoring at least this confirms its track at once (for very low detect fps). Default off. */
  confirmScore?: number;
  /**
   * A track looked for and not matched for longer than this (ms of frame
   * time) ends; time it was not looked for (held: see hold()) does not count. Default 2000.
   */
  maxAgeMs?: number;
  /** Live tracks (tentative and confirmed) at most; further new detections are not tracked. Default 256. */
  maxTracks?: number;
  /** The first track id; seed it above the last id used so ids stay unique across restarts. Default 1. */
  firstId?: number;
  /** Steady-state position gain of the alpha-beta filter, in (0, 1]. Default 0.6. */
  alpha?: number;
}


/** A track that ended: every id the tracker hands out is reported here exactly once. */
export interface EndedTrack {
  trackId: number;
  classId: number;
  label: string;
  /** False for a tentative track dropped before confirmation (never an event). */
  confirmed: boolean;
  firstTime: number;
  /** Time of the last frame the track was matched in. */
  lastTime: number;
  hits: number;
}

export interface TrackerUpdate {
  /** The input detections, in input order, each with its track. */
  detections: TrackedDetection[];
  ended: EndedTrack[];
}

export interface TrackerStats {
  live: number;
  confirmed: number;
  created: number;
  /** Detections left untracked because the live-track bound was reached. */
  untracked: number;
  nextId: number;
}

export class TrackerOptionsError extends LookoutError {
  readonly code = 'TRACKER_OPTIONS_INVALID';
  constructor(readonly key: string, expected: string, got: unknown) {
    super(`tracker option ${key}: expected ${expected}, got ${String(got)}`);
  }
}

/** Intersection over union of two [ymin, xmin, ymax, xmax] boxes; 0 for empty or inverted boxes. */
export function iou(a: Box, b: Box): number {
  const ih = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const iw = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (ih <= 0 || iw <= 0) return 0;
  const inter = ih * iw;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

// State is [cx, cy, w, h]: centre and size move independently, like SORT's
// state, and a box is easy to rebuild from it.
type State = [number, number, number, number];
const MIN_SIZE = 1e-4;
/**
 * A track whose centre moves more than this many box diagonals per second is
 * moving: a walker does several, a parked car's jitter far less than one tenth.
 */
const MOVING_DIAGONALS_PER_SECOND = 0.1;

function toState(b: Box): State {
  return [(b[1] + b[3]) / 2, (b[0] + b[2]) / 2, b[3] - b[1], b[2] - b[0]];
}

function toBox(s: State): Box {
  const w = Math.max(MIN_SIZE, s[2]);
  const h = Math.max(MIN_SIZE, s[3]);
  return [s[1] - h / 2, s[0] - w / 2, s[1] + h / 2, s[0] + w / 2];
}

/**
 * One object. The motion model is an alpha-beta filter per state component
 * (constant velocity, velocity in units per ms) rather than SORT's Kalman
 * filter: with fixed gains it is a few lines, deterministic and has no matrix
 * to tune. While a track is young its gains are those of a least-squares line
 * fit over all its observations (alpha = 2(2n-1)/(n(n+1)), beta = 6/(n(n+1)),
 * so the 2nd observation sets the velocity exactly); they fall to the steady
 * gains, where beta = alpha²/(2-alpha) (Benedict-Bordner) damps the response.
 */
class Track {
  private state: State;
  private readonly velocity: State = [0, 0, 0, 0];
  private stateTime: number;
  hits = 1;
  confirmed = false;
  lastTime: number;
  /** The last time it was matched, or held (not looked for, so not missed): it ends maxAgeMs after this. */
  aliveAt: number;
  /** Looked for and not found since its last match. */
  missed = false;
  readonly firstTime: number;

  constructor(readonly id: number, readonly classId: number, readonly label: string, time: number, box: Box) {
    this.state = toState(box);
    this.stateTime = this.lastTime = this.aliveAt = this.firstTime = time;
  }

  /** Centre speed in box diagonals per second. */
  relativeSpeed(): number {
    const diagonal = Math.hypot(Math.max(MIN_SIZE, this.state[2]), Math.max(MIN_SIZE, this.state[3]));
    return (Math.hypot(this.velocity[0], this.velocity[1]) * 1000) / diagonal;
  }

  /** The state extrapolated to `time`. A clock that stepped back counts as no time passing. */
  private predicted(time: number): State {
    const dt = Math.max(0, time - this.stateTime);
    return this.state.map((x, i) => x + this.velocity[i] * dt) as State;
  }

  predict(time: number): Box {
    return toBox(this.predicted(time));
  }

  correct(time: number, box: Box, alpha: number, beta: number): void {
    const n = this.hits + 1;
    const a = Math.max(alpha, (2 * (2 * n - 1)) / (n * (n + 1)));
    const b = Math.max(beta, 6 / (n * (n + 1)));
    const dt = time - this.stateTime;
    const pred = this.predicted(time);
    const z = toState(box);
    for (let i = 0; i < 4; i++) {
      const residual = z[i] - pred[i];
      pred[i] += a * residual;
      // Two detections at the same instant say nothing about speed.
      if (dt > 0) this.velocity[i] += (b * residual) / dt;
    }
    this.state = pred;
    this.stateTime = this.lastTime = time;
    this.aliveAt = Math.max(this.aliveAt, time);
    this.missed = false;
    this.hits = n;
  }

  ended(): EndedTrack {
    const { id: trackId, classId, label, confirmed, firstTime, lastTime, hits } = this;
    return { trackId, classId, label, confirmed, firstTime, lastTime, hits };
  }
}

/** The option's value or its default, refused with what was expected when out of range. */
function option(key: keyof TrackerOptions, value: number | undefined, fallback: number, ok: (v: number) => boolean, expected: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || !ok(v)) throw new TrackerOptionsError(key, expected, value);
  return v;
}

export class Tracker {
  private readonly iouThreshold: number;
  private readonly minHits: number;
  private readonly confirmScore: number;
  private readonly maxAgeMs: number;
  private readonly maxTracks: number;
  private readonly alpha: number;
  private readonly beta: number;
  /** Live tracks by id; Map order is creation order, which keeps matching deterministic. */
  private readonly tracks = new Map<number, Track>();
  private next: number;
  private created = 0;
  private untracked = 0;

  constructor(options: TrackerOptions = {}) {
    const o = options;
    this.iouThreshold = option('iouThreshold', o.iouThreshold, 0.3, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    this.minHits = option('minHits', o.minHits, 2, (v) => Number.isInteger(v) && v >= 1, 'an integer ≥ 1');
    this.confirmScore = option('confirmScore', o.confirmScore, Infinity, (v) => v > 0, 'a score > 0');
    this.maxAgeMs = option('maxAgeMs', o.maxAgeMs, 2000, (v) => Number.isFinite(v) && v >= 0, 'a number of ms ≥ 0');
    this.maxTracks = option('maxTracks', o.maxTracks, 256, (v) => Number.isInteger(v) && v >= 1, 'an integer ≥ 1');
    this.next = option('firstId', o.firstId, 1, (v) => Number.isSafeInteger(v) && v >= 1, 'a safe integer ≥ 1');
    this.alpha = option('alpha', o.alpha, 0.6, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    this.beta = (this.alpha * this.alpha) / (2 - this.alpha);
  }

  /** The id the next new track will get (persist it to seed `firstId` after a restart). */
  get nextId(): number {
    return this.next;
  }

  /**
   * Feeds one frame's detections, taken at `time` (ms). Call it for every
   * inference result of the camera, also the empty ones: a frame without a
   * match is what drops a tentative track. `looked`: the parts of the frame
   * the model saw (normalized boxes), when it did not see all of it; a track
   * whose predicted centre lies outside them was not looked for, so it is
   * held, not missed.
   */
  update(time: number, detections: readonly Detection[], looked?: readonly Box[] | null): TrackerUpdate {
    if (!Number.isFinite(time)) throw new TypeError(`tracker time must be a finite number of ms, got ${time}`);
    const ended: EndedTrack[] = [];
    // Expire first, so an object back after maxAgeMs gets a new id and event.
    for (const t of this.tracks.values()) {
      if (time - t.aliveAt > this.maxAgeMs) this.end(t, ended);
    }
    const lookedFor = (t: Track): boolean => {
      if (!looked) return true;
      const b = t.predict(time);
      // Clamped: a track predicted past the frame's edge (it walked out) is where the frame ends, not nowhere.
      const cy = Math.min(1, Math.max(0, (b[0] + b[2]) / 2));
      const cx = Math.min(1, Math.max(0, (b[1] + b[3]) / 2));
      return looked.some((r) => cy >= r[0] && cy <= r[2] && cx >= r[1] && cx <= r[3]);
    };

    const assigned = this.match(time, detections);
    const out: TrackedDetection[] = detections.map((d) => ({ ...d, trackId: null, confirmed: false }));
    const matched = new Set<Track>();
    assigned.forEach((t, i) => {
      const d = detections[i];
      t.correct(time, d.box, this.alpha, this.beta);
      if (t.hits >= this.minHits || d.score >= this.confirmScore) t.confirmed = true;
      matched.add(t);
      out[i].trackId = t.id;
      out[i].confirmed = t.confirmed;
    });

    for (const t of this.tracks.values()) {
      if (matched.has(t)) continue;
      if (!lookedFor(t)) {
        // Not looked for: not missed. One already missed stays missed (it needs a look, not a hold).
        if (!t.missed) this.holdTrack(t, time);
        continue;
      }
      // SORT's rule: a tentative track must be matched in every frame (it was looked for in) until confirmed.
      if (!t.confirmed) this.end(t, ended);
      else t.missed = true;
    }

    // New tracks for the rest, best score first, so the bound drops the weakest.
    const fresh = detections.map((_, i) => i).filter((i) => !assigned.has(i));
    fresh.sort((a, b) => detections[b].score - detections[a].score || a - b);
    for (const i of fresh) {
      const d = detections[i];
      if (this.tracks.size >= this.maxTracks) {
        this.untracked++;
        continue;
      }
      const t = new Track(this.next++, d.classId, d.label, time, d.box);
      t.confirmed = this.minHits <= 1 || d.score >= this.confirmScore;
      this.tracks.set(t.id, t);
      this.created++;
      out[i].trackId = t.id;
      out[i].confirmed = t.confirmed;
    }
    return { detections: out, ended };
  }

  /**
   * A frame the model did not look at (nothing moved: motion/gate.ts): the
   * tracks it would have looked for are held, so a parked car is not ended
   * for want of looking. Tracks that need a look (uncertain) are not held.
   */
  hold(time: number): void {
    for (const t of this.tracks.values()) if (t.confirmed && !t.missed) this.holdTrack(t, time);
  }

  /** A track already past its age is not brought back by a hold: it ends at the next update. */
  private holdTrack(t: Track, time: number): void {
    if (time - t.aliveAt <= this.maxAgeMs) t.aliveAt = Math.max(t.aliveAt, time);
  }

  /** The live tracks, their boxes predicted for `time`. */
  objects(time: number): TrackedObject[] {
    return [...this.tracks.values()].map((t) => ({
      trackId: t.id,
      label: t.label,
      box: t.predict(time),
      moving: t.relativeSpeed() > MOVING_DIAGONALS_PER_SECOND,
      uncertain: !t.confirmed || t.missed,
      unseenMs: Math.max(0, time - t.lastTime),
    }));
  }

  /** Ends every live track (at shutdown, or when the camera's stream restarts). */
  endAll(): EndedTrack[] {
    const ended: EndedTrack[] = [];
    for (const t of this.tracks.values()) this.end(t, ended);
    return ended;
  }

  stats(): TrackerStats {
    let confirmed = 0;
    for (const t of this.tracks.values()) if (t.confirmed) confirmed++;
    return { live: this.tracks.size, confirmed, created: this.created, untracked: this.untracked, nextId: this.next };
  }

  private end(t: Track, into: EndedTrack[]): void {
    this.tracks.delete(t.id);
    into.push(t.ended());
  }

  /**
   * Greedy assignment by highest IoU: with the IoU gate a detection rarely
   * qualifies for two tracks, and where it does the closer prediction should
   * win, which greedy does. Ties go to the older track, then the earlier
   * detection, so the result never depends on sort stability.
   */
  private match(time: number, detections: readonly Detection[]): Map<number, Track> {
    const pairs: { iou: number; track: Track; det: number }[] = [];
    for (const track of this.tracks.values()) {
      const predicted = track.predict(time);
      detections.forEach((d, det) => {
        if (d.classId !== track.classId) return;
        const v = iou(predicted, d.box);
        if (v >= this.iouThreshold) pairs.push({ iou: v, track, det });
      });
    }
    pairs.sort((a, b) => b.iou - a.iou || a.track.id - b.track.id || a.det - b.det);
    const byDetection = new Map<number, Track>();
    const taken = new Set<Track>();
    for (const p of pairs) {
      if (byDetection.has(p.det) || taken.has(p.track)) continue;
      byDetection.set(p.det, p.track);
      taken.add(p.track);
    }
    return byDetection;
  }
}
