// What the model server needs from a detector, whichever one runs.
import type { DetectorOutput } from './centernet.js';
import type { ExecutorStats, Reservation } from './bounded-executor.js';

export interface RgbFrame {
  width: number;
  height: number;
  /** Packed RGB24 rows. */
  pixels: Uint8Array;
}

export interface DetectorStats extends ExecutorStats {
  /** Mean model time per frame, in ms. */
  inferMsAvg: number;
  /** Inference workers able to take a frame now. */
  workersReady: number;
}

export interface Detector {
  /** For logs and status: what model runs, on what. */
  readonly description: string;
  /** Loads weights and starts workers; rejects with the reason when it cannot. */
  load(): Promise<void>;
  /**
   * Holds room for a request of `frames` images before any work is done on
   * it, or throws ServerBusyError (RESOURCE_EXHAUSTED) at once.
   */
  reserve(frames: number): Reservation;
  /**
   * Detects objects in each frame, in the room `reservation` holds (consumed).
   * Frames whose signal aborts while they wait are dropped (CANCELLED).
   */
  detect(frames: readonly RgbFrame[], reservation: Reservation, signal?: AbortSignal): Promise<DetectorOutput[]>;
  stats(): DetectorStats;
  /** Stops the workers; frames still waiting fail with UNAVAILABLE. Safe to call twice. */
  close(): Promise<void>;
}
