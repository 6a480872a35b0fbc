// What the overlay drew per presented frame, left on window.lookoutDrawn for
// the tests and the latency benchmark:
//   mode      'default' | 'synced'
//   frames    per camera, the last MAX_FRAMES presented frames: mediaTime,
//             presentedAt (epoch ms), lagMs (behind the live edge) and the
//             boxes with where they came from
//   received  per camera, fragment pts (as the server wrote it, String(pts))
//             → receivedAt, the last MAX_RECEIVED: presentedAt minus the
//             receivedAt of the frame's pts is lookout-to-glass latency
//             (each drawn frame carries its receivedAt already).
//   clips     the recorded clips played (clip.js), newest last, the last
//             MAX_CLIPS: each with its camera, URL, the wall time of its
//             media time 0, and per presented frame its wall time and the
//             boxes drawn on it, each with the detection log times it came
//             from (one when exact, two when interpolated between them).

/** @typedef {import('./protocol.js').Box} Box */
/** @typedef {import('./interpolate.js').BoxSource} BoxSource */

/**
 * @typedef {object} DrawnBox
 * @property {string} label
 * @property {number | null} trackId
 * @property {Box} box
 * @property {number} score
 * @property {BoxSource} source
 * @property {number[]} fromPts
 * @property {string | null} filtered why it does not count, or null
 */

/**
 * @typedef {object} DrawnFrame
 * @property {number} mediaTime
 * @property {number} presentedAt performance.timeOrigin + the frame's presentationTime
 * @property {number} lagMs
 * @property {number | null} receivedAt when lookout received this frame's fragment (ms since the epoch), if known
 * @property {DrawnBox[]} boxes
 */

/**
 * @typedef {object} DrawnClipBox
 * @property {string} label
 * @property {number | null} trackId
 * @property {Box} box
 * @property {number} score
 * @property {BoxSource} source
 * @property {number[]} fromTimes the detection log's times (ms since the epoch) it came from
 */

/**
 * @typedef {object} DrawnClipFrame
 * @property {number} mediaTime
 * @property {number} wallTime clipStart + mediaTime, ms since the epoch: the frame's time on the detection log's clock
 * @property {number} presentedAt performance.timeOrigin + the frame's presentationTime
 * @property {boolean} loaded whether the detection log around this frame had been read when it was drawn
 * @property {DrawnClipBox[]} boxes
 */

/**
 * @typedef {object} DrawnClip
 * @property {string} camera
 * @property {string} url
 * @property {number} clipStart
 * @property {number} openedAt
 * @property {DrawnClipFrame[]} frames
 */

/**
 * @typedef {object} DrawnLog
 * @property {'default' | 'synced'} mode
 * @property {Record<string, DrawnFrame[]>} frames
 * @property {Record<string, Record<string, number>>} received
 * @property {DrawnClip[]} clips
 */

const MAX_FRAMES = 3000;
const MAX_RECEIVED = 3000;
/** Trimmed in steps, so a push is not a copy of the whole ring every frame. */
const SLACK = 300;
const MAX_CLIPS = 5;

/** @type {DrawnLog} */
const log = { mode: 'default', frames: {}, received: {}, clips: [] };
window.lookoutDrawn = log;
/** Insertion order of each camera's received keys (a numeric-looking key would reorder an object's own). */
/** @type {Map<string, string[]>} */
const receivedOrder = new Map();

export function setDrawnMode(/** @type {'default' | 'synced'} */ mode) {
  log.mode = mode;
}

export function recordFrame(/** @type {string} */ camera, /** @type {DrawnFrame} */ frame) {
  const frames = (log.frames[camera] ??= []);
  frames.push(frame);
  if (frames.length > MAX_FRAMES + SLACK) frames.splice(0, frames.length - MAX_FRAMES);
}

/** A recorded clip starts playing: its frames are kept apart from the live ones. @returns {DrawnClip} */
export function startClip(/** @type {string} */ camera, /** @type {string} */ url, /** @type {number} */ clipStart) {
  const clip = { camera, url, clipStart, openedAt: Date.now(), frames: [] };
  log.clips.push(clip);
  if (log.clips.length > MAX_CLIPS) log.clips.splice(0, log.clips.length - MAX_CLIPS);
  return clip;
}

export function recordClipFrame(/** @type {DrawnClip} */ clip, /** @type {DrawnClipFrame} */ frame) {
  clip.frames.push(frame);
  if (clip.frames.length > MAX_FRAMES + SLACK) clip.frames.splice(0, clip.frames.length - MAX_FRAMES);
}

export function recordReceived(/** @type {string} */ camera, /** @type {number} */ pts, /** @type {number} */ receivedAt) {
  const map = (log.received[camera] ??= {});
  let order = receivedOrder.get(camera);
  if (!order) receivedOrder.set(camera, (order = []));
  const key = String(pts);
  if (!(key in map)) order.push(key);
  map[key] = receivedAt;
  if (order.length > MAX_RECEIVED + SLACK) for (const old of order.splice(0, order.length - MAX_RECEIVED)) delete map[old];
}

/**
 * When lookout received the fragment of the frame at mediaTime, if it is
 * still known. The server writes pts rounded to the microsecond, a browser
 * may truncate: the neighbouring microseconds are tried too.
 */
export function receivedAt(/** @type {string} */ camera, /** @type {number} */ mediaTime) {
  const map = log.received[camera];
  if (!map) return null;
  const us = Math.round(mediaTime * 1e6);
  for (const k of [us, us + 1, us - 1]) {
    const at = map[String(k / 1e6)];
    if (at !== undefined) return at;
  }
  return null;
}

/** A new run of the camera's stream: its timeline starts again, so the old pts mean nothing now. */
export function forgetReceived(/** @type {string} */ camera) {
  delete log.received[camera];
  receivedOrder.delete(camera);
}

export function forgetCamera(/** @type {string} */ camera) {
  delete log.frames[camera];
  forgetReceived(camera);
}
