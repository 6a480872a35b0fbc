// npm run bench:scheduler — how well the scheduler keeps a GPU-like model
// server busy, fairly, with fresh frames, in bounded memory.
//
// Setup: 8 file cameras (the bundled clips, paced at their native rate,
// decoded by real ffmpeg) with detection at 15 fps, and the synthetic model
// (50 ms per call, 4 calls at once) in `lookout model-server`, over gRPC.
// Printed side by side, from one run:
//   - inferences/s vs the ideal capacity ÷ latency = 80/s (goal ≥ 0.95);
//   - the classic TF Serving tutorial client on the same cameras: one frame at
//     a time (read, Predict, wait, draw), round-robin; and the ratio;
//   - Jain's fairness index over per-camera detect fps (goal ≥ 0.99);
//   - median frame age when sent (goal ≤ one frame interval, 66.7 ms);
//   - RSS before and after the main run (2 minutes), and with a model 10× slower;
//   - batched vs unbatched throughput with a per-batch cost of a + b·N
//     (40 ms + 5 ms per frame, one call at a time; goal ≥ 2×).
// Ends with one line of JSON holding the same figures.
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { parseConfig } from '../src/config/parse.js';
import { Camera } from '../src/ingest/camera.js';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { classifySource } from '../src/ingest/source-url.js';
import { silentLogger } from '../src/util/logger.js';
import { mediaDir } from '../src/util/paths.js';
import { startModelServerChild } from './model-server-child.js';
import { CameraRegistry } from '../src/cameras/registry.js';
import { Scheduler, type DetectionResult, type SchedulerOptions } from '../src/schedule/scheduler.js';
import { SampleRing } from '../src/schedule/stats-window.js';
import { TfServingClient } from '../src/tfserving/client.js';
import type { Frame } from '../src/types.js';

const MAIN_SECONDS = Number(process.env.BENCH_SECONDS ?? 120);
const SIDE_SECONDS = Number(process.env.BENCH_SIDE_SECONDS ?? 20);
const CAMERAS = 8;
const FPS = 15;
const LATENCY_MS = 50;
const CAPACITY = 4;
const clips = [path.join(mediaDir, 'bottle-detection.mp4'), path.join(mediaDir, 'one-by-one-person-detection.mp4')];
const ffmpeg = resolveFfmpeg();

async function modelServer(args: string[]) {
  return startModelServerChild(['--model', 'synthetic', '--max_queue', '256', ...args]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const jain = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) ** 2) / (xs.length * xs.reduce((a, b) => a + b * b, 0));
/** Detection frames fit 320×320 (as a 300–320 px SSD-style detector takes them); a second run uses 640. */
const SIZE = process.env.BENCH_SIZE ?? '320x320';
const cameraConfigs = (size = SIZE) =>
  parseConfig({
    cameras: Array.from({ length: CAMERAS }, (_, i) => ({ id: `cam${i + 1}`, url: clips[i % 2], loop: true, detectFps: FPS, liveFps: 0, size })),
  }).cameras;

/** lookout's registry: cameras → scheduler → model server. */
async function runScheduler(seconds: number, size = SIZE, latencyMs = LATENCY_MS) {
  const server = await modelServer(['--latency-ms', String(latencyMs), '--capacity', String(CAPACITY)]);
  const client = new TfServingClient({ address: server.address, modelName: 'detector' });
  await client.waitUntilReady(30_000);
  // Twice the server's capacity in flight: the server queues the second half, so a slot that frees
  // starts its next frame at once instead of waiting for an answer to travel back and a new frame to arrive.
  const config = parseConfig({ scheduler: { maxInFlight: CAPACITY * 2, maxFrameAgeMs: 1_000 } });
  const registry = new CameraRegistry(config, client, ffmpeg, silentLogger);
  const counts = new Map<string, number>();
  const ages = new SampleRing(100_000);
  let measuring = false;
  registry.onDetections((id, d) => {
    if (!measuring) return;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    ages.add(Date.now() - d.latencyMs - d.capturedAt);
  });
  for (const cam of cameraConfigs(size)) registry.addCamera(cam);
  await sleep(8_000); // cameras connected, caches warm
  const rssBefore = rssMiB();
  measuring = true;
  const started = Date.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (Date.now() - started) / 1000;
  const rssAfter = rssMiB();
  const perCamera = cameraConfigs().map((c) => (counts.get(c.id) ?? 0) / elapsed);
  const total = perCamera.reduce((a, b) => a + b, 0);
  const dropped = cameraConfigs().reduce((acc, c) => {
    const d = registry.view(c.id)?.schedule?.dropped;
    for (const [k, v] of Object.entries(d ?? {})) acc[k] = (acc[k] ?? 0) + v;
    return acc;
  }, {} as Record<string, number>);
  await registry.close();
  client.close();
  await server.stop();
  return { inferencesPerSec: total, perCamera, fairness: jain(perCamera), medianAgeMs: ages.percentile(0.5) ?? NaN, rssBefore, rssAfter, dropped };
}

