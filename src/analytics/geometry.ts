// The few plane facts zones and lines rest on, in normalized picture
// coordinates (x right, y down, 0–1). Boxes arrive as TF Serving gives them,
// [ymin, xmin, ymax, xmax].
import type { Anchor, Point } from '../config/schema.js';
import type { Box } from '../types.js';

/** The point of a box that stands for the object: by default where it touches the ground. */
export function anchorPoint(box: Box, anchor: Anchor): Point {
  const x = (box[1] + box[3]) / 2;
  if (anchor === 'center') return [x, (box[0] + box[2]) / 2];
  if (anchor === 'top-center') return [x, box[0]];
  return [x, box[2]];
}

export { insidePolygon } from '../util/polygon.js';

/**
 * Signed distance from the line through a→b, in frame units: positive on
 * the right of a→b as seen on the picture (y down), which is the side "in"
 * leads to. Precomputed per line: the unit normal and its offset.
 */
export interface LineFrame {
  a: Point;
  b: Point;
  nx: number;
  ny: number;
  c: number;
}

export function lineFrame(a: Point, b: Point): LineFrame {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = Math.hypot(dx, dy);
  // (dx, dy) rotated a quarter turn clockwise on a y-down picture: the right-hand side.
  const nx = -dy / len;
  const ny = dx / len;
  return { a, b, nx, ny, c: -(nx * a[0] + ny * a[1]) };
}

export function signedDistance(f: LineFrame, p: Point): number {
  return f.nx * p[0] + f.ny * p[1] + f.c;
}

/** Where along a→b (0 at a, 1 at b) the segment p→q meets the line, or NaN when it does not cross it. */
export function crossingAt(f: LineFrame, p: Point, q: Point): number {
  const dp = signedDistance(f, p);
  const dq = signedDistance(f, q);
  if (dp === dq || Math.sign(dp) === Math.sign(dq)) return NaN;
  const t = dp / (dp - dq);
  const x = p[0] + t * (q[0] - p[0]);
  const y = p[1] + t * (q[1] - p[1]);
  const dx = f.b[0] - f.a[0];
  const dy = f.b[1] - f.a[1];
  return ((x - f.a[0]) * dx + (y - f.a[1]) * dy) / (dx * dx + dy * dy);
}

/** A box's area as a fraction of the frame, and its width ÷ height in pixels. */
export function boxShape(box: Box, width: number, height: number): { area: number; ratio: number } {
  const w = Math.max(0, box[3] - box[1]);
  const h = Math.max(0, box[2] - box[0]);
  return { area: w * h, ratio: h > 0 ? (w * width) / (h * height) : Infinity };
}
