import { describe, expect, it } from 'vitest';
import { CENTERNET_INPUT_SIZE, decodeCenternet, letterboxFor, MAX_DETECTIONS } from '../../src/modelserver/centernet.js';
import { cocoLabelMap } from '../../src/tfserving/label-map.js';

const classIds = cocoLabelMap().ids();
const S = CENTERNET_INPUT_SIZE;
const square = letterboxFor(S, S);

function rows(...r: number[][]): Float32Array {
  return Float32Array.from(r.flat());
}

describe('CenterNet output → Object Detection API outputs', () => {
  it('maps the 80 class indexes onto COCO label-map ids, gaps included', () => {
    expect(classIds).toHaveLength(80);
    expect(classIds[0]).toBe(1); // person
    expect(classIds[39]).toBe(44); // bottle: index 39 skips ids 12, 26, 29, 30
    expect(classIds[79]).toBe(90); // toothbrush
  });

  it('normalizes boxes to [ymin, xmin, ymax, xmax], sorts by score, drops what is below the threshold', () => {
    const out = decodeCenternet(rows(
      [S * 0.1, S * 0.2, S * 0.3, S * 0.6, 0.4, 39],
      [S * 0.5, S * 0.5, S * 1.1, S * 0.9, 0.9, 0],
      [0, 0, 10, 10, 0.01, 2],
    ), classIds, 0.05, square);
    expect(out.num).toBe(2);
    expect(Array.from(out.scores.subarray(0, 2))).toEqual([Math.fround(0.9), Math.fround(0.4)]);
    expect(Array.from(out.classes.subarray(0, 2))).toEqual([1, 44]);
    const first = Array.from(out.boxes.subarray(0, 4));
    expect(first[0]).toBeCloseTo(0.5);
    expect(first[1]).toBeCloseTo(0.5);
    expect(first[2]).toBeCloseTo(0.9);
    expect(first[3]).toBe(1); // x2 was 1.1 of the width: clamped to the image edge
    expect(Array.from(out.boxes.subarray(4, 8)).map((v) => +v.toFixed(3))).toEqual([0.2, 0.1, 0.6, 0.3]);
    expect(out.scores).toHaveLength(MAX_DETECTIONS);
    expect(out.scores[2]).toBe(0);
  });

  it('letterboxes wide frames centred, and maps boxes back to the frame', () => {
    const box = letterboxFor(640, 360);
    expect(box).toEqual({ left: 0, top: 112, width: 512, height: 288 });
    // A box over the whole frame area inside the padding comes back as the whole frame.
    const out = decodeCenternet(rows([0, 112, 512, 400, 0.8, 39]), classIds, 0.05, box);
    expect(Array.from(out.boxes.subarray(0, 4))).toEqual([0, 0, 1, 1]);
    const tall = letterboxFor(300, 600);
    expect(tall).toEqual({ left: 128, top: 0, width: 256, height: 512 });
    const half = decodeCenternet(rows([128, 0, 256, 256, 0.8, 0]), classIds, 0.05, tall);
    expect(Array.from(half.boxes.subarray(0, 4))).toEqual([0, 0, 0.5, 0.5]);
  });

  it('skips rows with non-finite scores, unknown classes or empty boxes', () => {
    const out = decodeCenternet(rows(
      [0, 0, 10, 10, Number.NaN, 1],
      [0, 0, 10, 10, 0.8, 80],
      [10, 10, 10, 20, 0.8, 1],
      [0, 0, 10, 10, 0.7, 1],
    ), classIds, 0.05, square);
    expect(out.num).toBe(1);
    expect(out.scores[0]).toBeCloseTo(0.7);
  });
});
