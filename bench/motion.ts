// npm run bench:motion — what motion gating saves and what it costs, with
// the real CenterNet (the embedded model server, 2 workers), side by side in
// one run, each clip replayed gated (motion and regions at their defaults)
// and ungated (every frame whole) at 5 detection fps (motion-replay.ts: the
// clip's own clock, nothing dropped, so the two sides see the same frames):
//   1. a still scene (a bottle-clip frame for 60 s): model calls per
//      camera-minute gated ÷ ungated, the bottles' events on both sides, and
//      whether the gated side's events flap (end before the clip does);
//   2. the walking-person clip and 3. the bottle clip: calls per
//      camera-minute and events per label on both sides;
//   4. a small person at 4K: recall of the person with regions (gated)
//      against the whole frame fitted into 640 (ungated), the ground truth
//      being the frames where the model finds a person on the original clip
//      at the same times;
//   5. cameras the model serves at 5 fps on the mix of 1–3: its throughput
//      measured here (2 callers, a 640×360 frame) ÷ the images a camera
//      sends per second, gated and ungated.
// The replays run three at a time: each is serial (decode, gate, model,
// track), so a third keeps the server's 2 workers busy while the others
// decode; that changes no replay's result (each has its own clock), only
// the wall time. Clips are made in a temp folder, removed at the end. Ends
// with one line of JSON.
//
// BENCH_FPS (5), BENCH_STILL_SECONDS (60), BENCH_THROUGHPUT_SECONDS (8), BENCH_LANES (3).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { ModelServer } from '../src/modelserver/server.js';
import { detectPlans, type PlanModel } from '../src/schedule/detect-plans.js';
import { TfServingClient } from '../src/tfserving/client.js';
import type { Detection, Frame, TrackEvent } from '../src/types.js';
import { wholeRect } from '../src/util/rect.js';
import { BOTTLES, PEOPLE, SMALL_PERSON, smallPersonClip, stillClip } from './motion-clips.js';
import { printReport, type ClipName, type FramePerson, type Run, type Throughput } from './motion-report.js';
import { replay, type FrameAfter, type ReplayOptions } from './motion-replay.js';

const FPS = Number(process.env.BENCH_FPS ?? 5);
const STILL_S = Number(process.env.BENCH_STILL_SECONDS ?? 60);
const THROUGHPUT_S = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 8);
const LANES = Number(process.env.BENCH_LANES ?? 3);
/** The small person's part of the 4K clip, in the original clip's seconds. */
const SMALL = { start: 4, seconds: 16 };

const started = Date.now();
const say = (text: string) => process.stderr.write(`[motion ${((Date.now() - started) / 1000).toFixed(0)} s] ${text}\n`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-motion-'));
// Whatever way the bench ends (a throw, Ctrl-C), the clips go with it.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** The model as the replays see it, counting Predict calls, images and the time spent waiting for answers. */
interface Counted extends PlanModel {
  calls: number;
  images: number;
  ms: number;
}

function counted(model: PlanModel): Counted {
  const c: Counted = {
    calls: 0, images: 0, ms: 0,
    async detect(images, options) {
      const t = performance.now();
      try {
        return await model.detect(images, options);
      } finally {
        c.calls++;
        c.images += images.length;
        c.ms += performance.now() - t;
      }
    },
  };
  return c;
}

/** The model's images per second with `callers` callers each sending one whole 640×360 frame after another, for `seconds`. */
async function throughput(model: PlanModel, png: string, callers: number, seconds: number): Promise<Throughput> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame: Frame = { cameraId: 'bench', seq: 0, run: 1, width: info.width, height: info.height, data, ptsMs: 0, capturedAt: 0 };
  const job = { frame, plan: { kind: 'full' as const, rects: [wholeRect(frame)], fit: { width: 640, height: 640 } } };
  // The workers' first inferences compile and allocate: not what a camera waits for.
  await Promise.all(Array.from({ length: callers }, async () => { for (let i = 0; i < 2; i++) await detectPlans(model, [job]); }));
  const latencies: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: callers }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await detectPlans(model, [job]);
      latencies.push(performance.now() - t);
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { callers, seconds: wall, images: latencies.length, perS: latencies.length / wall, p50Ms: latencies[Math.floor(latencies.length / 2)] ?? NaN, width: info.width, height: info.height };
}

/** Whether a box's centre lies on the small person's picture inside the 4K frame (all else there is black). */
function onSmallPicture(d: Detection): boolean {
  const { x, y, width, height, frame } = SMALL_PERSON;
  const cx = ((d.box[1] + d.box[3]) / 2) * frame.width;
  const cy = ((d.box[0] + d.box[2]) / 2) * frame.height;
  return cx >= x && cx <= x + width && cy >= y && cy <= y + height;
}

