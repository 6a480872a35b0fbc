// One frame's detections from several regions made into one list: an object
// seen in two overlapping regions is kept once, and an object cut by a
// region's edge (the region ends inside the picture, across the object) is
// marked, so it can be looked at again in a region centred on it.
import type { Box, Detection, Rect } from '../types.js';
import { boxRect, squareAround, overlapArea, rectArea } from '../util/rect.js';

/** A detection of one region, on its frame: which of the frame's views (images) it came from, and whether the region's edge cut it. */
export interface RegionDetection extends Detection {
  view: number;
  cut: boolean;
}

/** Two boxes of one label this alike are one object: IoU, or the smaller one lying this much inside the other. */
const SAME_IOU = 0.5;
const SAME_INSIDE = 0.8;
/** A box this close to a region's inner edge (fraction of the region's side, at least 2 px) is taken as cut by it. */
const EDGE = 0.01;
/** Re-centred regions per frame at most: each costs one more image in a second call. */
export const MAX_RECENTRED = 2;

function boxArea(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

function overlap(a: Box, b: Box): number {
  const h = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const w = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return h > 0 && w > 0 ? h * w : 0;
}

/** Whether two detections of one label are the same object. */
export function sameObject(a: Detection, b: Detection): boolean {
  if (a.classId !== b.classId) return false;
  const inter = overlap(a.box, b.box);
  if (inter === 0) return false;
  const aa = boxArea(a.box);
  const ba = boxArea(b.box);
  return inter / (aa + ba - inter) > SAME_IOU || inter / Math.min(aa, ba) > SAME_INSIDE;
}

/**
 * Whether a box (normalized) touches an edge of `rect` that lies inside the
 * frame: there the region cut the picture, and maybe the object with it.
 */
export function cutBy(box: Box, rect: Rect, frame: { width: number; height: number }): boolean {
  const r = boxRect(box, frame);
  const margin = Math.max(2, EDGE * Math.max(rect.width, rect.height));
  return (rect.x > 0 && r.x - rect.x < margin)
    || (rect.y > 0 && r.y - rect.y < margin)
    || (rect.x + rect.width < frame.width && rect.x + rect.width - (r.x + r.width) < margin)
    || (rect.y + rect.height < frame.height && rect.y + rect.height - (r.y + r.height) < margin);
}

/**
 * Keeps one detection per object seen in several views: whole ones before
 * cut ones, then by score (greedy suppression per label). Detections of one
 * view are the model's own, already one per object (a person standing behind
 * another stays), so only pairs from different views are compared. The
 * result is by score, as the model's is.
 */
export function mergeDetections(found: readonly RegionDetection[]): RegionDetection[] {
  const order = [...found].sort((a, b) => Number(a.cut) - Number(b.cut) || b.score - a.score);
  const kept: RegionDetection[] = [];
  for (const d of order) if (!kept.some((k) => k.view !== d.view && sameObject(k, d))) kept.push(d);
  return kept.sort((a, b) => b.score - a.score);
}

/**
 * Regions centred on the objects a region cut, for a second look: at least
 * `side` square, with room around the object; none that would show what the
 * first regions already showed.
 */
export function recentred(cut: readonly RegionDetection[], looked: readonly Rect[], side: number, frame: { width: number; height: number }): Rect[] {
  const out: Rect[] = [];
  for (const d of cut) {
    if (out.length >= MAX_RECENTRED) break;
    const r = boxRect(d.box, frame);
    const grown = { x: r.x - r.width / 8, y: r.y - r.height / 8, width: r.width * 1.25, height: r.height * 1.25 };
    const rect = squareAround(grown, side, frame);
    const seen = [...looked, ...out].some((l) => overlapArea(l, rect) / rectArea(rect) > 0.9);
    if (!seen) out.push(rect);
  }
  return out;
}

/** Detections without the region marks. */
export function plain(found: readonly RegionDetection[]): Detection[] {
  return found.map(({ classId, label, score, box }) => ({ classId, label, score, box }));
}
