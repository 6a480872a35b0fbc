// Draws detections onto a raw RGB frame and encodes it as JPEG, once per
// frame however many viewers receive it. sharp works on libuv's thread pool.
import sharp from 'sharp';
import type { Detection, Frame } from '../types.js';
import { overlaySvg } from './overlay.js';

export async function annotateJpeg(frame: Pick<Frame, 'width' | 'height' | 'data'>, detections: readonly Detection[], quality = 80): Promise<Buffer> {
  const image = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
  if (detections.length > 0) image.composite([{ input: Buffer.from(overlaySvg(frame.width, frame.height, detections)), top: 0, left: 0 }]);
  return image.jpeg({ quality, mozjpeg: false }).toBuffer();
}
