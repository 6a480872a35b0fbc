// Painting the shape the editor is making or changing, over the camera's
// other shapes (shapes-paint.js): its edges, the edge to the pointer while it
// is drawn, its points as handles to drag, the first point marked when a click
// there would close the polygon, and a line's direction.
import { alpha, edged, paintLine, pill, toPx, trace } from './shapes-paint.js';

/** @typedef {import('./shapes-paint.js').Painter} Painter */
/** @typedef {import('./protocol.js').Point} Point */

/**
 * The shape in the editor: its points as handles to drag, the edge to the
 * pointer while it is being drawn, and (for a line) its direction.
 * @param {Painter} P
 * @param {{ kind: 'zone' | 'line' | 'mask', points: Point[], closed: boolean, cursor: Point | null, nearFirst: boolean, colour: string, hover: number | null, label: string }} d
 */
export function paintDraft(P, d) {
  const { ctx, dpr, pic } = P;
  const polygon = d.kind !== 'line';
  if (d.closed && polygon) {
    trace(P, d.points, true);
    ctx.fillStyle = alpha(d.colour, 0.22);
    ctx.fill();
    edged(P, d.colour, 2 * dpr);
    const corner = d.points.reduce((a, b) => (b[0] + b[1] < a[0] + a[1] ? b : a));
    const [x, y] = toPx(pic, corner);
    pill(P, [d.label], x + 10 * dpr, y + 8 * dpr, { bg: d.colour, fg: '#0b0f14' });
  } else if (d.closed) {
    paintLine(P, { points: d.points, colour: d.colour, text: [d.label], flash: 0 });
  } else if (d.points.length) {
    trace(P, d.points, false);
    edged(P, d.colour, 2 * dpr);
    if (d.cursor) {
      const last = toPx(pic, d.points[d.points.length - 1]);
      const cur = toPx(pic, d.nearFirst ? d.points[0] : d.cursor);
      ctx.setLineDash([6 * dpr, 4 * dpr]);
      ctx.beginPath();
      ctx.moveTo(...last);
      ctx.lineTo(...cur);
      if (polygon && d.points.length >= 2 && !d.nearFirst) ctx.lineTo(...toPx(pic, d.points[0]));
      edged(P, alpha(d.colour, 0.8), 1.5 * dpr);
      ctx.setLineDash([]);
    }
  }
  d.points.forEach((p, i) => {
    const [x, y] = toPx(pic, p);
    const closer = polygon && !d.closed && i === 0 && d.points.length >= 3;
    const big = (closer && d.nearFirst) || d.hover === i;
    ctx.beginPath();
    ctx.arc(x, y, (big ? 7.5 : closer ? 6.5 : 5) * dpr, 0, 2 * Math.PI);
    ctx.fillStyle = closer ? d.colour : '#fff';
    ctx.fill();
    ctx.lineWidth = 2 * dpr;
    ctx.strokeStyle = closer ? '#fff' : 'rgba(0, 0, 0, 0.75)';
    ctx.stroke();
  });
}
