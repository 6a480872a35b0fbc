// What the model server needs from a detector, whichever one runs.
import type { DetectorOutput } from './centernet.js';
import type { ExecutorStats } from './bounded-executor.js';

export interface RgbFrame {
  width: number;
  height: number;
  /** Packed RGB24 rows. */
  pixels: Uint8Array;
}

export interface Detector {
  /** For logs and status: what model runs, on what. */
  readonly description: string;
  /** Loads weights and starts workers; rejects with the reason when it cannot. */
  load(): Promise<void>;
  /**
   * Detects objects in each frame. Throws ServerBusyError (RESOURCE_EXHAUSTED)
   * at once when its queue cannot take the whole batch. Frames whose signal
   * aborted while they waited are skipped (CANCELLED).
   */
  detect(frames: readonly RgbFrame[], signal?: AbortSignal): Promise<DetectorOutput[]>;
  stats(): ExecutorStats & { inferMsAvg: number };
  close(): Promise<void>;
}
