// npm run bench:live — the live view's cost and speed, printed side by side:
//   - throughput: decode → synthetic 0 ms model → annotate → one WebSocket
//     viewer per camera, 4 cameras read as fast as possible, as a ratio to
//     ffmpeg alone decoding the same clips to JPEG at the same rate (goal ≥ 0.8);
//   - fan-out: lookout's CPU per frame at 1, 10 and 50 viewers of one camera
//     (goal: 50 viewers ≤ 1.3× one);
//   - added latency: capture to delivery to a local WebSocket client at
//     4 cameras × 15 fps, p50 and p99 (goal p99 ≤ 30 ms; the live path waits
//     for no inference, so there is none to subtract);
//   - a slow client reading nothing for 60 s: lookout's RSS, and another
//     client's fps before and during.
// lookout runs as a child process (`lookout serve`), the viewers here.
// Ends with one line of JSON holding the same figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { mediaDir } from '../src/util/paths.js';
import { startServeChild, type ServeChild } from './serve-child.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SLOW_SECONDS = Number(process.env.BENCH_SLOW_SECONDS ?? 60);
const clips = [path.join(mediaDir, 'bottle-detection.mp4'), path.join(mediaDir, 'one-by-one-person-detection.mp4')];
const ffmpeg = resolveFfmpeg();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function startLookoutChild(cameras: object[]): Promise<ServeChild> {
  return startServeChild({ modelServer: { embedded: { model: 'synthetic', latencyMs: 0, capacity: 4 } }, scheduler: { maxInFlight: 4 }, cameras });
}

/** CPU time (user + system) of a process, ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Viewer { ws: WebSocket; frames: number; latencies: number[]; close(): void }

function view(url: string, camera: string, keepLatency = false): Promise<Viewer> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?camera=${camera}`, { perMessageDeflate: false });
  const v: Viewer = { ws, frames: 0, latencies: [], close: () => ws.terminate() };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    v.frames++;
    if (keepLatency) {
      const n = data.readUInt32BE(0);
      const header = JSON.parse(data.subarray(4, 4 + n).toString()) as { timestamp: number };
      v.latencies.push(Date.now() - header.timestamp);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(v));
    ws.once('error', reject);
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

/**
 * ffmpeg alone: the same clips to JPEG frames at the same rate, 4 at once, as
 * fast as it can. With no quality option ffmpeg's mjpeg encoder aims at
 * 200 kb/s and lands near q 25 (about 8 KB a frame, visibly blocky); -q:v 3
 * gives about the bytes of lookout's quality-80 frames (about 30 KB), so that
 * is the like-for-like limit.
 */
