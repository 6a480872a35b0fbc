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

/**
 * Waits until a live viewer's frame count `frames()` has grown by more than
 * `more`, within a window longer than the bottle clip's group of pictures
 * (8.4 s): on a loaded machine a decoder that falls behind skips to the next
 * keyframe by design, a pause of up to one group, and full runs hit that
 * within 1.5–2 s windows. A failure says how many came and the camera's
 * status (`cameraUrl`: its /api/cameras/ID), decoder skips and restarts
 * included.
 */
export async function untilViewerGets(frames: () => number, more: number, cameraUrl: string, timeoutMs = 12_000): Promise<void> {
  const before = frames();
  await until(() => frames() - before > more, timeoutMs).catch(async () => {
    const camera = (await (await fetch(cameraUrl)).json()) as { status: unknown };
    throw new Error(`the viewer got ${frames() - before} frames in ${timeoutMs / 1000} s (wanted more than ${more}); camera: ${JSON.stringify(camera.status)}`);
  });
}
