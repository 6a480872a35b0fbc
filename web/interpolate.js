// Which boxes belong to a presented video frame. Pure: no DOM, no clock; the
// player asks with the frame's mediaTime and draws what comes back.
//
// A camera's detections arrive as detection frames, each at one pts of the
// stream's timeline, a few per second. For a presented frame at time t:
//   - a detection frame at t (within half a frame) gives its boxes exactly;
//   - else, between the detection frames before and after t, a track (same
//     trackId in both) moves linearly from its box before to its box after;
//     a track that is gone in the frame after stays until halfway, and an
//     untracked box (no trackId) stays until the frame after replaces it;
//   - else (nothing newer has arrived yet: the live edge) the boxes of the
//     frame before go on: a track seen in the two newest detection frames
//     moves on at the speed it had between them (for at most `extrapolateS`:
//     a person walking does not stop where the model last saw them), any
//     other box is held; all fade out once they are older than `holdS`.
// Boxes never come from a detection frame later than t except as the far end
// of an interpolation, so nothing is drawn where the object is not yet.
//
// A detection frame motion gating skipped (the model was not asked: nothing
// moved) is a held frame: its boxes are those of the detection frame before
// it, as the server's tracks are held. It keeps the timeline as dense as the
// detection rate, so synced playback need not wait out a still scene, and a
// box between a detection and a held frame stays where it was.

/** @typedef {import('./protocol.js').Box} Box */
/** @typedef {import('./protocol.js').Detection} Detection */
/** @typedef {{ pts: number, detections: Detection[], held?: boolean }} DetectionFrame */
/** @typedef {'exact' | 'interpolated' | 'extrapolated' | 'held' | 'still'} BoxSource */
// 'still': on a held frame (motion gating skipped it), the boxes before it standing there.

/**
 * @typedef {object} PlacedBox
 * @property {string} label
 * @property {number} classId
 * @property {number | null} trackId
 * @property {Box} box
 * @property {number} score
 * @property {BoxSource} source
 * @property {number[]} fromPts the detection frames' pts it came from (two when interpolated)
 * @property {number} alpha 1, or less for a held box fading out
 * @property {string | null} filtered why it does not count (protocol.js), or null
 */

/**
 * @typedef {object} PlaceOptions
 * @property {number} halfFrameS half a video frame's duration: the tolerance of an exact match
 * @property {number} holdS how long past its frame a box is held at full strength with nothing newer
 * @property {number} fadeS how long it then takes to fade out
 * @property {number} [extrapolateS] how far past its frame a track's box moves on at its speed (default 0.6 s)
 */

/** Two detection frames further apart than this say nothing about a track's speed now. */
const MAX_SPEED_GAP_S = 1.5;

/** The detection frames of one timeline (one run of a camera), in pts order, bounded. */
export class DetectionTimeline {
  /** @type {DetectionFrame[]} */
  frames = [];

  /** @param {number} maxFrames @param {number} maxSpanS */
  constructor(maxFrames = 900, maxSpanS = 90) {
    this.maxFrames = maxFrames;
    this.maxSpanS = maxSpanS;
  }

  /** Adds a detection frame (usually the newest; a repeated pts replaces the one before). */
  add(/** @type {number} */ pts, /** @type {Detection[]} */ detections) {
    const i = this.#put({ pts, detections });
    if (i < 0) return;
    // Held frames after it (skipped while its answer was on its way) hold its boxes.
    for (let j = i + 1; j < this.frames.length && this.frames[j].held; j++) this.frames[j].detections = detections;
  }

  /** Adds a frame the model was not asked about: the boxes of the detection frame before it (none yet: none). */
  addHeld(/** @type {number} */ pts) {
    const frames = this.frames;
    const i = lastAtOrBefore(frames, pts);
    if (i >= 0 && frames[i].pts === pts) return;
    this.#put({ pts, detections: i >= 0 ? frames[i].detections : [], held: true });
  }

  /** Puts a frame in pts order, bounded; returns its index. */
  #put(/** @type {DetectionFrame} */ frame) {
    const frames = this.frames;
    let i = frames.length;
    while (i > 0 && frames[i - 1].pts > frame.pts) i--;
    if (i > 0 && frames[i - 1].pts === frame.pts) frames[--i] = frame;
    else frames.splice(i, 0, frame);
    const newest = frames[frames.length - 1].pts;
    let drop = Math.max(0, frames.length - this.maxFrames);
    while (drop < frames.length && frames[drop].pts < newest - this.maxSpanS) drop++;
    if (drop > 0) frames.splice(0, drop);
    return i - drop;
  }

  get newest() {
    return this.frames[this.frames.length - 1];
  }

  /** The typical time between detection frames (median of the last gaps), or undefined before two frames. */
  interval() {
    const f = this.frames;
    const gaps = [];
    for (let i = Math.max(1, f.length - 15); i < f.length; i++) gaps.push(f[i].pts - f[i - 1].pts);
    return gaps.length ? median(gaps) : undefined;
  }
}

