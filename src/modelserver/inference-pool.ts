// The real detector: CenterNet in worker threads, one frame per worker at a time.
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { status as Status } from '@grpc/grpc-js';
import { abortable } from '../util/abortable.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import { compiledModule } from '../util/paths.js';
import { CancelledError, ServerError, ServerUnavailableError } from '../tfserving/errors.js';
import { BoundedExecutor, type Reservation } from './bounded-executor.js';
import type { DetectorOutput } from './centernet.js';
import type { Detector, DetectorStats, RgbFrame } from './detector.js';
import type { WorkerData, WorkerReply } from './worker-protocol.js';

export interface InferencePoolOptions {
  modelJsonPath: string;
  classIds: number[];
  scoreThreshold: number;
  /** Worker threads; default one per core. */
  workers?: number;
  /** Frames allowed to wait for a worker; default 4 per worker. */
  maxQueue?: number;
  /** Niceness of the worker threads, 0-19; default 10 (see inference-worker.ts). */
  nice?: number;
}

/**
 * Inference yields the cores to lookout's event loops and ffmpeg when they
 * are all busy (measured in the soak: event-loop p99 with the real model).
 */
export const DEFAULT_WORKER_NICE = 10;

interface Pending {
  id: number;
  resolve: (out: DetectorOutput) => void;
  reject: (err: Error) => void;
}

/**
 * Delays between attempts to replace a dead worker: 1 s doubling to 30 s.
 * No jitter: the workers are threads of one process, so there is no crowd
 * of clients to spread out.
 */
export const WORKER_RESPAWN_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0 };

class WorkerSlot {
  worker: Worker | undefined;
  /** Resolves when the slot's worker has loaded the model; pending while one is being replaced. */
  ready: Promise<void> = Promise.resolve();
  pending: Pending | undefined;
  /** Whether the current worker loaded the model; only such a worker is replaced when it dies. */
  loaded = false;
  respawnTimer: NodeJS.Timeout | undefined;
  nextId = 1;
}

export class InferencePool implements Detector {
  readonly description: string;
  private readonly executor: BoundedExecutor;
  private readonly slots: WorkerSlot[];
  private readonly data: WorkerData;
  private inferMsTotal = 0;
  private inferCount = 0;
  private closing: Promise<void> | undefined;

  constructor(options: InferencePoolOptions) {
    const workers = options.workers ?? os.availableParallelism();
    this.executor = new BoundedExecutor(workers, options.maxQueue ?? workers * 4);
    this.slots = Array.from({ length: workers }, () => new WorkerSlot());
    const nice = options.nice ?? DEFAULT_WORKER_NICE;
    this.data = { modelJsonPath: options.modelJsonPath, classIds: options.classIds, scoreThreshold: options.scoreThreshold, nice };
    this.description = `CenterNet (${options.modelJsonPath}) on ${workers} worker thread(s) at niceness ${nice}, WebAssembly backend`;
  }

  async load(): Promise<void> {
    try {
      await Promise.all(this.slots.map((slot) => this.spawn(slot)));
    } catch (err) {
      // Do not leave the workers that did load running behind a failed load.
      await this.close();
      throw err;
    }
  }

  /** Starts a worker in the slot; resolves when it has loaded the model. */
  private spawn(slot: WorkerSlot): Promise<void> {
    if (this.closing) return Promise.reject(new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down'));
    const worker = new Worker(compiledModule('modelserver/inference-worker.ts'), { workerData: this.data });
    slot.worker = worker;
    slot.loaded = false;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') {
          slot.loaded = true;
          resolve();
        } else if (reply.type === 'load-failed') {
          reject(new Error(`model failed to load: ${reply.message}`));
        } else if (slot.pending && reply.id === slot.pending.id) {
          const p = slot.pending;
          slot.pending = undefined;
          if (reply.type === 'result') {
            this.inferMsTotal += reply.inferMs;
            this.inferCount++;
            p.resolve(reply.output);
          } else {
            p.reject(new ServerError(Status.INTERNAL, `inference failed: ${reply.message}`));
          }
        }
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        reject(new Error(`inference worker exited with code ${code} before it was ready`));
        if (slot.worker !== worker) return;
        slot.worker = undefined;
        const p = slot.pending;
        slot.pending = undefined;
        p?.reject(new ServerError(Status.INTERNAL, `inference worker exited with code ${code}`));
        // A crashed worker is replaced, so one bad frame does not shrink the pool
        // for good; one that never loaded is not, or a broken model would respawn forever.
        if (!this.closing && slot.loaded) {
          slot.ready = this.replace(slot);
          // Frames waiting on this slot observe the outcome; nothing else must see it unhandled.
          slot.ready.catch(() => undefined);
        }
      });
    });
  }

  /** Replaces a dead worker, retrying with backoff until one loads or the pool closes. */
  private replace(slot: WorkerSlot): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let attempt = 0;
      const tryOnce = (): void => {
        slot.respawnTimer = undefined;
        attempt++;
        this.spawn(slot).then(resolve, () => {
          if (this.closing) {
            reject(new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down'));
            return;
          }
          slot.worker?.terminate().catch(() => undefined);
          slot.worker = undefined;
          slot.respawnTimer = setTimeout(tryOnce, backoffDelay(attempt, WORKER_RESPAWN_BACKOFF));
        });
      };
      tryOnce();
    });
  }

  reserve(frames: number): Reservation {
    return this.executor.reserve(frames);
  }

  detect(frames: readonly RgbFrame[], reservation: Reservation, signal?: AbortSignal): Promise<DetectorOutput[]> {
    const tasks = frames.map((frame) => (slotIndex: number) => this.runOn(this.slots[slotIndex], frame, signal));
    return Promise.all(reservation.run(tasks, signal));
  }

  private async runOn(slot: WorkerSlot, frame: RgbFrame, signal: AbortSignal | undefined): Promise<DetectorOutput> {
    await this.whenReady(slot, signal);
    const worker = slot.worker;
    if (!worker || this.closing) throw new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down');
    // One copy into a buffer the worker then owns (transferred, not cloned): the
    // request's bytes are a view into gRPC's receive buffer and cannot be transferred.
    const pixels = new ArrayBuffer(frame.pixels.byteLength);
    new Uint8Array(pixels).set(frame.pixels);
    const id = slot.nextId++;
    return new Promise<DetectorOutput>((resolve, reject) => {
      slot.pending = { id, resolve, reject };
      worker.postMessage({ type: 'infer', id, width: frame.width, height: frame.height, pixels }, [pixels]);
    });
  }

  /** Waits for the slot's worker, unless the caller gives up first; the replacement goes on for the frames after. */
  private whenReady(slot: WorkerSlot, signal: AbortSignal | undefined): Promise<void> {
    return abortable(slot.ready, signal, () => new CancelledError(Status.CANCELLED, 'the caller cancelled the request while a worker restarted'));
  }

  stats(): DetectorStats {
    return {
      ...this.executor.stats(),
      inferMsAvg: this.inferCount ? this.inferMsTotal / this.inferCount : 0,
      workersReady: this.slots.filter((s) => s.worker && s.loaded).length,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.executor.close();
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.respawnTimer) clearTimeout(slot.respawnTimer);
        const worker = slot.worker;
        slot.worker = undefined;
        slot.pending?.reject(new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down'));
        slot.pending = undefined;
        if (worker) await worker.terminate();
      }),
    );
  }
}
