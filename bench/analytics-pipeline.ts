// bench:analytics, part 3: the whole pipeline's detect fps without (A) and
// with (B) notifications. Each window starts a whole lookout in this process
// (src/app.ts startLookout with a parsed config, as `lookout serve` does):
// looping clip cameras at their own pace, each with the 10 zones and 10 lines,
// the detection log in a fresh folder (so events, their snapshots and the
// crossings are stored alike in A and B), recording off; the model is the
// synthetic detector with walking boxes (analytics-model.ts), or with
// BENCH_MODEL=fixed the embedded synthetic model, whose boxes stand still.
// B adds notify.mqtt (the bench's mosquitto) and a webhook (a receiver in a
// child process that answers 200). A fresh lookout per window: notify is not
// something a running lookout changes, and every window then starts alike.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLookout, type RunningLookout } from '../src/app.js';
import { parseConfig } from '../src/config/parse.js';
import { silentLogger } from '../src/util/logger.js';
import { mediaDir } from '../src/util/paths.js';
import { LINES, ZONES } from './analytics-scene.js';
import { descendants, readStat, sleep } from './procfs.js';

export type Mode = 'A' | 'B';

export interface PipelineOptions {
  cameras: number;
  detectFps: number;
  windowS: number;
  warmS: number;
  brokerUrl: string;
  brokerPid: number;
  receiver: Receiver;
  /** modelServer.address of the walking model; undefined: the embedded synthetic model (fixed boxes). */
  modelAddress: string | undefined;
}

export interface SinkCounts { published: number; dropped: number; failed: number; retried: number }

export interface Window {
  round: number;
  mode: Mode;
  seconds: number;
  /** Inferences per second per camera over the window: the mean of the cameras, and the slowest. */
  detectFps: number;
  minCameraFps: number;
  /** Cores: this process (lookout, the walking model, the idle bench), lookout's ffmpegs, mosquitto, the receiver. */
  nodeCores: number;
  ffmpegCores: number;
  brokerCores: number;
  receiverCores: number;
  /** Notification messages over the window, by sink (lookout's /metrics), and POSTs the receiver got. */
  sinks: Record<string, SinkCounts>;
  receiverPosts: number;
  /** Line crossings the analytics counted over the window (both modes: the analytics run alike). */
  crossings: number;
  /** Over the window: frames the scheduler dropped (any reason), fragments the detect decoders skipped, ffmpeg restarts. */
  dropped: number;
  skipped: number;
  restarts: number;
  load1: number;
}

export interface Receiver {
  url: string;
  pid: number;
  posts(): Promise<number>;
  stop(): Promise<void>;
}

