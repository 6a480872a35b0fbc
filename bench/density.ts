// npm run bench:density — what one camera costs now that lookout copies the
// camera's H.264 instead of decoding it for viewers:
//   - CPU cores of lookout (this process: it runs in-process) and all its
//     ffmpeg children, N = 2 and 4 cameras of 1080p30 H.264 (a bundled clip
//     upscaled at run time), detection at 5 fps with the synthetic 0 ms model,
//     in three situations: one native viewer per camera, nobody watching, one
//     JPEG viewer per camera; each divided by the floor, ffmpeg alone decoding
//     the same N streams (goal ≤ 1.5 for the native row);
//   - bytes a native viewer receives ÷ the source's bytes over the same span
//     of the stream (goal ≤ 1.1), and the JPEG viewer's;
//   - lookout-to-glass latency in Chromium (fragment received by lookout →
//     frame presented by the page), default and synced, p50 and p99;
//   - boxes on a moving object: a walking person (768x432 10 fps, the real
//     CenterNet at 5 detect fps), every shown frame's person box against that
//     frame's offline detection (`lookout detect --fps 0`), IoU mean and p10,
//     for the page in default mode, in synced mode and the JPEG path, side by
//     side in one run (goals: mean ≥ 0.8 default, ≥ 0.9 synced);
//   - cameras one core carries with native viewing.
// The CPU rows' viewers are Node WebSocket clients in a child process of
// their own (their CPU is not lookout's); the page runs in Chromium, one
// browser per mode (a second tab of one browser presents almost no frames).
// Ends with one line of JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { boxPipeline, exactAlignment, jpegIou, pageIou } from './density-iou.js';
import { detectedSoFar, startBenchLookout, troubles, waitReady, type BenchLookout } from './density-lookout.js';
import { make1080p, makeWalk, offlineDetections, type ClipInfo, type RefBox } from './density-media.js';
import { drawnSince, latencyOf, launchBrowser, openPage, pageUnavailable, type Browser, type Latency } from './density-page.js';
import { measureFloor, measureLookout, sleep } from './density-procs.js';
import { printReport, type DensityRow, type IouResults, type Results, type RowCpu, type ViewedRow } from './density-report.js';
import { Viewers } from './density-viewers.js';

const WINDOW_S = Number(process.env.BENCH_SECONDS ?? 20);
const WARM_S = Number(process.env.BENCH_WARM_SECONDS ?? 3);
const PAGE_WARM_S = Number(process.env.BENCH_PAGE_WARM_SECONDS ?? 15);
const PAGE_S = Number(process.env.BENCH_PAGE_SECONDS ?? 15);
const IOU_S = Number(process.env.BENCH_IOU_SECONDS ?? 20);
/** BENCH_CAMERAS=0 leaves the CPU and bytes rows out (the page's rows only). */
const COUNTS = (process.env.BENCH_CAMERAS ?? '2,4').split(',').map(Number).filter((n) => n > 0);
const CLIP_S = 20;
const DETECT_FPS = 5;
const MIN_SCORE = 0.4;

const started = Date.now();
const say = (text: string) => process.stderr.write(`[density ${((Date.now() - started) / 1000).toFixed(0)} s] ${text}\n`);

/**
 * One Chromium per page mode: two pages of one browser are two tabs of one
 * window, and the tab behind presents (almost) no frames to
 * requestVideoFrameCallback, whatever visibility Playwright reports.
 */
const browsers = new Map<'default' | 'synced', Browser>();
async function pageIn(mode: 'default' | 'synced', url: string, cameras: string[]): Promise<Page> {
  let browser = browsers.get(mode);
  if (!browser) browsers.set(mode, (browser = await launchBrowser()));
  return openPage(browser, url, mode === 'synced', cameras);
}

/** The page in both modes at once. */
const bothPages = (url: string, cameras: string[]) => Promise.all([pageIn('default', url, cameras), pageIn('synced', url, cameras)]);

/** lookout's CPU over the window, with the detections per second per camera it made meanwhile. */
async function cpuWindow(b: BenchLookout, cameras: number): Promise<RowCpu> {
  const d0 = detectedSoFar(b);
  const cpu = await measureLookout(WINDOW_S, DETECT_FPS);
  return { ...cpu, detectFps: (detectedSoFar(b) - d0) / cameras / cpu.seconds };
}

/** One viewer per camera for the window: lookout's CPU meanwhile, and bytes received ÷ the source's bytes for the same stretch of stream. */
async function watched(b: BenchLookout, ids: string[], video: 'native' | 'jpeg', clip: ClipInfo): Promise<ViewedRow> {
  const viewers = await Viewers.start({ url: b.url, cameras: ids, video, sourceFps: clip.fps, keep: false });
  try {
    await sleep(WARM_S * 1000);
    await viewers.reset();
    const cpu = await cpuWindow(b, ids.length);
    const report = await viewers.report();
    const receipts = Object.values(report.cameras);
    const bytes = receipts.reduce((s, r) => s + r.bytes, 0);
    const payloadBytes = receipts.reduce((s, r) => s + r.payloadBytes, 0);
    const mediaS = receipts.reduce((s, r) => s + r.mediaS, 0);
    const sourceBytes = (clip.bytes * mediaS) / clip.durationS;
    const wallSourceBytes = (clip.bytes * ids.length * cpu.seconds) / clip.durationS;
    return { cpu, bytes, payloadBytes, mediaS, sourceBytes, wallSourceBytes, bytesRatio: bytes / sourceBytes, messages: receipts.reduce((s, r) => s + r.messages, 0) };
  } finally {
    await viewers.close();
  }
}

