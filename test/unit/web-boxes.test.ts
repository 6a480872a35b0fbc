// The page's pure decisions (web/interpolate.js, web/pacing.js): which boxes
// belong to a presented frame, and how far behind the live edge to play. The
// browser tests (test/e2e/native-player.test.ts) check them end to end; here
// each rule on its own, with the times chosen to hit it.
import { describe, expect, it } from 'vitest';
import { DetectionTimeline, boxesAt, quantile } from '../../web/interpolate.js';
import { MAX_SYNC_LAG_S, lagTarget, steer } from '../../web/pacing.js';

type Box = [number, number, number, number];
const det = (trackId: number | null, box: Box, label = 'bottle') => ({ label, classId: 44, score: 0.8, box, trackId });
const OPTIONS = { halfFrameS: 0.0167, holdS: 1, fadeS: 0.5 };

function timeline(): DetectionTimeline {
  const t = new DetectionTimeline();
  t.add(1.0, [det(7, [0.1, 0.1, 0.3, 0.3]), det(8, [0.5, 0.5, 0.6, 0.6]), det(null, [0.7, 0.7, 0.8, 0.8], 'cup')]);
  t.add(1.5, [det(7, [0.2, 0.3, 0.4, 0.5]), det(null, [0.7, 0.7, 0.9, 0.9], 'cup')]);
  return t;
}

describe('boxes for a presented frame', () => {
  it('are the detection frame\'s own at its pts, within half a frame', () => {
    const boxes = boxesAt(timeline().frames, 1.01, OPTIONS);
    expect(boxes.map((b) => [b.trackId, b.source, b.fromPts])).toEqual([[7, 'exact', [1]], [8, 'exact', [1]], [null, 'exact', [1]]]);
    expect(boxesAt(timeline().frames, 1.49, OPTIONS).every((b) => b.source === 'exact' && b.fromPts[0] === 1.5)).toBe(true);
  });

  it('move a track linearly between its detection frames before and after', () => {
    const [moving] = boxesAt(timeline().frames, 1.25, OPTIONS);
    expect(moving.source).toBe('interpolated');
    expect(moving.fromPts).toEqual([1, 1.5]);
    expect(moving.box.map((v) => Number(v.toFixed(6)))).toEqual([0.15, 0.2, 0.35, 0.4]);
  });

  it('keep a track that ends until halfway, and an untracked box until the next frame has its own', () => {
    const early = boxesAt(timeline().frames, 1.2, OPTIONS);
    expect(early.map((b) => [b.trackId, b.source])).toEqual([[7, 'interpolated'], [8, 'held'], [null, 'held']]);
    const late = boxesAt(timeline().frames, 1.4, OPTIONS);
    expect(late.map((b) => [b.trackId, b.source])).toEqual([[7, 'interpolated'], [null, 'held']]);
    expect(late[1].fromPts).toEqual([1]);
  });

  it('move a track on at its speed while nothing newer has come (for a while), hold other boxes, then fade them out', () => {
    const frames = timeline().frames;
    expect(boxesAt(frames, 2.4, OPTIONS).map((b) => [b.source, b.alpha])).toEqual([['extrapolated', 1], ['held', 1]]);
    // Track 7 moved by (0.1, 0.2) in half a second; 0.3 s later it is 0.6 of that further on.
    const [walking] = boxesAt(frames, 1.8, OPTIONS);
    expect(walking.fromPts).toEqual([1, 1.5]);
    expect(walking.box.map((v) => Number(v.toFixed(6)))).toEqual([0.26, 0.42, 0.46, 0.62]);
    // At most 0.6 s ahead: then it stands.
    expect(boxesAt(frames, 2.4, OPTIONS)[0].box.map((v) => Number(v.toFixed(6)))).toEqual([0.32, 0.54, 0.52, 0.74]);
    const fading = boxesAt(frames, 2.75, OPTIONS);
    expect(fading[0].alpha).toBeCloseTo(0.5, 5);
    expect(boxesAt(frames, 3.1, OPTIONS)).toEqual([]);
  });

  it('are none before the first detection frame: nothing is drawn from the future', () => {
    expect(boxesAt(timeline().frames, 0.5, OPTIONS)).toEqual([]);
  });

  it('come from a bounded timeline, in pts order whatever the arrival order', () => {
    const t = new DetectionTimeline(5, 90);
    for (const pts of [3, 1, 2, 5, 4, 6, 7]) t.add(pts, []);
    expect(t.frames.map((f) => f.pts)).toEqual([3, 4, 5, 6, 7]);
    expect(t.interval()).toBe(1);
    const span = new DetectionTimeline(100, 10);
    for (let pts = 0; pts <= 30; pts++) span.add(pts, []);
    expect(span.frames[0].pts).toBe(20);
  });

  it('hold the boxes before a frame motion gating skipped, even when that detection arrives after the skip', () => {
    const t = new DetectionTimeline();
    t.add(1.0, [det(7, [0.1, 0.1, 0.3, 0.3])]);
    // Skipped at 1.4 while the answer for 1.2 was still on its way (skips need no model).
    t.addHeld(1.4);
    expect(boxesAt(t.frames, 1.4, OPTIONS).map((b) => [b.source, b.box])).toEqual([['still', [0.1, 0.1, 0.3, 0.3]]]);
    t.add(1.2, [det(7, [0.2, 0.2, 0.4, 0.4])]);
    t.addHeld(1.6);
    expect(t.frames.map((f) => [f.pts, f.held ?? false])).toEqual([[1, false], [1.2, false], [1.4, true], [1.6, true]]);
    // Both held frames now hold the newer answer: the box stands still after 1.2, as the object did.
    for (const at of [1.3, 1.4, 1.5, 1.6]) expect(boxesAt(t.frames, at, OPTIONS)[0].box).toEqual([0.2, 0.2, 0.4, 0.4]);
    // A still scene keeps the timeline as dense as the detection rate (what synced playback waits for).
    expect(t.interval()).toBeCloseTo(0.2);
    // A held frame never replaces a detection at the same pts.
    t.addHeld(1.2);
    expect(t.frames.filter((f) => f.pts === 1.2).map((f) => f.held ?? false)).toEqual([false]);
  });
});

