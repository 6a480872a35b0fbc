// Tracking into the detection log, without the database: a real Tracking on
// a fake clock hands its updates to a Recorder whose writer is a fake that
// keeps what it was given, and whose snapshots go to a temp folder. What an
// operator would check: the rows and events the log received, in order, and
// the snapshot of each event's best frame.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Recorder, type EventPhase } from '../../src/store/recorder.js';
import type { EventRecord } from '../../src/store/records.js';
import { SnapshotStore } from '../../src/store/snapshots.js';
import type { StoreWriter } from '../../src/store/writer.js';
import { Tracking, type TrackUpdate } from '../../src/track/tracking.js';
import type { Box, Detection, DetectionRecord, Frame } from '../../src/types.js';
import { solidFrame } from '../helpers/frames.js';

/** The two calls the recorder makes of the store's writer, kept in order. */
class FakeWriter {
  readonly calls: ({ detections: DetectionRecord[] } | { event: EventRecord })[] = [];
  addDetections(records: readonly DetectionRecord[]): number {
    this.calls.push({ detections: [...records] });
    return records.length;
  }
  upsertEvent(event: EventRecord): boolean {
    this.calls.push({ event: { ...event } });
    return true;
  }
  events(): EventRecord[] {
    return this.calls.flatMap((c) => ('event' in c ? [c.event] : []));
  }
}

const RED = [200, 30, 30] as const;
const BLUE = [30, 30, 200] as const;
const person = (box: Box, score: number): Detection => ({ classId: 1, label: 'person', score, box });
const at = (x: number, y: number): Box => [y, x, y + 0.4, x + 0.3];

let writer: FakeWriter;
let snapshots: SnapshotStore;
let tracking: Tracking;
let recorder: Recorder;
let emitted: [EventPhase, EventRecord][];
let wake: (() => void) | undefined;
let T0: number;

