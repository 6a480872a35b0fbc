import { describe, expect, it } from 'vitest';
import { EventBuilder, EventBuilderOptionsError, type EventUpdate } from '../../src/track/events.js';
import type { Box, Detection } from '../../src/types.js';

const DT = 200;
const T0 = 1_700_000_000_000;

function box(cx: number, cy: number, w = 0.1, h = 0.2): Box {
  return [cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2];
}

function det(b: Box, score = 0.8, classId = 1, label = 'person'): Detection {
  return { classId, label, score, box: b };
}

/** Feeds frame i (time T0 + i·DT, frameId `1:i`). */
function feed(builder: EventBuilder, i: number, detections: Detection[]): EventUpdate {
  return builder.update({ time: T0 + i * DT, frameId: `1:${i * DT}` }, detections);
}

describe('EventBuilder', () => {
  it('starts an event when the track is confirmed, with start = its first frame time', () => {
    const builder = new EventBuilder('porch');
    const first = feed(builder, 0, [det(box(0.5, 0.5), 0.7)]);
    expect(first.started).toEqual([]);
    expect(first.tracked[0]).toMatchObject({ trackId: 1, confirmed: false });
    const second = feed(builder, 1, [det(box(0.52, 0.5), 0.6)]);
    expect(second.started).toEqual([
      {
        id: `porch-${T0}-1`,
        camera: 'porch',
        trackId: 1,
        label: 'person',
        classId: 1,
        start: T0,
        end: null,
        // The best of the tentative frames counts: frame 0 scored higher.
        maxScore: 0.7,
        bestBox: box(0.5, 0.5),
        bestFrameId: '1:0',
        bestTime: T0,
        zones: [],
      },
    ]);
    expect(second.improved).toEqual([]);
    expect(builder.open().map((e) => e.id)).toEqual([`porch-${T0}-1`]);
  });

  it('never makes an event of a one-frame blip', () => {
    const builder = new EventBuilder('porch');
    const updates = [feed(builder, 0, [det(box(0.5, 0.5), 0.99)]), feed(builder, 1, []), feed(builder, 2, [])];
    expect(updates.flatMap((u) => [...u.started, ...u.improved, ...u.ended])).toEqual([]);
    expect(builder.endAll()).toEqual([]);
    expect(builder.stats()).toMatchObject({ live: 0, open: 0, created: 1 });
  });

  it('follows the best detection: maxScore, bestBox and bestFrameId, reported in improved', () => {
    const builder = new EventBuilder('porch');
    feed(builder, 0, [det(box(0.3, 0.5), 0.6)]);
    feed(builder, 1, [det(box(0.32, 0.5), 0.6)]);
    const better = feed(builder, 2, [det(box(0.34, 0.5), 0.9)]);
    expect(better.improved).toHaveLength(1);
    expect(better.improved[0]).toMatchObject({ maxScore: 0.9, bestBox: box(0.34, 0.5), bestFrameId: '1:400', bestTime: T0 + 400, end: null });
    // A worse detection changes nothing.
    expect(feed(builder, 3, [det(box(0.36, 0.5), 0.7)]).improved).toEqual([]);
    const ended = builder.endAll();
    expect(ended).toEqual([expect.objectContaining({ maxScore: 0.9, bestBox: box(0.34, 0.5), bestFrameId: '1:400', start: T0, end: T0 + 600 })]);
  });

  it('bounds improved: a small gain waits until bestIntervalMs after the last best', () => {
    const builder = new EventBuilder('porch', { minScoreGain: 0.05, bestIntervalMs: 1000 });
    feed(builder, 0, [det(box(0.5, 0.5), 0.8)]);
    expect(feed(builder, 1, [det(box(0.5, 0.5), 0.8)]).started).toHaveLength(1);
    // +0.02 at 200 ms and +0.04 at 400 ms after the best: too little, too soon.
    expect(feed(builder, 2, [det(box(0.5, 0.5), 0.82)]).improved).toEqual([]);
    expect(feed(builder, 3, [det(box(0.5, 0.5), 0.84)]).improved).toEqual([]);
    // +0.05 is enough at once (0.80 → 0.85, despite binary floats).
    expect(feed(builder, 4, [det(box(0.5, 0.5), 0.85)]).improved.map((e) => e.maxScore)).toEqual([0.85]);
    // +0.01 only once 1 s has passed since that best (frame 4 → frame 9).
    const small = [5, 6, 7, 8, 9].map((i) => feed(builder, i, [det(box(0.5, 0.5), 0.85 + 0.01 * (i - 4))]).improved.length);
    expect(small).toEqual([0, 0, 0, 0, 1]);
    expect(builder.open()[0]).toMatchObject({ maxScore: 0.9, bestFrameId: `1:${9 * DT}` });
  });

  it('keeps the event through a gap shorter than maxAgeMs; after a longer one the event ends at the last seen time and a new one starts', () => {
    const builder = new EventBuilder('drive', { tracker: { maxAgeMs: 2000 } });
    feed(builder, 0, [det(box(0.5, 0.5))]);
    feed(builder, 1, [det(box(0.5, 0.5))]);
    // Unseen for frames 2–9 (1.6 s): same event.
    for (let i = 2; i < 10; i++) expect(feed(builder, i, []).ended).toEqual([]);
    const back = feed(builder, 10, [det(box(0.5, 0.5))]);
    expect(back.tracked[0].trackId).toBe(1);
    expect(back.started).toEqual([]);
    // Unseen from frame 11: the event ends once 2 s have passed since frame 10, with end = frame 10's time.
    let endedAt = -1;
    for (let i = 11; i < 30 && endedAt < 0; i++) {
      const u = feed(builder, i, []);
      if (u.ended.length > 0) {
        endedAt = i;
        expect(u.ended).toEqual([expect.objectContaining({ id: `drive-${T0}-1`, start: T0, end: T0 + 10 * DT })]);
      }
    }
    expect(endedAt).toBe(21);
    feed(builder, 22, [det(box(0.5, 0.5))]);
    const again = feed(builder, 23, [det(box(0.5, 0.5))]);
    expect(again.started).toEqual([expect.objectContaining({ id: `drive-${T0 + 22 * DT}-2`, trackId: 2, start: T0 + 22 * DT })]);
  });

  it('endAll closes every open event at its last seen time, and tracking goes on after it', () => {
    const builder = new EventBuilder('yard');
    feed(builder, 0, [det(box(0.2, 0.5)), det(box(0.8, 0.5), 0.6, 3, 'car')]);
    feed(builder, 1, [det(box(0.2, 0.5)), det(box(0.8, 0.5), 0.6, 3, 'car')]);
    feed(builder, 2, [det(box(0.2, 0.5))]);
    feed(builder, 3, [det(box(0.5, 0.2), 0.7, 3, 'car')]); // a tentative track: no event to close
    const ended = builder.endAll();
    expect(ended.map((e) => [e.trackId, e.label, e.start, e.end])).toEqual([
      [1, 'person', T0, T0 + 2 * DT],
      [2, 'car', T0, T0 + DT],
    ]);
    expect(builder.open()).toEqual([]);
    expect(builder.endAll()).toEqual([]);
    expect(feed(builder, 4, [det(box(0.2, 0.5))]).tracked[0].trackId).toBe(4);
  });

  it('gives unique track and event ids across two builders seeded differently', () => {
    const before = new EventBuilder('porch');
    const events = [];
    for (let i = 0; i < 4; i++) events.push(...feed(before, i, [det(box(0.2, 0.5)), det(box(0.6, 0.5))]).started);
    events.push(...before.endAll());
    // A restart: same camera, same frame times (a replay), ids seeded from the first run.
    const after = new EventBuilder('porch', { tracker: { firstId: before.nextTrackId } });
    for (let i = 0; i < 4; i++) events.push(...feed(after, i, [det(box(0.2, 0.5)), det(box(0.6, 0.5))]).started);
    const startedIds = events.filter((e) => e.end === null).map((e) => e.id);
    expect(startedIds).toEqual([`porch-${T0}-1`, `porch-${T0}-2`, `porch-${T0}-3`, `porch-${T0}-4`]);
    expect(new Set(startedIds).size).toBe(4);
  });

  it('refuses options out of range', () => {
    expect(() => new EventBuilder('x', { minScoreGain: -0.1 })).toThrow(EventBuilderOptionsError);
    expect(() => new EventBuilder('x', { bestIntervalMs: Number.NaN })).toThrow(/bestIntervalMs/);
    expect(() => new EventBuilder('x', { tracker: { maxAgeMs: -1 } })).toThrow(expect.objectContaining({ code: 'TRACKER_OPTIONS_INVALID' }));
  });

  it('starts an event held back by its threshold with a best frame still at hand for its snapshot (one of the last 4)', () => {
    const builder = new EventBuilder('porch', { threshold: () => 0.5 });
    // A lucky 0.62 at frame 2; the median reaches 0.5 only at frame 9, when frame 2 is long gone from the recorder.
    const scores = [0.46, 0.47, 0.62, 0.46, 0.46, 0.47, 0.55, 0.56, 0.57, 0.58, 0.59, 0.6];
    let started: EventUpdate['started'] = [];
    let at = -1;
    scores.forEach((score, i) => {
      const u = feed(builder, i, [det(box(0.5, 0.5), score)]);
      if (u.started.length > 0) [started, at] = [u.started, i];
    });
    expect(at).toBeGreaterThan(5);
    const recent = [at - 3, at - 2, at - 1, at].map((i) => `1:${i * DT}`);
    expect(recent).toContain(started[0].bestFrameId);
    expect(started[0].maxScore).toBe(Math.max(...scores.slice(at - 3, at + 1)));
  });
});
