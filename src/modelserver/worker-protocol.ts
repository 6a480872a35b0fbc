// Messages between InferencePool and its worker threads.
import type { DetectorOutput } from './centernet.js';

export interface WorkerData {
  modelJsonPath: string;
  /** Label-map id of each of the model's class indexes. */
  classIds: number[];
  scoreThreshold: number;
  /** Niceness the worker gives its own thread (0 leaves it as it is). */
  nice: number;
}

export type WorkerRequest = {
  type: 'infer';
  id: number;
  width: number;
  height: number;
  /** Packed RGB24, transferred (not copied) to the worker. */
  pixels: ArrayBuffer;
};

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; output: DetectorOutput; inferMs: number }
  | { type: 'failed'; id: number; message: string };