/** The tutorial client: one frame at a time — read, Predict, wait, draw — round-robin over the cameras. */
async function runTutorial(seconds: number) {
  const server = await modelServer(['--latency-ms', String(LATENCY_MS), '--capacity', String(CAPACITY)]);
  const client = new TfServingClient({ address: server.address, modelName: 'detector' });
  await client.waitUntilReady(30_000);
  const latest = new Map<string, Frame>();
  const cams = cameraConfigs().map((c) => {
    const cam = new Camera({
      id: c.id, displayUrl: c.url, binary: ffmpeg,
      spec: { ...classifySource(c.url), rtspTransport: 'tcp', timeoutMs: 10_000, realtime: true, loop: true, detect: { fps: FPS, maxWidth: 640, maxHeight: 640 } },
      onDetectFrame: (f) => latest.set(c.id, f),
    });
    cam.start();
    return cam;
  });
  await sleep(8_000);
  let done = 0;
  const started = Date.now();
  const end = started + seconds * 1000;
  while (Date.now() < end) {
    for (const c of cams) {
      const frame = latest.get(c.id);
      if (!frame) continue;
      const { detections } = await client.detect([{ kind: 'rgb', width: frame.width, height: frame.height, data: frame.data }]);
      // "draw": boxes onto the frame and a JPEG, as the tutorial does before showing it.
      const svg = `<svg width="${frame.width}" height="${frame.height}">${detections[0].map((d) => `<rect x="${d.box[1] * frame.width}" y="${d.box[0] * frame.height}" width="${(d.box[3] - d.box[1]) * frame.width}" height="${(d.box[2] - d.box[0]) * frame.height}" fill="none" stroke="red"/>`).join('')}</svg>`;
      await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).composite([{ input: Buffer.from(svg) }]).jpeg().toBuffer();
      done++;
    }
  }
  const rate = done / ((Date.now() - started) / 1000);
  await Promise.all(cams.map((c) => c.stop()));
  client.close();
  await server.stop();
  return rate;
}

/** Synthetic frames from 8 cameras at 15 fps into a scheduler, against a model that costs a + b·N per batch. */
async function runBatching(options: Partial<SchedulerOptions>, seconds: number) {
  const server = await modelServer(['--latency-ms', '40', '--per-frame-ms', '5', '--capacity', '1']);
  const client = new TfServingClient({ address: server.address, modelName: 'detector' });
  await client.waitUntilReady(30_000);
  let done = 0;
  const scheduler = new Scheduler(client, (r: DetectionResult) => { if (r.frame.capturedAt > 0) done++; }, options);
  const pixels = Buffer.alloc(320 * 180 * 3, 90);
  const ids = Array.from({ length: CAMERAS }, (_, i) => `cam${i + 1}`);
  for (const id of ids) scheduler.addCamera(id);
  let seq = 0;
  const feeder = setInterval(() => {
    seq++;
    for (const id of ids) scheduler.submit({ cameraId: id, seq, run: 1, width: 320, height: 180, data: pixels, ptsMs: seq * 66, capturedAt: Date.now() });
  }, 1000 / FPS);
  await sleep(2_000);
  done = 0;
  const started = Date.now();
  await sleep(seconds * 1000);
  const rate = done / ((Date.now() - started) / 1000);
  clearInterval(feeder);
  scheduler.close();
  client.close();
  await server.stop();
  return rate;
}

console.log(`lookout bench:scheduler — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, ${ffmpeg.source} ${ffmpeg.version}`);
console.log(`${CAMERAS} file cameras (bundled clips, native pace) at ${FPS} detect fps, frames ≤ ${SIZE}; synthetic model ${LATENCY_MS} ms × capacity ${CAPACITY}; main run ${MAIN_SECONDS} s, others ${SIDE_SECONDS} s\n`);

