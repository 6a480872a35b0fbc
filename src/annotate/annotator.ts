// Draws detections onto a raw RGB frame and encodes it as JPEG, once per
// frame however many viewers receive it. sharp works on libuv's thread pool.
import sharp from 'sharp';
import type { Detection, Frame } from '../types.js';
import { overlaySvg } from './overlay.js';

/** The boxes and labels rasterized once, as raw RGBA the size of the frame. */
export interface Overlay {
  width: number;
  height: number;
  rgba: Buffer;
}

/**
 * Rasterizes the drawing of a set of detections. Live frames outnumber
 * detections (15 fps against 5), so one rasterization serves several frames.
 */
export async function renderOverlay(width: number, height: number, detections: readonly Detection[]): Promise<Overlay | undefined> {
  if (detections.length === 0) return undefined;
  const rgba = await sharp(Buffer.from(overlaySvg(width, height, detections))).ensureAlpha().raw().toBuffer();
  return { width, height, rgba };
}

export async function annotateJpeg(frame: Pick<Frame, 'width' | 'height' | 'data'>, overlay: Overlay | undefined, quality = 80): Promise<Buffer> {
  const image = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
  if (overlay && overlay.width === frame.width && overlay.height === frame.height) {
    image.composite([{ input: overlay.rgba, raw: { width: overlay.width, height: overlay.height, channels: 4 }, top: 0, left: 0 }]);
  }
  return image.jpeg({ quality }).toBuffer();
}
