// Painting a camera's zones, counting lines and masks on a canvas in device
// pixels (the shape being drawn in the editor: editor-paint.js). Everything is placed in
// the picture's rect (overlay.js's containRect), as the boxes are, so a zone
// sits on the same spot of the picture as the boxes it counts. Pure drawing:
// shapes.js decides what to draw and when.

/** @typedef {import('./protocol.js').Point} Point */
/** @typedef {import('./overlay.js').Rect} Rect */

/**
 * Where and how big to paint.
 * @typedef {object} Painter
 * @property {CanvasRenderingContext2D} ctx
 * @property {Rect} pic the picture inside the canvas, device pixels
 * @property {number} dpr
 * @property {number} font label size, device pixels
 * @property {Rect[]} taken labels placed so far (later ones move out of their way)
 */

/** Zone and line colours: apart from each other and readable on grey and green scenes. */
const PALETTE = ['#f5b942', '#3dd6c6', '#b794f6', '#f47fb5', '#6cb6ff', '#a6e05a'];
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const DARK = 'rgba(6, 9, 13, 0.72)';

export function shapeColour(/** @type {number} */ i) {
  return PALETTE[i % PALETTE.length];
}

/** A normalized point in canvas pixels. @returns {Point} */
export function toPx(/** @type {Rect} */ pic, /** @type {Point} */ p) {
  return [pic.x + p[0] * pic.width, pic.y + p[1] * pic.height];
}

