// Conversions between the two image forms a detector signature may want.
// sharp runs on libuv's thread pool, so neither blocks the event loop.
import sharp from 'sharp';
import type { ImageInput } from '../types.js';
import { LookoutError } from '../util/errors.js';

export type RgbImage = Extract<ImageInput, { kind: 'rgb' }>;

/**
 * Largest image decoded, in pixels (8192 × 8192 = 64 MP, 192 MiB as RGB):
 * a small compressed upload must not make the process allocate gigabytes.
 */
export const MAX_DECODE_PIXELS = 8192 * 8192;

export class ImageDecodeError extends LookoutError {
  readonly code = 'IMAGE_UNDECODABLE';
}

/** Decodes JPEG, PNG or WebP bytes to RGB24, refusing images over maxPixels. */
export async function decodeImage(bytes: Uint8Array, maxPixels = MAX_DECODE_PIXELS): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { kind: 'rgb', width: info.width, height: info.height, data };
  } catch (err) {
    throw new ImageDecodeError((err as Error).message);
  }
}

export async function toRgb(image: ImageInput): Promise<RgbImage> {
  return image.kind === 'rgb' ? image : decodeImage(image.data);
}

export async function toJpeg(image: ImageInput, quality = 90): Promise<Uint8Array> {
  if (image.kind === 'jpeg') return image.data;
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
