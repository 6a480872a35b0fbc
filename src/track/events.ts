// Turns one camera's stream of detections into events: one per tracked
// object, from the first frame it was seen in to the last. The builder owns
// the camera's Tracker, so its owner makes one call per inference result:
//
//   const { tracked, started, improved, ended } = builder.update({ time: capturedAt, frameId }, detections);
//
// and writes `started`/`ended` to the log and takes a snapshot of
// `bestFrameId` on `started` and `improved`. Nothing here does I/O.
import type { Box, Detection, TrackedDetection, TrackedObject, TrackEvent } from '../types.js';
import { Tracker, type EndedTrack, type TrackerOptions, type TrackerStats } from './tracker.js';
import { LookoutError } from '../util/errors.js';

/**
 * An event's id: `${camera}-${start}-${trackId}`.
 *
 * Deterministic rather than a uuid, so a retried upsert after a crash updates
 * the same row instead of adding a twin, and a person reading a log line can
 * tell which camera and when. Unique: start and trackId are non-negative
 * integers without a '-', so reading the last two fields from the right
 * recovers them whatever the camera id holds; tracker ids restart after a
 * process restart, but never at the same camera and millisecond.
 */
export function eventId(camera: string, start: number, trackId: number): string {
  return `${camera}-${Math.round(start)}-${trackId}`;
}

export interface EventBuilderOptions {
  tracker?: TrackerOptions;
  /**
   * After an event started, a better detection becomes its new best (and is
   * reported in `improved`) only if it beats the current best by at least
   * this much, or comes `bestIntervalMs` or more after it. Each `improved` is
   * a snapshot to take; without the bound a slowly rising score would ask for
   * one every frame. Default 0.05.
   */
  minScoreGain?: number;
  /** See minScoreGain. Default 1000 ms. */
  bestIntervalMs?: number;
  /**
   * A confirmed track becomes an event only once the median of its last
   * scores reaches its label's threshold (the object filters' `threshold`),
   * so one lucky frame does not make an event. Default: 0 (confirmation alone).
   */
  threshold?: (label: string) => number;
}

/** Scores kept per track for the median: enough to outvote a few lucky frames, recent enough to follow a change. */
const SCORE_HISTORY = 15;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface EventFrame {
  /** The frame's time, ms (e.g. its capturedAt). */
  time: number;
  /** The frame's id (types.ts frameId()), so the caller can find the picture for a snapshot. */
  frameId: string;
  /** The model that answered this frame, for the events that start on it. */
  model?: { name: string; version: number | null };
}

export interface EventUpdate {
  /** The input detections, in order, with their track ids. */
  tracked: TrackedDetection[];
  /** Events whose track was confirmed in this frame. */
  started: TrackEvent[];
  /** Open events with a new best detection (take a snapshot of bestFrameId). */
  improved: TrackEvent[];
  /** Events whose track ended in this frame (it had not been seen for maxAgeMs). */
  ended: TrackEvent[];
  /** Every track that ended here, with or without an event (whoever keeps state per track lets go). */
  gone: number[];
}

export interface EventBuilderStats extends TrackerStats {
  open: number;
}

/** What the builder keeps per live track, tentative ones included, so a start can carry their best. */
interface TrackState {
  start: number;
  best: { score: number; box: Box; frameId: string; time: number };
  event: TrackEvent | null;
  /** The last SCORE_HISTORY scores, while the track has no event yet. */
  scores: number[];
  /** The last RECENT_SIGHTINGS detections, while the track has no event yet. */
  recent: TrackState['best'][];
}

/**
 * What a snapshot can still be taken of when an event starts: the log's
 * recorder keeps a camera's last 4 results. An event held back by the
 * threshold starts later than its best frame may be; its best then becomes
 * the best of these, or it would never get a snapshot.
 */
const RECENT_SIGHTINGS = 4;

export class EventBuilderOptionsError extends LookoutError {
  readonly code = 'EVENT_OPTIONS_INVALID';
  constructor(readonly key: string, expected: string, got: unknown) {
    super(`event builder option ${key}: expected ${expected}, got ${String(got)}`);
  }
}

export class EventBuilder {
  private readonly tracker: Tracker;
  private readonly minScoreGain: number;
  private readonly bestIntervalMs: number;
  private readonly threshold: ((label: string) => number) | undefined;
  /** Bounded by the tracker's maxTracks: an entry leaves when its track ends. */
  private readonly states = new Map<number, TrackState>();

  constructor(readonly camera: string, options: EventBuilderOptions = {}) {
    this.tracker = new Tracker(options.tracker);
    const gain = options.minScoreGain ?? 0.05;
    if (!(gain >= 0 && gain <= 1)) throw new EventBuilderOptionsError('minScoreGain', 'a number in [0, 1]', options.minScoreGain);
    const interval = options.bestIntervalMs ?? 1000;
    if (!(interval >= 0)) throw new EventBuilderOptionsError('bestIntervalMs', 'a number of ms ≥ 0', options.bestIntervalMs);
    this.minScoreGain = gain;
    this.bestIntervalMs = interval;
    this.threshold = options.threshold;
  }

