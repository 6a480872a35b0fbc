// Motion on the live view, when the header's Motion switch is on (kept in the
// browser, off by default): per camera tile, on a canvas of its own between
// the zones and the boxes, in the picture's rect as the boxes are, what moved
// in a detection frame (dashed amber boxes) and the squares the model was
// given of it (thin cyan outlines), from the socket's "motion" messages. For
// each presented video frame (requestVideoFrameCallback's mediaTime) it shows
// the message whose pts is nearest that frame's; without a pts, or in the JPEG
// view, the newest message for half a second after it came. A badge on the
// picture says the camera's motion state and the share of detection frames
// the model was spared over the last 30 s ("motion · 62% skipped"). Off, a
// tile keeps the newest message only: nothing drawn, counted or measured.
// What each tile shows is left on window.lookoutMotion for the tests.
import { byId } from './dom.js';
import { containRect, fitToDisplay } from './overlay.js';
import { motionShown, saveMotionShown } from './settings.js';

/** @typedef {import('./protocol.js').MotionMessage} MotionMessage */
/** @typedef {import('./protocol.js').Box} Box */
/** @typedef {import('./player.js').CameraPlayer} CameraPlayer */

/**
 * What one tile shows now.
 * @typedef {object} MotionDrawn
 * @property {boolean} shown the switch is on
 * @property {number} messages motion messages received for the camera
 * @property {number | null} newestPts the newest message's pts
 * @property {number} paints times a message was painted on the canvas
 * @property {number | null} pts the pts of the message drawn now (null: none drawn, or one without a pts)
 * @property {Box[]} boxes the motion boxes drawn now
 * @property {Box[]} regions the model's regions drawn now
 * @property {string} state the state the badge shows ('' while it shows none)
 * @property {string} badge the badge's text ('' while it shows none)
 */

/** @typedef {{ shown: boolean, cameras: Record<string, MotionDrawn> }} MotionLog */

/** The badge's share of skipped frames is over this long. */
const WINDOW_MS = 30_000;
/** …and needs this many frames before it means anything. */
const MIN_FRAMES = 5;
/** The badge changes at most this often, and says "motion" while any frame this recent had it (no flicker). */
const BADGE_MS = 1_000;
/** A message without a pts (or in the JPEG view) is shown this long after it came. */
const UNTIMED_MS = 500;
/** No message within this of a presented frame's pts: nothing is drawn on it. */
const MAX_GAP_S = 1;
/** Messages kept to find a frame's nearest (about 12 s at 5 detection frames a second). */
const KEEP = 64;

export const MOTION_COLOUR = '#f2b33d';
export const REGION_COLOUR = '#4cc9dc';
const STATE_TEXT = { off: 'motion off', calibrating: 'calibrating', still: 'still', motion: 'motion' };

/** The message of this run whose pts is nearest `t` (seconds), within `maxGapS`; null when none is. */
export function nearestMotion(/** @type {MotionMessage[]} */ list, /** @type {number | undefined} */ run, /** @type {number} */ t, maxGapS = MAX_GAP_S) {
  /** @type {MotionMessage | null} */
  let best = null;
  let gap = maxGapS;
  for (const m of list) {
    if (m.run !== run || m.pts == null) continue;
    const d = Math.abs(m.pts - t);
    if (d <= gap) [best, gap] = [m, d];
  }
  return best;
}

export class MotionLayer {
  #shown = false;
  /** @type {MotionMessage | undefined} */ #newest;
  /** @type {MotionMessage[]} the newest messages with a pts, oldest first */ #recent = [];
  /** @type {{ at: number, sent: MotionMessage['sent'] }[]} */ #window = [];
  #motionAt = -Infinity;
  #badgeAt = -Infinity;
  /** @type {MotionMessage | null} */ #painted = null;
  #frameRequest = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #untimed;
  /** @type {Record<'native' | 'jpeg', number[]>} */ #sizes = { native: [0, 0], jpeg: [0, 0] };
  /** @type {MotionDrawn} */
  drawn = { shown: false, messages: 0, newestPts: null, paints: 0, pts: null, boxes: [], regions: [], state: '', badge: '' };

