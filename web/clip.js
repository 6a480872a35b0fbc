// A recorded clip (docs/recordings.md): one MP4 that lookout assembles from a
// camera's recording for a span, played by a plain <video src> (the server
// answers Range requests, so seeking works), with the detection log's boxes
// drawn on the frames they belong to. Media time 0 of the clip is the wall
// time in its X-Lookout-Clip-Start header, and a detection's `time` is its
// frame's wall time on that same clock: the detection at time T belongs on
// the frame at media time (T − clipStart) / 1000, to the millisecond.
//
// The log is read in windows around where the clip plays (a 24 h clip's
// detections are not read all at once), and placed by interpolate.js as in
// the live view: exact on the detection frames, moved linearly per track
// between them. Unlike live there is no edge to wait at: a track gone from
// the log is gone from the picture (never held or moved on past its last
// detection), and detection frames far apart (nothing seen in between) are
// not interpolated across. And both frames around a moment are known, so a
// track that ends where a new one of the same label starts on the same spot
// (a slow model's tracker losing and finding the object again) moves into it
// instead of blinking out halfway.
import { api, getJson } from './api.js';
import { recordClipFrame, startClip } from './drawn.js';
import { boxesAt, lastAtOrBefore, median } from './interpolate.js';

/** @typedef {import('./interpolate.js').DetectionFrame} DetectionFrame */
/** @typedef {import('./interpolate.js').PlacedBox} PlacedBox */
/** @typedef {import('./history.js').DetectionRow} DetectionRow */

const WINDOW_MS = 60_000;
/** Read this far ahead of the playhead, so the next window is there before the playhead is. */
const AHEAD_MS = 20_000;
/** And this far behind (a seek lands just past a window's start: its first frames interpolate from the one before). */
const BEHIND_MS = 3_000;
const PAGE = 10_000;
const MAX_PAGES = 5;
const RETRY_MS = 5_000;
const DEFAULT_INTERVAL_S = 0.5;
const DEFAULT_FRAME_S = 1 / 30;
/**
 * A detection lands in the log after its frame's time by the model's delay
 * (seconds when it is behind): a window read while it was that recent is read
 * again, every REREAD_MS while the clip plays there, until it has settled.
 */
const SETTLE_MS = 15_000;
const REREAD_MS = 2_000;

/** The server has no video for the span (a 404): said as such, not as a failure. */
export class NothingRecorded extends Error {}

/**
 * Asks the server for the clip's headers (HEAD): when media time 0 was, and
 * whether the clip stops early.
 * @param {string} url the clip, relative to the page
 * @param {string} camera
 */
export async function openClip(url, camera) {
  const res = await api(url, { method: 'HEAD' });
  if (res.status === 404) throw new NothingRecorded('Nothing was recorded in this span.');
  if (!res.ok) throw new Error(`the clip: HTTP ${res.status}`);
  const start = Number(res.headers.get('x-lookout-clip-start'));
  if (!(start > 0)) throw new Error('the server did not say when the clip starts (no X-Lookout-Clip-Start)');
  const end = Number(res.headers.get('x-lookout-clip-end'));
  return new RecordedClip(url, camera, start, res.headers.get('x-lookout-clip-truncated'), end > start ? end : undefined);
}

/** Every detection of a camera in [since, until), following the pages (newest first). */
async function detectionsBetween(/** @type {string} */ camera, /** @type {number} */ since, /** @type {number} */ until) {
  /** @type {DetectionRow[]} */
  const rows = [];
  /** @type {string | null} */
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const q = new URLSearchParams({ camera, since: String(since), until: String(until), limit: String(PAGE) });
    if (cursor) q.set('cursor', cursor);
    /** @type {{ detections: DetectionRow[], nextCursor: string | null }} */
    const body = await getJson(`api/detections?${q}`);
    rows.push(...body.detections);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return rows;
}

/** Intersection over union of two [ymin, xmin, ymax, xmax] boxes. */
function iou(/** @type {number[]} */ a, /** @type {number[]} */ b) {
  const inter = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const area = (/** @type {number[]} */ r) => (r[2] - r[0]) * (r[3] - r[1]);
  return inter > 0 ? inter / (area(a) + area(b) - inter) : 0;
}

/** Below this overlap a new track is another object, not the ended one found again. */
const RELINK_IOU = 0.3;

/**
 * `after` with each new track that starts where a track of `before` of the
 * same label ended (overlapping it most, by at least RELINK_IOU) given that
 * track's id, so the box moves from one to the other.
 * @returns {DetectionFrame}
 */
