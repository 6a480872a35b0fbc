// A stand-in detector for tests and benchmarks: no model, a fixed answer after
// a set delay, with at most `capacity` requests at once. It behaves like a GPU
// server: a whole batch holds one slot for one latency, so batching pays.
//
// Every frame gets the same three detections (COCO label-map ids):
//   person  (1)  score 0.90  box [0.10, 0.10, 0.90, 0.40]
//   bottle  (44) score 0.75  box [0.40, 0.55, 0.85, 0.70]
//   chair   (62) score 0.35  box [0.60, 0.75, 0.95, 0.95]
import { status as Status } from '@grpc/grpc-js';
import { ServerUnavailableError } from '../tfserving/errors.js';
import { BoundedExecutor } from './bounded-executor.js';
import { emptyOutput, type DetectorOutput } from './centernet.js';
import type { Detector, RgbFrame } from './detector.js';

export const SYNTHETIC_DETECTIONS: readonly { classId: number; score: number; box: [number, number, number, number] }[] = [
  { classId: 1, score: 0.9, box: [0.1, 0.1, 0.9, 0.4] },
  { classId: 44, score: 0.75, box: [0.4, 0.55, 0.85, 0.7] },
  { classId: 62, score: 0.35, box: [0.6, 0.75, 0.95, 0.95] },
];

export interface SyntheticOptions {
  latencyMs: number;
  capacity: number;
  /** Requests allowed to wait for a slot; default 4 × capacity. */
  maxQueue?: number;
}

function fixedOutput(): DetectorOutput {
  const out = emptyOutput();
  SYNTHETIC_DETECTIONS.forEach((d, i) => {
    out.boxes.set(d.box, i * 4);
    out.scores[i] = d.score;
    out.classes[i] = d.classId;
  });
  out.num = SYNTHETIC_DETECTIONS.length;
  return out;
}

export class SyntheticDetector implements Detector {
  readonly description: string;
  private readonly executor: BoundedExecutor;
  /** Requests in their latency wait, with the way to end them early on close. */
  private readonly sleeping = new Map<NodeJS.Timeout, (err: Error) => void>();

  constructor(private readonly options: SyntheticOptions) {
    if (!(options.latencyMs >= 0)) throw new RangeError(`latency-ms must be ≥ 0, got ${options.latencyMs}`);
    this.executor = new BoundedExecutor(options.capacity, options.maxQueue ?? options.capacity * 4);
    this.description = `synthetic detector (${options.latencyMs} ms per request, capacity ${options.capacity})`;
  }

  async load(): Promise<void> {}

  async detect(frames: readonly RgbFrame[], signal?: AbortSignal): Promise<DetectorOutput[]> {
    const [done] = this.executor.submitAll([
      () =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.sleeping.delete(timer);
            resolve();
          }, this.options.latencyMs);
          this.sleeping.set(timer, reject);
        }),
    ], signal);
    await done;
    return frames.map(fixedOutput);
  }

  stats() {
    return { ...this.executor.stats(), inferMsAvg: this.options.latencyMs };
  }

  async close(): Promise<void> {
    this.executor.close();
    for (const [timer, fail] of this.sleeping) {
      clearTimeout(timer);
      fail(new ServerUnavailableError(Status.UNAVAILABLE, 'model server is shutting down'));
    }
    this.sleeping.clear();
  }
}
