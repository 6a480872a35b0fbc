// Retention through the real writer thread, on a real file with real snapshot files.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreReader } from '../../src/store/queries.js';
import type { DetectionRecord } from '../../src/types.js';
import type { EventRecord } from '../../src/store/records.js';
import { MIN_PROTECT_MS, Retention, type RetentionPolicy } from '../../src/store/retention.js';
import { SnapshotStore } from '../../src/store/snapshots.js';
import { StoreWriter } from '../../src/store/writer.js';
import { tempDir } from '../helpers/cleanup.js';

const HOUR = 3_600_000;
const NOW = 1_700_000_000_000;
let dir: string;
let file: string;
let snapshots: SnapshotStore;
let writer: StoreWriter;
let reader: StoreReader;

beforeEach(async () => {
  dir = tempDir('lookout-retention-');
  file = path.join(dir, 'log.db');
  snapshots = new SnapshotStore(path.join(dir, 'snapshots'));
  writer = await StoreWriter.open({ file, snapshotDir: snapshots.dir });
  reader = StoreReader.open(file);
});
afterEach(async () => {
  reader.close();
  await writer.close();
});

const det = (time: number, i: number): DetectionRecord => ({
  camera: `cam${i % 4}`, time, frameId: `1:${i}`, label: 'person', classId: 1, score: 0.5, box: [0.1, 0.2, 0.3, 0.4], trackId: i,
});

/** Detections every `stepMs` from `from` to NOW (inclusive), several per millisecond. */
async function fill(from: number, stepMs: number, perStep = 2): Promise<number> {
  let n = 0;
  const batch: DetectionRecord[] = [];
  for (let t = from; t <= NOW; t += stepMs) for (let k = 0; k < perStep; k++) batch.push(det(t, n++));
  for (let i = 0; i < batch.length; i += 5000) writer.addDetections(batch.slice(i, i + 5000));
  await writer.flush();
  return n;
}

async function addEvent(start: number, end: number | null, bytes: number): Promise<EventRecord> {
  const id = `cam0-${start}-${end === null ? 0 : 1}`;
  const snap = await snapshots.saveSnapshot(id, Buffer.alloc(bytes, 0xff));
  const e: EventRecord = {
    id, camera: 'cam0', trackId: 1, label: 'person', classId: 1, start, end, maxScore: 0.9, bestBox: [0, 0, 1, 1],
    bestFrameId: '1:0', bestTime: start, snapshot: snap.file, snapshotBytes: snap.bytes, zones: [],
  };
  writer.upsertEvent(e);
  await writer.flush();
  return e;
}

const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ maxAgeMs: null, maxBytes: null, protectMs: MIN_PROTECT_MS, chunkRows: 500, ...p });
const times = () => reader.db.prepare('SELECT time FROM detections ORDER BY time').pluck().all() as number[];
const eventIds = () => (reader.db.prepare('SELECT id FROM events ORDER BY start_time').pluck().all() as string[]);

