// npm run bench:model — how fast the embedded model server detects, and how
// well it uses its workers.
//
// It runs `lookout model-server` (real CenterNet, one worker per core) as a
// child process, as it is deployed, and drives it over gRPC with lookout's
// client on the first 640×360 frame of the bottle clip:
//   - single-inference latency: one request at a time (the classic TF Serving
//     tutorial client, and the baseline of the table);
//   - frames/s at 1, 2 and 4 concurrent clients;
//   - efficiency: frames/s ÷ (workers ÷ single-inference latency), the share
//     of the workers' ideal throughput that is reached. Goal ≥ 0.9.
// Rows are measured in alternating rounds and reported as medians.
// A synthetic zero-latency server measured the same way gives gRPC's own cost
// per frame. Then server-side batching on vs off with 8 clients
// (model-batching.ts), and Predict latency during a version swap against
// steady state (model-swap.ts). Ends with one line of JSON holding the same figures.
import { spawnSync } from 'node:child_process';
import { startModelServerChild } from './model-server-child.js';
import { batchingHeading, batchingJson, batchingRows, measureBatching } from './model-batching.js';
import { measureSwaps, swapHeading, swapJson, swapRows } from './model-swap.js';
import { printTable } from './table.js';
import os from 'node:os';
import path from 'node:path';
import { TfServingClient } from '../src/tfserving/client.js';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { mediaDir } from '../src/util/paths.js';
import type { ImageInput } from '../src/types.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? os.availableParallelism());
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20);
/** Rounds over all concurrencies; each row is the median of its rounds, so drift on a shared machine hits every row alike. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = [1, 2, 4];

function frame(): ImageInput {
  const out = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-i', path.join(mediaDir, 'bottle-detection.mp4'), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 26 });
  if (out.status !== 0 || out.stdout.length !== 640 * 360 * 3) throw new Error(`ffmpeg could not decode the bench frame: ${out.stderr}`);
  return { kind: 'rgb', width: 640, height: 360, data: out.stdout };
}

interface Run { concurrency: number; requests: number; seconds: number; fps: number; p50: number; p90: number }

async function run(client: TfServingClient, image: ImageInput, concurrency: number, requests: number): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      next++;
      const t = performance.now();
      await client.detect([image]);
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { concurrency, requests, seconds, fps: requests / seconds, p50: q(0.5), p90: q(0.9) };
}

async function measure(args: string[], requests: number, image: ImageInput): Promise<Run[]> {
  const server = await startModelServerChild(args);
  const client = new TfServingClient({ address: server.address, modelName: 'detector', deadlineMs: 60_000 });
  try {
    await client.waitUntilReady(120_000);
    await run(client, image, WORKERS, WORKERS * 3); // warm-up: every worker has run a few frames
    const rounds: Run[][] = CONCURRENCY.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of CONCURRENCY.entries()) rounds[i].push(await run(client, image, c, Math.max(requests, c * 8)));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return rounds.map((rs) => ({
      concurrency: rs[0].concurrency,
      requests: rs.reduce((n, r) => n + r.requests, 0),
      seconds: rs.reduce((n, r) => n + r.seconds, 0),
      fps: median(rs.map((r) => r.fps)),
      p50: median(rs.map((r) => r.p50)),
      p90: median(rs.map((r) => r.p90)),
    }));
  } finally {
    client.close();
    await server.stop();
  }
}

const image = frame();
const ffmpeg = resolveFfmpeg();
console.log(`lookout bench:model — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, ${ffmpeg.source} ${ffmpeg.version.split(' ').slice(0, 3).join(' ')}`);
console.log(`embedded model server: CenterNet, ${WORKERS} worker(s); frame 640×360 RGB (bottle-detection.mp4 #0); ${ROUNDS} rounds of ≥ ${REQUESTS} requests per row, medians\n`);

const real = await measure(['--workers', String(WORKERS)], REQUESTS, image);
const overhead = await measure(['--model', 'synthetic', '--latency-ms', '0', '--capacity', String(WORKERS * 4)], REQUESTS * 5, image);
const batching = await measureBatching(image, WORKERS);
const swaps = await measureSwaps(image);

const latencyMs = real[0].p50;
const ideal = WORKERS / (latencyMs / 1000);
const rows = real.map((r) => ({ ...r, efficiency: r.fps / ideal, speedup: r.fps / real[0].fps }));
const best = rows.filter((r) => r.concurrency >= WORKERS).reduce((a, b) => (b.efficiency > a.efficiency ? b : a));

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log('clients | frames/s | p50 ms | p90 ms | × one-at-a-time | ÷ (workers ÷ latency)');
console.log('------- | -------- | ------ | ------ | --------------- | ---------------------');
for (const r of rows) {
  console.log(`${pad(r.concurrency, 7)} | ${pad(r.fps.toFixed(2), 8)} | ${pad(r.p50.toFixed(0), 6)} | ${pad(r.p90.toFixed(0), 6)} | ${pad(r.speedup.toFixed(2), 15)} | ${pad(r.efficiency.toFixed(3), 21)}`);
}
console.log(`\nsingle-inference latency (p50, 1 client): ${latencyMs.toFixed(1)} ms → ideal ${ideal.toFixed(2)} frames/s with ${WORKERS} worker(s)`);
console.log(`efficiency at ${best.concurrency} clients: ${best.efficiency.toFixed(3)} (goal ≥ 0.9)`);
console.log(`gRPC + protobuf cost per 640×360 frame (synthetic 0 ms model): p50 ${overhead[0].p50.toFixed(1)} ms at 1 client, ${overhead[overhead.length - 1].fps.toFixed(0)} frames/s at ${CONCURRENCY[CONCURRENCY.length - 1]} clients`);

console.log(`\n${batchingHeading()}\n`);
printTable(batchingRows(batching), [36, 12, 12, 10], 100);

console.log(`\n${swapHeading()}\n`);
printTable(swapRows(swaps), [36, 12, 12, 10], 140);

console.log(JSON.stringify({
  bench: 'model',
  workers: WORKERS,
  frame: '640x360',
  singleLatencyMs: +latencyMs.toFixed(1),
  idealFps: +ideal.toFixed(2),
  rows: rows.map((r) => ({ clients: r.concurrency, fps: +r.fps.toFixed(2), p50Ms: +r.p50.toFixed(1), p90Ms: +r.p90.toFixed(1), speedup: +r.speedup.toFixed(2), efficiency: +r.efficiency.toFixed(3) })),
  efficiency: +best.efficiency.toFixed(3),
  goal: 0.9,
  grpcOverheadMs: +overhead[0].p50.toFixed(2),
  grpcMaxFps: +overhead[overhead.length - 1].fps.toFixed(0),
  batching: batchingJson(batching),
  swaps: swapJson(swaps),
}));
