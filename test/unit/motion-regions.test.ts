// Where the model looks: squares around motion planned on a frame, the crops
// and the way back from an image's box to the frame's, one detection per
// object across regions, and a second look at an object a region's edge cut.
import { describe, expect, it } from 'vitest';
import { planRegions } from '../../src/motion/regions.js';
import { boxOnFrame, prepareBatch, type Job } from '../../src/schedule/model-input.js';
import { cutBy, mergeDetections, type RegionDetection } from '../../src/schedule/merge.js';
import { detectPlans } from '../../src/schedule/detect-plans.js';
import type { Box, Detection, Frame, ImageInput, Rect } from '../../src/types.js';
import { rectBox } from '../../src/util/rect.js';

const K4 = { width: 3840, height: 2160 };

describe('planning regions', () => {
  it('puts a square of the model\'s side around a small moving thing in a 4K frame, holding it whole', () => {
    const box: Box = [0.5, 0.5, 0.55, 0.51]; // 38×108 px at 4K
    const plan = planRegions([box], K4, 640, 4);
    if (plan.kind !== 'regions') throw new Error('expected regions');
    expect(plan.rects).toHaveLength(1);
    const [r] = plan.rects;
    expect(r.width).toBe(640);
    expect(r.height).toBe(640);
    // The moving thing lies inside, with room around it.
    expect(r.x).toBeLessThan(0.5 * 3840 - 100);
    expect(r.x + r.width).toBeGreaterThan(0.51 * 3840 + 100);
    expect(r.y).toBeLessThan(0.5 * 2160 - 100);
    expect(r.y + r.height).toBeGreaterThan(0.55 * 2160 + 100);
  });

  it('keeps a square inside the frame at its edge, and grows it for a large motion', () => {
    const edge = planRegions([[0, 0, 0.02, 0.02]], K4, 640, 4);
    expect(edge).toEqual({ kind: 'regions', rects: [{ x: 0, y: 0, width: 640, height: 640 }] });
    const large = planRegions([[0.1, 0.1, 0.5, 0.3]], K4, 640, 4);
    if (large.kind !== 'regions') throw new Error('expected regions');
    expect(large.rects[0].width).toBeGreaterThan(0.4 * 2160);
  });

  it('merges squares that cost no more together, keeps far ones apart, and merges the closest beyond maxRegions', () => {
    const near: Box[] = [[0.5, 0.5, 0.52, 0.51], [0.52, 0.53, 0.54, 0.54]];
    const merged = planRegions(near, K4, 640, 4);
    expect(merged.kind === 'regions' && merged.rects.length).toBe(1);
    const far: Box[] = [[0.1, 0.1, 0.12, 0.11], [0.8, 0.8, 0.82, 0.81]];
    const apart = planRegions(far, K4, 640, 4);
    expect(apart.kind === 'regions' && apart.rects.length).toBe(2);
    const many: Box[] = [[0.1, 0.05, 0.12, 0.06], [0.1, 0.3, 0.12, 0.31], [0.1, 0.6, 0.12, 0.61], [0.8, 0.05, 0.82, 0.06], [0.8, 0.6, 0.82, 0.61]];
    const capped = planRegions(many, K4, 640, 3);
    if (capped.kind !== 'regions') throw new Error('expected regions');
    expect(capped.rects.length).toBeLessThanOrEqual(3);
    // Every box is still inside some region.
    for (const b of many) {
      const cx = ((b[1] + b[3]) / 2) * 3840;
      const cy = ((b[0] + b[2]) / 2) * 2160;
      expect(capped.rects.some((r) => cx >= r.x && cx <= r.x + r.width && cy >= r.y && cy <= r.y + r.height)).toBe(true);
    }
  });

  it('gives the whole frame when the squares come to most of it: any motion on a frame not much larger than the model\'s input', () => {
    expect(planRegions([[0.4, 0.4, 0.5, 0.45]], { width: 640, height: 360 }, 640, 4)).toEqual({ kind: 'whole' });
    expect(planRegions([[0.4, 0.4, 0.5, 0.45]], { width: 768, height: 432 }, 640, 4)).toEqual({ kind: 'whole' });
    expect(planRegions([[0.05, 0.05, 0.95, 0.9]], K4, 640, 4)).toEqual({ kind: 'whole' });
  });
});

