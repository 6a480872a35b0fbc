// Where on the picture the editor's pointer is: the picture's rect inside the
// edit surface (the same mapping as the boxes and shapes, overlay.js's
// containRect), a click as a normalized point, and which point or shape is
// under it.
import { containRect } from './overlay.js';

/** @typedef {import('./protocol.js').Point} Point */
/** @typedef {import('./shapes.js').ShapeLayer} ShapeLayer */
/** @typedef {'zone' | 'line' | 'mask'} Kind */

/** How near (CSS px) the pointer must be to a point to take it, or to a line to pick it. */
const NEAR_PX = 10;
/** Clicks this far outside the picture (on its black bars) still count, at its edge. */
const OUTSIDE_PX = 18;

const clamp = (/** @type {number} */ v) => Math.min(1, Math.max(0, v));
/** Four decimals: a tenth of a pixel on a 4K picture, and readable in the config. */
const tidy = (/** @type {number} */ v) => Math.round(v * 10_000) / 10_000;

/** Even-odd ray casting, as the server tests a zone. */
export function inside(/** @type {Point} */ p, /** @type {Point[]} */ polygon) {
  let hit = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

export class PictureGeometry {
  /** @param {HTMLElement} surface @param {ShapeLayer} layer */
  constructor(surface, layer) {
    this.surface = surface;
    this.layer = layer;
  }

  /** The picture's rect in the surface, CSS pixels. */
  rect() {
    const [w, h] = this.layer.pictureSize();
    return containRect(this.surface.clientWidth, this.surface.clientHeight, w, h);
  }

  /** The pointer as a point of the picture, or null when it is well outside it. */
  pointAt(/** @type {PointerEvent} */ e) {
    const [w, h] = this.layer.pictureSize();
    if (!(w > 0 && h > 0)) return null; // no picture yet: nowhere to put a point
    const box = this.surface.getBoundingClientRect();
    const pic = this.rect();
    const x = e.clientX - box.left - pic.x;
    const y = e.clientY - box.top - pic.y;
    if (!(pic.width > 0) || x < -OUTSIDE_PX || y < -OUTSIDE_PX || x > pic.width + OUTSIDE_PX || y > pic.height + OUTSIDE_PX) return null;
    return /** @type {Point} */ ([tidy(clamp(x / pic.width)), tidy(clamp(y / pic.height))]);
  }

  /** Distance in CSS pixels between two points of the picture. */
  #apart(/** @type {Point} */ a, /** @type {Point} */ b) {
    const pic = this.rect();
    return Math.hypot((a[0] - b[0]) * pic.width, (a[1] - b[1]) * pic.height);
  }

  /** Which of these points is under p, if one is. */
  near(/** @type {Point[]} */ points, /** @type {Point} */ p) {
    const i = points.findIndex((q) => this.#apart(p, q) <= NEAR_PX);
    return i === -1 ? null : i;
  }

  /** The shape under a click: a line near it first (they are thin), then a zone, then a mask. @returns {[Kind, number] | null} */
  shapeAt(/** @type {Point} */ p) {
    const { zones, lines, masks } = this.layer.shapes;
    const pic = this.rect();
    const px = (/** @type {Point} */ q) => [q[0] * pic.width, q[1] * pic.height];
    const line = lines.findIndex((l) => {
      const [[ax, ay], [bx, by], [x, y]] = [px(l.points[0]), px(l.points[1]), px(p)];
      const t = clamp(((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2 || 1));
      return Math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay))) <= NEAR_PX;
    });
    if (line !== -1) return ['line', line];
    // The last drawn is on top.
    const last = (/** @type {Point[][]} */ polygons) => polygons.map((q, i) => (inside(p, q) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
    const zone = last(zones.map((z) => z.points));
    if (zone !== -1) return ['zone', zone];
    const mask = last(masks);
    return mask === -1 ? null : ['mask', mask];
  }
}
