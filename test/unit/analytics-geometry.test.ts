// The plane facts zones and lines rest on: where an object stands, whether a
// point is in a polygon, which side of a line it is on, where a step crosses
// a line, and a box's area and shape in pixels.
import { describe, expect, it } from 'vitest';
import { anchorPoint, boxShape, crossingAt, insidePolygon, lineFrame, signedDistance } from '../../src/analytics/geometry.js';
import type { Point } from '../../src/config/schema.js';
import type { Box } from '../../src/types.js';

describe('anchorPoint', () => {
  // [ymin, xmin, ymax, xmax]: a box from x 0.3 to 0.5, y 0.2 to 0.6.
  const box: Box = [0.2, 0.3, 0.6, 0.5];

  it('stands for the object by the bottom centre of its box (where it touches the ground), or its centre, or its top centre', () => {
    expect(anchorPoint(box, 'bottom-center')).toEqual([0.4, 0.6]);
    expect(anchorPoint(box, 'center')[0]).toBeCloseTo(0.4, 12);
    expect(anchorPoint(box, 'center')[1]).toBeCloseTo(0.4, 12);
    expect(anchorPoint(box, 'top-center')).toEqual([0.4, 0.2]);
  });
});

describe('insidePolygon', () => {
  // A "U" open at the bottom: the notch between x 0.4 and 0.6 below y 0.4 is outside.
  const u: Point[] = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.6, 0.9], [0.6, 0.4], [0.4, 0.4], [0.4, 0.9], [0.1, 0.9]];

  it('follows a concave polygon: its arms are in, its notch and the outside are not', () => {
    expect(insidePolygon([0.5, 0.2], u)).toBe(true); // the bar of the U
    expect(insidePolygon([0.2, 0.7], u)).toBe(true); // left arm
    expect(insidePolygon([0.8, 0.7], u)).toBe(true); // right arm
    expect(insidePolygon([0.5, 0.7], u)).toBe(false); // in the notch
    expect(insidePolygon([0.5, 0.41], u)).toBe(false); // just below the notch's top
    expect(insidePolygon([0.5, 0.39], u)).toBe(true); // just above it
    expect(insidePolygon([0.95, 0.5], u)).toBe(false);
    expect(insidePolygon([0.5, 0.05], u)).toBe(false);
    expect(insidePolygon([0.5, 0.95], u)).toBe(false);
  });

  it('does not depend on which way round the points are listed', () => {
    const reversed = [...u].reverse();
    for (const p of [[0.5, 0.2], [0.2, 0.7], [0.5, 0.7], [0.95, 0.5]] as Point[]) expect(insidePolygon(p, reversed)).toBe(insidePolygon(p, u));
  });

  it('takes a triangle too', () => {
    const tri: Point[] = [[0.5, 0.1], [0.9, 0.9], [0.1, 0.9]];
    expect(insidePolygon([0.5, 0.5], tri)).toBe(true);
    expect(insidePolygon([0.2, 0.2], tri)).toBe(false);
    expect(insidePolygon([0.8, 0.2], tri)).toBe(false);
  });
});