/** A frame: black, with white rectangles (the "objects"). */
function frameWith(size: { width: number; height: number }, objects: Rect[]): Frame {
  const data = Buffer.alloc(size.width * size.height * 3);
  for (const o of objects) {
    for (let y = o.y; y < o.y + o.height; y++) data.fill(255, (y * size.width + o.x) * 3, (y * size.width + o.x + o.width) * 3);
  }
  return { cameraId: 'c', seq: 0, run: 1, ...size, data, ptsMs: 0, capturedAt: 0 };
}

/** A "model" that finds the white pixels of each image as one object (their bounding box), as a real one would find what it sees of an object. */
const whiteFinder = {
  calls: [] as ImageInput[][],
  async detect(images: readonly ImageInput[]): Promise<{ detections: Detection[][] }> {
    this.calls.push([...images]);
    return {
      detections: images.map((img) => {
        if (img.kind !== 'rgb') throw new Error('expected RGB');
        let x0 = Infinity; let y0 = Infinity; let x1 = -1; let y1 = -1;
        for (let y = 0; y < img.height; y++) {
          for (let x = 0; x < img.width; x++) {
            if (img.data[(y * img.width + x) * 3] > 128) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1); }
          }
        }
        return x1 < 0 ? [] : [{ classId: 1, label: 'person', score: 0.9, box: [y0 / img.height, x0 / img.width, y1 / img.height, x1 / img.width] as Box }];
      }),
    };
  },
};

describe('crops and the way back', () => {
  it('maps a box found in a scaled, padded region back onto the frame', async () => {
    const size = { width: 1000, height: 800 };
    const frame = frameWith(size, [{ x: 500, y: 400, width: 40, height: 100 }]);
    const jobs: Job[] = [
      { frame, plan: { kind: 'regions', rects: [{ x: 300, y: 200, width: 400, height: 400 }], fit: { width: 200, height: 200 } } },
      { frame, plan: { kind: 'full', rects: [{ x: 0, y: 0, ...size }], fit: { width: 500, height: 500 } } },
    ];
    const batch = await prepareBatch(jobs);
    // The region scaled to 200×200, the whole frame to 500×400; both padded to 500×400.
    expect(batch.views.map((v) => [v.width, v.height, v.scaleX, v.scaleY])).toEqual([[200, 200, 0.5, 0.5], [500, 400, 0.5, 0.5]]);
    expect([batch.width, batch.height]).toEqual([500, 400]);
    const found = (await whiteFinder.detect(batch.images)).detections;
    for (const [i, view] of batch.views.entries()) {
      const box = boxOnFrame(found[i][0].box, view, batch, frame);
      expect(box?.map((v) => Math.round(v * 1000) / 1000)).toEqual([0.5, 0.5, 0.625, 0.54]);
    }
  });
});

describe('a batch of frames of different sizes', () => {
  it('pads each frame at its top left to the batch\'s one size, never stretching it, and maps a box over the padding back onto the frame', async () => {
    const big = frameWith({ width: 8, height: 6 }, []);
    const small = { ...frameWith({ width: 4, height: 2 }, [{ x: 0, y: 0, width: 4, height: 2 }]), cameraId: 'small' };
    const whole = (f: Frame): Job => ({ frame: f, plan: { kind: 'full', rects: [{ x: 0, y: 0, width: f.width, height: f.height }], fit: f } });
    const batch = await prepareBatch([whole(big), whole(small)]);
    expect(batch.images.map((i) => [i.kind === 'rgb' && i.width, i.kind === 'rgb' && i.height])).toEqual([[8, 6], [8, 6]]);
    const second = batch.images[1];
    if (second.kind !== 'rgb') throw new Error('expected RGB');
    // The small frame as it is at the top left, black to the right and below: its shape kept.
    for (let i = 0; i < 48; i++) expect(second.data[i * 3]).toBe(i % 8 < 4 && i < 16 ? 255 : 0);
    // The big frame goes as it is, not copied.
    expect(batch.images[0].data).toBe(big.data);
    expect(boxOnFrame([0, 0, 1, 1], batch.views[1], batch, small)).toEqual([0, 0, 1, 1]);
  });
});