function relinked(/** @type {DetectionFrame} */ before, /** @type {DetectionFrame} */ after) {
  const later = new Set(after.detections.map((d) => d.trackId));
  const earlier = new Set(before.detections.map((d) => d.trackId));
  const ended = before.detections.filter((d) => d.trackId != null && !later.has(d.trackId));
  if (!ended.length) return after;
  /** @type {Set<number | null | undefined>} */
  const taken = new Set();
  const detections = after.detections.map((d) => {
    if (d.trackId == null || earlier.has(d.trackId)) return d;
    let best;
    let bestIou = RELINK_IOU;
    for (const e of ended) {
      const overlap = e.label === d.label && !taken.has(e.trackId) ? iou(e.box, d.box) : 0;
      if (overlap > bestIou) [best, bestIou] = [e, overlap];
    }
    if (!best) return d;
    taken.add(best.trackId);
    return { ...d, trackId: best.trackId };
  });
  return { pts: after.pts, detections };
}

export class RecordedClip {
  /** @type {DetectionFrame[]} the detection frames read so far, by media time */
  frames = [];
  /** The typical time between detection frames (the camera's detection rate). */
  intervalS = DEFAULT_INTERVAL_S;
  /** @type {() => void} called when more of the log has been read */
  onLoaded = () => {};
  /** @type {Map<number, 'loading' | 'loaded'>} windows of the log by index (wall ms / WINDOW_MS) */
  #windows = new Map();
  /** @type {Map<number, number>} when each window was last read (Date.now()) */
  #readAt = new Map();
  /** @type {number[]} */ #frameGaps = [];
  /** @type {number | undefined} */ #lastT;

  /**
   * @param {string} url @param {string} camera @param {number} clipStart wall time of media time 0 (ms since the epoch)
   * @param {string | null} truncated why the clip stops early, if it does
   * @param {number} [clipEnd] wall time of its end, when the server says (X-Lookout-Clip-End)
   */
  constructor(url, camera, clipStart, truncated, clipEnd) {
    this.url = url;
    this.camera = camera;
    this.clipStart = clipStart;
    this.clipEnd = clipEnd;
    this.truncated = truncated;
    this.drawn = startClip(camera, url, clipStart);
  }

  wallTime(/** @type {number} */ t) {
    return this.clipStart + t * 1000;
  }

  mediaTime(/** @type {number} */ wall) {
    return (wall - this.clipStart) / 1000;
  }