const main = await runScheduler(MAIN_SECONDS);
const large = await runScheduler(SIDE_SECONDS, '640x640');
const slow = await runScheduler(SIDE_SECONDS * 2, SIZE, LATENCY_MS * 10);
const tutorial = await runTutorial(SIDE_SECONDS);
const unbatched = await runBatching({ maxInFlight: 1, maxBatch: 1 }, SIDE_SECONDS);
const batched = await runBatching({ maxInFlight: 1, maxBatch: 8, batchTimeoutMs: 20 }, SIDE_SECONDS);

const ideal = (CAPACITY * 1000) / LATENCY_MS;
const frameInterval = 1000 / FPS;
const rows: [string, string, string, string][] = [
  ['inferences/s (lookout scheduler)', main.inferencesPerSec.toFixed(1), `${(main.inferencesPerSec / ideal).toFixed(3)} of ideal ${ideal}/s`, '≥ 0.95'],
  ['inferences/s at 640×360 frames (CPU-bound here)', large.inferencesPerSec.toFixed(1), `${(large.inferencesPerSec / ideal).toFixed(3)} of ideal`, ''],
  ['inferences/s (tutorial client, one at a time)', tutorial.toFixed(1), `lookout is ${(main.inferencesPerSec / tutorial).toFixed(2)}×`, ''],
  ["Jain's fairness over per-camera detect fps", main.fairness.toFixed(4), main.perCamera.map((x) => x.toFixed(1)).join(' '), '≥ 0.99'],
  ['median frame age when sent (ms)', main.medianAgeMs.toFixed(1), `frame interval ${frameInterval.toFixed(1)} ms`, '≤ 66.7'],
  ['RSS before → after main run (MiB)', `${main.rssBefore.toFixed(0)} → ${main.rssAfter.toFixed(0)}`, `${(((main.rssAfter - main.rssBefore) / main.rssBefore) * 100).toFixed(1)}%`, 'flat'],
  [`RSS, model 10× slower (${LATENCY_MS * 10} ms), ${SIDE_SECONDS * 2} s (MiB)`, `${slow.rssBefore.toFixed(0)} → ${slow.rssAfter.toFixed(0)}`, `${(((slow.rssAfter - slow.rssBefore) / slow.rssBefore) * 100).toFixed(1)}%, ${slow.inferencesPerSec.toFixed(1)} inferences/s`, 'flat'],
  ['a+b·N model: unbatched → batched frames/s', `${unbatched.toFixed(1)} → ${batched.toFixed(1)}`, `${(batched / unbatched).toFixed(2)}×`, '≥ 2×'],
];
const w = [48, 14, 40, 8];
console.log(['measure', 'value', 'side by side', 'goal'].map((h, i) => h.padEnd(w[i])).join(' | '));
console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join(' | '));
console.log(`\ndrops in the main run: ${JSON.stringify(main.dropped)}`);
console.log(JSON.stringify({
  bench: 'scheduler',
  cameras: CAMERAS, fps: FPS, latencyMs: LATENCY_MS, capacity: CAPACITY, seconds: MAIN_SECONDS,
  size: SIZE,
  inferencesPerSec: +main.inferencesPerSec.toFixed(2), idealPerSec: ideal, efficiency: +(main.inferencesPerSec / ideal).toFixed(3),
  inferencesPerSec640: +large.inferencesPerSec.toFixed(2), efficiency640: +(large.inferencesPerSec / ideal).toFixed(3),
  tutorialPerSec: +tutorial.toFixed(2), vsTutorial: +(main.inferencesPerSec / tutorial).toFixed(2),
  fairness: +main.fairness.toFixed(4), perCameraFps: main.perCamera.map((x) => +x.toFixed(2)),
  medianFrameAgeMs: +main.medianAgeMs.toFixed(1), frameIntervalMs: +frameInterval.toFixed(1),
  rssBeforeMiB: +main.rssBefore.toFixed(1), rssAfterMiB: +main.rssAfter.toFixed(1),
  slowModelRssBeforeMiB: +slow.rssBefore.toFixed(1), slowModelRssAfterMiB: +slow.rssAfter.toFixed(1), slowModelDropped: slow.dropped,
  unbatchedPerSec: +unbatched.toFixed(2), batchedPerSec: +batched.toFixed(2), batchingGain: +(batched / unbatched).toFixed(2),
  dropped: main.dropped,
}));
