// Where in a frame the model should look: squares around what moves (and
// around tracked objects that need a look), at least the model's input side,
// so a small object far away reaches the model at full size instead of
// shrunk with the whole frame. Squares that cost no more together than
// apart are merged, and so are the closest while there are too many. When
// the squares come to most of the frame, the whole frame is cheaper.
import type { Box, Rect, Size } from '../types.js';
import { boxRect, rectArea, squareAround, unionRect } from '../util/rect.js';

/** A region this share of the frame, or regions adding up to the frame, are no cheaper than the whole frame. */
const WHOLE_SHARE = 0.6;
/** Room around what moved, so the object is not cut by the region's edge where its motion box ended. */
const MARGIN = 0.25;

export type RegionPlan = { kind: 'whole' } | { kind: 'regions'; rects: Rect[] };

function around(r: Rect, side: number, frame: Size): Rect {
  const grown = { x: r.x - (r.width * MARGIN) / 2, y: r.y - (r.height * MARGIN) / 2, width: r.width * (1 + MARGIN), height: r.height * (1 + MARGIN) };
  return squareAround(grown, side, frame);
}

/**
 * Squares (at least `side`, larger for a larger box) around the boxes
 * (normalized), merged, at most maxRegions; or the whole frame when that
 * costs the model no more.
 */
export function planRegions(boxes: readonly Box[], frame: Size, side: number, maxRegions: number): RegionPlan {
  let rects = boxes.map((b) => around(boxRect(b, frame), side, frame));
  // Merge pairs whose joint square holds no more pixels than the two apart, until none is left.
  for (let merged = true; merged;) {
    merged = false;
    for (let i = 0; i < rects.length && !merged; i++) {
      for (let j = i + 1; j < rects.length && !merged; j++) {
        const joint = squareAround(unionRect(rects[i], rects[j]), side, frame);
        if (rectArea(joint) <= rectArea(rects[i]) + rectArea(rects[j])) {
          rects = [...rects.filter((_, k) => k !== i && k !== j), joint];
          merged = true;
        }
      }
    }
  }
  // Too many: merge the pair whose joint square is smallest, again and again.
  while (rects.length > maxRegions) {
    let best: { i: number; j: number; joint: Rect } | undefined;
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const joint = squareAround(unionRect(rects[i], rects[j]), side, frame);
        if (!best || rectArea(joint) < rectArea(best.joint)) best = { i, j, joint };
      }
    }
    if (!best) break;
    const { i, j, joint } = best;
    rects = [...rects.filter((_, k) => k !== i && k !== j), joint];
  }
  const frameArea = frame.width * frame.height;
  const total = rects.reduce((sum, r) => sum + rectArea(r), 0);
  if (rects.some((r) => rectArea(r) >= WHOLE_SHARE * frameArea) || total >= frameArea) return { kind: 'whole' };
  return { kind: 'regions', rects };
}