  /** One video frame's duration, from the frames presented so far. */
  get frameS() {
    const m = median(this.#frameGaps);
    return m > 0 ? m : DEFAULT_FRAME_S;
  }

  /** Reads the log's windows from `fromT` to `toT` (media times), each once. */
  prefetch(/** @type {number} */ fromT, /** @type {number} */ toT = fromT) {
    const first = Math.floor((this.wallTime(fromT) - BEHIND_MS) / WINDOW_MS);
    const last = Math.floor((this.wallTime(toT) + AHEAD_MS) / WINDOW_MS);
    const now = Date.now();
    for (let k = first; k <= last && k < first + 30; k++) {
      if (!this.#windows.has(k)) this.#load(k);
      else if (this.#windows.get(k) === 'loaded' && this.#unsettled(k) && now - (this.#readAt.get(k) ?? now) >= REREAD_MS) this.#load(k, true);
    }
  }

  /** Whether detections of window k could still have been arriving when it was last read. */
  #unsettled(/** @type {number} */ k) {
    return (k + 1) * WINDOW_MS > (this.#readAt.get(k) ?? 0) - SETTLE_MS;
  }

  /** Whether the log around media time t has been read (the boxes drawn there are all there are). */
  loaded(/** @type {number} */ t) {
    const wall = this.wallTime(t);
    return [wall - 2_000, wall, wall + 2_000].every((w) => this.#windows.get(Math.floor(w / WINDOW_MS)) === 'loaded');
  }

  async #load(/** @type {number} */ k, again = false) {
    // A window read again stays "loaded" meanwhile: what it had is still drawn.
    if (!again) this.#windows.set(k, 'loading');
    this.#readAt.set(k, Date.now());
    try {
      const rows = await detectionsBetween(this.camera, k * WINDOW_MS, (k + 1) * WINDOW_MS);
      this.#add(rows, k);
      this.#windows.set(k, 'loaded');
      this.onLoaded();
    } catch (err) {
      console.warn(`lookout: the detection log around ${new Date(k * WINDOW_MS).toISOString()}: ${err instanceof Error ? err.message : err}`);
      setTimeout(() => this.#windows.delete(k), RETRY_MS);
    }
  }

  /** Rows of the log's window k into detection frames (the rows of one frame share its time), in order, in place of what it had. */
  #add(/** @type {DetectionRow[]} */ rows, /** @type {number} */ k) {
    /** @type {Map<number, DetectionFrame>} */
    const byTime = new Map();
    for (const r of rows) {
      let frame = byTime.get(r.time);
      if (!frame) byTime.set(r.time, (frame = { pts: this.mediaTime(r.time), detections: [] }));
      frame.detections.push({ label: r.label, classId: r.classId, score: r.score, box: r.box, trackId: r.trackId });
    }
    const inWindow = (/** @type {DetectionFrame} */ f) => Math.floor(Math.round(this.wallTime(f.pts)) / WINDOW_MS) === k;
    this.frames = [...this.frames.filter((f) => !inWindow(f)), ...byTime.values()].sort((a, b) => a.pts - b.pts);
    const gaps = [];
    for (let i = 1; i < this.frames.length && gaps.length < 400; i++) gaps.push(this.frames[i].pts - this.frames[i - 1].pts);
    const interval = median(gaps.filter((g) => g > 0));
    if (interval > 0) this.intervalS = interval;
  }

  /** The boxes for the frame at media time t (see the top of this file). @returns {PlacedBox[]} */
  boxesAt(/** @type {number} */ t) {
    const frames = this.frames;
    const halfFrameS = this.frameS / 2;
    const i = lastAtOrBefore(frames, t + halfFrameS);
    if (i === -1) return [];
    // Further apart than a few detection intervals: the object was not seen in between.
    const gapS = Math.max(1, 2.5 * this.intervalS);
    const before = frames[i];
    const after = frames[i + 1];
    /** @type {DetectionFrame[]} */
    const near = [];
    if (i > 0 && before.pts - frames[i - 1].pts <= gapS) near.push(frames[i - 1]);
    near.push(before);
    // No detection frame soon after: the boxes end one interval on, as the log's do.
    near.push(after && after.pts - before.pts <= gapS ? relinked(before, after) : { pts: before.pts + this.intervalS, detections: [] });
    return boxesAt(near, t, { halfFrameS, holdS: 0, fadeS: 1e-3 });
  }

  /** The boxes for a presented frame, read ahead of it, and recorded in window.lookoutDrawn. */
  presented(/** @type {number} */ t, /** @type {number} */ presentedAt) {
    const gap = this.#lastT === undefined ? 0 : t - this.#lastT;
    this.#lastT = t;
    if (gap > 0.001 && gap < 0.25) {
      this.#frameGaps.push(gap);
      if (this.#frameGaps.length > 60) this.#frameGaps.shift();
    }
    this.prefetch(t);
    const boxes = this.boxesAt(t);
    const wall = (/** @type {number} */ pts) => Math.round(this.wallTime(pts));
    recordClipFrame(this.drawn, {
      mediaTime: t,
      wallTime: this.wallTime(t),
      presentedAt,
      loaded: this.loaded(t),
      boxes: boxes.map((b) => ({ label: b.label, trackId: b.trackId, box: b.box, score: b.score, source: b.source, fromTimes: b.fromPts.map(wall) })),
    });
    return boxes;
  }
}

/** @typedef {import('./player.js').CameraPlayer} CameraPlayer */

/**
 * A clip playing in a camera tile: the video's source, and per presented
 * frame its boxes and its wall time (on the picture, as NVRs print it). The
 * tile sends a 'clipframe' event (detail: the media time) for each.
 */
export class ClipView {
  #t = 0;

  constructor(/** @type {CameraPlayer} */ tile, /** @type {RecordedClip} */ clip) {
    this.tile = tile;
    this.clip = clip;
    tile.camera = clip.camera;
    Object.assign(tile.dataset, { camera: clip.camera, mode: 'recorded', video: 'native' });
    tile.nameLabel.textContent = clip.camera;
    Object.assign(tile.statePill, { textContent: 'recorded' }).dataset.state = 'recorded';
    tile.menu.button.hidden = true;
    tile.querySelector('.frame')?.setAttribute('aria-label', 'Play or pause the clip');
    tile.message.textContent = 'loading the clip…';
    // Boxes read after their frame was shown (a seek while paused): drawn on it now.
    clip.onLoaded = () => tile.overlay.draw(clip.boxesAt(this.#t), tile.video.videoWidth, tile.video.videoHeight);
    tile.video.src = clip.url;
  }

  frame(/** @type {VideoFrameCallbackMetadata} */ meta) {
    const { tile, clip } = this;
    this.#t = meta.mediaTime;
    const boxes = clip.presented(meta.mediaTime, performance.timeOrigin + meta.presentationTime);
    tile.overlay.draw(boxes, tile.video.videoWidth || meta.width, tile.video.videoHeight || meta.height);
    tile.message.textContent = '';
    tile.lagBadge.hidden = false;
    tile.lagBadge.textContent = new Date(clip.wallTime(meta.mediaTime)).toLocaleTimeString();
    tile.dispatchEvent(new CustomEvent('clipframe', { detail: meta.mediaTime }));
  }

  failed() {
    const error = this.tile.video.error;
    if (error) this.tile.message.textContent = `Cannot play this clip: ${error.message || `error ${error.code}`}.`;
  }
}
