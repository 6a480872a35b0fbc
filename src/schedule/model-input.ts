// What a Predict call carries for a batch of frames: each frame's plan (the
// whole frame, or regions of it) turned into images, and the way back from a
// box on an image to a box on its frame.
//
// A batch's images share one size (the input tensor has one shape). Images
// of other sizes are padded with black at the right and bottom, never
// stretched: a squeezed picture costs the model its scores (a 16:9 frame
// stretched square cut person scores from 0.75 to 0.25 with CenterNet).
// Padding at the right and bottom keeps the way back a scale and an offset.
import sharp from 'sharp';
import type { Box, DetectPlan, Frame, ImageInput, Rect } from '../types.js';

export { boxRect, rectBox } from '../util/rect.js';

export interface Job {
  frame: Frame;
  plan: DetectPlan;
}

/** One image of a batch: which job's frame, which part of it, and at what scale. */
export interface View {
  job: number;
  rect: Rect;
  /** Image pixels per frame pixel (≤ 1), across and down (rounding makes them differ a little). */
  scaleX: number;
  scaleY: number;
  /** The picture's size inside the (maybe padded) image. */
  width: number;
  height: number;
}

export interface PreparedBatch {
  images: ImageInput[];
  views: View[];
  /** The images' one size, padding included. */
  width: number;
  height: number;
}

/** A rectangle of a frame's RGB rows, copied out (no scaling). */
function crop(frame: Frame, r: Rect): Buffer {
  if (r.x === 0 && r.y === 0 && r.width === frame.width && r.height === frame.height) return frame.data as Buffer;
  const out = Buffer.allocUnsafe(r.width * r.height * 3);
  const row = r.width * 3;
  for (let y = 0; y < r.height; y++) {
    const from = ((r.y + y) * frame.width + r.x) * 3;
    (frame.data as Buffer).copy(out, y * row, from, from + row);
  }
  return out;
}

/** A rectangle of a frame, scaled down to fit the plan's size (never up). */
async function viewImage(frame: Frame, rect: Rect, fit: DetectPlan['fit']): Promise<{ data: Buffer; width: number; height: number; scaleX: number; scaleY: number }> {
  const scale = Math.min(1, fit.width / rect.width, fit.height / rect.height);
  if (scale === 1) return { data: crop(frame, rect), width: rect.width, height: rect.height, scaleX: 1, scaleY: 1 };
  const width = Math.max(1, Math.round(rect.width * scale));
  const height = Math.max(1, Math.round(rect.height * scale));
  const data = await sharp(frame.data as Buffer, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .extract({ left: rect.x, top: rect.y, width: rect.width, height: rect.height })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  // The scales as the image has them: rounding moved them a little from the one asked.
  return { data, width, height, scaleX: width / rect.width, scaleY: height / rect.height };
}

function pad(data: Buffer, width: number, height: number, toWidth: number, toHeight: number): Buffer {
  if (width === toWidth && height === toHeight) return data;
  const out = Buffer.alloc(toWidth * toHeight * 3);
  for (let y = 0; y < height; y++) data.copy(out, y * toWidth * 3, y * width * 3, (y + 1) * width * 3);
  return out;
}

/** The images of a batch of jobs, in job order and each job's rectangles in order, padded to one size. */
export async function prepareBatch(jobs: readonly Job[]): Promise<PreparedBatch> {
  const parts = await Promise.all(jobs.flatMap((job, j) => job.plan.rects.map(async (rect) => ({ job: j, rect, ...(await viewImage(job.frame, rect, job.plan.fit)) }))));
  const width = Math.max(...parts.map((p) => p.width));
  const height = Math.max(...parts.map((p) => p.height));
  return {
    images: parts.map((p) => ({ kind: 'rgb' as const, width, height, data: pad(p.data, p.width, p.height, width, height) })),
    views: parts.map(({ job, rect, scaleX, scaleY, width: w, height: h }) => ({ job, rect, scaleX, scaleY, width: w, height: h })),
    width,
    height,
  };
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/**
 * A box the model gave on a batch image (normalized to the padded image) as
 * a box on the view's frame (normalized to the frame); the part of it over
 * the padding is cut off. Undefined when nothing of it is on the picture.
 */
export function boxOnFrame(box: Box, view: View, batch: { width: number; height: number }, frame: { width: number; height: number }): Box | undefined {
  const y0 = clamp(box[0] * batch.height, 0, view.height);
  const x0 = clamp(box[1] * batch.width, 0, view.width);
  const y1 = clamp(box[2] * batch.height, 0, view.height);
  const x1 = clamp(box[3] * batch.width, 0, view.width);
  if (y1 <= y0 || x1 <= x0) return undefined;
  const { rect, scaleX, scaleY } = view;
  return [
    (rect.y + y0 / scaleY) / frame.height,
    (rect.x + x0 / scaleX) / frame.width,
    (rect.y + y1 / scaleY) / frame.height,
    (rect.x + x1 / scaleX) / frame.width,
  ];
}
