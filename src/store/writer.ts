// StoreWriter: the main thread's handle on the detection log's writer thread.
//
// The frame path calls addDetections()/upsertEvent(), which only append to a
// buffer; every flushIntervalMs (or sooner, once batchSize records wait) the
// buffer goes to the worker (writer-worker.ts) as one batch, which it commits
// in one transaction. A kill -9 therefore loses what was buffered or in
// flight: about the last flush interval, plus whatever a failing disk held.
//
// Memory is bounded: records buffered here plus records posted but not yet
// committed never exceed maxPending (detections) / maxPendingEvents; past
// that, new records are dropped and counted. While the disk fails, the worker
// retries the oldest batch with backoff and this side reports `failing`.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { compiledModule } from '../util/paths.js';
import { StoreError, type StoreErrorCode } from './db.js';
import type { MigrationResult } from './migrations.js';
import { DetectionPacker, malformedDetection, type EventRecord } from './records.js';
import type { DetectionRecord } from '../types.js';
import type { ReconcileReport } from './reconcile-recordings.js';
import type { RecordingsPolicy, RecordingsReport } from './recordings-retention.js';
import type { RetentionPolicy, RetentionReport, RetentionRunner } from './retention.js';
import type { SegmentRecord } from './segments.js';
import type { CrossingRecord } from './crossings.js';
import { PendingUpserts } from './writer-upserts.js';
import type { FromWorker, ToWorker, WriterWorkerData } from './writer-worker.js';
import { abortable } from '../util/abortable.js';
import type { Settle, StoreWriterOptions, StoreWriterStats, Waiter } from './writer-options.js';

export type { StoreWriterOptions, StoreWriterStats } from './writer-options.js';

export class StoreWriter implements RetentionRunner {
  readonly file: string;
  private readonly opts: Required<Omit<StoreWriterOptions, 'logger' | 'snapshotDir' | 'recordingsDir'>> & Pick<StoreWriterOptions, 'logger'>;
  private readonly worker: Worker;
  private readonly buffer: DetectionPacker;
  /** Events, segments and crossings waiting for the next hand-over; bounded with maxPendingEvents. */
  private readonly upserts = new PendingUpserts();
  /** seq → records in that batch, for batches posted and not yet committed (segments count with events). */
  private readonly inFlight = new Map<number, { detections: number; events: number }>();
  private inFlightDetections = 0;
  private inFlightEvents = 0;
  private postedSeq = 0;
  private committedSeq = 0;
  private waiters: Waiter[] = [];
  private readonly retains = new Map<number, Settle<unknown>>();
  private nextRetainId = 1;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private exited = false;
  private readonly counters = { written: 0, eventsWritten: 0, dropped: 0, droppedEvents: 0, segmentsWritten: 0, droppedSegments: 0, crossingsWritten: 0, droppedCrossings: 0, rejected: 0 };
  private lastError: string | null = null;
  private failing = false;
  migration: MigrationResult = { from: 0, to: 0, applied: [] };
  /** What the start-up pass fixed in the recordings (null without a recordings folder). */
  reconciled: ReconcileReport | null = null;

  /** Starts the writer thread; resolves once the database is open and migrated. */
  static async open(options: StoreWriterOptions): Promise<StoreWriter> {
    const writer = new StoreWriter(options);
    await writer.ready;
    return writer;
  }

  private readonly ready: Promise<void>;

