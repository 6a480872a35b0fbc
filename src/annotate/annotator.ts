// Draws detections onto a raw RGB frame and encodes it as JPEG, once per
// frame however many viewers receive it.
//
// The SVG drawing (overlay.ts) is rasterized by sharp once per set of
// detections. Compositing it is then done here, on only the pixels the
// drawing covers: boxes and labels cover a few per cent of a frame, and
// sharp's full-frame composite cost about 9 ms a frame at 768×432 (more than
// the JPEG encode itself), where blending the covered pixels costs well
// under one.
import sharp from 'sharp';
import type { Detection, Frame } from '../types.js';
import { overlaySvg } from './overlay.js';

/** The rasterized drawing, kept as only the pixels it covers. */
export interface Overlay {
  width: number;
  height: number;
  /** Byte offset in the RGB frame of each covered pixel. */
  offsets: Uint32Array;
  /** R, G, B, alpha of each covered pixel, in the order of `offsets`. */
  rgba: Uint8Array;
}

/**
 * Rasterizes the drawing of a set of detections. Live frames outnumber
 * detections (15 fps against 5), so one rasterization serves several frames.
 */
export async function renderOverlay(width: number, height: number, detections: readonly Detection[]): Promise<Overlay | undefined> {
  if (detections.length === 0) return undefined;
  const raster = await sharp(Buffer.from(overlaySvg(width, height, detections))).ensureAlpha().raw().toBuffer();
  let covered = 0;
  for (let i = 3; i < raster.length; i += 4) if (raster[i] !== 0) covered++;
  const offsets = new Uint32Array(covered);
  const rgba = new Uint8Array(covered * 4);
  for (let p = 0, n = 0; p < width * height; p++) {
    const a = raster[p * 4 + 3];
    if (a === 0) continue;
    offsets[n] = p * 3;
    rgba.set(raster.subarray(p * 4, p * 4 + 4), n * 4);
    n++;
  }
  return { width, height, offsets, rgba };
}

/** Blends the overlay into `rgb` (packed RGB24 of the overlay's size), in place. */
export function blendOverlay(rgb: Uint8Array, overlay: Overlay): void {
  const { offsets, rgba } = overlay;
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i];
    const a = rgba[i * 4 + 3];
    if (a === 255) {
      rgb[o] = rgba[i * 4];
      rgb[o + 1] = rgba[i * 4 + 1];
      rgb[o + 2] = rgba[i * 4 + 2];
    } else {
      // Anti-aliased edges of the text and strokes.
      const b = 255 - a;
      rgb[o] = (rgba[i * 4] * a + rgb[o] * b + 127) / 255;
      rgb[o + 1] = (rgba[i * 4 + 1] * a + rgb[o + 1] * b + 127) / 255;
      rgb[o + 2] = (rgba[i * 4 + 2] * a + rgb[o + 2] * b + 127) / 255;
    }
  }
}

/**
 * The frame with the overlay drawn on, as JPEG. The overlay is blended into
 * the frame's own pixels: a live frame belongs to its camera's feed once
 * pushed, and a copy per frame (a megabyte at 768×432, 20 MB/s for 4
 * cameras) showed up as garbage-collector time on every thread. Huffman optimisation is off: it is a second pass over the data that saves
 * about 7 % of the bytes for about 40 % more encode time, a bad trade for
 * live video on a LAN.
 */
export async function annotateJpeg(frame: Pick<Frame, 'width' | 'height' | 'data'>, overlay: Overlay | undefined, quality = 80): Promise<Buffer> {
  if (overlay && overlay.width === frame.width && overlay.height === frame.height) blendOverlay(frame.data, overlay);
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .jpeg({ quality, optimiseCoding: false })
    .toBuffer();
}
