// One counting line of a camera: each track's side of it, and a crossing
// each time a track's anchor goes from firmly on one side to firmly on the
// other, through the line's own length. "Firmly": past a margin that grows
// with the object's size (hysteresis), so a box whose bottom jitters on the
// line never counts; a track that crosses and comes back counts in, then out.
import type { LineConfig, Point } from '../config/schema.js';
import type { Box } from '../types.js';
import { anchorPoint, crossingAt, lineFrame, signedDistance, type LineFrame } from './geometry.js';

export type Direction = 'in' | 'out';

/** Past the line by 4 % of the object's height, at least 1 % and at most 3 % of the frame. */
export function sideMargin(box: Box): number {
  return Math.min(0.03, Math.max(0.01, 0.04 * (box[2] - box[0])));
}

/** A crossing may pass this far (a fraction of the line's length) beyond either end and still count: boxes are not exact. */
const END_SLACK = 0.05;

interface TrackSide {
  /** +1 right of a→b ("in" side), -1 left. */
  side: 1 | -1;
  /** The last anchor firmly on that side. */
  at: Point;
}

export class LineWatch {
  private readonly frame: LineFrame;
  private readonly sides = new Map<number, TrackSide>();

  constructor(readonly line: LineConfig) {
    this.frame = lineFrame(line.points[0], line.points[1]);
  }

  counts(label: string): boolean {
    return this.line.labels.length === 0 || this.line.labels.includes(label);
  }

  /** One sighting of a track; the crossing it makes, if any. */
  update(trackId: number, label: string, box: Box): Direction | null {
    if (!this.counts(label)) return null;
    const p = anchorPoint(box, this.line.anchor);
    const d = signedDistance(this.frame, p);
    if (Math.abs(d) < sideMargin(box)) return null;
    const side: 1 | -1 = d > 0 ? 1 : -1;
    const before = this.sides.get(trackId);
    this.sides.set(trackId, { side, at: p });
    if (!before || before.side === side) return null;
    // Walking round the end of the line changes side without crossing it.
    const along = crossingAt(this.frame, before.at, p);
    if (!(along >= -END_SLACK && along <= 1 + END_SLACK)) return null;
    return side === 1 ? 'in' : 'out';
  }

  forget(trackId: number): void {
    this.sides.delete(trackId);
  }
}
