// The recording's own parts against real ffmpeg and ffprobe: segments cut on
// keyframes from a real fragmented MP4 (B-frames and all), each playable on
// its own and indexed as the file is; clips of any span assembled from them
// whose media time is the wall-clock time; byte ranges that equal the whole
// body's; and the start-up pass repairing a segment a crash cut short.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORD_DEFAULTS } from '../../src/config/record.js';
import { Fmp4Splitter, parseFragment, parseInit } from '../../src/ingest/fmp4.js';
import type { StreamFragment, StreamInit } from '../../src/ingest/stream-cache.js';
import { clipBytes, planClip } from '../../src/record/clip.js';
import { scanSegment } from '../../src/record/segment-file.js';
import { SegmentWriter } from '../../src/record/segment-writer.js';
import { openStore } from '../../src/store/db.js';
import { reconcileRecordings } from '../../src/store/reconcile-recordings.js';
import { SegmentReader, prepareSegmentUpsert, type SegmentRecord } from '../../src/store/segments.js';
import { silentLogger } from '../../src/util/logger.js';
import { tempDir } from '../helpers/cleanup.js';

const T0 = Date.UTC(2026, 10, 30, 12, 34, 56, 789);

/** Six seconds of 30 fps H.264 with B-frames and a keyframe each second, as a camera's ffmpeg copies it. */
function copiedStream(): { init: StreamInit; fragments: StreamFragment[] } {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '6', '-c:v', 'libx264', '-g', '30', '-bf', '2',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_every_frame', 'pipe:1'], { maxBuffer: 64 << 20 });
  expect(r.status, r.stderr?.toString()).toBe(0);
  const pieces = new Fmp4Splitter().push(r.stdout);
  const initData = pieces[0]?.data as Buffer;
  const info = parseInit(initData);
  if (!info) throw new Error('no init');
  const init: StreamInit = { ...info, camera: 'cam', run: 1, data: initData, transcoded: false, from: 'h264', mime: '' };
  const fragments = pieces.slice(1).map((p, seq): StreamFragment => {
    const f = parseFragment(p.data);
    if (!f) throw new Error('no fragment');
    const pts = Math.round((f.pts * 1e6) / info.timescale) / 1e6;
    return { camera: 'cam', run: 1, seq, data: p.data, pts, duration: f.duration / info.timescale, keyframe: f.keyframe, receivedAt: 0, time: Math.round(T0 + pts * 1000), epoch: T0 };
  });
  return { init, fragments };
}

const probe = (file: string, entries: string) => spawnSync('ffprobe', ['-v', 'error', '-show_entries', entries, '-of', 'json', file], { encoding: 'utf8' });
const framesIn = (file: string): number => {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return Number(r.stdout.trim());
};

async function record(dir: string, lowerAt?: number): Promise<{ rows: SegmentRecord[]; fragments: StreamFragment[] }> {
  const { init, fragments: copied } = copiedStream();
  // The run clock lowering its epoch by 300 ms at the keyframe `lowerAt` (as when ffmpeg's probing burst drains).
  const fragments = copied.map((f) => (lowerAt !== undefined && f.seq >= lowerAt ? { ...f, time: f.time - 300, epoch: T0 - 300 } : f));
  const rows = new Map<string, SegmentRecord>();
  const writer = new SegmentWriter('cam', dir, () => ({ ...RECORD_DEFAULTS, mode: 'continuous', segmentSeconds: 2 }), (r) => void rows.set(r.path, r), silentLogger);
  writer.newInit(init);
  for (const f of fragments) writer.fragment(f);
  await writer.close();
  return { rows: [...rows.values()].sort((a, b) => a.start - b.start), fragments };
}

