// CPU of a `lookout serve` child and everything it started, for
// bench:record, read from /proc: the node process (all its threads: the
// event loop, libuv's pool, the store's writer worker) and every descendant
// ffmpeg, sorted by what it does from its argv (the camera's one connection,
// a detection decoder, a JPEG-view decoder). The bench's viewers and HTTP
// clients are not descendants of lookout, so they are not counted.
import { cmdline, descendants, ffmpegRole, sleep, threadsMs } from './procfs.js';

export { sleep };

function roleOf(pid: number, comm: string, detectFps: number): string {
  return comm === 'ffmpeg' ? `ffmpeg ${ffmpegRole(cmdline(pid), detectFps)}` : comm;
}

interface Sample {
  at: number;
  procs: Map<number, { role: string; cpuMs: number }>;
  /** The root's threads by name (the main thread as "main"), ms. */
  threads: Map<string, number>;
}

function sample(root: number, detectFps: number, roles: Map<number, string>): Sample {
  const procs = new Map<number, { role: string; cpuMs: number }>();
  for (const [pid, s] of descendants(root, true)) {
    let role = pid === root ? 'lookout node' : roles.get(pid);
    if (!role) roles.set(pid, (role = roleOf(pid, s.comm, detectFps)));
    procs.set(pid, { role, cpuMs: s.cpuMs });
  }
  return { at: performance.now(), procs, threads: threadsMs(root) };
}

export interface TreeCpu {
  seconds: number;
  /** Cores: the lookout process and every descendant. */
  cores: number;
  /** Cores by role ("lookout node", "ffmpeg source ×4", …). */
  parts: Record<string, number>;
  /** The lookout process by thread name, cores (threads above 0.005). */
  threads: Record<string, number>;
  /** Descendants that ended during the window (their last slice of CPU is lost: a restart). */
  ended: number;
}

/** A CPU meter started now over `root`'s tree; `stop()` gives the cores since. */
export function treeMeter(root: number, detectFps: number): { stop(): TreeCpu } {
  const roles = new Map<number, string>();
  const a = sample(root, detectFps, roles);
  return {
    stop() {
      const b = sample(root, detectFps, roles);
      const wallMs = b.at - a.at;
      const parts: Record<string, number> = {};
      const counts: Record<string, number> = {};
      for (const [pid, end] of b.procs) {
        const start = a.procs.get(pid)?.cpuMs ?? 0;
        parts[end.role] = (parts[end.role] ?? 0) + (end.cpuMs - start) / wallMs;
        counts[end.role] = (counts[end.role] ?? 0) + 1;
      }
      const named: Record<string, number> = {};
      for (const [k, v] of Object.entries(parts)) named[counts[k] && counts[k] > 1 ? `${k} ×${counts[k]}` : k] = v;
      const ended = [...a.procs.keys()].filter((pid) => !b.procs.has(pid)).length;
      const threads: Record<string, number> = {};
      for (const [name, ms] of b.threads) {
        const d = (ms - (a.threads.get(name) ?? 0)) / wallMs;
        if (d > 0.005) threads[name] = d;
      }
      return { seconds: wallMs / 1000, cores: Object.values(parts).reduce((x, y) => x + y, 0), parts: named, threads, ended };
    },
  };
}
