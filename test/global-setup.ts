// Suite-wide leak check, after every test file has run: no ffmpeg started
// during the run may outlive it. Each test checks its own children; this
// catches what slips between them (a test that times out, a worker that
// dies, a lookout child process left running with its cameras).
//
// An ffmpeg is the suite's when, walking up its parents, one reaches this
// process (vitest's main process, which runs global set-up) or init (an
// orphan) before any process that was already running when the suite
// started (another program's ffmpeg, a developer's own lookout). Orphans
// must also carry this run's mark in their environment: another suite
// running at the same time on the machine has orphans of its own.
import { readFileSync } from 'node:fs';
import { allProcs, isFfmpeg, type ProcInfo } from './helpers/procfs.js';

const MARK = 'LOOKOUT_TEST_SUITE';

/** Whether the process inherited this run's mark (unreadable: it is gone, or not ours to read). */
function marked(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${MARK}=${process.pid}`);
  } catch {
    return false;
  }
}

function suiteFfmpeg(before: Set<number>): ProcInfo[] {
  const procs = allProcs();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const ours = (p: ProcInfo): boolean => {
    for (let pid = p.ppid, hops = 0; hops < 64; hops++) {
      if (pid === process.pid || pid <= 1) return true;
      if (before.has(pid)) return false;
      const parent = byPid.get(pid);
      if (!parent) return true; // its parent is gone: an orphan about to be re-parented
      pid = parent.ppid;
    }
    return false;
  };
  return procs.filter((p) => isFfmpeg(p) && !before.has(p.pid) && ours(p) && marked(p.pid));
}

export default function setup(): () => Promise<void> {
  const before = new Set(allProcs().map((p) => p.pid));
  // Inherited by the test workers (forked after this), so by every ffmpeg they start.
  process.env[MARK] = String(process.pid);
  return async () => {
    // An ffmpeg a test's last cleanup signalled may take a moment to go.
    let left: ProcInfo[] = [];
    for (let i = 0; i < 50; i++) {
      left = suiteFfmpeg(before);
      if (left.length === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    // vitest reports a throw from here but still exits 0: set the code ourselves.
    process.exitCode = 1;
    console.error(`\nFAIL: ${left.length} ffmpeg process(es) outlived the test suite (now killed):\n${left.map((p) => `  pid ${p.pid} (parent ${p.ppid}): ${p.cmdline.join(' ').slice(0, 300)}`).join('\n')}\n`);
  };
}
