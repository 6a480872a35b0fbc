// Retention: keeps the detection log within an age and a size, oldest first.
//
// Deletes run in the writer's worker thread, on the writer's own connection,
// as a job it interleaves with incoming batches one bounded chunk at a time:
// a second writing connection would only queue behind the first on SQLite's
// single write lock (or fail with SQLITE_BUSY), and a long delete would stall
// the log. This module holds both halves: `retentionPass` (the worker's
// chunked job) and `Retention` (the main thread's timer that asks for it).
import { statSync } from 'node:fs';
import type { Logger } from '../util/logger.js';
import { usedDatabaseBytes, type Db } from './db.js';
import { deleteSegmentFile } from './segment-files.js';
import { deleteSnapshotSync } from './snapshots.js';

/** Rows newer than this are never deleted, whatever the limits say: the tracker may still be updating them. */
export const MIN_PROTECT_MS = 60_000;

export interface RetentionPolicy {
  /** Delete what is older than this; null for no age limit. */
  maxAgeMs: number | null;
  /** Delete oldest first until database pages in use + WAL + snapshots fit; null for no size limit. */
  maxBytes: number | null;
  /** Never delete rows (detection time, event start/end) newer than this; at least MIN_PROTECT_MS. */
  protectMs: number;
  /** Rows per delete transaction; each is one short hold of the write lock. */
  chunkRows: number;
}

export interface RetentionReport {
  detections: number;
  events: number;
  /** Snapshot files removed (with their events). */
  snapshots: number;
  /** Recording segments removed (rows and files), for the age or the size limit. */
  segments: number;
  /** Line crossings and zone changes removed with the detections of their time. */
  crossings: number;
  bytesBefore: number;
  bytesAfter: number;
  /** False when the size limit could not be met without touching protected (recent or ongoing) rows. */
  sizeReached: boolean;
  ms: number;
}

interface EventGone {
  snapshot: string | null;
  snapshot_bytes: number;
}

/**
 * The worker's side: one pass of retention, yielding after every chunk so the
 * writer can commit the batches that arrived meanwhile. Rows are committed
 * deleted before their snapshot files go, so a crash between the two leaves a
 * stray file, never an event whose snapshot is missing.
 */
