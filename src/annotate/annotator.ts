// Draws detections onto a copy of a raw RGB frame and encodes it as JPEG,
// once per frame however many viewers receive it.
//
// The SVG drawing (overlay.ts) is rasterized by sharp once per set of
// detections. Compositing it is then done here, on only the pixels the
// drawing covers: boxes and labels cover a few per cent of a frame, and
// sharp's full-frame composite cost about 9 ms a frame at 768×432 (more than
// the JPEG encode itself), where blending the covered pixels costs well
// under one.
import sharp from 'sharp';
import type { Detection, Frame } from '../types.js';
import { overlayDrawing, type Region } from './overlay.js';

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
  const { svg, regions } = overlayDrawing(width, height, detections);
  const raster = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer();
  // This runs on the event loop: read back only where the drawing can be (a
  // few per cent of the frame), not all of it (1-2 ms at 768×432, 10 at 1080p).
  const spans = rowSpans(regions, height);
  let covered = 0;
  forEachSpan(spans, (y, x0, x1) => {
    for (let p = y * width + x0, end = y * width + x1; p < end; p++) if (raster[p * 4 + 3] !== 0) covered++;
  });
  const offsets = new Uint32Array(covered);
  const rgba = new Uint8Array(covered * 4);
  let n = 0;
  forEachSpan(spans, (y, x0, x1) => {
    for (let p = y * width + x0, end = y * width + x1; p < end; p++) {
      if (raster[p * 4 + 3] === 0) continue;
      offsets[n] = p * 3;
      // Byte by byte: a subarray view per pixel made this loop 3-4× slower.
      const from = p * 4;
      const to = n * 4;
      rgba[to] = raster[from];
      rgba[to + 1] = raster[from + 1];
      rgba[to + 2] = raster[from + 2];
      rgba[to + 3] = raster[from + 3];
      n++;
    }
  });
  return { width, height, offsets, rgba };
}

/** For each row, the regions' spans on it, sorted and merged so no pixel is read twice. */
function rowSpans(regions: readonly Region[], height: number): [number, number][][] {
  const rows: [number, number][][] = Array.from({ length: height }, () => []);
  for (const r of regions) for (let y = r.y0; y < r.y1; y++) rows[y].push([r.x0, r.x1]);
  for (let y = 0; y < height; y++) {
    const row = rows[y];
    if (row.length < 2) continue;
    row.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [row[0]];
    for (let i = 1; i < row.length; i++) {
      const last = merged[merged.length - 1];
      if (row[i][0] <= last[1]) last[1] = Math.max(last[1], row[i][1]);
      else merged.push(row[i]);
    }
    rows[y] = merged;
  }
  return rows;
}

function forEachSpan(rows: readonly [number, number][][], visit: (y: number, x0: number, x1: number) => void): void {
  for (let y = 0; y < rows.length; y++) for (const [x0, x1] of rows[y]) visit(y, x0, x1);
}

/** Blends the overlay into `rgb` (packed RGB24 of the overlay's size), in place: a canvas of the caller's, never a frame. */
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
 * RGB buffers to draw into, reused: frames are read-only once delivered
 * (several readers hold the same frame), so drawing copies the frame first.
 * A fresh copy per frame (a megabyte at 768×432, 20 MB/s for 4 cameras)
 * showed up as garbage-collector time on every thread; a copy into a buffer
 * kept for the next frame of the same size costs a memcpy and no garbage.
 * Bounded: at most `keep` idle buffers are kept.
 */
export class DrawingBuffers {
  private readonly idle: Buffer[] = [];
  constructor(private readonly keep = 2) {}

  /** A buffer of exactly `bytes`, its contents undefined. Give it back when done. */
  take(bytes: number): Buffer {
    const i = this.idle.findIndex((b) => b.length === bytes);
    return i === -1 ? Buffer.allocUnsafe(bytes) : this.idle.splice(i, 1)[0];
  }

  give(buffer: Buffer): void {
    if (this.idle.length >= this.keep) this.idle.shift();
    this.idle.push(buffer);
  }
}

/**
 * The frame with the overlay drawn on, as JPEG. The frame is never changed:
 * the drawing goes into a copy, from `buffers` when given. Huffman
 * optimisation is off: it is a second pass over the data that saves about
 * 7 % of the bytes for about 40 % more encode time, a bad trade for live
 * video on a LAN.
 */
export async function annotateJpeg(frame: Pick<Frame, 'width' | 'height' | 'data'>, overlay: Overlay | undefined, quality = 80, buffers?: DrawingBuffers): Promise<Buffer> {
  const raw = { width: frame.width, height: frame.height, channels: 3 as const };
  if (!overlay || overlay.width !== frame.width || overlay.height !== frame.height) {
    return sharp(frame.data, { raw }).jpeg({ quality, optimiseCoding: false }).toBuffer();
  }
  const canvas = buffers ? buffers.take(frame.data.length) : Buffer.allocUnsafe(frame.data.length);
  try {
    frame.data.copy(canvas);
    blendOverlay(canvas, overlay);
    return await sharp(canvas, { raw }).jpeg({ quality, optimiseCoding: false }).toBuffer();
  } finally {
    buffers?.give(canvas);
  }
}