interface Job {
  clip: ClipName;
  gated: boolean;
  options: Omit<ReplayOptions, 'model' | 'fps' | 'motion' | 'onFrame'>;
  /** Frames expected (for the order: longest first), roughly. */
  weight: number;
  /** Per-frame person records (the 4K clip and its ground truth). */
  persons?: (d: Detection) => boolean;
}

async function runJob(job: Job, model: PlanModel): Promise<Run> {
  const c = counted(model);
  const endedEarly: TrackEvent[] = [];
  const persons: FramePerson[] = [];
  const reasons: Record<string, number> = {};
  const result = await replay({
    ...job.options, fps: FPS, model: c, motion: job.gated ? {} : undefined,
    onFrame: (frame, plan, detections, after: FrameAfter) => {
      endedEarly.push(...after.ended);
      if (after.reason) reasons[after.reason] = (reasons[after.reason] ?? 0) + 1;
      const accept = job.persons;
      if (!accept) return;
      const best = detections.filter((d) => d.label === 'person' && accept(d)).sort((a, b) => b.score - a.score)[0];
      const track = plan ? undefined : after.objects.find((o) => o.label === 'person' && !o.uncertain);
      persons.push({ seq: frame.seq, score: best?.score ?? 0, skipped: !plan, knows: best !== undefined || track !== undefined, box: best?.box ?? track?.box });
    },
  });
  return { clip: job.clip, gated: job.gated, result, calls: c.calls, images: c.images, modelS: c.ms / 1000, endedEarly, reasons, persons: job.persons ? persons : undefined };
}

/** Runs the jobs `lanes` at a time, longest first; results in the jobs' order. */
async function runAll(jobs: Job[], model: PlanModel, lanes: number): Promise<Run[]> {
  const order = jobs.map((job, i) => ({ job, i })).sort((a, b) => b.job.weight - a.job.weight);
  const out: Run[] = new Array<Run>(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    for (let k = next++; k < order.length; k = next++) {
      const { job, i } = order[k];
      const side = job.gated ? 'gated' : 'ungated';
      say(`${job.clip} ${side}: starting`);
      const run = await runJob(job, model);
      out[i] = run;
      const r = run.result;
      say(`${job.clip} ${side}: ${r.frames} frames, ${r.sent} sent (${r.full} whole, ${r.regions} regions), ${run.calls} calls, ${run.images} images in ${r.seconds.toFixed(1)} s`);
    }
  }));
  return out;
}

async function main(): Promise<void> {
  const ffmpeg = resolveFfmpeg();
  const loadAtStart = os.loadavg();
  console.log(`lookout bench:motion — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, ${ffmpeg.source} ${ffmpeg.version}; load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}\n`);

  say(`clips into ${dir}`);
  const still = stillClip(dir, STILL_S);
  const small = smallPersonClip(dir, SMALL.start, SMALL.seconds);
  const { frame: k4 } = SMALL_PERSON;

  const server = new ModelServer({ model: 'centernet', workers: 2 });
  let client: TfServingClient | undefined;
  try {
    const port = await server.listen(0, '127.0.0.1');
    await server.loaded;
    client = new TfServingClient({ address: `127.0.0.1:${port}`, modelName: 'detector', minScore: 0.3 });
    say(`model ${server.description} on port ${port}; throughput, 2 callers, ${THROUGHPUT_S} s`);
    const tp = await throughput(client, path.join(dir, 'still.png'), 2, THROUGHPUT_S);
    say(`  ${tp.perS.toFixed(2)} images/s, p50 ${tp.p50Ms.toFixed(0)} ms`);

    const both = (clip: ClipName, options: Job['options'], weight: number, gatedWeight: number, persons?: Job['persons']): Job[] => [
      { clip, gated: true, options, weight: gatedWeight, persons },
      { clip, gated: false, options, weight, persons },
    ];
    const jobs: Job[] = [
      ...both('still', { file: still, width: 640, height: 360 }, STILL_S * FPS, 10),
      ...both('people', { file: PEOPLE, width: 768, height: 432 }, 139 * FPS, 100 * FPS),
      ...both('bottles', { file: BOTTLES, width: 640, height: 360 }, 40 * FPS, 30 * FPS),
      // 4K frames cost far more to decode and fit than their model call: weigh them so.
      ...both('small4k', { file: small, width: k4.width, height: k4.height }, 3 * SMALL.seconds * FPS, 2 * SMALL.seconds * FPS, onSmallPicture),
      { clip: 'truth', gated: false, options: { file: PEOPLE, width: 768, height: 432, startSeconds: SMALL.start, seconds: SMALL.seconds }, weight: SMALL.seconds * FPS, persons: () => true },
    ];
    const runs = await runAll(jobs, client, LANES);
    printReport({ runs, throughput: tp, fps: FPS, stillSeconds: STILL_S, small: SMALL, loadAtStart, lanes: LANES, model: server.description, seconds: (Date.now() - started) / 1000 });
  } finally {
    client?.close();
    await server.close();
  }
}

await main();
// Anything left (a stuck handle) must not keep the bench from ending.
process.exit(0);
