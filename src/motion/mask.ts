// Motion masks as a bitmap of the small grey picture. A mask's polygons
// change only with the settings and the picture's size only with the camera's
// stream, so they are rasterized once for both and each frame then reads one
// byte per cell instead of testing every cell against every polygon.
import { insidePolygon } from '../util/polygon.js';
import type { Point } from '../config/schema.js';

export interface MaskBitmap {
  /** 1 where changes are ignored, per cell of the small picture, row by row. */
  masked: Uint8Array;
  /** Cells not masked: what the changed fraction is a fraction of. */
  open: number;
}

/**
 * The cells whose centres fall inside any of the polygons (normalized
 * points). A polygon of fewer than three points covers nothing.
 */
export function rasterizeMasks(masks: readonly (readonly Point[])[], width: number, height: number): MaskBitmap {
  const masked = new Uint8Array(width * height);
  for (const polygon of masks) {
    if (polygon.length < 3) continue;
    // Only the polygon's bounding rows and columns can hold its cells.
    const ys = polygon.map((p) => p[1] * height - 0.5);
    const xs = polygon.map((p) => p[0] * width - 0.5);
    const y0 = Math.max(0, Math.floor(Math.min(...ys)));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(...ys)));
    const x0 = Math.max(0, Math.floor(Math.min(...xs)));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(...xs)));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (insidePolygon([(x + 0.5) / width, (y + 0.5) / height], polygon)) masked[y * width + x] = 1;
      }
    }
  }
  let open = 0;
  for (let i = 0; i < masked.length; i++) open += 1 - masked[i];
  return { masked, open };
}

/** Even-odd ray casting: whether (x, y) is inside the polygon. */