/** The webhook receiver as a child process (analytics-receiver.ts); it exits when its stdin closes. */
export async function startReceiver(): Promise<Receiver> {
  const script = fileURLToPath(new URL('./analytics-receiver.js', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the webhook receiver exited (${code}) before it listened`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url: `${url}/hook`,
    pid: child.pid ?? -1,
    posts: async () => ((await (await fetch(`${url}/count`)).json()) as { posts: number }).posts,
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function config(o: PipelineOptions, mode: Mode, dir: string) {
  const clip = path.join(mediaDir, 'bottle-detection.mp4');
  return parseConfig({
    http: { host: '127.0.0.1', port: 0 },
    store: { path: path.join(dir, 'lookout.db') },
    // Small latency, room for every camera's frame at once: the model is never what limits detect fps here.
    modelServer: o.modelAddress ? { address: o.modelAddress } : { embedded: { model: 'synthetic', latencyMs: 2, capacity: 4 } },
    scheduler: { maxInFlight: 4 },
    detection: { detectFps: o.detectFps },
    // Recording is not what is measured; off, its disk writes add no noise to either side.
    record: { mode: 'off' },
    notify: mode === 'B' ? { mqtt: { url: o.brokerUrl, clientId: `lookout-bench-${process.pid}` }, webhooks: [{ url: o.receiver.url }] } : {},
    cameras: Array.from({ length: o.cameras }, (_, i) => ({ id: `cam${i + 1}`, url: clip, loop: true, realtime: true, zones: ZONES, lines: LINES })),
  }, 'bench:analytics');
}

async function waitReady(l: RunningLookout, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = l.registry.cameraIds().map((id) => l.registry.view(id));
    if (views.length > 0 && views.every((v) => v?.status.state === 'streaming' && v.latest !== undefined)) return;
    if (Date.now() > deadline) throw new Error(`cameras not ready in ${timeoutMs} ms: ${views.map((v) => `${v?.config.id} ${v?.status.state} ${v?.status.lastError ?? ''}`).join('; ')}`);
    await sleep(200);
  }
}

interface Snapshot {
  at: number;
  detected: Map<string, number>;
  dropped: number;
  skipped: number;
  restarts: number;
  cpu: NodeJS.CpuUsage;
  ffmpeg: Map<number, number>;
  broker: number;
  receiver: number;
}

function snapshot(l: RunningLookout, o: PipelineOptions): Snapshot {
  const detected = new Map<string, number>();
  let [dropped, skipped, restarts] = [0, 0, 0];
  for (const id of l.registry.cameraIds()) {
    const v = l.registry.view(id);
    detected.set(id, v?.schedule?.detected ?? 0);
    dropped += Object.values(v?.schedule?.dropped ?? {}).reduce((a, b) => a + b, 0);
    skipped += v?.status.decoderSkipped.detect ?? 0;
    restarts += v?.status.restarts ?? 0;
  }
  const ffmpeg = new Map<number, number>();
  for (const [pid, s] of descendants(process.pid)) if (s.comm === 'ffmpeg') ffmpeg.set(pid, s.cpuMs);
  const cpuMs = (pid: number) => readStat(`/proc/${pid}/stat`)?.cpuMs ?? NaN;
  return { at: Date.now(), detected, dropped, skipped, restarts, cpu: process.cpuUsage(), ffmpeg, broker: cpuMs(o.brokerPid), receiver: cpuMs(o.receiver.pid) };
}

/** lookout's /metrics, summed: notification messages by sink and outcome, and line crossings. */
async function metrics(url: string): Promise<{ sinks: Record<string, SinkCounts>; crossings: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sinks: Record<string, SinkCounts> = {};
  let crossings = 0;
  for (const line of text.split('\n')) {
    const n = /^lookout_notify_messages_total\{(.*)\} (\S+)$/.exec(line);
    if (n) {
      const sink = /sink="([^"]*)"/.exec(n[1])?.[1] ?? '?';
      const outcome = /outcome="([^"]*)"/.exec(n[1])?.[1] ?? '?';
      const counts = (sinks[sink] ??= { published: 0, dropped: 0, failed: 0, retried: 0 });
      if (outcome === 'published' || outcome === 'dropped' || outcome === 'failed' || outcome === 'retried') counts[outcome] += Number(n[2]);
    }
    const c = /^lookout_line_crossings_total\{.*\} (\S+)$/.exec(line);
    if (c) crossings += Number(c[1]);
  }
  return { sinks, crossings };
}

function diffSinks(a: Record<string, SinkCounts>, b: Record<string, SinkCounts>): Record<string, SinkCounts> {
  return Object.fromEntries(Object.entries(b).map(([sink, y]) => {
    const x = a[sink] ?? { published: 0, dropped: 0, failed: 0, retried: 0 };
    return [sink, { published: y.published - x.published, dropped: y.dropped - x.dropped, failed: y.failed - x.failed, retried: y.retried - x.retried }];
  }));
}

/** One window: a fresh lookout in `mode`, warmed up, measured, closed. */
export async function runWindow(o: PipelineOptions, round: number, mode: Mode): Promise<Window> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-analytics-'));
  try {
    const l = await startLookout(config(o, mode, dir), silentLogger);
    try {
      await waitReady(l);
      await sleep(o.warmS * 1000);
      // /metrics and the receiver are read outside the CPU window: reading them is the bench's work, not lookout's.
      const m0 = await metrics(l.url);
      const posts0 = await o.receiver.posts();
      const s0 = snapshot(l, o);
      await sleep(o.windowS * 1000);
      const s1 = snapshot(l, o);
      const m1 = await metrics(l.url);
      const posts1 = await o.receiver.posts();
      const seconds = (s1.at - s0.at) / 1000;
      const perCamera = [...s1.detected].map(([id, n]) => (n - (s0.detected.get(id) ?? 0)) / seconds);
      const cpu = process.cpuUsage(s0.cpu);
      let ffmpegMs = 0;
      for (const [pid, ms] of s1.ffmpeg) ffmpegMs += ms - (s0.ffmpeg.get(pid) ?? 0);
      const cores = (ms: number) => ms / 1000 / seconds;
      return {
        round, mode, seconds,
        detectFps: perCamera.reduce((a, b) => a + b, 0) / perCamera.length,
        minCameraFps: Math.min(...perCamera),
        nodeCores: cores((cpu.user + cpu.system) / 1000),
        ffmpegCores: cores(ffmpegMs),
        brokerCores: cores(s1.broker - s0.broker),
        receiverCores: cores(s1.receiver - s0.receiver),
        sinks: diffSinks(m0.sinks, m1.sinks),
        receiverPosts: posts1 - posts0,
        crossings: m1.crossings - m0.crossings,
        dropped: s1.dropped - s0.dropped,
        skipped: s1.skipped - s0.skipped,
        restarts: s1.restarts - s0.restarts,
        load1: os.loadavg()[0] ?? NaN,
      };
    } finally {
      await l.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
