// Recordings under the data folder's one budget and their own retention,
// through the real writer thread, on a real file with real segment files:
// the size limit takes the oldest segments (rows and files) while they are
// older than every detection; the age limit takes them too; the recordings
// pass deletes unclaimed segments in events mode and ages the rest by
// retainDays / eventRetainDays; a segment still being written is never touched.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SegmentReader, type SegmentRecord } from '../../src/store/segments.js';
import { StoreReader } from '../../src/store/queries.js';
import { MIN_PROTECT_MS } from '../../src/store/retention.js';
import type { CameraRecordPolicy } from '../../src/store/recordings-retention.js';
import { StoreWriter } from '../../src/store/writer.js';
import { tempDir } from '../helpers/cleanup.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = 1_700_000_000_000;
const MB = 1 << 20;
let dir: string;
let recordings: string;
let writer: StoreWriter;
let reader: StoreReader;
let segments: SegmentReader;

beforeEach(async () => {
  dir = tempDir('lookout-rec-retention-');
  recordings = path.join(dir, 'recordings');
  writer = await StoreWriter.open({ file: path.join(dir, 'log.db'), recordingsDir: recordings });
  reader = StoreReader.open(path.join(dir, 'log.db'));
  segments = new SegmentReader(reader.db);
});
afterEach(async () => {
  reader.close();
  await writer.close();
});

/** A segment of `bytes` from `start`, 10 s long, its file on disk. */
function segment(camera: string, start: number, bytes: number, complete = true): SegmentRecord {
  const rel = `${camera}/x/${start}.mp4`;
  mkdirSync(path.join(recordings, camera, 'x'), { recursive: true });
  writeFileSync(path.join(recordings, rel), Buffer.alloc(bytes));
  const s: SegmentRecord = { camera, path: rel, start, end: start + 10_000, startPts: 0, timescale: 90_000, initBytes: 100, initHash: 'h', bytes, keyframes: [[100, 0, 0]], complete };
  writer.upsertSegment(s);
  return s;
}
const kept = () => segments.overlapping({ cameras: [], since: 0, until: NOW + DAY, limit: 1000 }).map((s) => s.path);
const policy = (p: Partial<CameraRecordPolicy>): CameraRecordPolicy => ({ mode: 'continuous', preMs: 5_000, postMs: 5_000, graceMs: 30_000, retainMs: 7 * DAY, eventRetainMs: 30 * DAY, ...p });

describe('recordings and retention', () => {
  it('keeps the data folder under its size, oldest segments first, files with their rows, never one being written', async () => {
    const old = [0, 1, 2, 3].map((i) => segment('a', NOW - (10 - i) * HOUR, MB));
    const writing = segment('a', NOW - 9.5 * HOUR, MB, false);
    writer.addDetections([{ camera: 'a', time: NOW - 2 * HOUR, frameId: '1:0', label: 'person', classId: 1, score: 0.9, box: [0, 0, 1, 1], trackId: 1 }]);
    await writer.flush();
    const report = await writer.retain({ maxAgeMs: null, maxBytes: 2.5 * MB, protectMs: MIN_PROTECT_MS, chunkRows: 500 }, NOW);
    expect(report.segments).toBe(3);
    expect(kept().sort()).toEqual([old[3]?.path, writing.path].sort());
    for (const s of old.slice(0, 3)) expect(existsSync(path.join(recordings, s.path))).toBe(false);
    expect(existsSync(path.join(recordings, writing.path))).toBe(true);
    expect(report.bytesAfter).toBeLessThanOrEqual(2.5 * MB);
    // The age limit takes the rest of the old ones (the one being written stays).
    await writer.retain({ maxAgeMs: HOUR, maxBytes: null, protectMs: MIN_PROTECT_MS, chunkRows: 500 }, NOW);
    expect(kept()).toEqual([writing.path]);
  });

  it('deletes in events mode what no event claims, keeps what one does, and ages each by its own days', async () => {
    // An event on camera a from NOW-2h to NOW-2h+20s; segments before, during, long after.
    writer.upsertEvent({ id: 'a-1', camera: 'a', trackId: 1, label: 'person', classId: 1, start: NOW - 2 * HOUR, end: NOW - 2 * HOUR + 20_000, maxScore: 0.9, bestBox: [0, 0, 1, 1], bestFrameId: '1:0', bestTime: NOW - 2 * HOUR, snapshot: null, snapshotBytes: 0, zones: [] });
    const claimedBefore = segment('a', NOW - 2 * HOUR - 12_000, 1000); // ends 2 s before it: within preSeconds
    const during = segment('a', NOW - 2 * HOUR + 5_000, 1000);
    const unclaimed = segment('a', NOW - HOUR, 1000);
    const recent = segment('a', NOW - 20_000, 1000); // within its grace: not judged yet
    const continuous = segment('b', NOW - HOUR, 1000);
    await writer.flush();
    const report = await writer.recordings({ cameras: { a: policy({ mode: 'events' }), b: policy({}) }, fallback: policy({}), chunkRows: 2 }, NOW);
    expect(report).toMatchObject({ withEvents: 2, withoutEvents: 2, pruned: 1, aged: 0 });
    expect(kept().sort()).toEqual([claimedBefore.path, during.path, recent.path, continuous.path].sort());
    expect(existsSync(path.join(recordings, unclaimed.path))).toBe(false);
    const judged = Object.fromEntries(segments.overlapping({ cameras: [], since: 0, until: NOW + DAY, limit: 100 }).map((s) => [s.path, s.event]));
    expect(judged).toEqual({ [claimedBefore.path]: true, [during.path]: true, [recent.path]: null, [continuous.path]: false });
    // A day later with retainDays 0.5 and eventRetainDays 3: the eventless one goes, the event's stay.
    const later = NOW + DAY;
    await writer.recordings({ cameras: { a: policy({ mode: 'events', retainMs: DAY / 2, eventRetainMs: 3 * DAY }), b: policy({ retainMs: DAY / 2 }) }, fallback: policy({}), chunkRows: 2 }, later);
    expect(kept().sort()).toEqual([claimedBefore.path, during.path].sort());
  });
});
