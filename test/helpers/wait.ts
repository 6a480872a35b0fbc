// Waiting on real things: conditions polled until they hold, and process checks.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds, or throws after timeoutMs. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** Whether a process with this pid still exists. */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a server again on the port it just had (a broker or camera
 * restarted mid-test): the port may refuse a bind for a moment, so a bind
 * failure (`bindFailed` matches its message) is retried for `timeoutMs`;
 * any other failure is real and thrown.
 */
export async function relaunch<T>(launch: () => Promise<T>, bindFailed: RegExp, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await launch();
    } catch (e) {
      if (!(e instanceof Error && bindFailed.test(e.message)) || Date.now() > deadline) throw e;
      await sleep(200);
    }
  }
}
