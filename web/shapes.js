// One camera tile's zones, counting lines and masks, on a canvas of their
// own under the boxes (canvas.shapes in the tile). They are drawn in the
// picture's rect, as the boxes are, in both the native and the JPEG view:
// the picture's size comes from the <video> or the <img>, whichever shows.
// A zone shows who is in it now and lights up when something enters; a line
// shows its all-time counts and lights up on a crossing. The editor
// (editor.js) draws the shape being made or changed here too.
import { containRect, fitToDisplay } from './overlay.js';
import { paintDraft } from './editor-paint.js';
import { hatchPattern, paintLine, paintMask, paintZone, shapeColour } from './shapes-paint.js';

/** @typedef {import('./protocol.js').Shapes} Shapes */
/** @typedef {import('./protocol.js').Analytics} Analytics */
/** @typedef {import('./protocol.js').Point} Point */
/** @typedef {import('./player.js').CameraPlayer} CameraPlayer */

/**
 * The shape the editor is making or changing.
 * @typedef {object} EditView
 * @property {'zone' | 'line' | 'mask'} kind
 * @property {Point[]} points
 * @property {boolean} closed drawn to the end (a polygon closed, a line's two points)
 * @property {Point | null} cursor the pointer, while drawing
 * @property {boolean} nearFirst the pointer is on the first point (a click there closes the polygon)
 * @property {number | null} hover the point under the pointer
 * @property {number | null} replaces which of the camera's shapes of this kind it changes (null: a new one)
 * @property {string} label what to call it on the picture ("new zone", its name)
 */

/**
 * What the layer drew last, for the tests (window.lookoutZones, zones.js).
 * @typedef {object} ZonesDrawn
 * @property {boolean} visible
 * @property {boolean} painted the picture's size was known and the shapes drawn on it
 * @property {{ x: number, y: number, width: number, height: number } | null} picture where the picture is in the canvas, CSS pixels
 * @property {{ name: string, points: Point[], text: string, occupied: boolean }[]} zones
 * @property {{ name: string, points: Point[], in: number, out: number, text: string }[]} lines
 * @property {Point[][]} masks
 * @property {string[]} flashing the zones and lines lit up now ("zone:door", "line:gate")
 * @property {Record<string, number>} lit how many times each was lit up (a zone entered, a line crossed)
 */

const FLASH_MS = 1_400;
const MASK_COLOUR = '#cfd6de';

/** "door · person 1 · car 2": the zone's name and who is in it now. */
export function zoneText(/** @type {string} */ name, /** @type {Record<string, number> | undefined} */ occupancy) {
  const who = Object.entries(occupancy ?? {}).filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));
  return [name, ...who.map(([label, n]) => `${label} ${n}`)].join(' · ');
}