describe('recording segments', () => {
  it('cuts on keyframes into files that play alone, named by their UTC start, indexed as they are', async () => {
    const dir = tempDir('lookout-rec-');
    const { rows, fragments } = await record(dir);
    expect(rows.map((r) => r.path)).toEqual(['cam/2026-11-30/12/34.56.mp4', 'cam/2026-11-30/12/34.58.mp4', 'cam/2026-11-30/12/35.00.mp4']);
    let frames = 0;
    for (const r of rows) {
      const file = path.join(dir, r.path);
      expect(r.complete).toBe(true);
      expect(statSync(file).size).toBe(r.bytes);
      frames += framesIn(file);
      const scan = scanSegment(file);
      expect(scan?.keyframes).toEqual(r.keyframes);
      expect(scan?.goodBytes).toBe(r.bytes);
      // The prft box says when the file was recorded, to the millisecond, without its row.
      expect(Math.abs((scan?.startWall ?? 0) - r.start)).toBeLessThan(1);
      const dur = Number((JSON.parse(probe(file, 'format=duration').stdout) as { format: { duration: string } }).format.duration);
      expect(Math.abs(dur * 1000 - (r.end - r.start))).toBeLessThan(40);
    }
    expect(frames).toBe(fragments.length);
  });

  it('assembles any span into one MP4 whose media time is the wall-clock time, and serves any byte range of it', async () => {
    const dir = tempDir('lookout-rec-');
    const { rows, fragments } = await record(dir);
    const since = T0 + 1500;
    const until = T0 + 3500;
    const plan = await planClip(rows, since, until, dir);
    if (!plan) throw new Error('no plan');
    const chunks: Buffer[] = [];
    for await (const c of clipBytes(plan)) chunks.push(c);
    const body = Buffer.concat(chunks);
    expect(body.length).toBe(plan.length);
    const file = path.join(tempDir('lookout-clip-'), 'clip.mp4');
    writeFileSync(file, body);
    // From the keyframe at 1 s (before since) to the keyframe at 4 s (after until).
    expect(framesIn(file)).toBe(90);
    const packets = (JSON.parse(probe(file, 'packet=pts_time,flags').stdout) as { packets: { pts_time: string; flags: string }[] }).packets;
    const wall = packets.map((p) => plan.clipStart + Number(p.pts_time) * 1000).sort((a, b) => a - b);
    // Frames 30 to 119 in decode order (keyframes every 30): their own times, in presentation order.
    const expected = fragments.filter((f) => f.seq >= 30 && f.seq < 120).map((f) => f.time).sort((a, b) => a - b);
    expect(wall.length).toBe(expected.length);
    wall.forEach((t, i) => expect(Math.abs(t - (expected[i] as number))).toBeLessThanOrEqual(1));
    // Byte ranges, including ones that end inside a moof, equal the whole body's bytes.
    for (const [a, b] of [[0, 99], [700, 5_000], [plan.length - 300, plan.length - 1], [1234, plan.length - 17]] as const) {
      const part: Buffer[] = [];
      for await (const c of clipBytes(plan, a, b)) part.push(c);
      expect(Buffer.concat(part).equals(body.subarray(a, b + 1))).toBe(true);
    }
    expect(await planClip(rows, T0 + 60_000, T0 + 70_000, dir)).toBeUndefined();
  });

  it('trims where the clock stepped back, so a clip\'s decode times never go backwards and every frame kept has its own time', async () => {
    const dir = tempDir('lookout-rec-');
    const { rows, fragments } = await record(dir, 60);
    // The segment cut at the step begins 300 ms before the one before it ended.
    const [a, b] = rows as [SegmentRecord, SegmentRecord];
    expect(b.start).toBeLessThan(a.end - 250);
    const plan = await planClip(rows, T0, T0 + 5000, dir);
    if (!plan) throw new Error('no plan');
    const chunks: Buffer[] = [];
    for await (const c of clipBytes(plan)) chunks.push(c);
    expect(Buffer.concat(chunks).length).toBe(plan.length);
    const file = path.join(tempDir('lookout-clip-'), 'clip.mp4');
    writeFileSync(file, Buffer.concat(chunks));
    const packets = (JSON.parse(probe(file, 'packet=pts_time,dts_time').stdout) as { packets: { pts_time: string; dts_time: string }[] }).packets;
    const dts = packets.map((p) => Number(p.dts_time));
    for (let i = 1; i < dts.length; i++) expect(dts[i], `packet ${i}`).toBeGreaterThan(dts[i - 1] as number);
    // About 300 ms (9 frames) of the segment before the step are left out, nothing else.
    expect(packets.length).toBeGreaterThanOrEqual(fragments.length - 12);
    expect(packets.length).toBeLessThanOrEqual(fragments.length - 6);
    const times = new Set(fragments.map((f) => f.time));
    for (const p of packets) {
      const t = plan.clipStart + Number(p.pts_time) * 1000;
      expect([...times].some((x) => Math.abs(x - t) <= 1), `a frame at ${t}`).toBe(true);
    }
    expect(framesIn(file)).toBe(packets.length);
  });

  it('repairs at start-up a segment a crash cut short, indexes a file with no row, and drops rows without files', async () => {
    const dir = tempDir('lookout-rec-');
    const { rows } = await record(dir);
    const dbFile = path.join(tempDir('lookout-rec-db-'), 'lookout.db');
    const { db } = openStore(dbFile, {});
    const upsert = prepareSegmentUpsert(db);
    const [first, second, third] = rows as [SegmentRecord, SegmentRecord, SegmentRecord];
    // The first as a crash leaves it: row incomplete, file cut inside a fragment.
    upsert({ ...first, complete: false, bytes: first.initBytes, keyframes: [] });
    truncateSync(path.join(dir, first.path), first.bytes - 100);
    // The second has no row (its commit was lost); the third's file is gone.
    upsert(third);
    spawnSync('rm', [path.join(dir, third.path)]);
    const report = reconcileRecordings(db, dir);
    expect(report).toMatchObject({ repaired: 1, indexed: 1, removedRows: 1, removedFiles: 0 });
    const reader = new SegmentReader(db);
    const after = reader.overlapping({ cameras: ['cam'], since: 0, until: T0 + 1e9, limit: 10 });
    expect(after.map((s) => s.path)).toEqual([first.path, second.path]);
    const repaired = after[0] as SegmentRecord;
    expect(repaired.complete).toBe(true);
    expect(repaired.bytes).toBe(statSync(path.join(dir, first.path)).size);
    expect(framesIn(path.join(dir, first.path))).toBeGreaterThan(50);
    expect(Math.abs((after[1] as SegmentRecord).start - second.start)).toBeLessThanOrEqual(1);
    db.close();
    expect(readFileSync(path.join(dir, second.path)).length).toBe(second.bytes);
    void Database;
  });
});
