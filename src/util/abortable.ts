// Giving up on a wait when an AbortSignal fires, the one way lookout does it:
// the listener is added once and always removed when the wait ends, so a
// long-lived signal (a client's close signal, a server's shutdown) never
// collects listeners from waits that finished long ago.

/**
 * Calls `handler` once if `signal` aborts; returns the function that removes
 * the listener (call it when the wait ends, aborted or not). Without a
 * signal, nothing is listened to.
 */
export function onAbort(signal: AbortSignal | undefined, handler: () => void): () => void {
  if (!signal) return () => undefined;
  signal.addEventListener('abort', handler, { once: true });
  return () => signal.removeEventListener('abort', handler);
}

/**
 * Waits for `promise`, or rejects with `reason()` as soon as `signal` aborts
 * (at once if it already has). The promise itself goes on: it may be shared
 * by other callers (a signature being discovered, a worker being replaced),
 * and only this caller stops waiting. `whenAborted` runs on abort, before the
 * rejection (to leave a queue the caller was waiting in, say).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, reason: () => Error, whenAborted?: () => void): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    whenAborted?.();
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const remove = onAbort(signal, () => {
      whenAborted?.();
      reject(reason());
    });
    promise.then(resolve, reject).finally(remove);
  });
}
