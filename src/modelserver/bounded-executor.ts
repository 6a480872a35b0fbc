// Runs tasks on a fixed number of slots (worker threads, or the synthetic
// model's capacity) with a bounded waiting line. When the line is full a
// request is refused at once with RESOURCE_EXHAUSTED, as TF Serving's batch
// scheduler does, instead of queueing without limit.
import { status as Status } from '@grpc/grpc-js';
import { CancelledError, ServerBusyError, ServerUnavailableError } from '../tfserving/errors.js';

type Task<T> = (slot: number) => Promise<T>;

interface Waiting {
  run: (slot: number) => void;
  fail: (err: Error) => void;
}

export interface ExecutorStats {
  running: number;
  waiting: number;
  completed: number;
  /** Tasks refused because the waiting line was full. */
  rejected: number;
  /** Tasks skipped because their caller gave up while they waited. */
  cancelled: number;
}

export class BoundedExecutor {
  private readonly freeSlots: number[];
  private readonly waiting: Waiting[] = [];
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
   * Admits all tasks or none: a batch is refused whole when there is not room
   * for every one of its tasks, so a request never half-runs.
   */
  submitAll<T>(tasks: readonly Task<T>[], signal?: AbortSignal): Promise<T>[] {
    if (this.closed) throw new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down');
    const room = this.freeSlots.length + (this.maxQueue - this.waiting.length);
    if (tasks.length > room) {
      this.rejected += tasks.length;
      throw new ServerBusyError(
        Status.RESOURCE_EXHAUSTED,
        `inference queue is full: ${this.waiting.length} of ${this.maxQueue} waiting, ${this.concurrency - this.freeSlots.length} of ${this.concurrency} running; this request needs ${tasks.length}`,
      );
    }
    return tasks.map((task) => this.enqueue(task, signal));
  }

  private enqueue<T>(task: Task<T>, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = (slot: number): void => {
        // A request whose caller gave up while it waited is not computed:
        // its slot goes straight to the next one.
        if (signal?.aborted) {
          this.cancelled++;
          reject(new CancelledError(Status.CANCELLED, 'the caller cancelled the request while it waited'));
          this.release(slot, false);
          return;
        }
        task(slot).then(resolve, reject).finally(() => this.release(slot));
      };
      const slot = this.freeSlots.pop();
      if (slot !== undefined) run(slot);
      else this.waiting.push({ run, fail: reject });
    });
  }

  private release(slot: number, completed = true): void {
    if (completed) this.completed++;
    // A queued task that was cancelled releases the slot synchronously, so this can recurse
    // through a run of cancelled tasks; each level removes one task, so it ends.
    const next = this.waiting.shift();
    if (next && !this.closed) next.run(slot);
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
