// Restart delays for a camera's ffmpeg: exponential with jitter, so many
// cameras behind one dead switch do not reconnect in lockstep.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ±fraction of the delay drawn at random. */
  jitter: number;
}

export const CAMERA_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** The delay before restart number `attempt` (1 = the first restart). */
export function backoffDelay(attempt: number, options: BackoffOptions = CAMERA_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt - 1));
  const jittered = base * (1 + options.jitter * (2 * random() - 1));
  return Math.round(Math.min(options.maxMs, Math.max(0, jittered)));
}
