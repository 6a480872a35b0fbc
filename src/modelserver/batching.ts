// Server-side batching, as TF Serving's --enable_batching does it
// (PARITY.md §3.2, its SharedBatchScheduler): requests of different clients
// join one open batch; the batch goes to the model as one call when it
// reaches maxBatchSize or its first request has waited batchTimeoutMicros,
// and a batch thread (numBatchThreads) is free; the answers are split back
// per request. Bounds and refusals are TF Serving's: a request larger than a
// batch is INVALID_ARGUMENT, and with maxEnqueuedBatches batches waiting a
// new one is UNAVAILABLE (HTTP 503), at once. A formed batch is padded up to
// the next allowedBatchSizes entry with copies of its first frame, whose
// answers are dropped.
import { status as Status } from '@grpc/grpc-js';
import { CancelledError, invalidArgument, ServerError } from '../tfserving/errors.js';
import { onAbort } from '../util/abortable.js';
import type { Reservation } from './bounded-executor.js';
import type { DetectorOutput } from './centernet.js';
import type { Detector, DetectorStats, RgbFrame } from './detector.js';

export interface BatchingOptions {
  maxBatchSize: number;
  batchTimeoutMicros: number;
  maxEnqueuedBatches: number;
  numBatchThreads: number;
  /** Sizes a batch is padded up to, increasing, the last equal to maxBatchSize; empty: no padding. */
  allowedBatchSizes: readonly number[];
}

export interface BatchingStats {
  /** Batches run, and the requests and frames (padding excluded) they held. */
  batches: number;
  tasks: number;
  frames: number;
  /** Frames added to reach an allowed batch size. */
  padded: number;
  /** Requests refused because the queue was full. */
  refused: number;
}

interface BatchTask {
  frames: readonly RgbFrame[];
  resolve(outputs: DetectorOutput[]): void;
  reject(err: Error): void;
  /** Set while the task waits in an open batch: taking it out when its caller gives up. */
  cancelled: boolean;
}

interface Batch {
  tasks: BatchTask[];
  size: number;
  /** When its first task has waited batchTimeoutMicros: it may go then, full or not. */
  dueAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Closed to new tasks: full (or the next task did not fit). */
  closed: boolean;
}

/** The room batching holds for a request before its frames are decoded: its size, checked against the batch bound. */
class TaskTicket implements Reservation {
  constructor(readonly count: number) {}
  run<T>(): Promise<T>[] {
    throw new Error('a batching ticket is consumed by BatchingDetector.detect');
  }
  release(): void {}
}

export class BatchingDetector implements Detector {
  readonly description: string;
  private readonly batches: Batch[] = [];
  private running = 0;
  private closed = false;
  private readonly counts: BatchingStats = { batches: 0, tasks: 0, frames: 0, padded: 0, refused: 0 };

  constructor(private readonly inner: Detector, private readonly options: BatchingOptions) {
    this.description = `${inner.description}, batching up to ${options.maxBatchSize} frames (${options.batchTimeoutMicros} µs timeout, ${options.numBatchThreads} batch threads)`;
  }

  load(): Promise<void> {
    return this.inner.load();
  }

  /** TF Serving's checks before a request joins a batch: its size, and room in the queue. */
  reserve(frames: number): Reservation {
    const { maxBatchSize, maxEnqueuedBatches } = this.options;
    if (frames > maxBatchSize) throw invalidArgument(`Task size ${frames} is larger than maximum input batch size ${maxBatchSize}`);
    const open = this.openBatch();
    const wouldOpen = !open || open.size + frames > maxBatchSize;
    if (wouldOpen && this.batches.length >= maxEnqueuedBatches) {
      this.counts.refused++;
      throw this.queueFull();
    }
    return new TaskTicket(frames);
  }

  private queueFull(): ServerError {
    return new ServerError(Status.UNAVAILABLE, `The batch scheduling queue to which this task was submitted is full; currently ${this.batches.length} batches enqueued and max_enqueued_batches is ${this.options.maxEnqueuedBatches}`);
  }