/** The real clock, taken before any test fakes it. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Waits (on real work: drawing and writing snapshots) until `check` holds; each emitted event looks again. */
async function until(check: () => boolean, ms = 5_000): Promise<void> {
  let late = false;
  const timer = realSetTimeout(() => { late = true; wake?.(); }, ms);
  try {
    while (!check()) {
      if (late) throw new Error(`not within ${ms} ms; emitted: ${emitted.map(([phase]) => phase).join(', ')}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    realClearTimeout(timer);
  }
}

/** One inference result of `camera` at the fake clock's now, with its picture. */
function feed(camera: string, seq: number, detections: Detection[], rgb: readonly [number, number, number] = BLUE): Frame {
  const frame = solidFrame(camera, seq, { width: 64, height: 48, rgb, ptsMs: seq * 200 });
  tracking.update({ camera, frameId: `1:${seq * 200}`, time: Date.now(), detections }, frame);
  return frame;
}

function start(options: ConstructorParameters<typeof Recorder>[2] = {}): void {
  // The one place the fake stands in for the real writer: the recorder calls nothing else of it.
  recorder = new Recorder(writer as unknown as StoreWriter, snapshots, options);
  recorder.onEvent((phase, e) => {
    emitted.push([phase, e]);
    wake?.();
  });
  tracking.onUpdate((u: TrackUpdate) => recorder.record(u));
}

beforeEach(() => {
  vi.useFakeTimers();
  T0 = Date.now();
  writer = new FakeWriter();
  snapshots = new SnapshotStore(mkdtempSync(path.join(os.tmpdir(), 'lookout-recorder-')));
  tracking = new Tracking();
  emitted = [];
  wake = undefined;
});

afterEach(async () => {
  tracking.close();
  await recorder.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('recorder', () => {
  it('writes every tracked detection, and the event\'s start, snapshot and end in order; the snapshot is of the best frame', async () => {
    start();
    // The best detection is in the track's first frame (red), before the frame that confirms it (blue).
    const first = feed('porch', 0, [person(at(0.2, 0.2), 0.9)], RED);
    const firstBytes = Buffer.from(first.data);
    await vi.advanceTimersByTimeAsync(200);
    const second = feed('porch', 1, [person(at(0.21, 0.2), 0.7)], BLUE);
    const secondBytes = Buffer.from(second.data);
    const id = `porch-${T0}-1`;
    await until(() => emitted.length === 2);
    await vi.advanceTimersByTimeAsync(200);
    feed('porch', 2, []); // no detection: no rows, and the track lives on
    // Past the tracker's maxAgeMs (2 s): the event ends at its last sighting.
    await vi.advanceTimersByTimeAsync(1_900);
    feed('porch', 3, []);

    expect(emitted.map(([phase, e]) => [phase, e.id, e.end, e.snapshot !== null])).toEqual([
      ['start', id, null, false],
      ['update', id, null, true],
      ['end', id, T0 + 200, true],
    ]);
    const rows = writer.calls.flatMap((c) => ('detections' in c ? [c.detections] : []));
    expect(rows).toEqual([
      [{ camera: 'porch', time: T0, frameId: '1:0', label: 'person', classId: 1, score: 0.9, box: at(0.2, 0.2), trackId: 1 }],
      [{ camera: 'porch', time: T0 + 200, frameId: '1:200', label: 'person', classId: 1, score: 0.7, box: at(0.21, 0.2), trackId: 1 }],
    ]);
    const events = writer.events();
    expect(events.map((e) => [e.end, e.snapshot !== null])).toEqual([[null, false], [null, true], [T0 + 200, true]]);
    expect(events[0]).toMatchObject({ start: T0, maxScore: 0.9, bestFrameId: '1:0', bestTime: T0, bestBox: at(0.2, 0.2) });

    // The snapshot on disk is the red frame, the best one, with the event's stored size.
    const saved = events[2];
    const jpeg = readFileSync(snapshots.snapshotPath(saved.snapshot ?? ''));
    expect(jpeg.length).toBe(saved.snapshotBytes);
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([64, 48]);
    const corner = (47 * 64 + 63) * info.channels;
    [...data.subarray(corner, corner + 3)].forEach((v, i) => expect(Math.abs(v - RED[i])).toBeLessThan(16));
    // The frames handed in are as they were: the drawing went into a copy.
    expect(first.data.equals(firstBytes)).toBe(true);
    expect(second.data.equals(secondBytes)).toBe(true);
    expect(recorder.stats()).toEqual({ openEvents: 0, snapshotsSaved: 1, snapshotsSkipped: 0, snapshotErrors: 0 });
  });

  it('puts a snapshot that finishes after its event ended on the ended row, without reopening it', async () => {
    start();
    feed('porch', 0, [person(at(0.2, 0.2), 0.9)]);
    await vi.advanceTimersByTimeAsync(200);
    feed('porch', 1, [person(at(0.2, 0.2), 0.8)]);
    // The snapshot is being drawn; the camera goes away meanwhile.
    tracking.endCamera('porch');
    await until(() => emitted.length === 3);
    expect(emitted.map(([phase, e]) => [phase, e.end, e.snapshot !== null])).toEqual([
      ['start', null, false],
      ['end', T0 + 200, false],
      ['update', T0 + 200, true],
    ]);
    expect(writer.events().at(-1)).toMatchObject({ end: T0 + 200, snapshotBytes: expect.any(Number) });
    expect(recorder.stats().openEvents).toBe(0);
  });

  it('bounds the snapshots waiting: past maxPendingSnapshots they are skipped and counted, the events still written', async () => {
    start({ maxPendingSnapshots: 1 });
    const three = (score: number) => [person(at(0.0, 0.0), score), person(at(0.35, 0.0), score), person(at(0.7, 0.0), score)];
    feed('yard', 0, three(0.9));
    await vi.advanceTimersByTimeAsync(200);
    // Three events start at once: one is drawn, one waits, the third finds no room.
    feed('yard', 1, three(0.8));
    expect(writer.events().map((e) => e.trackId).sort()).toEqual([1, 2, 3]);
    expect(recorder.stats()).toMatchObject({ openEvents: 3, snapshotsSkipped: 1 });
    await recorder.close();
    expect(recorder.stats()).toEqual({ openEvents: 3, snapshotsSaved: 2, snapshotsSkipped: 1, snapshotErrors: 0 });
    expect(writer.events().filter((e) => e.snapshot !== null)).toHaveLength(2);
  });

  it('counts a snapshot that cannot be saved, and keeps the event', async () => {
    const failing = new SnapshotStore(mkdtempSync(path.join(os.tmpdir(), 'lookout-recorder-')));
    vi.spyOn(failing, 'saveSnapshot').mockRejectedValue(new Error('ENOSPC: no space left on device'));
    snapshots = failing;
    start();
    feed('porch', 0, [person(at(0.2, 0.2), 0.9)]);
    await vi.advanceTimersByTimeAsync(200);
    feed('porch', 1, [person(at(0.2, 0.2), 0.8)]);
    await recorder.close();
    expect(recorder.stats()).toMatchObject({ openEvents: 1, snapshotsSaved: 0, snapshotErrors: 1 });
    expect(writer.events().map((e) => e.snapshot)).toEqual([null]);
  });
});

describe('tracking', () => {
  it('ends a quiet camera\'s event on the clock, at its last sighting, and the log gets the end', async () => {
    start();
    feed('porch', 0, [person(at(0.2, 0.2), 0.9)]);
    await vi.advanceTimersByTimeAsync(200);
    feed('porch', 1, [person(at(0.2, 0.2), 0.8)]);
    await until(() => emitted.length === 2);
    // Then nothing: the camera is down. Its tracks outlive maxAgeMs (2 s) by the next sweep.
    // The sweep runs each second; at 2 s it sees 1.8 s of silence, at 3 s 2.8 s.
    await vi.advanceTimersByTimeAsync(2_999 - 200);
    expect(emitted.map(([phase]) => phase)).toEqual(['start', 'update']);
    await vi.advanceTimersByTimeAsync(1);
    expect(emitted.map(([phase, e]) => [phase, e.end])).toEqual([['start', null], ['update', null], ['end', T0 + 200]]);
    expect(writer.events().at(-1)).toMatchObject({ end: T0 + 200 });
    expect(tracking.stats().porch).toMatchObject({ open: 0, live: 0 });
  });

  it('endCamera ends that camera\'s open events alone; close() ends the rest, stops the clock and takes no more', async () => {
    const updates: TrackUpdate[] = [];
    tracking.onUpdate((u) => updates.push(u));
    start();
    for (const camera of ['porch', 'gate']) feed(camera, 0, [person(at(0.2, 0.2), 0.9)]);
    await vi.advanceTimersByTimeAsync(200);
    for (const camera of ['porch', 'gate']) feed(camera, 1, [person(at(0.2, 0.2), 0.8)]);
    await vi.advanceTimersByTimeAsync(300);
    tracking.endCamera('porch');
    const ended = updates.at(-1);
    expect(ended).toMatchObject({ camera: 'porch', frame: undefined, records: [], started: [], last: true });
    expect(ended?.ended.map((e) => [e.camera, e.end])).toEqual([['porch', T0 + 200]]);
    expect(Object.keys(tracking.stats())).toEqual(['gate']);
    expect(vi.getTimerCount()).toBe(1);
    tracking.close();
    expect(updates.at(-1)?.ended.map((e) => [e.camera, e.end])).toEqual([['gate', T0 + 200]]);
    expect(vi.getTimerCount()).toBe(0);
    const count = updates.length;
    feed('gate', 2, [person(at(0.2, 0.2), 0.9)]);
    expect(updates.length).toBe(count);
    await until(() => emitted.filter(([phase]) => phase === 'end').length === 2);
    expect(writer.events().filter((e) => e.end !== null).map((e) => e.camera).sort()).toEqual(['gate', 'porch']);
  });
});
