// Runs tasks on a fixed number of slots (worker threads, or the synthetic
// model's capacity) with a bounded waiting line. When the line is full a
// request is refused at once with RESOURCE_EXHAUSTED, as TF Serving's batch
// scheduler does, instead of queueing without limit.
//
// Room is reserved before a request does any work (decoding its images), so a
// full server refuses cheaply, and a request never half-runs.
import { status as Status } from '@grpc/grpc-js';
import { CancelledError, ServerBusyError, ServerUnavailableError } from '../tfserving/errors.js';
import { onAbort } from '../util/abortable.js';

export type Task<T> = (slot: number) => Promise<T>;

interface Waiting {
  start: (slot: number) => void;
  fail: (err: Error) => void;
}

export interface ExecutorStats {
  running: number;
  waiting: number;
  completed: number;
  /** Tasks refused because the waiting line was full. */
  rejected: number;
  /** Tasks dropped because their caller gave up while they waited. */
  cancelled: number;
}

/** Room held for `count` tasks; run them with `run`, or give the room back with `release`. */
export interface Reservation {
  readonly count: number;
  run<T>(tasks: readonly Task<T>[], signal?: AbortSignal): Promise<T>[];
  release(): void;
}

export class BoundedExecutor {
  private readonly freeSlots: number[];
  private readonly waiting: Waiting[] = [];
  /** Room promised to reservations that have not run yet. */
  private reserved = 0;
  private completed = 0;
  private rejected = 0;
  private cancelled = 0;
  private closed = false;

  constructor(readonly concurrency: number, readonly maxQueue: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`maxQueue must be an integer ≥ 0, got ${maxQueue}`);
    this.freeSlots = Array.from({ length: concurrency }, (_, i) => concurrency - 1 - i);
  }

  /**
   * Holds room for `count` tasks, or throws ServerBusyError (RESOURCE_EXHAUSTED)
   * at once: all or none, so a batch is refused whole.
   */
  reserve(count: number): Reservation {
    if (this.closed) throw new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down');
    const room = this.freeSlots.length + this.maxQueue - this.waiting.length - this.reserved;
    if (count > room) {
      this.rejected += count;
      throw new ServerBusyError(
        Status.RESOURCE_EXHAUSTED,
        `inference queue is full: ${this.waiting.length + this.reserved} of ${this.maxQueue} waiting, ${this.concurrency - this.freeSlots.length} of ${this.concurrency} running; this request needs ${count}`,
      );
    }
    this.reserved += count;
    let open = true;
    const close = (): void => {
      if (!open) return;
      open = false;
      this.reserved -= count;
    };
    return {
      count,
      run: <T>(tasks: readonly Task<T>[], signal?: AbortSignal): Promise<T>[] => {
        if (!open) throw new Error('reservation already used or released');
        if (tasks.length > count) throw new RangeError(`reservation holds ${count} tasks, got ${tasks.length}`);
        close();
        if (this.closed) throw new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down');
        return tasks.map((task) => this.enqueue(task, signal));
      },
      release: close,
    };
  }

  /** reserve() and run() in one step. */
  submitAll<T>(tasks: readonly Task<T>[], signal?: AbortSignal): Promise<T>[] {
    return this.reserve(tasks.length).run(tasks, signal);
  }

  private enqueue<T>(task: Task<T>, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        this.cancelled++;
        reject(new CancelledError(Status.CANCELLED, 'the caller cancelled the request before it ran'));
        return;
      }
      let stopListening = (): void => undefined;
      const start = (slot: number): void => {
        stopListening();
        // Promise.resolve().then: a task that throws synchronously still gives its slot back.
        Promise.resolve()
          .then(() => task(slot))
          .then(resolve, reject)
          .finally(() => this.release(slot));
      };
      const slot = this.freeSlots.pop();
      if (slot !== undefined) {
        start(slot);
        return;
      }
      const entry: Waiting = {
        start,
        fail: (err) => {
          stopListening();
          reject(err);
        },
      };
      // A caller that gives up while waiting leaves the line at once, so its
      // room is free for the next request and it is never computed.
      stopListening = onAbort(signal, () => {
        const i = this.waiting.indexOf(entry);
        if (i === -1) return;
        this.waiting.splice(i, 1);
        this.cancelled++;
        reject(new CancelledError(Status.CANCELLED, 'the caller cancelled the request while it waited'));
      });
      this.waiting.push(entry);
    });
  }

  private release(slot: number): void {
    this.completed++;
    const next = this.closed ? undefined : this.waiting.shift();
    if (next) next.start(slot);
    else this.freeSlots.push(slot);
  }

  stats(): ExecutorStats {
    return {
      running: this.concurrency - this.freeSlots.length,
      waiting: this.waiting.length,
      completed: this.completed,
      rejected: this.rejected,
      cancelled: this.cancelled,
    };
  }

  /** Refuses new tasks and fails those still waiting; running ones finish. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.fail(new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down'));
  }
}
