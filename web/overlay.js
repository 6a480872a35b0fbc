// The canvas over a camera's <video>: boxes and labels drawn where the video's
// picture is. The video is shown with object-fit: contain, so at any tile
// size and aspect its picture is letterboxed inside the element; boxes are
// normalized to the picture, not the element. Drawn in device pixels, so
// lines and labels stay sharp; labels keep a readable size whatever the tile.
// Boxes the object filters, masks or thresholds leave out are drawn too, thin,
// dashed and grey with the reason, so a user tuning filters sees what they
// remove (unless the viewer hides them).
import { colour } from './history.js';

/** @typedef {import('./interpolate.js').PlacedBox} PlacedBox */
/** @typedef {{ x: number, y: number, width: number, height: number }} Rect */

/**
 * Gives a canvas as many pixels as it shows on this screen (CSS size ×
 * devicePixelRatio), so lines stay sharp; returns whether that changed (and
 * so whether it was cleared and must be painted again).
 * @param {HTMLCanvasElement} canvas
 */
export function fitToDisplay(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(canvas.clientWidth * dpr);
  const h = Math.round(canvas.clientHeight * dpr);
  if (w === canvas.width && h === canvas.height) return false;
  canvas.width = w;
  canvas.height = h;
  return true;
}

/** Where a picture of pictureW × pictureH lands inside an element of width × height with object-fit: contain. */
export function containRect(/** @type {number} */ width, /** @type {number} */ height, /** @type {number} */ pictureW, /** @type {number} */ pictureH) {
  if (!(pictureW > 0 && pictureH > 0 && width > 0 && height > 0)) return { x: 0, y: 0, width, height };
  const scale = Math.min(width / pictureW, height / pictureH);
  const w = pictureW * scale;
  const h = pictureH * scale;
  return { x: (width - w) / 2, y: (height - h) / 2, width: w, height: h };
}

/** Boxes that do not count: grey, whatever their class. */
const FILTERED = '#aab4c0';

export class Overlay {
  /** @type {PlacedBox[]} */ #last = [];
  #pictureW = 0;
  #pictureH = 0;
  #showFiltered = true;

  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.ctx = ctx;
    this.observer = new ResizeObserver(() => this.#resize());
    this.observer.observe(canvas);
  }

  /** Draws these boxes over a picture of pictureW × pictureH (the video's own size). */
  draw(/** @type {PlacedBox[]} */ boxes, /** @type {number} */ pictureW, /** @type {number} */ pictureH) {
    this.#last = boxes;
    this.#pictureW = pictureW;
    this.#pictureH = pictureH;
    this.#paint();
  }

  /** Whether boxes that do not count (filtered) are drawn. */
  set showFiltered(/** @type {boolean} */ on) {
    if (on === this.#showFiltered) return;
    this.#showFiltered = on;
    this.#paint();
  }

  clear() {
    this.draw([], this.#pictureW, this.#pictureH);
  }

  close() {
    this.observer.disconnect();
  }

  #resize() {
    if (fitToDisplay(this.canvas)) this.#paint();
  }

  #paint() {
    const { ctx, canvas } = this;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const boxes = this.#showFiltered ? this.#last : this.#last.filter((b) => !b.filtered);
    if (!boxes.length) return;
    const dpr = window.devicePixelRatio || 1;
    const pic = containRect(canvas.width, canvas.height, this.#pictureW, this.#pictureH);
    // Labels: 11–15 CSS px by the picture's size, always legible.
    const fontPx = Math.round(Math.max(11, Math.min(15, pic.height / dpr / 28)) * dpr);
    ctx.textBaseline = 'middle';
    const line = Math.max(1.5, Math.min(3, pic.height / dpr / 200)) * dpr;
    // The ones that do not count first: what counts is drawn over them.
    const placed = boxes.map((b) => {
      const [ymin, xmin, ymax, xmax] = b.box;
      const rect = { x: pic.x + xmin * pic.width, y: pic.y + ymin * pic.height, width: (xmax - xmin) * pic.width, height: (ymax - ymin) * pic.height };
      return { b, rect, hue: b.filtered ? FILTERED : colour(b.classId), alpha: Math.max(0, Math.min(1, b.alpha)) };
    }).sort((p, q) => Number(!p.b.filtered) - Number(!q.b.filtered));
    // Boxes first, then the labels over every line.
    for (const { b, rect, hue, alpha } of placed) {
      ctx.globalAlpha = alpha;
      const thin = b.filtered ? 0.5 : 1;
      ctx.setLineDash(b.filtered ? [5 * dpr, 4 * dpr] : []);
      ctx.lineWidth = line * thin;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.55)';
      ctx.strokeRect(rect.x, rect.y, rect.width, rect.height);
      ctx.lineWidth = line * 0.66 * thin;
      ctx.strokeStyle = hue;
      ctx.strokeRect(rect.x, rect.y, rect.width, rect.height);
    }
    ctx.setLineDash([]);
    /** @type {Rect[]} */
    const labels = [];
    // Counted boxes' labels are placed first: they get the best spots.
    for (const { b, rect, hue, alpha } of [...placed].reverse()) {
      ctx.globalAlpha = alpha * (b.filtered ? 0.85 : 1);
      const px = b.filtered ? Math.round(fontPx * 0.85) : fontPx;
      ctx.font = `${b.filtered ? 500 : 600} ${px}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
      labels.push(this.#label(b, rect, px, hue, pic, labels));
    }
    ctx.globalAlpha = 1;
  }

  /**
   * The label above the box's top-left corner; where that is outside the
   * picture or on another label, just inside the box's top, or below it.
   * Always within the picture. Returns where it went.
   * @param {PlacedBox} b @param {Rect} box @param {number} fontPx @param {string} hue @param {Rect} pic @param {Rect[]} taken
   */
  #label(b, box, fontPx, hue, pic, taken) {
    const { ctx } = this;
    const text = `${b.label} ${Math.round(b.score * 100)}%${b.filtered ? ` · ${b.filtered}` : ''}`;
    const padX = Math.round(fontPx * 0.4);
    const height = Math.round(fontPx * 1.45);
    const width = Math.ceil(ctx.measureText(text).width) + padX * 2;
    const x = Math.max(pic.x, Math.min(box.x, pic.x + pic.width - width));
    const fits = (/** @type {number} */ y) => y >= pic.y && y + height <= pic.y + pic.height;
    const free = (/** @type {number} */ y) => !taken.some((r) => x < r.x + r.width && r.x < x + width && y < r.y + r.height && r.y < y + height);
    const tries = [box.y - height, box.y, box.y + box.height].filter(fits);
    const y = tries.find(free) ?? tries[0] ?? Math.max(pic.y, Math.min(box.y, pic.y + pic.height - height));
    ctx.fillStyle = hue;
    ctx.beginPath();
    ctx.roundRect(x, y, width, height, Math.round(fontPx * 0.25));
    ctx.fill();
    ctx.fillStyle = '#0b0f14';
    ctx.fillText(text, x + padX, y + height / 2 + 0.5);
    return { x, y, width, height };
  }
}