export function trace(/** @type {Painter} */ P, /** @type {Point[]} */ points, /** @type {boolean} */ close) {
  const { ctx } = P;
  ctx.beginPath();
  points.forEach((p, i) => {
    const [x, y] = toPx(P.pic, p);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  if (close) ctx.closePath();
}

/** A colour with this opacity ("#rrggbb" in). */
export function alpha(/** @type {string} */ hex, /** @type {number} */ a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/** A stroke with a dark edge under it, so it reads on light and dark pictures alike. */
export function edged(/** @type {Painter} */ P, /** @type {string} */ colour, /** @type {number} */ width) {
  const { ctx } = P;
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  ctx.lineWidth = width + 2 * P.dpr;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.5)';
  ctx.stroke();
  ctx.lineWidth = width;
  ctx.strokeStyle = colour;
  ctx.stroke();
}

/**
 * A label pill with its top-left near (x, y), kept inside the picture and
 * moved down past labels already placed. Returns where it went.
 * @param {Painter} P @param {string[]} lines the first in bold, the others smaller
 * @param {number} x @param {number} y @param {{ bg: string, fg: string, centre?: boolean }} look
 */
export function pill(P, lines, x, y, look) {
  const { ctx, pic, font } = P;
  const small = Math.round(font * 0.82);
  const padX = Math.round(font * 0.45);
  const rowH = (/** @type {number} */ i) => Math.round((i === 0 ? font : small) * 1.4);
  const fontOf = (/** @type {number} */ i) => (i === 0 ? `600 ${font}px ${FONT}` : `500 ${small}px ${FONT}`);
  let width = 0;
  lines.forEach((t, i) => {
    ctx.font = fontOf(i);
    width = Math.max(width, Math.ceil(ctx.measureText(t).width));
  });
  width += padX * 2;
  const height = lines.reduce((h, _, i) => h + rowH(i), Math.round(font * 0.15));
  let left = Math.max(pic.x, Math.min((look.centre ? x - width / 2 : x), pic.x + pic.width - width));
  let top = Math.max(pic.y, Math.min(look.centre ? y - height / 2 : y, pic.y + pic.height - height));
  for (let tries = 0; tries < 6; tries++) {
    const hit = P.taken.find((r) => left < r.x + r.width && r.x < left + width && top < r.y + r.height && r.y < top + height);
    if (!hit) break;
    top = hit.y + hit.height + 2 * P.dpr;
    if (top + height > pic.y + pic.height) top = Math.max(pic.y, hit.y - height - 2 * P.dpr);
  }
  left = Math.round(left);
  top = Math.round(top);
  ctx.fillStyle = look.bg;
  ctx.beginPath();
  ctx.roundRect(left, top, width, height, Math.round(font * 0.3));
  ctx.fill();
  ctx.fillStyle = look.fg;
  ctx.textBaseline = 'middle';
  let rowTop = top + Math.round(font * 0.08);
  lines.forEach((t, i) => {
    ctx.font = fontOf(i);
    ctx.globalAlpha = i === 0 ? 1 : 0.85;
    ctx.fillText(t, left + padX, rowTop + rowH(i) / 2 + 0.5);
    rowTop += rowH(i);
  });
  ctx.globalAlpha = 1;
  const rect = { x: left, y: top, width, height };
  P.taken.push(rect);
  return rect;
}

/** The diagonal hatching masks are filled with (made once per canvas size). */
export function hatchPattern(/** @type {CanvasRenderingContext2D} */ ctx, /** @type {number} */ dpr) {
  const size = Math.round(10 * dpr);
  const tile = document.createElement('canvas');
  tile.width = size;
  tile.height = size;
  const t = tile.getContext('2d');
  if (!t) return null;
  t.strokeStyle = 'rgba(255, 255, 255, 0.16)';
  t.lineWidth = 1.5 * dpr;
  for (const o of [-size, 0, size]) {
    t.beginPath();
    t.moveTo(o, size);
    t.lineTo(o + size, 0);
    t.stroke();
  }
  return ctx.createPattern(tile, 'repeat');
}

/** A mask: an area detection ignores, dark and hatched. */
export function paintMask(/** @type {Painter} */ P, /** @type {Point[]} */ points, /** @type {CanvasPattern | null} */ pattern, dim = false) {
  const { ctx } = P;
  ctx.globalAlpha = dim ? 0.5 : 1;
  trace(P, points, true);
  ctx.fillStyle = 'rgba(4, 6, 9, 0.58)';
  ctx.fill();
  if (pattern) {
    ctx.fillStyle = pattern;
    ctx.fill();
  }
  ctx.setLineDash([4 * P.dpr, 3 * P.dpr]);
  ctx.lineWidth = P.dpr;
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.35)';
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;
}

/**
 * A zone: translucent, brighter while something is in it or it was just
 * entered (flash 0–1), with its name and who is in it.
 * @param {Painter} P
 * @param {{ points: Point[], colour: string, text: string[], occupied: boolean, flash: number, dim?: boolean }} z
 */
export function paintZone(P, z) {
  const { ctx } = P;
  ctx.globalAlpha = z.dim ? 0.45 : 1;
  trace(P, z.points, true);
  ctx.fillStyle = alpha(z.colour, (z.occupied ? 0.3 : 0.16) + 0.3 * z.flash);
  ctx.fill();
  edged(P, z.colour, (z.occupied ? 2.6 : 1.8) * P.dpr + 2 * z.flash * P.dpr);
  // The label hangs from the zone's upper-left corner (the point nearest the picture's top-left).
  const top = z.points.reduce((a, b) => (b[0] + b[1] < a[0] + a[1] ? b : a));
  const [x, y] = toPx(P.pic, top);
  const look = z.occupied || z.flash > 0.3 ? { bg: z.colour, fg: '#0b0f14' } : { bg: DARK, fg: z.colour };
  pill(P, z.text, x + 4 * P.dpr, y + 4 * P.dpr, look);
  ctx.globalAlpha = 1;
}

/** The unit normal of A→B in canvas pixels that points to the "in" side (the right of A→B on the picture). */
function inSide(/** @type {Point} */ a, /** @type {Point} */ b) {
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
  return { nx: -(b[1] - a[1]) / len, ny: (b[0] - a[0]) / len };
}

/** An arrow from (x, y) along (nx, ny), `length` long. */
function arrow(/** @type {Painter} */ P, /** @type {number} */ x, /** @type {number} */ y, /** @type {{ nx: number, ny: number }} */ n, /** @type {number} */ length, /** @type {string} */ colour) {
  const { ctx, dpr } = P;
  const tipX = x + n.nx * length;
  const tipY = y + n.ny * length;
  const head = 7 * dpr;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(tipX - n.nx * head * 0.6, tipY - n.ny * head * 0.6);
  edged(P, colour, 2.2 * dpr);
  ctx.beginPath();
  ctx.moveTo(tipX, tipY);
  ctx.lineTo(tipX - n.nx * head + n.ny * head * 0.7, tipY - n.ny * head - n.nx * head * 0.7);
  ctx.lineTo(tipX - n.nx * head - n.ny * head * 0.7, tipY - n.ny * head + n.nx * head * 0.7);
  ctx.closePath();
  ctx.lineWidth = 2 * dpr;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.5)';
  ctx.stroke();
  ctx.fillStyle = colour;
  ctx.fill();
  return [tipX, tipY];
}

