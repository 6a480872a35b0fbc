// Boxes, labels and scores as an SVG the size of the frame, composited onto
// it by sharp. Sizes scale with the frame, so the drawing reads the same at
// 360p and at 1080p; each class keeps one colour everywhere.
import type { Detection } from '../types.js';

/** One stable, well-spread colour per class id (golden-angle hues). */
export function classColour(classId: number): string {
  const hue = (classId * 137.508) % 360;
  // HSL(h, 80%, 55%) to hex, so the SVG needs no colour functions.
  const s = 0.8;
  const l = 0.55;
  const k = (n: number) => (n + hue / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  const hex = (x: number) => Math.round(x * 255).toString(16).padStart(2, '0');
  return `#${hex(f(0))}${hex(f(8))}${hex(f(4))}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** A rectangle of the frame, [x0, x1) × [y0, y1), clipped to it. */
export interface Region { x0: number; y0: number; x1: number; y1: number }

/**
 * The drawing of a set of detections as an SVG the frame's size, and where
 * on the frame it can have drawn: strips along each box's edges and each
 * label's rectangle, with margins for anti-aliasing and for text that runs
 * wider than its estimate. Whoever reads the raster back looks only there.
 */
export function overlayDrawing(width: number, height: number, detections: readonly Detection[]): { svg: string; regions: Region[] } {
  const short = Math.min(width, height);
  const stroke = Math.max(2, Math.round(short / 180));
  const font = Math.max(12, Math.round(short / 26));
  const pad = Math.round(font * 0.3);
  const parts: string[] = [];
  const regions: Region[] = [];
  const region = (x0: number, y0: number, x1: number, y1: number) => {
    const r = { x0: Math.max(0, Math.floor(x0)), y0: Math.max(0, Math.floor(y0)), x1: Math.min(width, Math.ceil(x1)), y1: Math.min(height, Math.ceil(y1)) };
    if (r.x1 > r.x0 && r.y1 > r.y0) regions.push(r);
  };
  for (const d of detections) {
    const [ymin, xmin, ymax, xmax] = d.box;
    const x = Math.round(xmin * width);
    const y = Math.round(ymin * height);
    const w = Math.max(1, Math.round((xmax - xmin) * width));
    const h = Math.max(1, Math.round((ymax - ymin) * height));
    const colour = classColour(d.classId);
    const text = `${escapeXml(d.label)} ${Math.round(d.score * 100)}%`;
    // Approximate text width: 0.6 em per character suits the sans-serif fonts librsvg picks.
    const tw = Math.round(text.length * font * 0.6) + 2 * pad;
    const th = font + 2 * pad;
    // The label sits above the box, or inside its top edge when the box touches the frame's top.
    const ly = y - th >= 0 ? y - th : y;
    const lx = Math.min(Math.max(0, x - Math.floor(stroke / 2)), Math.max(0, width - tw));
    parts.push(
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
      `<rect x="${lx}" y="${ly}" width="${tw}" height="${th}" fill="${colour}"/>`,
      `<text x="${lx + pad}" y="${ly + pad + font * 0.85}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${font}" font-weight="600" fill="#000">${text}</text>`,
    );
    const m = stroke + 2;
    region(x - m, y - m, x + w + m, y + m);
    region(x - m, y + h - m, x + w + m, y + h + m);
    region(x - m, y - m, x + m, y + h + m);
    region(x + w - m, y - m, x + w + m, y + h + m);
    // The text may run past its estimated width: no glyph of DejaVu Sans
    // Bold, Latin or CJK, is wider than 1.25 em; one more em for overhang.
    region(lx - 2, ly - 2, lx + 2 * pad + (text.length * 1.25 + 1) * font, ly + th + 2);
  }
  return { svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`, regions };
}