  /** The next track id; persist it and pass it as tracker.firstId after a restart. */
  get nextTrackId(): number {
    return this.tracker.nextId;
  }

  /** Feeds one inference result of the camera. Call it for empty results too; `looked` as Tracker.update's. */
  update(frame: EventFrame, detections: readonly Detection[], looked?: readonly Box[] | null): EventUpdate {
    const { detections: tracked, ended: endedTracks } = this.tracker.update(frame.time, detections, looked);
    const ended = endedTracks.flatMap((t) => this.close(t));
    const started: TrackEvent[] = [];
    const improved: TrackEvent[] = [];
    for (const d of tracked) {
      if (d.trackId === null) continue;
      const best = { score: d.score, box: [...d.box] as Box, frameId: frame.frameId, time: frame.time };
      let state = this.states.get(d.trackId);
      if (!state) {
        state = { start: frame.time, best, event: null, scores: [], recent: [] };
        this.states.set(d.trackId, state);
      } else if (state.event === null) {
        // Still tentative: keep the true best, nobody has been told yet.
        if (d.score > state.best.score) state.best = best;
      } else if (this.improves(state.event, d.score, frame.time)) {
        setBest(state.event, best);
        improved.push(copy(state.event));
      }
      if (state.event === null) {
        state.scores.push(d.score);
        if (state.scores.length > SCORE_HISTORY) state.scores.shift();
        state.recent.push(best);
        if (state.recent.length > RECENT_SIGHTINGS) state.recent.shift();
      }
      if (d.confirmed && state.event === null && median(state.scores) >= (this.threshold?.(d.label) ?? 0)) {
        if (!state.recent.includes(state.best)) state.best = state.recent.reduce((a, b) => (b.score > a.score ? b : a));
        state.scores = [];
        state.recent = [];
        state.event = {
          id: eventId(this.camera, state.start, d.trackId),
          camera: this.camera,
          trackId: d.trackId,
          label: d.label,
          classId: d.classId,
          start: state.start,
          end: null,
          maxScore: 0,
          bestBox: [0, 0, 0, 0],
          bestFrameId: '',
          bestTime: 0,
          zones: [],
          ...(frame.model ? { model: frame.model.name } : {}),
          ...(frame.model && frame.model.version !== null ? { modelVersion: frame.model.version } : {}),
        };
        setBest(state.event, state.best);
        started.push(copy(state.event));
      }
    }
    return { tracked, started, improved, ended, gone: endedTracks.map((t) => t.trackId) };
  }

  /** A frame the model did not look at: see Tracker.hold(). */
  hold(time: number): void {
    this.tracker.hold(time);
  }

  /** The live tracks, predicted for `time` (the motion gate's regions follow them). */
  objects(time: number): TrackedObject[] {
    return this.tracker.objects(time);
  }

  /** Ends every open event at its last seen time (at shutdown, or when the stream restarts). */
  endAll(): TrackEvent[] {
    return this.tracker.endAll().flatMap((t) => this.close(t));
  }

  /** The open events, e.g. for an API listing what is in view now. */
  open(): TrackEvent[] {
    const out: TrackEvent[] = [];
    for (const s of this.states.values()) if (s.event) out.push(copy(s.event));
    return out;
  }

  /** Whether the track has become an event (confirmed, and its scores reached the threshold). */
  hasEvent(trackId: number): boolean {
    return this.states.get(trackId)?.event != null;
  }

  stats(): EventBuilderStats {
    let open = 0;
    for (const s of this.states.values()) if (s.event) open++;
    return { ...this.tracker.stats(), open };
  }

  private improves(event: TrackEvent, score: number, time: number): boolean {
    if (score <= event.maxScore) return false;
    // The epsilon keeps 0.80 → 0.85 a gain of 0.05 despite binary floats.
    return score - event.maxScore >= this.minScoreGain - 1e-9 || time - event.bestTime >= this.bestIntervalMs;
  }

  /** Forgets the track; returns its event, ended, if it had one (a dropped tentative track had none). */
  private close(t: EndedTrack): TrackEvent[] {
    const state = this.states.get(t.trackId);
    this.states.delete(t.trackId);
    if (!state?.event) return [];
    // A clock that stepped back must not give an event that ends before it starts.
    state.event.end = Math.max(state.event.start, t.lastTime);
    return [copy(state.event)];
  }
}

/** A copy the caller may keep: the builder goes on changing its own. */
function copy(e: TrackEvent): TrackEvent {
  return { ...e, bestBox: [...e.bestBox], zones: [...e.zones] };
}

function setBest(event: TrackEvent, best: TrackState['best']): void {
  event.maxScore = best.score;
  event.bestBox = [...best.box];
  event.bestFrameId = best.frameId;
  event.bestTime = best.time;
}
