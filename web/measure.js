// What a player measures of its camera's stream to pace playback: the frame
// duration, how unevenly fragments arrive, and how far behind the live edge a
// detection's pts is when the detection arrives (the model's latency as the
// video sees it). Pure: times are passed in; every history is a small ring.
import { boxesAt, median, quantile } from './interpolate.js';

/** @typedef {import('./interpolate.js').DetectionTimeline} DetectionTimeline */
/** @typedef {import('./interpolate.js').PlacedBox} PlacedBox */

const RING = 60;
const DEFAULT_FRAME_S = 1 / 30;
/**
 * Jitter is judged over the fragments of the last few seconds only: those
 * that come in a burst on joining (the fragments since the last keyframe)
 * are not late, they are old, and soon out of the window.
 */
const JITTER_WINDOW_S = 4;
const MAX_JITTER_S = 1;
const FADE_S = 0.6;

/** Pushes onto a bounded array (a ring of `max` newest values). */
function push(/** @type {number[]} */ ring, /** @type {number} */ value, max = RING) {
  ring.push(value);
  if (ring.length > max) ring.splice(0, ring.length - max);
}

export class StreamMeasure {
  /** The run the measures are of; a new run starts them again. */
  run = 0;
  /** The live edge: the end of the newest fragment received, in the run's media time. */
  edgeS = 0;
  /** @type {number[]} */ #durations = [];
  /** @type {number[]} */ #presentedGaps = [];
  /** @type {{ at: number, offset: number }[]} */ #arrivals = [];
  /** @type {number[]} */ #delays = [];
  /** @type {number | undefined} */ #lastPresented;

  #reset(/** @type {number} */ run) {
    this.run = run;
    this.edgeS = 0;
    this.#arrivals = [];
    this.#delays = [];
    this.#lastPresented = undefined;
  }

  /** A media fragment arrived at arrivedS (a local monotonic clock, seconds). */
  fragment(/** @type {number} */ run, /** @type {number} */ pts, /** @type {number} */ duration, /** @type {number} */ arrivedS) {
    if (run !== this.run) this.#reset(run);
    if (duration > 0 && duration < 10) push(this.#durations, duration);
    this.edgeS = Math.max(this.edgeS, pts + duration);
    // Arrival time minus pts is constant for a perfectly even stream; its spread is the jitter.
    this.#arrivals.push({ at: arrivedS, offset: arrivedS - pts });
    const old = this.#arrivals.findIndex((a) => a.at >= arrivedS - JITTER_WINDOW_S);
    if (old > 0) this.#arrivals.splice(0, old);
    if (this.#arrivals.length > 1000) this.#arrivals.splice(0, this.#arrivals.length - 1000);
  }

  /** A detection of the frame at pts arrived: the edge had moved on by the model's latency. */
  detection(/** @type {number} */ run, /** @type {number} */ pts) {
    if (run !== this.run || this.edgeS === 0) return;
    const delay = this.edgeS - pts;
    if (delay > -1 && delay < 30) push(this.#delays, Math.max(0, delay), 40);
  }

  /** A frame was presented at this mediaTime. */
  presented(/** @type {number} */ mediaTime) {
    const gap = this.#lastPresented === undefined ? 0 : mediaTime - this.#lastPresented;
    if (gap > 0 && gap < 1) push(this.#presentedGaps, gap);
    this.#lastPresented = mediaTime;
  }

  /** One frame's duration: fragments are usually one frame; presented frames tell when they are not. */
  get frameS() {
    const candidates = [median(this.#durations), median(this.#presentedGaps)].filter((v) => v > 0);
    return candidates.length ? Math.min(...candidates) : DEFAULT_FRAME_S;
  }

  /**
   * How unevenly fragments arrive: the spread of arrival minus pts over the
   * last few seconds, to the 95th percentile (a rare late one costs a short
   * stall; waiting for it always would cost latency all the time); at most 1 s.
   */
  get jitterS() {
    if (this.#arrivals.length < 5) return 0.1;
    const offsets = this.#arrivals.map((a) => a.offset);
    return Math.min(MAX_JITTER_S, quantile(offsets, 0.95) - Math.min(...offsets));
  }

  /** How far past a detection frame the live edge typically is when its detection arrives (90th percentile). */
  get detectionDelayS() {
    return this.#delays.length ? quantile(this.#delays, 0.9) : undefined;
  }

  /**
   * The boxes of a timeline for the frame presented at t, held by what is
   * measured: at full strength as long as the newest detection is normally
   * late (however late the model is: the tile says so), fading once a newer
   * one should have come. @returns {PlacedBox[]}
   */
  boxesAt(/** @type {DetectionTimeline} */ timeline, /** @type {number} */ t) {
    const holdS = Math.min(10, (this.detectionDelayS ?? 1) + 1.5 * (timeline.interval() ?? 0.5) + 0.25);
    return boxesAt(timeline.frames, t, { halfFrameS: this.frameS / 2, holdS, fadeS: FADE_S });
  }
}