describe('how far behind the live edge to play', () => {
  const base = { frameS: 1 / 30, jitterS: 0.05, detectionDelayS: 0.6, detectionIntervalS: 0.2 };

  it('is a few frames plus the jitter by default, and the model\'s delay plus an interval when synced', () => {
    expect(lagTarget({ ...base, synced: false }).targetS).toBeCloseTo(0.15, 5);
    const synced = lagTarget({ ...base, synced: true });
    expect(synced.targetS).toBeGreaterThan(0.6 + 0.2);
    expect(synced.capped).toBe(false);
  });

  it('is bounded when synced, and says so', () => {
    const slow = lagTarget({ ...base, synced: true, detectionDelayS: 5 });
    expect(slow).toEqual({ targetS: MAX_SYNC_LAG_S, capped: true, waiting: false });
    expect(lagTarget({ ...base, synced: true, detectionDelayS: undefined }).waiting).toBe(true);
  });

  it('is reached by nudging the playback rate, or by a seek when far off', () => {
    expect(steer(0.5, 0.5, 100, 80)).toEqual({ rate: 1 });
    const behind = steer(0.8, 0.5, 100, 80) as { rate: number };
    expect(behind.rate).toBeGreaterThan(1);
    expect(behind.rate).toBeLessThanOrEqual(1.1);
    expect((steer(0.3, 0.5, 100, 80) as { rate: number }).rate).toBeLessThan(1);
    expect(steer(4, 0.5, 100, 80)).toEqual({ seekTo: 99.5 });
    // Synced just turned on: far too close to the edge, and the data to go back to is there.
    expect(steer(0.3, 2.5, 100, 80)).toEqual({ seekTo: 97.5 });
    // Not there (joined a moment ago): slow down instead.
    expect('rate' in steer(0.3, 2.5, 100, 99.6)).toBe(true);
  });

  it('takes quantiles by nearest rank', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile([5, 1, 4, 2, 3], 0.9)).toBe(5);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