describe('retention', () => {
  it('by age: deletes what is older, with the events that ended before and their snapshot files', async () => {
    const total = await fill(NOW - 48 * HOUR, 60_000);
    const old = await addEvent(NOW - 30 * HOUR, NOW - 29 * HOUR, 1000);
    const oldOngoing = await addEvent(NOW - 40 * HOUR, null, 1000);
    const recent = await addEvent(NOW - 2 * HOUR, NOW - HOUR, 1000);
    const report = await writer.retain(policy({ maxAgeMs: 24 * HOUR }), NOW);
    const left = times();
    expect(Math.min(...left)).toBeGreaterThanOrEqual(NOW - 24 * HOUR);
    expect(report.detections).toBe(total - left.length);
    expect(left.length).toBe(2 * (24 * 60 + 1));
    expect(report).toMatchObject({ events: 1, snapshots: 1, sizeReached: true });
    // Ongoing events are still being written: kept, whatever their start.
    expect(eventIds().sort()).toEqual([oldOngoing.id, recent.id].sort());
    expect(existsSync(snapshots.snapshotPath(old.snapshot ?? ''))).toBe(false);
    expect(existsSync(snapshots.snapshotPath(recent.snapshot ?? ''))).toBe(true);
  });

  it('never touches the last minute, however short the limits', async () => {
    await fill(NOW - 10 * 60_000, 1_000);
    const ended = await addEvent(NOW - 5 * 60_000, NOW - 30_000, 100);
    // The writer thread itself, asked to protect nothing, still protects a minute…
    const report = await writer.retain(policy({ maxAgeMs: 1, maxBytes: 0, protectMs: 0 }), NOW);
    const left = times();
    expect(left.length).toBe(2 * 61);
    expect(Math.min(...left)).toBe(NOW - 60_000);
    expect(eventIds()).toEqual([ended.id]);
    expect(report.sizeReached).toBe(false);
    // …and so does a Retention.
    const retention = new Retention(writer, { maxAgeMs: 1, maxBytes: 0, protectMs: 0 });
    expect(retention.policy.protectMs).toBe(60_000);
    const again = await retention.runOnce(NOW);
    await retention.close();
    expect(again).toMatchObject({ detections: 0, events: 0, sizeReached: false });
    expect(retention.lastReport).toBe(again);
    expect(times()).toHaveLength(2 * 61);
  });

  it('by size: deletes oldest first (detections, events and snapshots) until it fits, and the file shrinks', async () => {
    await fill(NOW - 20 * HOUR, 30_000, 4);
    const events = [];
    for (let h = 19; h >= 1; h -= 2) events.push(await addEvent(NOW - h * HOUR, NOW - h * HOUR + 60_000, 20_000));
    const measured = await writer.retain(policy({ maxBytes: Number.MAX_SAFE_INTEGER }), NOW);
    expect(measured.detections).toBe(0);
    const fileBefore = statSync(file).size;
    const limit = Math.floor(measured.bytesBefore / 2);
    const report = await writer.retain(policy({ maxBytes: limit }), NOW);
    expect(report.sizeReached).toBe(true);
    expect(report.bytesAfter).toBeLessThanOrEqual(limit);
    expect(report.bytesAfter).toBeGreaterThan(limit * 0.8); // it stopped once it fitted
    // Oldest first: what is left is one contiguous newest range.
    const left = times();
    expect(left.length).toBeGreaterThan(0);
    const oldestLeft = left[0];
    expect(report.detections).toBe(4 * (20 * 120 + 1) - left.length);
    const gone = events.filter((e) => (e.end ?? 0) < oldestLeft);
    const kept = events.filter((e) => e.start >= oldestLeft);
    expect(gone.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    expect(report.events).toBe(gone.length);
    expect(eventIds().sort()).toEqual(events.filter((e) => !gone.includes(e)).map((e) => e.id).sort());
    for (const e of gone) expect(existsSync(snapshots.snapshotPath(e.snapshot ?? ''))).toBe(false);
    for (const e of kept) expect(existsSync(snapshots.snapshotPath(e.snapshot ?? ''))).toBe(true);
    expect(statSync(file).size).toBeLessThan(fileBefore);
  });

  it('runs between write batches: a flush sent during a long pass does not wait for it', async () => {
    await fill(NOW - 5 * HOUR, 1_000, 1);
    const order: string[] = [];
    const pass = writer.retain(policy({ maxAgeMs: HOUR, chunkRows: 20 }), NOW).then((r) => {
      order.push('retention');
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    writer.addDetections([det(NOW, 1)]);
    await writer.flush().then(() => order.push('flush'));
    const report = await pass;
    expect(report.detections).toBe(4 * 3600);
    expect(order).toEqual(['flush', 'retention']);
  });

  it('the timer runs passes on its own and stops on close', async () => {
    let passes = 0;
    const retention = new Retention(writer, { maxAgeMs: HOUR, intervalMs: 30, onReport: () => passes++ });
    retention.start(0);
    await new Promise((r) => setTimeout(r, 300));
    await retention.close();
    const seen = passes;
    expect(seen).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 150));
    expect(passes).toBe(seen);
    expect(() => new Retention(writer, { maxAgeMs: -1 })).toThrow(/maxAgeMs/);
  });
});
