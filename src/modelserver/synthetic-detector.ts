// A stand-in detector for tests and benchmarks: no model, a fixed answer after
// a set delay, with at most `capacity` requests at once. It behaves like a GPU
// server: a whole batch holds one slot, for latencyMs + perFrameMs × N, so
// batching pays.
//
// Every frame gets the same three detections (COCO label-map ids):
//   person  (1)  score 0.90  box [0.10, 0.10, 0.90, 0.40]
//   bottle  (44) score 0.75  box [0.40, 0.55, 0.85, 0.70]
//   chair   (62) score 0.35  box [0.60, 0.75, 0.95, 0.95]
import { status as Status } from '@grpc/grpc-js';
import { ServerUnavailableError } from '../tfserving/errors.js';
import { BoundedExecutor, type Reservation } from './bounded-executor.js';
import { emptyOutput, type DetectorOutput } from './centernet.js';
import type { Detector, DetectorStats, RgbFrame } from './detector.js';

export const SYNTHETIC_DETECTIONS: readonly { classId: number; score: number; box: [number, number, number, number] }[] = [
  { classId: 1, score: 0.9, box: [0.1, 0.1, 0.9, 0.4] },
  { classId: 44, score: 0.75, box: [0.4, 0.55, 0.85, 0.7] },
  { classId: 62, score: 0.35, box: [0.6, 0.75, 0.95, 0.95] },
];

export interface SyntheticOptions {
  /** Fixed cost of one call, whatever its batch size (a GPU's kernel launch and transfer). */
  latencyMs: number;
  /** Added cost per frame of a batch: a call of N frames takes latencyMs + perFrameMs × N. */
  perFrameMs?: number;
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
    if (!((options.perFrameMs ?? 0) >= 0)) throw new RangeError(`per-frame-ms must be ≥ 0, got ${options.perFrameMs}`);
    this.executor = new BoundedExecutor(options.capacity, options.maxQueue ?? options.capacity * 4);
    const perFrame = options.perFrameMs ? ` + ${options.perFrameMs} ms per frame` : '';
    this.description = `synthetic detector (${options.latencyMs} ms per request${perFrame}, capacity ${options.capacity})`;
  }

  async load(): Promise<void> {}

  /** A whole batch holds one slot, as one call on a GPU does. */
  reserve(_frames: number): Reservation {
    return this.executor.reserve(1);
  }

  async detect(frames: readonly RgbFrame[], reservation: Reservation, signal?: AbortSignal): Promise<DetectorOutput[]> {
    const [done] = reservation.run([
      () =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.sleeping.delete(timer);
            resolve();
          }, this.options.latencyMs + (this.options.perFrameMs ?? 0) * frames.length);
          this.sleeping.set(timer, reject);
        }),
    ], signal);
    await done;
    return frames.map(fixedOutput);
  }

  stats(): DetectorStats {
    return { ...this.executor.stats(), inferMsAvg: this.options.latencyMs, workersReady: this.options.capacity };
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
