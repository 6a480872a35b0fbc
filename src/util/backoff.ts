// The one backoff: the delay before the n-th retry grows by `factor` up to
// `maxMs`, with jitter so that many clients of one failed thing (cameras
// behind one dead switch, replicas of one model server) do not retry in
// lockstep. Each user names its own options next to where it retries:
// cameras (ingest/camera.ts), the model breaker (schedule/breaker.ts), the
// store's writer (store/writer-worker.ts), inference workers, `lookout detect`.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ±fraction of the delay drawn at random. */
  jitter: number;
}

/** The delay before retry number `attempt` (1 = the first retry), ms. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt - 1));
  const jittered = base * (1 + options.jitter * (2 * random() - 1));
  return Math.round(Math.min(options.maxMs, Math.max(0, jittered)));
}