/** One 1080p30 camera and the page open twice, default and synced, at once: lookout-to-glass latency of each. */
async function latencyRun(clip: ClipInfo): Promise<Record<'default' | 'synced', Latency> | string> {
  const unavailable = pageUnavailable();
  if (unavailable) return unavailable;
  const b = await startBenchLookout({ cameras: { cam1: clip.file }, model: 'synthetic', detectFps: DETECT_FPS, minScore: MIN_SCORE });
  try {
    await waitReady(b);
    say('Chromium: one 1080p30 camera, a default page and a synced page');
    const [plain, synced] = await bothPages(b.url, ['cam1']);
    await sleep(PAGE_WARM_S * 1000);
    const since = Date.now();
    await sleep(PAGE_S * 1000);
    const [drawnPlain, drawnSynced] = await Promise.all([drawnSince(plain, since), drawnSince(synced, since)]);
    await Promise.all([plain.close(), synced.close()]);
    return { default: latencyOf(drawnPlain), synced: latencyOf(drawnSynced) };
  } finally {
    await b.close();
  }
}

async function densityRow(n: number, clip: ClipInfo): Promise<DensityRow> {
  say(`floor: ffmpeg alone decoding ${n} × 1080p30`);
  const floor = await measureFloor(clip.file, n, WARM_S, WINDOW_S);
  const ids = Array.from({ length: n }, (_, i) => `cam${i + 1}`);
  const b = await startBenchLookout({ cameras: Object.fromEntries(ids.map((id) => [id, clip.file])), model: 'synthetic', detectFps: DETECT_FPS, minScore: MIN_SCORE });
  try {
    await waitReady(b);
    await sleep(2_000);
    say(`lookout, ${n} cameras, native viewers`);
    const native = await watched(b, ids, 'native', clip);
    say(`lookout, ${n} cameras, nobody watching`);
    await sleep(WARM_S * 1000);
    const none = await cpuWindow(b, n);
    say(`lookout, ${n} cameras, JPEG viewers`);
    const jpeg = await watched(b, ids, 'jpeg', clip);
    return { n, floor, native, none, jpeg, troubles: troubles(b) };
  } finally {
    await b.close();
  }
}

/** The walking person, one lookout with the real model: the page in both modes and a JPEG viewer, at once. */
async function iouRun(walk: ClipInfo, offline: Map<number, RefBox[]>): Promise<IouResults | string> {
  const unavailable = pageUnavailable();
  if (unavailable) return unavailable;
  const b = await startBenchLookout({ cameras: { walk: walk.file }, model: 'centernet', detectFps: DETECT_FPS, minScore: MIN_SCORE });
  try {
    say('IoU: CenterNet loading');
    await waitReady(b, 120_000);
    const viewers = await Viewers.start({ url: b.url, cameras: ['walk'], video: 'jpeg', sourceFps: walk.fps, keep: true });
    const [plain, synced] = await bothPages(b.url, ['walk']);
    say('IoU: default page, synced page and a JPEG viewer side by side');
    await sleep(PAGE_WARM_S * 1000);
    await viewers.reset();
    const since = Date.now();
    const detected = () => b.lookout.registry.view('walk')?.schedule?.detected ?? NaN;
    const detected0 = detected();
    await sleep(IOU_S * 1000);
    const detectFps = (detected() - detected0) / ((Date.now() - since) / 1000);
    const inferenceMsP50 = b.lookout.registry.view('walk')?.schedule?.latencyMs.p50 ?? NaN;
    const [drawnPlain, drawnSynced] = await Promise.all([drawnSince(plain, since), drawnSince(synced, since)]);
    const report = await viewers.report();
    await Promise.all([plain.close(), synced.close(), viewers.close()]);
    return {
      default: pageIou(drawnPlain, 'walk', walk, offline),
      synced: pageIou(drawnSynced, 'walk', walk, offline),
      jpeg: jpegIou(report, walk, offline),
      latency: { default: latencyOf(drawnPlain), synced: latencyOf(drawnSynced) },
      alignment: exactAlignment(drawnSynced, 'walk', walk, offline),
      pipeline: boxPipeline(drawnPlain, 'walk', report),
      detectFps,
      inferenceMsP50,
    };
  } finally {
    await b.close();
  }
}

async function main(): Promise<void> {
  const ffmpeg = resolveFfmpeg();
  console.log(`lookout bench:density — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, ${ffmpeg.source} ${ffmpeg.version}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-density-'));
  try {
    say('making the 1080p30 clip and the walking piece');
    const clip = await make1080p(dir, CLIP_S);
    const walk = await makeWalk(dir);
    console.log(`camera clip: ${clip.frames} frames 1920x1080 at ${clip.fps} fps, ${((clip.bytes * 8) / clip.durationS / 1e6).toFixed(2)} Mbit/s; ` +
      `walking piece: ${walk.frames} frames 768x432 at ${walk.fps} fps; detection at ${DETECT_FPS} fps; windows ${WINDOW_S} s\n`);
    say('offline detections of the walking piece (CenterNet, every frame)');
    const offline = await offlineDetections(walk, dir, MIN_SCORE);
    const rows: DensityRow[] = [];
    for (const n of COUNTS) rows.push(await densityRow(n, clip));
    const latency = await latencyRun(clip);
    say('IoU run');
    const iou = await iouRun(walk, offline);
    const results: Results = { rows, latency, iou, clip, walk, windowS: WINDOW_S, pageS: PAGE_S, iouS: IOU_S, detectFps: DETECT_FPS, seconds: (Date.now() - started) / 1000 };
    printReport(results);
  } finally {
    for (const browser of browsers.values()) await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
// Anything left (a stuck handle) must not keep the bench from ending.
process.exit(0);
