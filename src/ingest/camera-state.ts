// What a camera says about itself (its status, as /api/cameras shows it) and
// the moves its state may make.
import type { CameraState } from '../types.js';
import type { StreamInfo } from './ffmpeg-stderr.js';

export interface CameraStatus {
  id: string;
  url: string;
  state: CameraState;
  lastError: string | undefined;
  stderrTail: string[];
  ffmpeg: { path: string; version: string; source: string };
  input: StreamInfo | undefined;
  detectSize: { width: number; height: number } | undefined;
  liveSize: { width: number; height: number } | undefined;
  restarts: number;
  since: number;
  frames: { detect: number; live: number; fragments: number };
  /** The video viewers get: the camera's own codec copied, or transcoded to H.264 from `from`. */
  video: { codec: string; transcoded: boolean; from: string; width: number; height: number } | undefined;
  /** Fragments the decoders skipped because they were behind. */
  decoderSkipped: { detect: number; live: number };
  /** Whether the JPEG view's decoder runs (someone watches as JPEG). */
  liveDecoding: boolean;
  /** ms until the next restart, while reconnecting or failed. */
  retryInMs: number | undefined;
  /** The running ffmpeg's pid (and process group id): the camera's one connection. */
  pid: number | undefined;
  /** The decoders of its copied stream now running (detection; the JPEG view's while watched), each its own process group. */
  decoderPids: number[];
}

/**
 * The moves a camera's state may make. A run starts as `starting` (or stays
 * `reconnecting`/`failed` while it retries) and becomes `streaming` at its
 * first frame; a run that ends goes to `reconnecting` (or `failed` for an
 * error retrying will not fix soon); `stopped` is final: stop() was called,
 * or a file played to its end.
 */
export const CAMERA_TRANSITIONS: Readonly<Record<CameraState, readonly CameraState[]>> = {
  starting: ['streaming', 'reconnecting', 'failed', 'stopped'],
  streaming: ['reconnecting', 'failed', 'stopped'],
  reconnecting: ['streaming', 'failed', 'stopped'],
  failed: ['streaming', 'reconnecting', 'stopped'],
  stopped: [],
};

