// A Predict call's batch carries one image size: frames of cameras with
// different sizes are resized to the first one's, here, before the call.
import sharp from 'sharp';
import type { Frame, ImageInput } from '../types.js';

/**
 * A batch carries one image size: frames that differ are resized to the
 * first frame's size. Boxes are normalized, so they hold for each original frame.
 */
export async function toOneSize(batch: readonly Frame[]): Promise<ImageInput[]> {
  const { width, height } = batch[0];
  return Promise.all(
    batch.map(async (f) => {
      if (f.width === width && f.height === height) return { kind: 'rgb' as const, width, height, data: f.data };
      const data = await sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
      return { kind: 'rgb' as const, width, height, data };
    }),
  );
}