async function ffmpegAlone(seconds: number, quality: string[] = []): Promise<number> {
  let frames = 0;
  const procs = clips.concat(clips).map((clip) => {
    const p = spawn(ffmpeg.path, ['-v', 'error', '-nostdin', '-stream_loop', '-1', '-i', clip, '-vf', "fps=15,scale=w='min(iw,1280)':h='min(ih,720)':force_original_aspect_ratio=decrease", '-f', 'image2pipe', '-c:v', 'mjpeg', ...quality, 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(p);
    let prev = 0;
    p.stdout.on('data', (d: Buffer) => {
      // Count JPEG end markers (FF D9), including one split across chunks.
      for (let i = 0; i < d.length; i++) {
        if (d[i] === 0xd9 && (i > 0 ? d[i - 1] : prev) === 0xff) frames++;
      }
      prev = d[d.length - 1];
    });
    return p;
  });
  await sleep(2_000);
  const start = frames;
  const t = Date.now();
  await sleep(seconds * 1000);
  const rate = (frames - start) / ((Date.now() - t) / 1000);
  for (const p of procs) {
    p.kill('SIGKILL');
    children.delete(p);
  }
  return rate;
}

async function throughput(seconds: number): Promise<number> {
  const lookout = await startLookoutChild(clips.concat(clips).map((url, i) => ({ id: `cam${i + 1}`, url, loop: true, realtime: false, detectFps: 5, liveFps: 15 })));
  const viewers = await Promise.all([1, 2, 3, 4].map((i) => view(lookout.url, `cam${i}`)));
  await sleep(3_000);
  const start = viewers.reduce((n, v) => n + v.frames, 0);
  const t = Date.now();
  await sleep(seconds * 1000);
  const rate = (viewers.reduce((n, v) => n + v.frames, 0) - start) / ((Date.now() - t) / 1000);
  for (const v of viewers) v.close();
  await lookout.stop();
  return rate;
}

async function fanout(counts: number[], seconds: number): Promise<{ viewers: number; cpuMsPerFrame: number; fps: number }[]> {
  const lookout = await startLookoutChild([{ id: 'cam', url: clips[0], loop: true, realtime: true, detectFps: 5, liveFps: 15 }]);
  const rows = [];
  for (const n of counts) {
    const viewers = await Promise.all(Array.from({ length: n }, () => view(lookout.url, 'cam')));
    await sleep(2_000);
    const encodedAt = async () => ((await (await fetch(`${lookout.url}/api/cameras/cam`)).json()) as { live: { encoded: number } }).live.encoded;
    const e0 = await encodedAt();
    const c0 = cpuMs(lookout.pid);
    const f0 = viewers[0].frames;
    await sleep(seconds * 1000);
    const frames = (await encodedAt()) - e0;
    rows.push({ viewers: n, cpuMsPerFrame: (cpuMs(lookout.pid) - c0) / Math.max(1, frames), fps: (viewers[0].frames - f0) / seconds });
    for (const v of viewers) v.close();
    await sleep(500);
  }
  await lookout.stop();
  return rows;
}

async function latencyAndSlow(seconds: number, slowSeconds: number) {
  const lookout = await startLookoutChild(clips.concat(clips).map((url, i) => ({ id: `cam${i + 1}`, url, loop: true, realtime: true, detectFps: 5, liveFps: 15 })));
  const viewers = await Promise.all([1, 2, 3, 4].map((i) => view(lookout.url, `cam${i}`, true)));
  await sleep(3_000);
  for (const v of viewers) v.latencies.length = 0;
  await sleep(seconds * 1000);
  const latencies = viewers.flatMap((v) => v.latencies);
  // Slow client: subscribes to cam1 and stops reading for slowSeconds.
  const before = viewers[0].frames;
  await sleep(5_000);
  const fpsBefore = (viewers[0].frames - before) / 5;
  const rssBefore = rssMiB(lookout.pid);
  const slow = await view(lookout.url, 'cam1');
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const during0 = viewers[0].frames;
  await sleep(slowSeconds * 1000);
  const fpsDuring = (viewers[0].frames - during0) / slowSeconds;
  const rssAfter = rssMiB(lookout.pid);
  const skipped = ((await (await fetch(`${lookout.url}/api/cameras/cam1`)).json()) as { live: { viewerSkipped: number } }).live.viewerSkipped;
  slow.close();
  for (const v of viewers) v.close();
  await lookout.stop();
  return { p50: pct(latencies, 0.5), p99: pct(latencies, 0.99), samples: latencies.length, fpsBefore, fpsDuring, rssBefore, rssAfter, skipped };
}

console.log(`lookout bench:live — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, ${ffmpeg.source} ${ffmpeg.version}`);
console.log(`clips: bottle-detection (640×360) and one-by-one-person (768×432), live at 15 fps; synthetic 0 ms model\n`);
const aloneDefault = await ffmpegAlone(SECONDS);
const alone = await ffmpegAlone(SECONDS, ['-q:v', '3']);
const e2e = await throughput(SECONDS);
const fan = await fanout([1, 10, 50], SECONDS);
const lat = await latencyAndSlow(SECONDS, SLOW_SECONDS);

const rows: string[][] = [
  ['throughput, 4 cameras as fast as possible', `${e2e.toFixed(1)} frames/s`, `ffmpeg alone to JPEG at -q:v 3: ${alone.toFixed(1)}/s → ratio ${(e2e / alone).toFixed(3)}`, '≥ 0.8'],
  ['  the same, against ffmpeg at its default quality', '', `${aloneDefault.toFixed(1)}/s → ratio ${(e2e / aloneDefault).toFixed(3)}`, ''],
  ...fan.map((r) => [`CPU per frame, ${r.viewers} viewer(s) of one camera`, `${r.cpuMsPerFrame.toFixed(2)} ms`, `${(r.cpuMsPerFrame / fan[0].cpuMsPerFrame).toFixed(2)}× one viewer; each at ${r.fps.toFixed(1)} fps`, r.viewers === 50 ? '≤ 1.3×' : '']),
  ['added latency, capture → WebSocket client', `p50 ${lat.p50} ms`, `p99 ${lat.p99} ms over ${lat.samples} frames, 4 cameras × 15 fps`, 'p99 ≤ 30'],
  [`slow client reading nothing for ${SLOW_SECONDS} s: RSS`, `${lat.rssBefore.toFixed(0)} → ${lat.rssAfter.toFixed(0)} MiB`, `${(((lat.rssAfter - lat.rssBefore) / lat.rssBefore) * 100).toFixed(1)}%; ${lat.skipped} frames skipped for it`, 'flat'],
  ['slow client: another viewer of that camera', `${lat.fpsBefore.toFixed(1)} → ${lat.fpsDuring.toFixed(1)} fps`, 'before → during', 'no drop'],
];
const w = [46, 22, 58, 9];
console.log(['measure', 'value', 'side by side', 'goal'].map((h, i) => h.padEnd(w[i])).join(' | '));
console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join(' | '));
console.log(JSON.stringify({
  bench: 'live',
  throughputFps: +e2e.toFixed(2), ffmpegAloneFps: +alone.toFixed(2), throughputRatio: +(e2e / alone).toFixed(3),
  ffmpegAloneDefaultQualityFps: +aloneDefault.toFixed(2), throughputRatioDefaultQuality: +(e2e / aloneDefault).toFixed(3),
  fanout: fan.map((r) => ({ viewers: r.viewers, cpuMsPerFrame: +r.cpuMsPerFrame.toFixed(3), ratio: +(r.cpuMsPerFrame / fan[0].cpuMsPerFrame).toFixed(2), fps: +r.fps.toFixed(1) })),
  latencyP50Ms: lat.p50, latencyP99Ms: lat.p99, latencySamples: lat.samples,
  slowClient: { seconds: SLOW_SECONDS, rssBeforeMiB: +lat.rssBefore.toFixed(1), rssAfterMiB: +lat.rssAfter.toFixed(1), skipped: lat.skipped, otherFpsBefore: +lat.fpsBefore.toFixed(1), otherFpsDuring: +lat.fpsDuring.toFixed(1) },
}));
process.exit(0);
