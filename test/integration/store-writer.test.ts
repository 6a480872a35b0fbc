// StoreWriter on real SQLite files, with its real worker thread (dist/src/store/writer-worker.js).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/paths.js';
import { StoreReader } from '../../src/store/queries.js';
import type { DetectionRecord } from '../../src/types.js';
import type { EventRecord } from '../../src/store/records.js';
import { StoreWriter } from '../../src/store/writer.js';
import { sleep, until } from '../helpers/wait.js';
import { tempDir } from '../helpers/cleanup.js';

let dir: string;
let file: string;
const closers: (() => unknown)[] = [];
beforeEach(() => {
  dir = tempDir('lookout-writer-');
  file = path.join(dir, 'log.db');
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function writer(options: Partial<Parameters<typeof StoreWriter.open>[0]> = {}): Promise<StoreWriter> {
  const w = await StoreWriter.open({ file, ...options });
  closers.push(() => w.close());
  return w;
}
function reader(): StoreReader {
  const r = StoreReader.open(file);
  closers.push(() => r.close());
  return r;
}

const T0 = 1_700_000_000_000;
const det = (i: number, over: Partial<DetectionRecord> = {}): DetectionRecord => ({
  camera: `cam${i % 3}`, time: T0 + i, frameId: `1:${i}`, label: i % 2 ? 'person' : 'car', classId: i % 2 ? 1 : 3,
  score: 0.5, box: [0.1, 0.2, 0.3, 0.4], trackId: i % 4 ? i : null, ...over,
});
const event = (over: Partial<EventRecord> = {}): EventRecord => ({
  id: 'cam0-1-1', camera: 'cam0', trackId: 1, label: 'person', classId: 1, start: T0, end: null, maxScore: 0.6,
  bestBox: [0, 0, 0.5, 0.5], bestFrameId: '1:0', bestTime: T0, snapshot: null, snapshotBytes: 0, zones: [], ...over,
});
const count = (r: StoreReader, table = 'detections') => r.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

describe('StoreWriter', () => {
  it('holds records until the interval, and flush resolves only once a reader sees them', async () => {
    const w = await writer({ flushIntervalMs: 60_000 });
    const r = reader();
    expect(w.addDetections(Array.from({ length: 250 }, (_, i) => det(i)))).toBe(250);
    await sleep(100);
    // Buffered in this thread, not yet written: a reader sees nothing.
    expect(count(r)).toBe(0);
    expect(w.stats().pending).toBe(250);
    await w.flush();
    expect(count(r)).toBe(250);
    expect(w.stats()).toMatchObject({ written: 250, pending: 0, dropped: 0, failing: false });
    const back = r.queryDetections({ limit: 1, camera: ['cam1'] }).rows[0];
    expect(back).toEqual({ ...det(247), id: 248 });
  });

  it('hands over on its own within the flush interval, in batches of at most batchSize', async () => {
    const w = await writer({ flushIntervalMs: 50, batchSize: 100 });
    const r = reader();
    w.addDetections(Array.from({ length: 30 }, (_, i) => det(i)));
    await until(() => count(r) === 30, 2_000);
    // batchSize reached: handed over at once, without waiting for the timer.
    w.addDetections(Array.from({ length: 100 }, (_, i) => det(100 + i)));
    expect(w.stats().pending).toBe(100);
    await until(() => count(r) === 130, 2_000);
  });

  it('upserts events: the last state of an id wins, and a stored snapshot survives an update without one', async () => {
    const w = await writer();
    const r = reader();
    const e = event();
    w.upsertEvent(e);
    e.maxScore = 0.7; // the tracker mutates its object; the writer copied it
    w.upsertEvent({ ...event(), maxScore: 0.8, snapshot: 'cam0-1-1-000000000000.jpg', snapshotBytes: 1234 });
    await w.flush();
    w.upsertEvent({ ...event(), maxScore: 0.9, end: T0 + 5000 });
    await w.flush();
    expect(r.queryEvents({ limit: 10 }).rows).toEqual([
      { ...event(), maxScore: 0.9, end: T0 + 5000, snapshot: 'cam0-1-1-000000000000.jpg', snapshotBytes: 1234 },
    ]);
    expect(w.stats()).toMatchObject({ eventsWritten: 2, droppedEvents: 0 });
  });

  it('skips and counts malformed records without losing the good ones around them', async () => {
    const w = await writer();
    const bad = { ...det(1), camera: undefined } as unknown as DetectionRecord;
    expect(w.addDetections([det(0), bad, det(2, { score: NaN }), det(3)])).toBe(2);
    await w.flush();
    expect(count(reader())).toBe(2);
    expect(w.stats()).toMatchObject({ written: 2, rejected: 2 });
    expect(w.stats().lastError).toMatch(/malformed/);
  });

  it('drops and counts past its bound while the database is locked, reports failing, and catches up after', async () => {
    const w = await writer({ maxPending: 1000, batchSize: 200, flushIntervalMs: 20, busyTimeoutMs: 50 });
    // Another process holding the write lock: the writer's commits fail with SQLITE_BUSY.
    const other = new Database(file);
    closers.push(() => other.close());
    other.prepare('BEGIN IMMEDIATE').run();
    expect(w.addDetections(Array.from({ length: 600 }, (_, i) => det(i)))).toBe(600);
    await until(() => w.stats().failing, 5_000);
    expect(w.stats().lastError).toMatch(/SQLITE_BUSY/);
    expect(w.addDetections(Array.from({ length: 600 }, (_, i) => det(600 + i)))).toBe(400);
    expect(w.stats()).toMatchObject({ dropped: 200, pending: 1000, written: 0 });
    // Nothing grows past the bound however long it lasts.
    expect(w.addDetections([det(5000)])).toBe(0);
    expect(w.stats()).toMatchObject({ dropped: 201, pending: 1000 });
    other.prepare('COMMIT').run();
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 1000, pending: 0, failing: false, dropped: 201 });
    expect(count(reader())).toBe(1000);
  });

  it('close flushes, is idempotent, and counts what arrives afterwards as dropped', async () => {
    const w = await writer({ flushIntervalMs: 60_000 });
    w.addDetections([det(1), det(2)]);
    await Promise.all([w.close(), w.close()]);
    await w.close();
    expect(w.addDetections([det(3)])).toBe(0);
    expect(w.upsertEvent(event())).toBe(false);
    expect(w.stats()).toMatchObject({ written: 2, dropped: 1, droppedEvents: 1 });
    await expect(w.flush()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    expect(count(reader())).toBe(2);
  });

  it('close gives up on a stuck disk after closeTimeoutMs and reports what it lost', async () => {
    const w = await writer({ busyTimeoutMs: 20, closeTimeoutMs: 300 });
    const other = new Database(file);
    closers.push(() => other.close());
    other.prepare('BEGIN IMMEDIATE').run();
    w.addDetections([det(1), det(2), det(3)]);
    const started = Date.now();
    await w.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(w.stats()).toMatchObject({ written: 0, dropped: 3, pending: 0 });
    other.prepare('ROLLBACK').run();
  });

  it('what flush confirmed survives a kill -9 of the process', async () => {
    const script = `
      import { StoreWriter } from ${JSON.stringify(path.join(packageRoot, 'dist/src/store/writer.js'))};
      const w = await StoreWriter.open({ file: ${JSON.stringify(file)}, flushIntervalMs: 60000 });
      w.addDetections(Array.from({ length: 5000 }, (_, i) => ({ camera: 'c', time: ${T0} + i, frameId: '1:' + i,
        label: 'person', classId: 1, score: 0.5, box: [0, 0, 1, 1], trackId: null })));
      await w.flush();
      process.stdout.write('flushed\\n');
      setInterval(() => {}, 1000);
    `;
    // A file, not --input-type + -e: worker threads inherit execArgv, and -e's flags do not suit them.
    const scriptFile = path.join(dir, 'child.mjs');
    writeFileSync(scriptFile, script);
    const child = spawn(process.execPath, [scriptFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await until(() => out.includes('flushed'), 20_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The WAL (with the commit) is still beside the file; the next open recovers from it.
    expect(count(reader())).toBe(5000);
  });
});
