import { describe, expect, it } from 'vitest';
import { iou, Tracker, TrackerOptionsError } from '../../src/track/tracker.js';
import type { TrackedDetection } from '../../src/types.js';
import type { Box, Detection } from '../../src/types.js';

// Frames at 5 fps: 200 ms apart.
const DT = 200;

/** A box of width w and height h centred on (cx, cy), as [ymin, xmin, ymax, xmax]. */
function box(cx: number, cy: number, w = 0.1, h = 0.2): Box {
  return [cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2];
}

function det(b: Box, score = 0.8, classId = 1, label = classId === 1 ? 'person' : `class ${classId}`): Detection {
  return { classId, label, score, box: b };
}

function ids(out: TrackedDetection[]): (number | null)[] {
  return out.map((d) => d.trackId);
}

describe('iou', () => {
  it('is 1 for the same box, 0 apart, and intersection over union between', () => {
    expect(iou(box(0.5, 0.5), box(0.5, 0.5))).toBeCloseTo(1);
    expect(iou(box(0.2, 0.5), box(0.8, 0.5))).toBe(0);
    // Shifted by half a width: overlap 0.05 of 0.15.
    expect(iou(box(0.5, 0.5), box(0.55, 0.5))).toBeCloseTo(1 / 3);
  });
});