describe('signedDistance', () => {
  it('is positive below a line drawn left to right (y grows downwards): moving down is going "in"', () => {
    const f = lineFrame([0.1, 0.5], [0.9, 0.5]);
    expect(signedDistance(f, [0.5, 0.6])).toBeCloseTo(0.1, 12);
    expect(signedDistance(f, [0.5, 0.3])).toBeCloseTo(-0.2, 12);
    expect(signedDistance(f, [0.3, 0.5])).toBeCloseTo(0, 12);
    // Beyond the segment's ends the line goes on.
    expect(signedDistance(f, [0.0, 0.7])).toBeCloseTo(0.2, 12);
  });

  it('swaps its sign when the line is drawn the other way', () => {
    const f = lineFrame([0.9, 0.5], [0.1, 0.5]);
    expect(signedDistance(f, [0.5, 0.6])).toBeCloseTo(-0.1, 12);
    expect(signedDistance(f, [0.5, 0.3])).toBeCloseTo(0.2, 12);
  });

  it('is positive on the picture\'s left of a line drawn top to bottom, and right of one drawn bottom to top', () => {
    const down = lineFrame([0.5, 0.1], [0.5, 0.9]);
    expect(signedDistance(down, [0.3, 0.5])).toBeCloseTo(0.2, 12);
    expect(signedDistance(down, [0.8, 0.5])).toBeCloseTo(-0.3, 12);
    const up = lineFrame([0.5, 0.9], [0.5, 0.1]);
    expect(signedDistance(up, [0.8, 0.5])).toBeCloseTo(0.3, 12);
  });

  it('is a distance in frame units for a slanted line too', () => {
    // The diagonal from the top left to the bottom right: (0, 1) lies √½ below it.
    const f = lineFrame([0, 0], [1, 1]);
    expect(signedDistance(f, [0, 1])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(signedDistance(f, [1, 0])).toBeCloseTo(-Math.SQRT1_2, 12);
  });
});

describe('crossingAt', () => {
  const f = lineFrame([0.2, 0.5], [0.8, 0.5]);

  it('says where along A→B a step crosses the line: 0 at A, 1 at B', () => {
    expect(crossingAt(f, [0.5, 0.4], [0.5, 0.6])).toBeCloseTo(0.5, 12);
    expect(crossingAt(f, [0.5, 0.6], [0.5, 0.4])).toBeCloseTo(0.5, 12);
    expect(crossingAt(f, [0.2, 0.4], [0.2, 0.6])).toBeCloseTo(0, 12);
    expect(crossingAt(f, [0.8, 0.4], [0.8, 0.6])).toBeCloseTo(1, 12);
    // A slanted step crosses where it meets the line, not where it starts or ends.
    expect(crossingAt(f, [0.3, 0.3], [0.5, 0.7])).toBeCloseTo(1 / 3, 12);
  });

  it('gives a place outside 0–1 for a step that passes beside the segment', () => {
    expect(crossingAt(f, [0.9, 0.4], [0.9, 0.6])).toBeCloseTo(7 / 6, 12);
    expect(crossingAt(f, [0.1, 0.4], [0.1, 0.6])).toBeCloseTo(-1 / 6, 12);
  });

  it('is NaN for a step that stays on one side', () => {
    expect(crossingAt(f, [0.5, 0.1], [0.5, 0.45])).toBeNaN();
    expect(crossingAt(f, [0.5, 0.55], [0.6, 0.9])).toBeNaN();
    expect(crossingAt(f, [0.5, 0.3], [0.5, 0.3])).toBeNaN();
  });
});

describe('boxShape', () => {
  it('gives the area as a fraction of the frame and width ÷ height in pixels', () => {
    // A 0.1 × 0.1 box on a 640×360 picture is 64×36 pixels: wider than high.
    const square = boxShape([0.2, 0.2, 0.3, 0.3], 640, 360);
    expect(square.area).toBeCloseTo(0.01, 12);
    expect(square.ratio).toBeCloseTo(1.78, 2);
    // The same box on a square picture is square.
    expect(boxShape([0.2, 0.2, 0.3, 0.3], 640, 640).ratio).toBeCloseTo(1, 12);
    // The synthetic bottle, 96×162 pixels.
    const bottle = boxShape([0.4, 0.55, 0.85, 0.7], 640, 360);
    expect(bottle.area).toBeCloseTo(0.0675, 12);
    expect(bottle.ratio).toBeCloseTo(96 / 162, 12);
  });

  it('gives a flat box an infinite ratio and an inverted one no area', () => {
    expect(boxShape([0.5, 0.2, 0.5, 0.4], 640, 360)).toEqual({ area: 0, ratio: Infinity });
    expect(boxShape([0.6, 0.2, 0.5, 0.4], 640, 360).area).toBe(0);
  });
});
