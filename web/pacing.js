// How far behind the live edge a camera's video plays, and how to get there.
// Pure: the player measures, these decide.
//
// The live edge is the end of what the browser has buffered (the newest
// fragment received). Playing right at it would stall at every late fragment,
// so the default keeps a few frames plus the arrival jitter behind it: the
// lowest latency that plays smoothly, with boxes interpolated or held.
//
// Synced holds the video back until the boxes are known: a detection for the
// frame at pts p arrives when the live edge is at about p + delay (the
// model's latency, in media time), and the detection after a presented frame
// is known only one detection interval later. So the video plays at least
// delay + interval (+ a frame) behind the edge, and every box sits on the
// frame it was computed on, or between two known ones. Bounded: a model
// slower than MAX_SYNC_LAG_S does not push the video further back than that.

export const MAX_SYNC_LAG_S = 3;
const MIN_LAG_S = 0.15;
const MAX_DEFAULT_LAG_S = 1.5;
/** Off by more than this: seek instead of catching up by playback rate. */
const SEEK_BEHIND_S = 1;
const SEEK_AHEAD_S = 0.6;
/** Rate nudges: invisible to the eye, and bounded. */
const MAX_NUDGE = 0.1;
const GAIN = 0.5;
const DEAD_BAND_S = 0.03;

/**
 * @typedef {object} LagInputs
 * @property {boolean} synced
 * @property {number} frameS one video frame's duration
 * @property {number} jitterS how unevenly fragments arrive (spread of arrival time minus pts)
 * @property {number | undefined} detectionDelayS how far the live edge is past a detection's pts when it arrives (a high quantile)
 * @property {number | undefined} detectionIntervalS typical pts gap between detection frames
 */

/**
 * @typedef {object} LagTarget
 * @property {number} targetS how far behind the live edge to play
 * @property {boolean} capped synced wanted more than MAX_SYNC_LAG_S
 * @property {boolean} waiting synced, but no detection has arrived to measure the model by yet
 */

/** @returns {LagTarget} */
export function lagTarget(/** @type {LagInputs} */ m) {
  const base = Math.min(MAX_DEFAULT_LAG_S, Math.max(MIN_LAG_S, 3 * m.frameS + m.jitterS));
  if (!m.synced) return { targetS: base, capped: false, waiting: false };
  if (m.detectionDelayS === undefined) return { targetS: base, capped: false, waiting: true };
  const need = m.detectionDelayS + (m.detectionIntervalS ?? 0) + m.frameS + 0.05;
  return { targetS: Math.min(MAX_SYNC_LAG_S, Math.max(base, need)), capped: need > MAX_SYNC_LAG_S, waiting: false };
}

/**
 * @typedef {{ seekTo: number } | { rate: number }} Steer
 */

/**
 * What to do with a video playing `lagS` behind the live edge `edgeS`, to
 * bring it to `targetS`: a playback rate near 1, or a seek when far off.
 * `earliestS` is where buffered data starts (a seek never goes before it).
 * @returns {Steer}
 */
export function steer(/** @type {number} */ lagS, /** @type {number} */ targetS, /** @type {number} */ edgeS, /** @type {number} */ earliestS) {
  const err = lagS - targetS;
  const seekTo = Math.max(earliestS, edgeS - targetS);
  // Seeking back is worth it only for a real step (else the rate closes the gap).
  if (err > SEEK_BEHIND_S || (err < -SEEK_AHEAD_S && seekTo < edgeS - lagS - SEEK_AHEAD_S)) return { seekTo };
  if (Math.abs(err) < DEAD_BAND_S) return { rate: 1 };
  return { rate: 1 + Math.max(-MAX_NUDGE, Math.min(MAX_NUDGE, err * GAIN)) };
}

/** A lag for people: "0.31 s", "1.4 s". */
export function formatLag(/** @type {number} */ s) {
  return `${s < 1 ? s.toFixed(2) : s.toFixed(1)} s`;
}

/** What a tile's badge says of its lag, and its tooltip's why. */
export function describeLag(/** @type {boolean} */ synced, /** @type {number} */ lagS, /** @type {LagTarget} */ target, /** @type {number | undefined} */ detectionDelayS) {
  const late = detectionDelayS ?? 0;
  // Say so when the boxes cannot keep up: synced is at its bound, or live boxes come well after their frame.
  const note = target.waiting ? ' · measuring model…' : target.capped || (!synced && late > 1.5) ? ` · model ${formatLag(late)} late` : '';
  const title = synced
    ? `Video held back ${formatLag(target.targetS)} so each box is drawn on the frame it was found in (model delay ${formatLag(late)}, at most 3 s).`
    : `Lowest latency: ${formatLag(target.targetS)} behind the live edge, for the stream's jitter; boxes between detections are interpolated, or moved on at their speed until the next one arrives.`;
  return { text: `${synced ? 'synced' : 'live'} · ${formatLag(lagS)} behind${note}`, title };
}