/** The median of some numbers (NaN for none). */
export function median(/** @type {number[]} */ values) {
  return quantile(values, 0.5);
}

/** The q-quantile (0–1) of some numbers, nearest rank; NaN for none. */
export function quantile(/** @type {number[]} */ values, /** @type {number} */ q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Index of the last frame with pts ≤ t, or -1. */
export function lastAtOrBefore(/** @type {DetectionFrame[]} */ frames, /** @type {number} */ t) {
  let lo = 0;
  let hi = frames.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].pts <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** @returns {PlacedBox} */
function place(/** @type {Detection} */ d, /** @type {BoxSource} */ source, /** @type {number[]} */ fromPts, alpha = 1, box = d.box, score = d.score) {
  return { label: d.label, classId: d.classId, trackId: d.trackId ?? null, box, score, source, fromPts, alpha, filtered: d.filtered ?? null };
}

const lerp = (/** @type {number} */ a, /** @type {number} */ b, /** @type {number} */ f) => a + (b - a) * f;

/** The boxes for the frame presented at mediaTime `t` (see the top of this file). */
export function boxesAt(/** @type {DetectionFrame[]} */ frames, /** @type {number} */ t, /** @type {PlaceOptions} */ options) {
  const i = lastAtOrBefore(frames, t + options.halfFrameS);
  if (i === -1) return [];
  // An exact match: the nearest frame within half a frame of t.
  const near = [frames[i], frames[i - 1]].filter((f) => f && Math.abs(f.pts - t) <= options.halfFrameS);
  if (near.length) {
    const exact = near.reduce((a, b) => (Math.abs(a.pts - t) <= Math.abs(b.pts - t) ? a : b));
    return exact.detections.map((d) => place(d, exact.held ? 'still' : 'exact', [exact.pts]));
  }
  const before = frames[i];
  const after = frames[i + 1];
  if (after) return between(before, after, t);
  const age = t - before.pts;
  const alpha = age <= options.holdS ? 1 : 1 - (age - options.holdS) / options.fadeS;
  if (alpha <= 0) return [];
  const prev = frames[i - 1];
  /** @type {Map<number, Detection>} */
  const earlier = new Map();
  if (prev && before.pts - prev.pts <= MAX_SPEED_GAP_S) for (const d of prev.detections) if (d.trackId != null) earlier.set(d.trackId, d);
  const ahead = Math.min(age, options.extrapolateS ?? 0.6);
  return before.detections.map((d) => {
    const was = d.trackId == null ? undefined : earlier.get(d.trackId);
    if (!was || !prev) return place(d, 'held', [before.pts], alpha);
    const f = ahead / (before.pts - prev.pts);
    const box = /** @type {Box} */ (d.box.map((v, k) => Math.min(1, Math.max(0, v + (v - was.box[k]) * f))));
    return place(d, 'extrapolated', [prev.pts, before.pts], alpha, box);
  });
}

/** Boxes between two known detection frames, `before.pts` < t < `after.pts`. */
function between(/** @type {DetectionFrame} */ before, /** @type {DetectionFrame} */ after, /** @type {number} */ t) {
  const f = (t - before.pts) / (after.pts - before.pts);
  /** @type {Map<number, Detection>} */
  const later = new Map();
  for (const d of after.detections) if (d.trackId != null) later.set(d.trackId, d);
  /** @type {PlacedBox[]} */
  const out = [];
  for (const d of before.detections) {
    const next = d.trackId == null ? undefined : later.get(d.trackId);
    if (next) {
      const box = /** @type {Box} */ (d.box.map((v, k) => lerp(v, next.box[k], f)));
      out.push(place(d, 'interpolated', [before.pts, after.pts], 1, box, lerp(d.score, next.score, f)));
    } else if (d.trackId == null || f <= 0.5) {
      // Untracked: nothing to move it by; it stands until the next frame has its own.
      // A track that ends: the object left somewhere in between; it goes halfway.
      out.push(place(d, 'held', [before.pts]));
    }
  }
  return out;
}