/** A line's counts over all its labels, and per label when there are several. */
export function lineCounts(/** @type {Record<string, { in: number, out: number }> | undefined} */ counters) {
  const rows = Object.entries(counters ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const total = rows.reduce((t, [, c]) => ({ in: t.in + c.in, out: t.out + c.out }), { in: 0, out: 0 });
  const perLabel = rows.length > 1 ? rows.map(([label, c]) => `${label}: in ${c.in} · out ${c.out}`) : [];
  return { ...total, perLabel };
}

export class ShapeLayer {
  /** @type {Shapes} */ shapes = { zones: [], lines: [], masks: [] };
  /** @type {Analytics} */ analytics = { zones: {}, lines: {}, counts: {} };
  #visible = true;
  /** @type {EditView | null} */ #edit = null;
  #editing = false;
  /** @type {Map<string, { start: number, text?: string }>} */ #flashes = new Map();
  #raf = 0;
  /** @type {Record<'native' | 'jpeg', number[]>} */ #sizes = { native: [0, 0], jpeg: [0, 0] };
  /** @type {{ pattern: CanvasPattern | null, dpr: number } | undefined} */ #hatch;
  /** @type {ZonesDrawn} */
  drawn = { visible: true, painted: false, picture: null, zones: [], lines: [], masks: [], flashing: [], lit: {} };

  /** @param {CameraPlayer} player */
  constructor(player) {
    this.player = player;
    const canvas = player.querySelector('canvas.shapes');
    if (!(canvas instanceof HTMLCanvasElement)) throw new Error('the tile has no canvas.shapes');
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.canvas = canvas;
    this.ctx = ctx;
    this.observer = new ResizeObserver(() => this.#resize());
    this.observer.observe(canvas);
    // The picture's size became known or changed, or the tile switched between video and JPEG.
    player.addEventListener('aspectchange', this.paint);
    player.addEventListener('videochange', this.paint);
  }

  close() {
    this.observer.disconnect();
    this.player.removeEventListener('aspectchange', this.paint);
    this.player.removeEventListener('videochange', this.paint);
    cancelAnimationFrame(this.#raf);
  }

  /** The camera's shapes, and optionally what is in them now. @param {Shapes} shapes @param {Analytics} [analytics] */
  set(shapes, analytics) {
    this.shapes = { zones: shapes.zones ?? [], lines: shapes.lines ?? [], masks: shapes.masks ?? [] };
    if (analytics) this.analytics = analytics;
    this.paint();
  }

  setAnalytics(/** @type {Analytics} */ analytics) {
    this.analytics = analytics;
    this.paint();
  }

  set visible(/** @type {boolean} */ on) {
    this.#visible = on;
    this.paint();
  }

  /** The editor is open on this camera (every shape shows, whatever the switch), and what it draws. */
  setEdit(/** @type {boolean} */ editing, /** @type {EditView | null} */ view) {
    this.#editing = editing;
    this.#edit = view;
    this.paint();
  }

  /** Lights a zone (on enter) or a line (on a crossing, with what happened) for a moment. */
  flash(/** @type {'zone' | 'line'} */ kind, /** @type {string} */ name, /** @type {string} */ text = '') {
    this.#flashes.set(`${kind}:${name}`, { start: performance.now(), text });
    this.drawn.lit[`${kind}:${name}`] = (this.drawn.lit[`${kind}:${name}`] ?? 0) + 1;
    this.paint();
  }

  /**
   * The picture's own size: the video's, or the JPEG frame's. The last one
   * known is kept per kind: while the next JPEG frame loads, the <img> may
   * say 0, and a repaint then must not make the shapes blink out.
   */
  pictureSize() {
    const p = this.player;
    const native = p.videoChoice === 'native';
    const now = native ? [p.video.videoWidth, p.video.videoHeight] : [p.img.naturalWidth, p.img.naturalHeight];
    const kind = native ? 'native' : 'jpeg';
    if (now[0] > 0 && now[1] > 0) this.#sizes[kind] = now;
    return this.#sizes[kind];
  }

  #resize() {
    if (fitToDisplay(this.canvas)) this.paint();
  }

  /** How lit a flash is now, 1 fading to 0. */
  #flashOf(/** @type {string} */ key, /** @type {number} */ now) {
    const f = this.#flashes.get(key);
    return f ? { level: Math.max(0, 1 - (now - f.start) / FLASH_MS), text: f.text ?? '' } : { level: 0, text: '' };
  }

  paint = () => {
    cancelAnimationFrame(this.#raf);
    const { ctx, canvas } = this;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const [w, h] = this.pictureSize();
    const shown = this.#visible || this.#editing;
    const drawn = this.drawn;
    Object.assign(drawn, { visible: shown, painted: false, picture: null, zones: [], lines: [], masks: [], flashing: [] });
    if (!shown || !(w > 0 && h > 0) || canvas.width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    const pic = containRect(canvas.width, canvas.height, w, h);
    const font = Math.round(Math.max(11, Math.min(14, pic.height / dpr / 30)) * dpr);
    const P = { ctx, pic, dpr, font, taken: [] };
    const now = performance.now();
    // Faded ones are forgotten (a flash of a shape not drawn now included), so the animation stops.
    for (const [key, f] of this.#flashes) if (now - f.start >= FLASH_MS) this.#flashes.delete(key);
    const edit = this.#edit;
    // While a shape is being made or changed, the others step back.
    const dim = edit !== null;
    const replaced = (/** @type {string} */ kind, /** @type {number} */ i) => edit?.kind === kind && edit.replaces === i;
    if (this.#hatch?.dpr !== dpr) this.#hatch = { pattern: hatchPattern(ctx, dpr), dpr };
    this.shapes.masks.forEach((m, i) => {
      if (replaced('mask', i)) return;
      paintMask(P, m, this.#hatch?.pattern ?? null, dim);
      drawn.masks.push(m);
    });
    this.shapes.zones.forEach((z, i) => {
      if (replaced('zone', i)) return;
      const occupancy = this.analytics.zones?.[z.name];
      const text = zoneText(z.name, occupancy);
      const occupied = Object.values(occupancy ?? {}).some((n) => n > 0);
      const flash = this.#flashOf(`zone:${z.name}`, now);
      paintZone(P, { points: z.points, colour: shapeColour(i), text: [text], occupied, flash: flash.level, dim });
      drawn.zones.push({ name: z.name, points: z.points, text, occupied });
      if (flash.level > 0) drawn.flashing.push(`zone:${z.name}`);
    });
    this.shapes.lines.forEach((l, i) => {
      if (replaced('line', i)) return;
      const c = lineCounts(this.analytics.lines?.[l.name]);
      const text = `${l.name} · in ${c.in} · out ${c.out}`;
      const flash = this.#flashOf(`line:${l.name}`, now);
      paintLine(P, { points: l.points, colour: shapeColour(i + 3), text: [text, ...c.perLabel], flash: flash.level, flashText: flash.text, dim });
      drawn.lines.push({ name: l.name, points: l.points, in: c.in, out: c.out, text });
      if (flash.level > 0) drawn.flashing.push(`line:${l.name}`);
    });
    if (edit) {
      const list = edit.kind === 'zone' ? this.shapes.zones : this.shapes.lines;
      const index = edit.replaces ?? list.length;
      const colour = edit.kind === 'mask' ? MASK_COLOUR : shapeColour(edit.kind === 'zone' ? index : index + 3);
      paintDraft(P, { ...edit, colour });
    }
    drawn.painted = true;
    drawn.picture = { x: pic.x / dpr, y: pic.y / dpr, width: pic.width / dpr, height: pic.height / dpr };
    if (this.#flashes.size > 0) this.#raf = requestAnimationFrame(this.paint);
  };
}
