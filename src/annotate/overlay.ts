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

export function overlaySvg(width: number, height: number, detections: readonly Detection[]): string {
  const short = Math.min(width, height);
  const stroke = Math.max(2, Math.round(short / 180));
  const font = Math.max(12, Math.round(short / 26));
  const pad = Math.round(font * 0.3);
  const parts: string[] = [];
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
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}
