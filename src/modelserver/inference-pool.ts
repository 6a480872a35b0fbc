// The real detector: CenterNet in worker threads, one frame per worker at a time.
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { status as Status } from '@grpc/grpc-js';
import { compiledModule } from '../paths.js';
import { ServerError, ServerUnavailableError } from '../tfserving/errors.js';
import { BoundedExecutor } from './bounded-executor.js';
import type { DetectorOutput } from './centernet.js';
import type { Detector, RgbFrame } from './detector.js';
import type { WorkerData, WorkerReply } from './worker-protocol.js';

export interface InferencePoolOptions {
  modelJsonPath: string;
  classIds: number[];
  scoreThreshold: number;
  /** Worker threads; default one per core. */
  workers?: number;
  /** Frames allowed to wait for a worker; default 4 per worker. */
  maxQueue?: number;
}

interface Pending {
  resolve: (out: DetectorOutput) => void;
  reject: (err: Error) => void;
}

class WorkerSlot {
  worker: Worker | undefined;
  ready: Promise<void> = Promise.resolve();
  pending: Pending | undefined;
  /** Whether the current worker ever loaded the model; only such a worker is replaced when it dies. */
  loaded = false;
  nextId = 1;
}

export class InferencePool implements Detector {
  readonly description: string;
  private readonly executor: BoundedExecutor;
  private readonly slots: WorkerSlot[];
  private readonly data: WorkerData;
  private inferMsTotal = 0;
  private inferCount = 0;
  private closing = false;

  constructor(options: InferencePoolOptions) {
    const workers = options.workers ?? os.availableParallelism();
    this.executor = new BoundedExecutor(workers, options.maxQueue ?? workers * 4);
    this.slots = Array.from({ length: workers }, () => new WorkerSlot());
    this.data = { modelJsonPath: options.modelJsonPath, classIds: options.classIds, scoreThreshold: options.scoreThreshold };
    this.description = `CenterNet (${options.modelJsonPath}) on ${workers} worker thread(s), WebAssembly backend`;
  }

  async load(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.spawn(slot)));
  }

  private spawn(slot: WorkerSlot): Promise<void> {
    const worker = new Worker(compiledModule('modelserver/inference-worker.ts'), { workerData: this.data });
    slot.worker = worker;
    slot.loaded = false;
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (reply: WorkerReply): void => {
        if (reply.type === 'ready') {
          slot.loaded = true;
          resolve();
        }
        else if (reply.type === 'load-failed') reject(new Error(`model failed to load: ${reply.message}`));
        else if (reply.type === 'result' && slot.pending) {
          this.inferMsTotal += reply.inferMs;
          this.inferCount++;
          const p = slot.pending;
          slot.pending = undefined;
          p.resolve(reply.output);
        } else if (reply.type === 'failed' && slot.pending) {
          const p = slot.pending;
          slot.pending = undefined;
          p.reject(new ServerError(Status.INTERNAL, `inference failed: ${reply.message}`));
        }
      };
      worker.on('message', onMessage);
      worker.on('error', (err) => reject(err));
      worker.on('exit', (code) => {
        reject(new Error(`inference worker exited with code ${code} before it was ready`));
        if (slot.worker !== worker) return;
        slot.worker = undefined;
        const p = slot.pending;
        slot.pending = undefined;
        p?.reject(new ServerError(Status.INTERNAL, `inference worker exited with code ${code}`));
        // A crashed worker is replaced, so one bad frame does not shrink the pool
        // for good; one that never loaded is not, or a broken model would respawn forever.
        if (!this.closing && slot.loaded) this.spawn(slot).catch(() => undefined);
      });
    });
    return slot.ready;
  }

  detect(frames: readonly RgbFrame[], signal?: AbortSignal): Promise<DetectorOutput[]> {
    const tasks = frames.map((frame) => (slotIndex: number) => this.runOn(this.slots[slotIndex], frame));
    return Promise.all(this.executor.submitAll(tasks, signal));
  }

  private async runOn(slot: WorkerSlot, frame: RgbFrame): Promise<DetectorOutput> {
    await slot.ready;
    const worker = slot.worker;
    if (!worker || this.closing) throw new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down');
    // The worker owns the pixels after this: copy them out of the request's buffer once and transfer.
    const pixels = new ArrayBuffer(frame.pixels.byteLength);
    new Uint8Array(pixels).set(frame.pixels);
    return new Promise<DetectorOutput>((resolve, reject) => {
      slot.pending = { resolve, reject };
      worker.postMessage({ type: 'infer', id: slot.nextId++, width: frame.width, height: frame.height, pixels }, [pixels]);
    });
  }

  stats() {
    return { ...this.executor.stats(), inferMsAvg: this.inferCount ? this.inferMsTotal / this.inferCount : 0 };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.executor.close();
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = slot.worker;
        slot.worker = undefined;
        slot.pending?.reject(new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down'));
        slot.pending = undefined;
        if (worker) await worker.terminate();
      }),
    );
  }
}