describe('merging regions', () => {
  const d = (box: Box, score: number, cut = false, classId = 1, view = 0): RegionDetection => ({ classId, label: 'person', score, box, cut, view });

  it('keeps one detection per object across regions, a whole one before a cut one, and different labels apart', () => {
    const merged = mergeDetections([d([0.1, 0.1, 0.5, 0.3], 0.9, true, 1, 0), d([0.1, 0.1, 0.52, 0.31], 0.7, false, 1, 1), d([0.1, 0.1, 0.5, 0.3], 0.6, false, 44, 1)]);
    expect(merged.map((m) => [m.score, m.cut, m.classId])).toEqual([[0.7, false, 1], [0.6, false, 44]]);
  });

  it('leaves one image\'s own detections alone: a person standing behind another stays', () => {
    const near = d([0.2, 0.2, 0.9, 0.5], 0.9);
    const far = d([0.3, 0.3, 0.5, 0.38], 0.6);
    expect(mergeDetections([near, far])).toHaveLength(2);
    expect(mergeDetections([near, { ...far, view: 1 }])).toHaveLength(1);
  });

  it('marks a box cut only at a region edge inside the frame', () => {
    const frame = { width: 1000, height: 1000 };
    const region = { x: 0, y: 300, width: 400, height: 400 };
    expect(cutBy([0.5, 0, 0.6, 0.1], region, frame)).toBe(false); // at the frame's own left edge
    expect(cutBy([0.5, 0.3, 0.6, 0.4], region, frame)).toBe(true); // at the region's right edge
    expect(cutBy([0.3, 0.1, 0.4, 0.2], region, frame)).toBe(true); // at its top edge
    expect(cutBy([0.4, 0.1, 0.5, 0.2], region, frame)).toBe(false);
  });

  it('looks again at an object a region cut, in a region centred on it, and keeps the whole object only', async () => {
    const size = { width: 3840, height: 2160 };
    const object = { x: 1600, y: 1000, width: 60, height: 160 };
    const frame = frameWith(size, [object]);
    // A region whose right edge cuts the object in half.
    const region = { x: 1630 - 640, y: 800, width: 640, height: 640 };
    whiteFinder.calls.length = 0;
    const result = await detectPlans(whiteFinder, [{ frame, plan: { kind: 'regions', rects: [region], fit: { width: 640, height: 640 } } }]);
    expect(whiteFinder.calls.map((c) => c.length)).toEqual([1, 1]);
    expect(result.looked[0]).toHaveLength(2);
    expect(result.images).toEqual([2]);
    expect(result.detections[0]).toHaveLength(1);
    const whole = rectBox(object, size);
    result.detections[0][0].box.forEach((v, i) => expect(v).toBeCloseTo(whole[i], 3));
  });
});

describe('a second look that fails', () => {
  it('keeps the first look\'s answers', async () => {
    const size = { width: 3840, height: 2160 };
    const frame = frameWith(size, [{ x: 1600, y: 1000, width: 60, height: 160 }]);
    let calls = 0;
    const flaky = {
      detect: async (images: readonly ImageInput[]) => {
        if (++calls === 2) throw new Error('RESOURCE_EXHAUSTED: the queue is full');
        return whiteFinder.detect(images);
      },
    };
    const result = await detectPlans(flaky, [{ frame, plan: { kind: 'regions', rects: [{ x: 990, y: 800, width: 640, height: 640 }], fit: { width: 640, height: 640 } } }]);
    expect(calls).toBe(2);
    expect(result.secondFailed).toBe(1);
    expect(result.detections[0]).toHaveLength(1);
    expect(result.images).toEqual([1]);
  });
});