  /** @param {CameraPlayer} player */
  constructor(player) {
    this.player = player;
    const canvas = player.querySelector('canvas.motion');
    const badge = player.querySelector('.motion-badge');
    if (!(canvas instanceof HTMLCanvasElement) || !(badge instanceof HTMLElement)) throw new Error('the tile has no canvas.motion or .motion-badge');
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.canvas = canvas;
    this.ctx = ctx;
    this.badge = badge;
    const part = (/** @type {string} */ selector) => {
      const el = badge.querySelector(selector);
      if (!(el instanceof HTMLElement)) throw new Error(`the motion badge has no ${selector}`);
      return el;
    };
    this.badgeText = part('.motion-state');
    this.badgeShare = part('.motion-share');
    this.observer = new ResizeObserver(() => {
      if (fitToDisplay(canvas)) this.#repaint();
    });
    this.observer.observe(canvas);
    // The picture's size became known or changed, or the tile switched between video and JPEG.
    player.addEventListener('aspectchange', this.#repaint);
    player.addEventListener('videochange', this.#repaint);
  }

  close() {
    this.shown = false;
    this.observer.disconnect();
    this.player.removeEventListener('aspectchange', this.#repaint);
    this.player.removeEventListener('videochange', this.#repaint);
  }

  set shown(/** @type {boolean} */ on) {
    if (on === this.#shown) return;
    this.#shown = on;
    this.drawn.shown = on;
    const video = this.player.video;
    if (on) {
      this.#frameRequest = video.requestVideoFrameCallback(this.#onFrame);
      // What was kept while off: the badge has a state at once, the picture its newest motion.
      if (this.#newest) this.#take(this.#newest);
      return;
    }
    video.cancelVideoFrameCallback(this.#frameRequest);
    this.#stopUntimed();
    this.#recent = [];
    this.#window = [];
    this.#motionAt = -Infinity;
    this.#badgeAt = -Infinity;
    this.#paint(null);
    this.badge.hidden = true;
    this.badgeText.textContent = '';
    this.badgeShare.textContent = '';
    Object.assign(this.drawn, { state: '', badge: '' });
  }

  /** A motion message of this camera. */
  onMessage(/** @type {MotionMessage} */ m) {
    this.drawn.messages++;
    this.drawn.newestPts = m.pts;
    this.#newest = m;
    if (this.#shown) this.#take(m);
  }

  #take(/** @type {MotionMessage} */ m) {
    const now = performance.now();
    this.#window.push({ at: now, sent: m.sent });
    while (this.#window.length && now - this.#window[0].at > WINDOW_MS) this.#window.shift();
    if (m.state === 'motion') this.#motionAt = now;
    const timed = m.pts != null && m.run != null && this.player.videoChoice === 'native';
    if (timed) {
      this.#recent.push(m);
      if (this.#recent.length > KEEP) this.#recent.splice(0, this.#recent.length - KEEP);
    } else {
      // Nothing to place it by: the newest is shown for a moment.
      this.#paint(m);
      this.#stopUntimed();
      this.#untimed = setTimeout(() => {
        this.#untimed = undefined;
        this.#paint(null);
      }, UNTIMED_MS);
    }
    if (now - this.#badgeAt >= BADGE_MS) this.#showBadge(now);
  }

  #stopUntimed() {
    clearTimeout(this.#untimed);
    this.#untimed = undefined;
  }

  /** @param {DOMHighResTimeStamp} _now @param {VideoFrameCallbackMetadata} meta */
  #onFrame = (_now, meta) => {
    if (!this.#shown) return;
    this.#frameRequest = this.player.video.requestVideoFrameCallback(this.#onFrame);
    if (this.player.videoChoice !== 'native') return;
    const m = nearestMotion(this.#recent, this.player.mse.run, meta.mediaTime);
    // An untimed message being shown keeps its moment, unless a timed one belongs here.
    if (m || !this.#untimed) this.#paint(m);
  };

  #showBadge(/** @type {number} */ now) {
    const m = this.#newest;
    if (!m) return;
    this.#badgeAt = now;
    const state = m.state === 'off' || m.state === 'calibrating' || now - this.#motionAt >= BADGE_MS ? m.state : 'motion';
    const n = this.#window.length;
    const skipped = this.#window.filter((w) => w.sent === 'skipped').length;
    const regions = this.#window.filter((w) => w.sent === 'regions').length;
    const share = state !== 'off' && n >= MIN_FRAMES ? ` · ${Math.round((skipped / n) * 100)}% skipped` : '';
    const text = `${STATE_TEXT[state] ?? state}${share}`;
    this.badge.dataset.state = state;
    this.badgeText.textContent = STATE_TEXT[state] ?? state;
    this.badgeShare.textContent = share;
    this.badge.hidden = false;
    this.badge.title = state === 'off'
      ? 'Motion detection is off for this camera: the model is given every detection frame whole.'
      : `Detection frames in the last ${Math.round(Math.min(WINDOW_MS, now - this.#window[0].at) / 1000)} s: ${n}; ${skipped} skipped (nothing moved), ${regions} given as regions, ${n - skipped - regions} whole.\n`
        + 'Dashed amber: what moved. Cyan squares: what the model was given.';
    Object.assign(this.drawn, { state, badge: text });
  }

  /** The picture's own size, the video's or the JPEG frame's; the last known kept (a loading JPEG says 0). */
  #pictureSize() {
    const p = this.player;
    const kind = p.videoChoice === 'native' ? 'native' : 'jpeg';
    const now = kind === 'native' ? [p.video.videoWidth, p.video.videoHeight] : [p.img.naturalWidth, p.img.naturalHeight];
    if (now[0] > 0 && now[1] > 0) this.#sizes[kind] = now;
    return this.#sizes[kind];
  }

  #repaint = () => this.#paint(this.#painted, true);

  /** Paints a message's motion and regions (null: nothing); the same one again only when forced (a resize). */
  #paint(/** @type {MotionMessage | null} */ m, force = false) {
    if (m === this.#painted && !force) return;
    this.#painted = m;
    const { ctx, canvas, drawn } = this;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    Object.assign(drawn, { pts: m?.pts ?? null, boxes: [], regions: [] });
    const [w, h] = this.#pictureSize();
    if (!m || !this.#shown || !(w > 0 && h > 0) || canvas.width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    const pic = containRect(canvas.width, canvas.height, w, h);
    const line = Math.max(1, Math.round(1.25 * dpr));
    // Whole pixels, odd widths on a pixel's middle (thin lines stay sharp), and inside the picture
    // (a region as tall as the picture would otherwise lose its edges to the tile's).
    const inset = Math.ceil(line / 2) + 1;
    const at = (/** @type {number} */ v, /** @type {number} */ from, /** @type {number} */ size) => Math.round(Math.max(from + inset, Math.min(from + size - inset, v))) + (line % 2 ? 0.5 : 0);
    const rect = (/** @type {Box} */ [ymin, xmin, ymax, xmax]) => {
      const x = at(pic.x + xmin * pic.width, pic.x, pic.width);
      const y = at(pic.y + ymin * pic.height, pic.y, pic.height);
      return { x, y, width: at(pic.x + xmax * pic.width, pic.x, pic.width) - x, height: at(pic.y + ymax * pic.height, pic.y, pic.height) - y };
    };
    const regions = m.regions ?? [];
    ctx.lineJoin = 'miter';
    for (const r of regions) stroke(ctx, rect(r), REGION_COLOUR, line, []);
    for (const b of m.boxes) {
      const r = rect(b);
      ctx.fillStyle = 'rgba(242, 179, 61, 0.07)';
      ctx.fillRect(r.x, r.y, r.width, r.height);
      stroke(ctx, r, MOTION_COLOUR, line, [4 * dpr, 3 * dpr]);
    }
    ctx.setLineDash([]);
    Object.assign(drawn, { boxes: m.boxes, regions, paints: drawn.paints + 1 });
  }
}

/** A thin outline with a faint dark edge under it, so it reads on bright and dark pictures alike. */
function stroke(/** @type {CanvasRenderingContext2D} */ ctx, /** @type {{ x: number, y: number, width: number, height: number }} */ r, /** @type {string} */ colour, /** @type {number} */ line, /** @type {number[]} */ dash) {
  ctx.setLineDash(dash);
  ctx.lineWidth = line + 2;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.35)';
  ctx.strokeRect(r.x, r.y, r.width, r.height);
  ctx.lineWidth = line;
  ctx.strokeStyle = colour;
  ctx.strokeRect(r.x, r.y, r.width, r.height);
}

// ---- the switch, and a layer per live tile ----------------------------------

/** @type {Map<string, MotionLayer>} */
const layers = new Map();
let shown = motionShown();

/** @type {MotionLog} */
export const motionLog = { shown, cameras: {} };
window.lookoutMotion = motionLog;

export function initMotion() {
  const input = byId('motion-toggle', HTMLInputElement);
  input.checked = shown;
  input.addEventListener('change', () => {
    shown = input.checked;
    saveMotionShown(shown);
    motionLog.shown = shown;
    for (const layer of layers.values()) layer.shown = shown;
  });
}

/** A new tile on the live view: its motion layer, with the switch as it is. */
export function attachMotion(/** @type {CameraPlayer} */ player) {
  const id = /** @type {string} */ (player.camera);
  const layer = new MotionLayer(player);
  layer.shown = shown;
  layers.set(id, layer);
  motionLog.cameras[id] = layer.drawn;
}

export function detachMotion(/** @type {string} */ id) {
  layers.get(id)?.close();
  layers.delete(id);
  delete motionLog.cameras[id];
}

export function onMotionMessage(/** @type {MotionMessage} */ m) {
  layers.get(m.camera)?.onMessage(m);
}