/**
 * A counting line: A to B, an arrow to its "in" side, and its counts beside
 * it on the "out" side; brighter for a moment after a crossing (flash 0–1).
 * @param {Painter} P
 * @param {{ points: Point[], colour: string, text: string[], flash: number, flashText?: string, dim?: boolean }} l
 */
export function paintLine(P, l) {
  const { ctx, dpr, pic } = P;
  const [a, b] = l.points;
  const [ax, ay] = toPx(pic, a);
  const [bx, by] = toPx(pic, b);
  const n = inSide([ax, ay], [bx, by]);
  ctx.globalAlpha = l.dim ? 0.45 : 1;
  if (l.flash > 0) {
    ctx.beginPath();
    ctx.moveTo(ax, ay);
    ctx.lineTo(bx, by);
    ctx.lineCap = 'round';
    ctx.lineWidth = (4 + 8 * l.flash) * dpr;
    ctx.strokeStyle = `rgba(255, 255, 255, ${0.55 * l.flash})`;
    ctx.stroke();
  }
  ctx.beginPath();
  ctx.moveTo(ax, ay);
  ctx.lineTo(bx, by);
  edged(P, l.colour, 2.6 * dpr);
  for (const [x, y] of [[ax, ay], [bx, by]]) {
    ctx.beginPath();
    ctx.arc(x, y, 3.5 * dpr, 0, 2 * Math.PI);
    ctx.fillStyle = l.colour;
    ctx.fill();
    ctx.lineWidth = 1.5 * dpr;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.stroke();
  }
  const mx = (ax + bx) / 2;
  const my = (ay + by) / 2;
  const [tx, ty] = arrow(P, mx + n.nx * 3 * dpr, my + n.ny * 3 * dpr, n, 30 * dpr, l.colour);
  // "in" at the arrow's tip (what just crossed, while it flashes).
  const tag = l.flash > 0 && l.flashText ? l.flashText : 'in';
  ctx.font = `700 ${Math.round(P.font * 0.85)}px ${FONT}`;
  const tw = ctx.measureText(tag).width + P.font * 0.8;
  const th = P.font * 1.3;
  const cx = tx + n.nx * (Math.abs(n.nx) * tw / 2 + Math.abs(n.ny) * th / 2 + 3 * dpr);
  const cy = ty + n.ny * (Math.abs(n.nx) * tw / 2 + Math.abs(n.ny) * th / 2 + 3 * dpr);
  ctx.beginPath();
  ctx.roundRect(cx - tw / 2, cy - th / 2, tw, th, th / 2);
  ctx.fillStyle = l.flash > 0 ? '#fff' : l.colour;
  ctx.fill();
  ctx.fillStyle = '#0b0f14';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(tag, cx, cy + 0.5);
  ctx.textAlign = 'start';
  // The counts on the other side of the line from the arrow, clear of it; past the arrow
  // when that side has no room (a line along the picture's edge).
  ctx.font = `600 ${P.font}px ${FONT}`;
  const halfW = ctx.measureText(l.text[0]).width / 2 + P.font * 0.5;
  const halfH = (P.font * 1.4 * l.text.length) / 2;
  const d = Math.abs(n.nx) * halfW + Math.abs(n.ny) * halfH + 12 * dpr;
  const fits = (/** @type {number} */ x, /** @type {number} */ y) => x - halfW >= pic.x && x + halfW <= pic.x + pic.width && y - halfH >= pic.y && y + halfH <= pic.y + pic.height;
  const out = [mx - n.nx * d, my - n.ny * d];
  const past = d + 30 * dpr + Math.abs(n.nx) * tw + Math.abs(n.ny) * th;
  const [px, py] = fits(out[0], out[1]) ? out : [mx + n.nx * past, my + n.ny * past];
  pill(P, l.text, px, py, { bg: l.flash > 0.3 ? l.colour : DARK, fg: l.flash > 0.3 ? '#0b0f14' : l.colour, centre: true });
  ctx.globalAlpha = 1;
}