  detect(frames: readonly RgbFrame[], _reservation: Reservation, signal?: AbortSignal): Promise<DetectorOutput[]> {
    if (this.closed) return Promise.reject(new ServerError(Status.UNAVAILABLE, 'model server closed'));
    if (signal?.aborted) return Promise.reject(new CancelledError(Status.CANCELLED, 'the request was cancelled'));
    return new Promise<DetectorOutput[]>((resolve, reject) => {
      let stop: (() => void) | undefined;
      const task: BatchTask = {
        frames,
        cancelled: false,
        resolve: (o) => { stop?.(); resolve(o); },
        reject: (e) => { stop?.(); reject(e); },
      };
      stop = onAbort(signal, () => {
        // Waiting in a batch not yet sent: it leaves it. Once sent, the batch runs for the others.
        const batch = this.batches.find((b) => b.tasks.includes(task));
        if (!batch) return;
        task.cancelled = true;
        batch.tasks = batch.tasks.filter((t) => t !== task);
        batch.size -= frames.length;
        // An emptied batch waits for nobody: it leaves the queue, and counts no more against its bound.
        if (batch.tasks.length === 0) {
          if (batch.timer) clearTimeout(batch.timer);
          this.batches.splice(this.batches.indexOf(batch), 1);
        }
        reject(new CancelledError(Status.CANCELLED, 'the request was cancelled'));
      });
      this.enqueue(task);
    });
  }

  private openBatch(): Batch | undefined {
    const last = this.batches.at(-1);
    return last && !last.closed ? last : undefined;
  }

  private enqueue(task: BatchTask): void {
    let batch = this.openBatch();
    if (!batch || batch.size + task.frames.length > this.options.maxBatchSize) {
      // reserve() checked before the request's images were decoded; requests decoded meanwhile may have filled the queue.
      if (this.batches.length >= this.options.maxEnqueuedBatches) {
        this.counts.refused++;
        task.reject(this.queueFull());
        return;
      }
      if (batch) batch.closed = true;
      const ms = this.options.batchTimeoutMicros / 1000;
      const open: Batch = { tasks: [], size: 0, dueAt: performance.now() + ms, timer: undefined, closed: false };
      this.batches.push(open);
      // With a timeout of 0 the batch is due at once, and goes as soon as a batch thread is free; meanwhile it fills.
      // Due, it still fills until a batch thread takes it (as TF's scheduler does); the timer sets
      // dueAt itself, since a timer may fire a little before performance.now() reaches it.
      if (ms > 0) open.timer = setTimeout(() => { open.timer = undefined; open.dueAt = Math.min(open.dueAt, performance.now()); this.pump(); }, ms);
      batch = open;
    }
    batch.tasks.push(task);
    batch.size += task.frames.length;
    if (batch.size >= this.options.maxBatchSize) batch.closed = true;
    this.pump();
  }

  /** Runs batches that are full or due, oldest first, while batch threads are free. */
  private pump(): void {
    while (this.running < this.options.numBatchThreads) {
      const now = performance.now();
      const next = this.batches.find((b) => b.closed || now >= b.dueAt);
      if (!next) return;
      this.batches.splice(this.batches.indexOf(next), 1);
      if (next.timer) clearTimeout(next.timer);
      if (next.tasks.length === 0) continue;
      this.running++;
      void this.run(next).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(batch: Batch): Promise<void> {
    const tasks = batch.tasks.filter((t) => !t.cancelled);
    const frames = tasks.flatMap((t) => t.frames);
    const target = this.options.allowedBatchSizes.find((s) => s >= frames.length) ?? frames.length;
    const padded = [...frames, ...Array.from({ length: target - frames.length }, () => frames[0])];
    try {
      const outputs = await this.inner.detect(padded, this.inner.reserve(padded.length));
      this.counts.batches++;
      this.counts.tasks += tasks.length;
      this.counts.frames += frames.length;
      this.counts.padded += padded.length - frames.length;
      let at = 0;
      for (const t of tasks) {
        t.resolve(outputs.slice(at, at + t.frames.length));
        at += t.frames.length;
      }
    } catch (err) {
      for (const t of tasks) t.reject(err as Error);
    }
  }

  batchingStats(): BatchingStats {
    return { ...this.counts };
  }

  stats(): DetectorStats {
    return this.inner.stats();
  }

  /** Requests still waiting in batches fail with UNAVAILABLE; then the inner detector closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const b of this.batches.splice(0)) {
      if (b.timer) clearTimeout(b.timer);
      for (const t of b.tasks) t.reject(new ServerError(Status.UNAVAILABLE, 'model server closed'));
    }
    await this.inner.close();
  }
}
