// /proc as the CPU benchmarks read it (bench:density, bench:record): a
// process's CPU and parent, its argv, what one of lookout's ffmpeg does
// (from that argv), a process's descendants, and a process's threads' CPU
// by name.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ProcStat {
  comm: string;
  ppid: number;
  cpuMs: number;
}

/** A /proc/…/stat file: the command name, the parent, user + system CPU in ms; undefined once it is gone. */
export function readStat(file: string): ProcStat | undefined {
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

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** What an ffmpeg of lookout's does, from its argv. */
export type FfmpegRole = 'source' | 'detect decoder' | 'jpeg decoder';

export function ffmpegRole(argv: string[], detectFps: number): FfmpegRole {
  if (!argv.includes('pipe:0')) return 'source';
  return argv.some((a) => a.includes(`floor(t*${detectFps})`)) ? 'detect decoder' : 'jpeg decoder';
}

/** Every descendant of `root` (and `root` itself with `withRoot`), by pid. */
export function descendants(root: number, withRoot = false): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(`/proc/${name}/stat`);
    if (s) all.set(Number(name), s);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const out = new Map<number, ProcStat>();
  const queue = withRoot ? [root] : [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.pop() as number;
    const s = all.get(pid);
    if (!s) continue;
    out.set(pid, s);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** A process's threads' CPU by thread name (its main thread as "main"), ms. */
export function threadsMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const s = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (!s) continue;
    const name = Number(tid) === pid ? 'main' : s.comm;
    out.set(name, (out.get(name) ?? 0) + s.cpuMs);
  }
  return out;
}