  private constructor(options: StoreWriterOptions) {
    this.file = options.file;
    this.opts = {
      file: options.file,
      flushIntervalMs: options.flushIntervalMs ?? 200,
      batchSize: options.batchSize ?? 5_000,
      maxPending: options.maxPending ?? 200_000,
      maxPendingEvents: options.maxPendingEvents ?? 10_000,
      busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
      logger: options.logger,
    };
    this.buffer = new DetectionPacker(Math.min(1024, this.opts.batchSize));
    const script = compiledModule('store/writer-worker.ts');
    if (!existsSync(script)) throw new StoreError('STORE_OPEN_FAILED', `the store's writer thread needs ${script}: build first (npm run build)`);
    const data: WriterWorkerData = {
      file: options.file, snapshotDir: options.snapshotDir ?? null, recordingsDir: options.recordingsDir ?? null, busyTimeoutMs: this.opts.busyTimeoutMs,
    };
    this.worker = new Worker(script, { workerData: data });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          this.migration = m.migration;
          this.reconciled = m.reconciled;
          resolve();
        } else if (m.type === 'open-failed') {
          reject(new StoreError(m.code as StoreErrorCode, m.message));
        } else {
          this.onMessage(m);
        }
      });
      this.worker.on('error', (err) => {
        this.lastError = `writer thread crashed: ${err.message}`;
        reject(new StoreError('STORE_OPEN_FAILED', this.lastError, { cause: err }));
      });
      this.worker.on('exit', (code) => {
        reject(new StoreError('STORE_OPEN_FAILED', `the writer thread exited (code ${code}) before the store opened`));
        this.onExit(code);
      });
    });
  }

  /**
   * Hands detections to the log; returns how many were accepted. The rest
   * were over the bound (counted in `dropped`) or malformed (`rejected`).
   * The records are copied (packed) at once: the caller may reuse them.
   */
  addDetections(records: readonly DetectionRecord[]): number {
    if (this.closing || this.exited) {
      this.counters.dropped += records.length;
      return 0;
    }
    let accepted = 0;
    for (const r of records) {
      if (this.buffer.count + this.inFlightDetections >= this.opts.maxPending) {
        this.counters.dropped++;
        continue;
      }
      const why = malformedDetection(r);
      if (why) {
        this.counters.rejected++;
        this.lastError = `malformed detection skipped: ${why}`;
        continue;
      }
      this.buffer.push(r);
      accepted++;
    }
    this.afterAdd();
    return accepted;
  }

  /** Queues an event's current state; upserts of the same id before the next hand-over collapse into the last. */
  upsertEvent(event: EventRecord): boolean {
    const replaces = this.upserts.hasEvent(event.id);
    if (this.closing || this.exited || (!replaces && this.upsertsWaiting() >= this.opts.maxPendingEvents)) {
      this.counters.droppedEvents++;
      return false;
    }
    this.upserts.setEvent(event);
    this.afterAdd();
    return true;
  }

  /** Queues a segment's row (recorder: at open and at close); false when over the bound (counted). */
  upsertSegment(segment: SegmentRecord): boolean {
    const replaces = this.upserts.hasSegment(segment.path);
    const waiting = this.upsertsWaiting();
    // A closing row is never dropped at the bound (else the file stays "incomplete" and out of retention's
    // reach until the next start); ten times the bound still caps what a long-failing disk can hold.
    const over = segment.complete ? waiting >= 10 * this.opts.maxPendingEvents : waiting >= this.opts.maxPendingEvents;
    if (this.closing || this.exited || (!replaces && over)) {
      this.counters.droppedSegments++;
      return false;
    }
    this.upserts.setSegment(segment);
    this.afterAdd();
    return true;
  }

  /** Queues line crossings and zone changes (analytics/); false when over the bound (counted). */
  addCrossings(rows: readonly CrossingRecord[]): boolean {
    if (this.closing || this.exited || this.upsertsWaiting() + rows.length > this.opts.maxPendingEvents) {
      this.counters.droppedCrossings += rows.length;
      return false;
    }
    this.upserts.addCrossings(rows);
    this.afterAdd();
    return true;
  }

  private upsertsWaiting(): number {
    return this.upserts.size + this.inFlightEvents;
  }

  private afterAdd(): void {
    if (this.buffer.count + this.upserts.size >= this.opts.batchSize) this.post();
    else if (!this.timer && this.buffer.count + this.upserts.size > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.post();
      }, this.opts.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Sends what is buffered to the worker as one batch. */
  private post(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.exited || this.buffer.count + this.upserts.size === 0) return;
    const seq = ++this.postedSeq;
    const detections = this.buffer.take();
    const batch = { type: 'batch' as const, seq, detections, ...this.upserts.take() };
    const upserts = batch.events.length + batch.segments.length + batch.crossings.length;
    this.inFlight.set(seq, { detections: detections.count, events: upserts });
    this.inFlightDetections += detections.count;
    this.inFlightEvents += upserts;
    // The arrays move to the worker; this thread keeps no copy.
    this.worker.postMessage(batch, [detections.refs.buffer, detections.nums.buffer]);
  }

  private onMessage(m: Exclude<FromWorker, { type: 'ready' | 'open-failed' }>): void {
    switch (m.type) {
      case 'committed': {
        this.settleBatch(m.seq);
        this.counters.written += m.detections;
        this.counters.eventsWritten += m.events;
        this.counters.segmentsWritten += m.segments;
        this.counters.crossingsWritten += m.crossings;
        this.counters.rejected += m.rejected;
        if (m.rejected > 0) this.lastError = `${m.rejected} malformed record(s) skipped: ${m.rejectedReason ?? ''}`;
        if (this.failing) this.opts.logger?.info('store: writes succeed again');
        this.failing = false;
        this.committedSeq = m.seq;
        this.waiters = this.waiters.filter((w) => (w.seq <= this.committedSeq ? (w.resolve(), false) : true));
        break;
      }
      case 'failing':
        if (!this.failing) this.opts.logger?.warn(`store: cannot write (${m.message}); retrying, records wait in memory up to the bound`);
        this.failing = true;
        this.lastError = m.message;
        break;
      case 'retained':
        this.retains.get(m.id)?.resolve(m.report);
        this.retains.delete(m.id);
        break;
      case 'retain-failed':
        this.retains.get(m.id)?.reject(new Error(`retention failed: ${m.message}`));
        this.retains.delete(m.id);
        break;
      case 'closed':
        this.counters.dropped += m.lostDetections;
        this.counters.droppedEvents += m.lostEvents;
        if (m.lostDetections + m.lostEvents > 0) {
          this.opts.logger?.warn(`store: closed with ${m.lostDetections} detections and ${m.lostEvents} events unwritten (${this.lastError ?? 'unknown error'})`);
        }
        // Counted as lost just now; nothing is in flight any more.
        this.inFlight.clear();
        this.inFlightDetections = this.inFlightEvents = 0;
        break;
    }
  }

  private settleBatch(seq: number): void {
    const b = this.inFlight.get(seq);
    if (!b) return;
    this.inFlight.delete(seq);
    this.inFlightDetections -= b.detections;
    this.inFlightEvents -= b.events;
  }

  private onExit(code: number): void {
    this.exited = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lost = this.buffer.take().count + this.inFlightDetections;
    const lostEvents = this.upsertsWaiting();
    this.counters.dropped += lost;
    this.counters.droppedEvents += lostEvents;
    this.upserts.clear();
    this.inFlight.clear();
    this.inFlightDetections = this.inFlightEvents = 0;
    if (!this.closing) {
      // Not a close: the thread died (a bug, or the process is going down).
      // The writer stays dead and says so; its owner decides what follows.
      this.lastError = `writer thread exited (code ${code}); ${lost} detections lost`;
      this.failing = true;
      this.opts.logger?.error(`store: ${this.lastError}`);
    }
    const err = new StoreError('STORE_CLOSED', this.closing ? 'the store writer closed' : this.lastError ?? 'writer thread exited');
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    for (const r of this.retains.values()) r.reject(err);
    this.retains.clear();
  }

  /** Resolves once every record handed over before the call is committed (visible to readers). */
  flush(signal?: AbortSignal): Promise<void> {
    if (this.exited) return Promise.reject(new StoreError('STORE_CLOSED', 'the store writer is closed'));
    this.post();
    if (this.inFlight.size === 0) return Promise.resolve();
    signal?.throwIfAborted();
    let waiter: Waiter | undefined;
    const committed = new Promise<void>((resolve, reject) => {
      waiter = { seq: this.postedSeq, resolve, reject };
      this.waiters.push(waiter);
    });
    // A caller that stops waiting leaves the line; the records still commit.
    return abortable(committed, signal, () => signal?.reason as Error, () => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }

  /** Runs one retention pass in the writer thread, between batches. */
  retain(policy: RetentionPolicy, now: number = Date.now()): Promise<RetentionReport> {
    return this.job<RetentionReport>((id) => ({ type: 'retain', id, policy, now }));
  }

  /** Runs one recordings pass (recordings-retention.ts) in the writer thread; null without a recordings folder. */
  recordings(policy: RecordingsPolicy, now: number = Date.now()): Promise<RecordingsReport | null> {
    return this.job<RecordingsReport | null>((id) => ({ type: 'recordings', id, policy, now }));
  }

  private job<T>(message: (id: number) => ToWorker): Promise<T> {
    if (this.closing || this.exited) return Promise.reject(new StoreError('STORE_CLOSED', 'the store writer is closed'));
    const id = this.nextRetainId++;
    return new Promise<T>((resolve, reject) => {
      // The worker answers this id with the report of the job's own kind.
      this.retains.set(id, { resolve: (v) => resolve(v as T), reject });
      this.worker.postMessage(message(id));
    });
  }

  stats(): StoreWriterStats {
    return {
      ...this.counters,
      pending: this.buffer.count + this.upsertsWaiting() + this.inFlightDetections,
      lastError: this.lastError,
      failing: this.failing,
    };
  }

  /** Flushes (waiting at most closeTimeoutMs), then stops the thread and closes the database. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.exited) return;
    await this.flush(AbortSignal.timeout(this.opts.closeTimeoutMs)).catch(() => undefined);
    // The thread may have died while the flush waited: nothing more will exit.
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    // The worker answers 'closed' and exits; one stuck in a SQLite call for
    // longer than the grace period is terminated.
    const grace = setTimeout(() => void this.worker.terminate(), this.opts.closeTimeoutMs);
    await exited;
    clearTimeout(grace);
  }
}
