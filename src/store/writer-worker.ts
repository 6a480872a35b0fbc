// The store's writer thread: owns the one writable connection, writes each
// batch the main thread posts in one transaction, and runs retention between
// batches. SQLite calls are synchronous, so they live here, where a slow or
// full disk stalls this thread and never the frame path.
//
// Batches are written strictly in order. When one fails for a reason outside
// the data (disk full, I/O error, a lock held too long), it stays at the head
// of the queue and is retried with backoff while later batches wait behind
// it; the main thread bounds how many records may wait. A record that cannot
// be stored as it is (a wrong type, a missing field) is skipped and counted,
// so one bad record never blocks the log.
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { openStore, StoreError, type Db } from './db.js';
import type { MigrationResult } from './migrations.js';
import { PACKED_NUMS, PACKED_REFS, type EventRecord, type PackedDetections } from './records.js';
import { reconcileRecordings, type ReconcileReport } from './reconcile-recordings.js';
import { recordingsPass, type RecordingsPolicy } from './recordings-retention.js';
import { retentionPass, type RetentionPolicy } from './retention.js';
import { prepareSegmentUpsert, type SegmentRecord } from './segments.js';
import { prepareCrossingInsert, type CrossingRecord } from './crossings.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';

export interface WriterWorkerData {
  file: string;
  snapshotDir: string | null;
  /** The recordings folder: reconciled with the index at open, and where the recordings pass deletes. */
  recordingsDir: string | null;
  busyTimeoutMs: number;
}

export type ToWorker =
  | { type: 'batch'; seq: number; detections: PackedDetections; events: EventRecord[]; segments: SegmentRecord[]; crossings: CrossingRecord[] }
  | { type: 'retain'; id: number; policy: RetentionPolicy; now: number }
  | { type: 'recordings'; id: number; policy: RecordingsPolicy; now: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; migration: MigrationResult; reconciled: ReconcileReport | null }
  | { type: 'open-failed'; code: string; message: string }
  | { type: 'committed'; seq: number; detections: number; events: number; segments: number; crossings: number; rejected: number; rejectedReason: string | null }
  | { type: 'failing'; seq: number; message: string; retryInMs: number }
  | { type: 'retained'; id: number; report: unknown }
  | { type: 'retain-failed'; id: number; message: string }
  | { type: 'closed'; lostDetections: number; lostEvents: number };

/** SQLite codes that say the record itself cannot be stored; anything else from SQLite is the environment's fault. */
const DATA_ERRORS = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;

function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  // Not from SQLite at all: a TypeError binding a missing field, and the like.
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return true;
  return DATA_ERRORS.test(code);
}

/** A failing disk is retried soon at first (a hiccup), then every few seconds. */
const RETRY_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0 };

