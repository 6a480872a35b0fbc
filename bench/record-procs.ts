// CPU of a `lookout serve` child and everything it started, for
// bench:record, read from /proc: the node process (all its threads: the
// event loop, libuv's pool, the store's writer worker) and every descendant
// ffmpeg, sorted by what it does from its argv (the camera's one connection,
// a detection decoder, a JPEG-view decoder). The bench's viewers and HTTP
// clients are not descendants of lookout, so they are not counted.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ProcStat {
  comm: string;
  ppid: number;
  cpuMs: number;
}

function readStat(pid: number, file = `/proc/${pid}/stat`): ProcStat | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm: state(0) ppid(1) … utime(11) stime(12).
    return { comm, ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return undefined; // gone between the listing and the read
  }
}

function argv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function roleOf(pid: number, comm: string, detectFps: number): string {
  if (comm !== 'ffmpeg') return comm;
  const a = argv(pid);
  if (!a.includes('pipe:0')) return 'ffmpeg source';
  return a.some((x) => x.includes(`floor(t*${detectFps})`)) ? 'ffmpeg detect decoder' : 'ffmpeg jpeg decoder';
}

/** `root` and every descendant, by pid. */
function tree(root: number): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.set(Number(name), s);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const out = new Map<number, ProcStat>();
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop() as number;
    const s = all.get(pid);
    if (!s) continue;
    out.set(pid, s);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

interface Sample {
  at: number;
  procs: Map<number, { role: string; cpuMs: number }>;
  /** The root's threads by name (the main thread as "main"), ms. */
  threads: Map<string, number>;
}

function threadsMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const s = readStat(Number(tid), `/proc/${pid}/task/${tid}/stat`);
    if (!s) continue;
    const name = Number(tid) === pid ? 'main' : s.comm;
    out.set(name, (out.get(name) ?? 0) + s.cpuMs);
  }
  return out;
}

function sample(root: number, detectFps: number, roles: Map<number, string>): Sample {
  const procs = new Map<number, { role: string; cpuMs: number }>();
  for (const [pid, s] of tree(root)) {
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