export function* retentionPass(db: Db, policy: RetentionPolicy, dirs: { snapshotDir: string | null; recordingsDir: string | null }, now: number): Generator<void, RetentionReport> {
  const { snapshotDir, recordingsDir } = dirs;
  const started = Date.now();
  const protectFrom = now - Math.max(policy.protectMs, MIN_PROTECT_MS);
  const chunk = Math.max(1, Math.floor(policy.chunkRows));
  const report: RetentionReport = { detections: 0, events: 0, snapshots: 0, segments: 0, crossings: 0, bytesBefore: 0, bytesAfter: 0, sizeReached: true, ms: 0 };

  const oldestDetections = db.prepare<[number, number], { time: number }>(
    'DELETE FROM detections WHERE id IN (SELECT id FROM detections WHERE time < ? ORDER BY time, id LIMIT ?) RETURNING time',
  );
  // Only finished events: an ongoing one (end null) is still being written.
  // start_time < cutoff bounds the index range (an event never ends before it starts).
  const endedEvents = db.prepare<[number, number, number], EventGone>(
    `DELETE FROM events WHERE id IN (
       SELECT id FROM events WHERE start_time < ? AND end_time IS NOT NULL AND end_time < ? ORDER BY start_time, id LIMIT ?
     ) RETURNING snapshot, snapshot_bytes`,
  );
  const snapshotTotal = db.prepare<[], { bytes: number | null }>('SELECT sum(snapshot_bytes) AS bytes FROM events');

  let snapshotBytes = snapshotTotal.get()?.bytes ?? 0;
  // Recordings: finished segments only (one being written is never deleted), oldest first.
  const oldestSegments = db.prepare<[number, number], { path: string; bytes: number; start_time: number }>(
    `DELETE FROM segments WHERE id IN (
       SELECT id FROM segments WHERE complete = 1 AND end_time < ? ORDER BY start_time, id LIMIT ?
     ) RETURNING path, bytes, start_time`,
  );
  const oldestSegmentStart = db.prepare<[number], { t: number | null }>('SELECT min(start_time) AS t FROM segments WHERE complete = 1 AND end_time < ?');
  const oldestDetection = db.prepare<[], { t: number | null }>('SELECT min(time) AS t FROM detections');
  let segmentBytes = (db.prepare('SELECT coalesce(sum(bytes), 0) AS b FROM segments').get() as { b: number }).b;
  const removeSegments = (before: number, n: number): number => {
    const gone = db.transaction(() => oldestSegments.all(before, n)).immediate();
    for (const g of gone) {
      segmentBytes -= g.bytes;
      if (recordingsDir) deleteSegmentFile(recordingsDir, g.path);
    }
    report.segments += gone.length;
    return gone.length;
  };
  const removeEvents = (before: number): number => {
    const gone = db.transaction(() => endedEvents.all(before, before, chunk)).immediate();
    report.events += gone.length;
    for (const e of gone) {
      snapshotBytes -= e.snapshot_bytes;
      if (e.snapshot && snapshotDir && deleteSnapshotSync(snapshotDir, e.snapshot)) report.snapshots++;
    }
    return gone.length;
  };
  // Crossings are a few rows per passer-by: they go with the detections of their time, in one statement.
  const oldCrossings = db.prepare<[number]>('DELETE FROM crossings WHERE time < ?');
  const removeCrossings = (before: number): void => {
    report.crossings += db.transaction(() => oldCrossings.run(before).changes).immediate();
  };
  const removeDetections = (before: number): { n: number; newest: number } => {
    const gone = db.transaction(() => oldestDetections.all(before, chunk)).immediate();
    report.detections += gone.length;
    let newest = -Infinity;
    for (const g of gone) if (g.time > newest) newest = g.time;
    return { n: gone.length, newest };
  };

  // The WAL is checkpointed and measured once, at the start: the deletes
  // themselves pass through it, and counting that growth would make the pass
  // chase its own tail.
  db.pragma('wal_checkpoint(TRUNCATE)');
  const walBytes = fileBytes(`${db.name}-wal`);
  const size = () => usedDatabaseBytes(db) + walBytes + snapshotBytes + segmentBytes;
  report.bytesBefore = size();

  if (policy.maxAgeMs !== null) {
    const cutoff = Math.min(now - policy.maxAgeMs, protectFrom);
    while (removeDetections(cutoff).n === chunk) yield;
    yield;
    while (removeEvents(cutoff) === chunk) yield;
    removeCrossings(cutoff);
    yield;
    while (removeSegments(cutoff, 50) === 50) yield;
  }

  if (policy.maxBytes !== null) {
    while (size() > policy.maxBytes) {
      // Oldest detections first, then the events that ended before the newest
      // of them, so the two tables stay aligned in time; once only protected
      // detections are left, the oldest finished events (and snapshots) go.
      // Recordings are most of the bytes: the oldest segment goes first while it is older than every detection.
      const segmentAt = oldestSegmentStart.get(protectFrom)?.t ?? null;
      const detectionAt = oldestDetection.get()?.t ?? null;
      if (segmentAt !== null && (detectionAt === null || segmentAt <= detectionAt)) {
        removeSegments(protectFrom, 1);
        yield;
        continue;
      }
      const { n, newest } = removeDetections(protectFrom);
      const events = n > 0 ? removeEvents(Math.min(newest + 1, protectFrom)) : removeEvents(protectFrom);
      if (n > 0) removeCrossings(Math.min(newest + 1, protectFrom));
      if (n === 0 && events === 0) {
        report.sizeReached = false;
        break;
      }
      yield;
    }
  }

  // Hand freed pages back to the file system, a bounded step at a time. Only
  // a file made with auto_vacuum INCREMENTAL (2) can; an older file keeps its
  // free pages for reuse. A step that frees nothing ends the loop either way.
  if ((db.pragma('auto_vacuum', { simple: true }) as number) === 2) {
    let free = db.pragma('freelist_count', { simple: true }) as number;
    while (free > 0) {
      db.exec('PRAGMA incremental_vacuum(2048)');
      const left = db.pragma('freelist_count', { simple: true }) as number;
      if (left >= free) break;
      free = left;
      yield;
    }
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  report.bytesAfter = size();
  report.ms = Date.now() - started;
  return report;
}

function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export interface RetentionOptions {
  maxAgeMs?: number | null;
  maxBytes?: number | null;
  /** Time between passes; default 5 minutes. */
  intervalMs?: number;
  protectMs?: number;
  chunkRows?: number;
  logger?: Logger;
  /** Called with every pass's report (metrics). */
  onReport?: (report: RetentionReport) => void;
}

/** What Retention needs of the writer: a way to run a pass in its thread. */
export interface RetentionRunner {
  retain(policy: RetentionPolicy, now: number): Promise<RetentionReport>;
}

function checkLimit(name: string, v: number | null | undefined, min: number): number | null {
  if (v === undefined || v === null) return null;
  if (!Number.isFinite(v) || v < min) throw new RangeError(`retention ${name}: expected a number ≥ ${min} or null, got ${v}`);
  return v;
}

/** The main thread's side: a timer that runs a pass now and then, never two at once. */
export class Retention {
  readonly policy: RetentionPolicy;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionReport> | undefined;
  private closed = false;
  lastReport: RetentionReport | undefined;

  constructor(private readonly runner: RetentionRunner, private readonly options: RetentionOptions = {}) {
    this.policy = {
      maxAgeMs: checkLimit('maxAgeMs', options.maxAgeMs, 1),
      maxBytes: checkLimit('maxBytes', options.maxBytes, 0),
      protectMs: Math.max(MIN_PROTECT_MS, options.protectMs ?? MIN_PROTECT_MS),
      chunkRows: checkLimit('chunkRows', options.chunkRows, 1) ?? 5_000,
    };
    this.intervalMs = checkLimit('intervalMs', options.intervalMs, 1) ?? 5 * 60_000;
  }

  /** Starts the periodic passes; the first after `firstDelayMs` (default 10 s, past startup's busy moments). */
  start(firstDelayMs = 10_000): void {
    if (this.closed || this.timer) return;
    this.arm(firstDelayMs);
  }

  private arm(ms: number): void {
    // A chain of timeouts, not an interval: a slow pass delays the next
    // instead of piling up behind it. Unref'd: retention never keeps a process alive.
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((err: Error) => this.options.logger?.warn(`retention pass failed: ${err.message}`))
        .finally(() => {
          if (!this.closed) this.arm(this.intervalMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** Runs a pass now (or joins the one running) and reports what it deleted. */
  runOnce(now = Date.now()): Promise<RetentionReport> {
    if (this.running) return this.running;
    if (this.policy.maxAgeMs === null && this.policy.maxBytes === null) {
      return Promise.resolve({ detections: 0, events: 0, snapshots: 0, segments: 0, crossings: 0, bytesBefore: 0, bytesAfter: 0, sizeReached: true, ms: 0 });
    }
    const run = this.runner.retain(this.policy, now);
    this.running = run;
    return run
      .then((report) => {
        this.lastReport = report;
        // A pass still in the writer when close() came finishes there, but its
        // owner, having closed this, hears nothing more from it.
        if (!this.closed) this.options.onReport?.(report);
        if (report.detections + report.events + report.segments > 0) {
          this.options.logger?.info(
            `retention: deleted ${report.detections} detections, ${report.events} events, ${report.snapshots} snapshots, ${report.segments} recording segments in ${report.ms} ms` +
              ` (${report.bytesBefore} → ${report.bytesAfter} bytes${report.sizeReached ? '' : ', size limit not reached: the rest is recent or ongoing'})`,
          );
        }
        return report;
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Stops the timer. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A pass still running is not waited for: it runs in the writer's thread,
    // between batches, and the writer's own close() ends it.
    this.running?.catch(() => undefined);
  }
}
