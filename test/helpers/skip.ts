// Tests that need something of the machine (root to mount, GStreamer's RTSP
// server, Chromium): skipped on a developer's machine that lacks it, with a
// warning nobody can miss; under CI (CI=true) a failure, since CI installs
// everything and a skipped test there would pass without having run.

/**
 * `reason` says why `what` cannot run here, or is undefined when it can.
 * Returns whether to skip (for describe.skipIf); under CI=true a reason is
 * thrown instead, failing the test file.
 */
export function requireOrSkip(what: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (process.env.CI === 'true') throw new Error(`CI must run ${what}, but ${reason}`);
  console.warn(`\n*** SKIPPING ${what}: ${reason} ***\n`);
  return true;
}