function prepareWrites(db: Db) {
  const detection = db.prepare(
    `INSERT INTO detections (camera, time, frame_id, label, class_id, score, ymin, xmin, ymax, xmax, track_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // Upserts carry the tracker's whole view of the event; a snapshot saved
  // earlier is kept when a later upsert has none yet (the JPEG is written
  // asynchronously and may land after the event's next update).
  const event = db.prepare(
    `INSERT INTO events (id, camera, track_id, label, class_id, start_time, end_time, max_score,
                         ymin, xmin, ymax, xmax, best_frame_id, best_time, snapshot, snapshot_bytes, zones, model, model_version)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       camera = excluded.camera, track_id = excluded.track_id, label = excluded.label,
       class_id = excluded.class_id, start_time = excluded.start_time, end_time = excluded.end_time,
       max_score = excluded.max_score, ymin = excluded.ymin, xmin = excluded.xmin,
       ymax = excluded.ymax, xmax = excluded.xmax, best_frame_id = excluded.best_frame_id,
       best_time = excluded.best_time, zones = excluded.zones,
       model = coalesce(excluded.model, events.model), model_version = coalesce(excluded.model_version, events.model_version),
       snapshot_bytes = CASE WHEN excluded.snapshot IS NULL THEN events.snapshot_bytes ELSE excluded.snapshot_bytes END,
       snapshot = coalesce(excluded.snapshot, events.snapshot)`,
  );
  return { detection, event, segment: prepareSegmentUpsert(db), crossing: prepareCrossingInsert(db) };
}

type Batch = Extract<ToWorker, { type: 'batch' }>;
interface BatchOutcome {
  rejectedDetections: number;
  rejectedEvents: number;
  rejectedSegments: number;
  rejectedCrossings: number;
  reason: string | null;
}
type RetainJob = { id: number; steps: Generator<void, unknown> };

class WriterThread {
  private readonly queue: Batch[] = [];
  private readonly retainJobs: RetainJob[] = [];
  private readonly writes: ReturnType<typeof prepareWrites>;
  private readonly writeBatch: Database.Transaction<(b: Batch) => BatchOutcome>;
  private pumpScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed attempts at the batch at the head of the queue. */
  private failures = 0;

  constructor(
    private readonly db: Db,
    private readonly data: WriterWorkerData,
    private readonly post: (m: FromWorker) => void,
  ) {
    this.writes = prepareWrites(db);
    this.writeBatch = db.transaction((b: Batch) => {
      const out: BatchOutcome = { rejectedDetections: 0, rejectedEvents: 0, rejectedSegments: 0, rejectedCrossings: 0, reason: null };
      const skip = (err: unknown) => {
        if (!isDataError(err)) throw err;
        out.reason ??= (err as Error).message;
      };
      const { count, strings, refs, nums } = b.detections;
      const insert = this.writes.detection;
      for (let i = 0; i < count; i++) {
        const s = i * PACKED_REFS;
        const n = i * PACKED_NUMS;
        const track = nums[n + 7];
        try {
          insert.run(strings[refs[s]], nums[n], strings[refs[s + 1]], strings[refs[s + 2]], nums[n + 1], nums[n + 2],
            nums[n + 3], nums[n + 4], nums[n + 5], nums[n + 6], Number.isNaN(track) ? null : track);
        } catch (err) {
          skip(err);
          out.rejectedDetections++;
        }
      }
      for (const e of b.events) {
        try {
          this.writes.event.run(e.id, e.camera, e.trackId, e.label, e.classId, Math.round(e.start),
            e.end === null ? null : Math.round(e.end), e.maxScore, e.bestBox[0], e.bestBox[1], e.bestBox[2], e.bestBox[3],
            e.bestFrameId, Math.round(e.bestTime), e.snapshot, e.snapshotBytes, JSON.stringify(e.zones),
            e.model ?? null, e.modelVersion ?? null);
        } catch (err) {
          skip(err);
          out.rejectedEvents++;
        }
      }
      for (const seg of b.segments) {
        try {
          this.writes.segment(seg);
        } catch (err) {
          skip(err);
          out.rejectedSegments++;
        }
      }
      for (const c of b.crossings) {
        try {
          this.writes.crossing(c);
        } catch (err) {
          skip(err);
          out.rejectedCrossings++;
        }
      }
      return out;
    });
  }

  onMessage(m: ToWorker): void {
    if (m.type === 'batch') this.queue.push(m);
    else if (m.type === 'retain') this.retainJobs.push({ id: m.id, steps: retentionPass(this.db, m.policy, this.data, m.now) });
    else if (m.type === 'recordings') {
      const dir = this.data.recordingsDir;
      this.retainJobs.push({ id: m.id, steps: dir ? recordingsPass(this.db, m.policy, dir, m.now) : (function* () { return null; })() });
    }
    else return this.close();
    this.schedule();
  }

  private schedule(): void {
    // While a failed batch waits for its retry, only retention has work.
    if (this.pumpScheduled || (this.retryTimer && this.retainJobs.length === 0)) return;
    this.pumpScheduled = true;
    // setImmediate, not a loop: messages that arrived meanwhile (new batches,
    // close) get their turn between retention chunks.
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    while (this.queue.length > 0 && !this.retryTimer) {
      if (!this.writeHead()) break;
    }
    // Retention goes on while batches fail: on a full disk, deleting old rows
    // and snapshots is what lets the batches in again.
    const job = this.retainJobs[0];
    if (!job) return;
    try {
      const step = job.steps.next();
      if (step.done) {
        this.retainJobs.shift();
        this.post({ type: 'retained', id: job.id, report: step.value });
      }
    } catch (err) {
      this.retainJobs.shift();
      this.post({ type: 'retain-failed', id: job.id, message: (err as Error).message });
    }
    if (this.retainJobs.length > 0) this.schedule();
  }

  /** Writes the oldest batch; false when it failed and a retry is scheduled. */
  private writeHead(): boolean {
    const b = this.queue[0];
    try {
      const out = this.writeBatch.immediate(b);
      this.queue.shift();
      this.failures = 0;
      this.post({
        type: 'committed',
        seq: b.seq,
        detections: b.detections.count - out.rejectedDetections,
        events: b.events.length - out.rejectedEvents,
        segments: b.segments.length - out.rejectedSegments,
        crossings: b.crossings.length - out.rejectedCrossings,
        rejected: out.rejectedDetections + out.rejectedEvents + out.rejectedSegments + out.rejectedCrossings,
        rejectedReason: out.reason,
      });
      return true;
    } catch (err) {
      const delay = backoffDelay(++this.failures, RETRY_BACKOFF);
      const code = (err as { code?: unknown }).code;
      this.post({ type: 'failing', seq: b.seq, message: `${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message}`, retryInMs: delay });
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.schedule();
      }, delay);
      return false;
    }
  }

  private close(): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    // One last attempt for what is queued (the main thread has already
    // waited for it as long as it was willing to); the rest is reported lost.
    while (this.queue.length > 0 && this.writeHead()) {
      /* written */
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    let lostDetections = 0;
    let lostEvents = 0;
    for (const b of this.queue) {
      lostDetections += b.detections.count;
      lostEvents += b.events.length + b.segments.length + b.crossings.length;
    }
    for (const job of this.retainJobs) {
      job.steps.return(undefined as never);
      this.post({ type: 'retain-failed', id: job.id, message: 'the store is closing' });
    }
    this.db.close();
    this.post({ type: 'closed', lostDetections, lostEvents });
    parentPort?.close();
  }
}

/**
 * Events still open when the store opens were left open by a crash (a clean
 * shutdown ends them): they end at their track's last stored detection, or
 * at their best frame when none is stored. Left open, retention would keep
 * them for ever and the page would show them in view.
 */
function endStaleEvents(db: Db): number {
  return db.prepare(
    `UPDATE events SET end_time = MAX(best_time, COALESCE((SELECT MAX(d.time) FROM detections d
       WHERE d.camera = events.camera AND d.track_id = events.track_id AND d.time >= events.start_time), best_time))
     WHERE end_time IS NULL`,
  ).run().changes;
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('writer-worker.js runs as a worker thread of StoreWriter');
  const data = workerData as WriterWorkerData;
  const post = (m: FromWorker) => port.postMessage(m);
  let opened;
  try {
    opened = openStore(data.file, { busyTimeoutMs: data.busyTimeoutMs });
  } catch (err) {
    post({ type: 'open-failed', code: err instanceof StoreError ? err.code : 'STORE_OPEN_FAILED', message: (err as Error).message });
    port.close();
    return;
  }
  endStaleEvents(opened.db);
  let reconciled: ReconcileReport | null = null;
  try {
    reconciled = data.recordingsDir ? reconcileRecordings(opened.db, data.recordingsDir) : null;
  } catch (err) {
    // A disk that cannot be written now gets the same pass at the next start; the log opens either way.
    reconciled = null;
    port.postMessage({ type: 'failing', seq: 0, message: `reconciling recordings failed: ${(err as Error).message}`, retryInMs: 0 } satisfies FromWorker);
  }
  const writer = new WriterThread(opened.db, data, post);
  port.on('message', (m: ToWorker) => writer.onMessage(m));
  post({ type: 'ready', migration: opened.migration ?? { from: 0, to: 0, applied: [] }, reconciled });
}

main();