describe('Tracker', () => {
  it('keeps one id for a box moving steadily across the frame, confirmed from the 2nd hit', () => {
    const tracker = new Tracker();
    const seen: (number | null)[] = [];
    for (let i = 0; i < 20; i++) {
      const { detections, ended } = tracker.update(i * DT, [det(box(0.1 + 0.04 * i, 0.5))]);
      expect(ended).toEqual([]);
      expect(detections[0].confirmed).toBe(i >= 1);
      seen.push(detections[0].trackId);
    }
    expect(new Set(seen)).toEqual(new Set([1]));
    expect(tracker.stats()).toMatchObject({ live: 1, confirmed: 1, created: 1, untracked: 0, nextId: 2 });
  });

  it('predicts a moving object through missed frames: it comes back where it would be, and keeps its id', () => {
    const tracker = new Tracker();
    for (let i = 0; i < 5; i++) tracker.update(i * DT, [det(box(0.1 + 0.04 * i, 0.5))]);
    // Unseen for 4 frames (800 ms): it moved 0.2, twice its width, from where it was last seen.
    for (let i = 5; i < 9; i++) tracker.update(i * DT, []);
    const { detections } = tracker.update(9 * DT, [det(box(0.1 + 0.04 * 9, 0.5))]);
    expect(detections[0]).toMatchObject({ trackId: 1, confirmed: true });
  });

  it('keeps distinct ids for two objects side by side', () => {
    const tracker = new Tracker();
    for (let i = 0; i < 10; i++) {
      const jitter = i % 2 === 0 ? 0.005 : -0.005;
      const { detections } = tracker.update(i * DT, [det(box(0.4 + jitter, 0.5)), det(box(0.5 - jitter, 0.5))]);
      expect(ids(detections)).toEqual([1, 2]);
    }
  });

  it('keeps distinct ids for two objects crossing, one hidden behind the other while they cross', () => {
    const tracker = new Tracker();
    // A walks right at y 0.5, B walks left at y 0.52 (nearer the camera); they meet at x 0.5 in frame 10.
    const a = (i: number) => det(box(0.1 + 0.04 * i, 0.5));
    const b = (i: number) => det(box(0.9 - 0.04 * i, 0.52));
    for (let i = 0; i <= 20; i++) {
      // A is hidden behind B for frames 9–11; the detections come in varying order.
      const dets = i >= 9 && i <= 11 ? [b(i)] : i % 2 === 0 ? [a(i), b(i)] : [b(i), a(i)];
      const { detections } = tracker.update(i * DT, dets);
      const expected = dets.map((d) => (d.box[0] === a(i).box[0] ? 1 : 2));
      expect(ids(detections), `frame ${i}`).toEqual(expected);
    }
    expect(tracker.stats().created).toBe(2);
  });

  it('gives a different class at the same place its own track', () => {
    const tracker = new Tracker();
    for (let i = 0; i < 3; i++) {
      const { detections } = tracker.update(i * DT, [det(box(0.5, 0.5), 0.7, 62, 'chair'), det(box(0.5, 0.5), 0.8, 1)]);
      expect(ids(detections)).toEqual([2, 1]);
    }
    // The person leaves and a dog stands where it was: a new object, not the person's track.
    const { detections } = tracker.update(3 * DT, [det(box(0.5, 0.5), 0.8, 18, 'dog')]);
    expect(detections[0]).toMatchObject({ trackId: 3, confirmed: false });
  });

  it('drops a one-frame blip as a tentative track, reported ended unconfirmed', () => {
    const tracker = new Tracker();
    const first = tracker.update(0, [det(box(0.3, 0.3), 0.95)]);
    expect(first.detections[0]).toMatchObject({ trackId: 1, confirmed: false });
    const second = tracker.update(DT, []);
    expect(second.ended).toEqual([{ trackId: 1, classId: 1, label: 'person', confirmed: false, firstTime: 0, lastTime: 0, hits: 1 }]);
    // The same box again is a new object: the blip's id is never reused.
    expect(tracker.update(2 * DT, [det(box(0.3, 0.3))]).detections[0].trackId).toBe(2);
  });

  it('confirms after minHits matches, or at once at confirmScore', () => {
    const tracker = new Tracker({ minHits: 3, confirmScore: 0.9 });
    const flags = [0, 1, 2].map((i) => tracker.update(i * DT, [det(box(0.5, 0.5), 0.6), det(box(0.2, 0.2), 0.92)]).detections.map((d) => d.confirmed));
    expect(flags).toEqual([[false, true], [false, true], [true, true]]);
  });

  it('keeps the id of an object missing for less than maxAgeMs; after longer it ends and a new id starts', () => {
    const tracker = new Tracker({ maxAgeMs: 2000 });
    tracker.update(0, [det(box(0.5, 0.5))]);
    tracker.update(200, [det(box(0.5, 0.5))]);
    // Gone from 400 to 1800 ms (1.6 s unseen): same id.
    for (let t = 400; t < 2000; t += DT) expect(tracker.update(t, []).ended).toEqual([]);
    expect(tracker.update(2000, [det(box(0.5, 0.5))]).detections[0].trackId).toBe(1);
    // Gone from 2200 ms on: at 4200 ms it has been unseen 2.2 s and ends with its last seen time.
    let ended: ReturnType<Tracker['update']>['ended'] = [];
    let t = 2200;
    for (; ended.length === 0 && t <= 5000; t += DT) ended = tracker.update(t, []).ended;
    expect(t - DT).toBe(4200);
    expect(ended).toEqual([{ trackId: 1, classId: 1, label: 'person', confirmed: true, firstTime: 0, lastTime: 2000, hits: 3 }]);
    expect(tracker.update(t, [det(box(0.5, 0.5))]).detections[0].trackId).toBe(2);
  });

  it('bounds live tracks: the lowest-score new detections go untracked and are counted', () => {
    const tracker = new Tracker({ maxTracks: 3 });
    const dets = [0.5, 0.9, 0.6, 0.8, 0.7].map((s, i) => det(box(0.1 + 0.2 * i, 0.5), s));
    const first = tracker.update(0, dets);
    // Ids go to the best scores first: 0.9, 0.8, 0.7.
    expect(ids(first.detections)).toEqual([null, 1, null, 2, 3]);
    expect(tracker.stats()).toMatchObject({ live: 3, untracked: 2 });
    const second = tracker.update(DT, dets);
    expect(ids(second.detections)).toEqual([null, 1, null, 2, 3]);
    expect(second.detections.map((d) => d.confirmed)).toEqual([false, true, false, true, true]);
    expect(tracker.stats()).toMatchObject({ live: 3, confirmed: 3, created: 3, untracked: 4 });
  });

  it('starts ids at firstId, so a restarted camera does not reuse them', () => {
    const before = new Tracker();
    for (let i = 0; i < 3; i++) before.update(i * DT, [det(box(0.2 * (i + 1), 0.5))]);
    const after = new Tracker({ firstId: before.nextId });
    expect(after.update(0, [det(box(0.5, 0.5))]).detections[0].trackId).toBe(4);
  });

  it('endAll ends every live track, tentative and confirmed', () => {
    const tracker = new Tracker();
    tracker.update(0, [det(box(0.2, 0.5))]);
    tracker.update(DT, [det(box(0.2, 0.5)), det(box(0.8, 0.5))]);
    expect(tracker.endAll().map((t) => [t.trackId, t.confirmed, t.lastTime])).toEqual([[1, true, DT], [2, false, DT]]);
    expect(tracker.stats().live).toBe(0);
  });

  it('refuses options out of range with a code and what was expected', () => {
    expect(() => new Tracker({ iouThreshold: 0 })).toThrow(TrackerOptionsError);
    expect(() => new Tracker({ minHits: 1.5 })).toThrow(/minHits: expected an integer ≥ 1, got 1.5/);
    expect(() => new Tracker({ maxTracks: 0 })).toThrow(expect.objectContaining({ code: 'TRACKER_OPTIONS_INVALID', key: 'maxTracks' }));
    expect(() => new Tracker({ firstId: Number.NaN })).toThrow(/firstId/);
    expect(() => new Tracker().update(Number.NaN, [])).toThrow(TypeError);
  });
});
