// CPU of lookout and its ffmpeg children for bench:density, read from /proc:
// lookout runs in this process (process.cpuUsage(), split by thread from
// /proc/self/task for the breakdown); every descendant ffmpeg is read from
// /proc/PID/stat and sorted by what it does (the camera's one connection, a
// detection decoder, a JPEG-view decoder). And the floor: ffmpeg alone
// decoding the same streams (`ffmpeg -re -stream_loop -1 -i clip -f null -`).
import { spawn, type ChildProcess } from 'node:child_process';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { cmdline, descendants, ffmpegRole, readStat, sleep, threadsMs, type FfmpegRole } from './procfs.js';

export { sleep, type FfmpegRole };

interface Sample {
  at: number;
  selfUs: number;
  threads: Map<string, number>;
  ffmpeg: Map<number, { role: FfmpegRole; cpuMs: number }>;
}

function sample(detectFps: number, known: Map<number, FfmpegRole>): Sample {
  const ffmpeg = new Map<number, { role: FfmpegRole; cpuMs: number }>();
  for (const [pid, s] of descendants(process.pid)) {
    if (s.comm !== 'ffmpeg') continue;
    let role = known.get(pid);
    if (!role) known.set(pid, (role = ffmpegRole(cmdline(pid), detectFps)));
    ffmpeg.set(pid, { role, cpuMs: s.cpuMs });
  }
  const u = process.cpuUsage();
  return { at: performance.now(), selfUs: u.user + u.system, threads: threadsMs(process.pid), ffmpeg };
}

export interface CpuWindow {
  seconds: number;
  /** Cores: lookout's process plus every descendant ffmpeg. */
  cores: number;
  /** Cores by part: "lookout node" and each ffmpeg role (with how many processes). */
  parts: Record<string, number>;
  /** lookout's process by thread name, cores. */
  threads: Record<string, number>;
}

/**
 * lookout's CPU (this process, in which it runs, and its ffmpeg children)
 * over `seconds`. The bench's own viewers run in another process; this
 * process does nothing else meanwhile but wait.
 */
export async function measureLookout(seconds: number, detectFps: number): Promise<CpuWindow> {
  const known = new Map<number, FfmpegRole>();
  const a = sample(detectFps, known);
  await sleep(seconds * 1000);
  const b = sample(detectFps, known);
  const wallMs = b.at - a.at;
  const parts: Record<string, number> = { 'lookout node': (b.selfUs - a.selfUs) / 1000 / wallMs };
  const counts: Record<string, number> = {};
  for (const [pid, end] of b.ffmpeg) {
    const start = a.ffmpeg.get(pid)?.cpuMs ?? 0;
    parts[end.role] = (parts[end.role] ?? 0) + (end.cpuMs - start) / wallMs;
    counts[end.role] = (counts[end.role] ?? 0) + 1;
  }
  const named: Record<string, number> = {};
  for (const [k, v] of Object.entries(parts)) named[counts[k] ? `${k} ×${counts[k]}` : k] = v;
  const threads: Record<string, number> = {};
  for (const [name, ms] of b.threads) {
    const d = (ms - (a.threads.get(name) ?? 0)) / wallMs;
    if (d > 0.0005) threads[name] = d;
  }
  return { seconds: wallMs / 1000, cores: Object.values(parts).reduce((x, y) => x + y, 0), parts: named, threads };
}

/** ffmpeg alone decoding `n` copies of the clip at its own pace: cores over `seconds`, after `warmS`. */
export async function measureFloor(clip: string, n: number, warmS: number, seconds: number): Promise<number> {
  const ffmpeg = resolveFfmpeg();
  const procs: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    procs.push(spawn(ffmpeg.path, ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-f', 'null', '-'], { stdio: 'ignore' }));
  }
  try {
    await sleep(warmS * 1000);
    const cpu = () => procs.reduce((sum, p) => sum + (readStat(`/proc/${p.pid}/stat`)?.cpuMs ?? NaN), 0);
    const c0 = cpu();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const cores = (cpu() - c0) / (performance.now() - t0);
    if (!Number.isFinite(cores)) throw new Error('an ffmpeg of the floor ended early');
    return cores;
  } finally {
    await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    })));
  }
}
