// Rectangles of a picture in its pixels: the regions the model looks at
// (motion/regions.ts plans them, schedule/model-input.ts crops them). Pure
// arithmetic on integers, shared so that planning and cropping agree.

/** A rectangle in a picture's pixels: left, top, width, height (integers, inside the picture). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

export function rectArea(r: Rect): number {
  return r.width * r.height;
}

/** The whole picture as a rectangle. */
export function wholeRect(size: Size): Rect {
  return { x: 0, y: 0, width: size.width, height: size.height };
}

/**
 * A square of `side` centred on (cx, cy), moved (not cut) to lie inside the
 * picture; where the picture is narrower (or shorter) than the side, that
 * dimension is the picture's own, so the result may not be square.
 */
export function squareAt(cx: number, cy: number, side: number, size: Size): Rect {
  const w = Math.min(Math.round(side), size.width);
  const h = Math.min(Math.round(side), size.height);
  const x = Math.min(Math.max(0, Math.round(cx - w / 2)), size.width - w);
  const y = Math.min(Math.max(0, Math.round(cy - h / 2)), size.height - h);
  return { x, y, width: w, height: h };
}

/** The smallest square (at least `minSide`) around a rectangle, inside the picture as squareAt() places it. */
export function squareAround(r: Rect, minSide: number, size: Size): Rect {
  return squareAt(r.x + r.width / 2, r.y + r.height / 2, Math.max(minSide, r.width, r.height), size);
}

/** The bounding rectangle of two. */
export function unionRect(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/** Area shared by two rectangles. */
export function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** A normalized box, [ymin, xmin, ymax, xmax] 0–1 (types.ts Box). */
type NormalizedBox = readonly [number, number, number, number];

/** A normalized box in a picture's pixels, rounded outwards and kept inside the picture. */
export function boxRect(box: NormalizedBox, size: Size): Rect {
  const x = Math.min(size.width - 1, Math.max(0, Math.floor(box[1] * size.width)));
  const y = Math.min(size.height - 1, Math.max(0, Math.floor(box[0] * size.height)));
  const x1 = Math.min(size.width, Math.max(x + 1, Math.ceil(box[3] * size.width)));
  const y1 = Math.min(size.height, Math.max(y + 1, Math.ceil(box[2] * size.height)));
  return { x, y, width: x1 - x, height: y1 - y };
}

/** A rectangle of a picture as a normalized box. */
export function rectBox(r: Rect, size: Size): [number, number, number, number] {
  return [r.y / size.height, r.x / size.width, (r.y + r.height) / size.height, (r.x + r.width) / size.width];
}
