// Conversions between the two image forms a detector signature may want.
// sharp runs on libuv's thread pool, so neither blocks the event loop.
import sharp from 'sharp';
import type { ImageInput } from '../types.js';

export type RgbImage = Extract<ImageInput, { kind: 'rgb' }>;

export async function toRgb(image: ImageInput): Promise<RgbImage> {
  if (image.kind === 'rgb') return image;
  const { data, info } = await sharp(image.data).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { kind: 'rgb', width: info.width, height: info.height, data };
}

export async function toJpeg(image: ImageInput, quality = 90): Promise<Uint8Array> {
  if (image.kind === 'jpeg') return image.data;
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
