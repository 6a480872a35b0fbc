// npm run bench:record — what recording costs, side by side in one run, with
// 4 cameras of 1080p30 H.264 (a bundled clip upscaled at run time, 4 Mbit/s,
// a keyframe every 2 s, looping at its own pace), detection at 5 fps with the
// synthetic 0 ms model, and one native viewer per camera (/ws?video=native):
//   - CPU of lookout (`lookout serve`, a child process, with every ffmpeg it
//     starts) recording continuously ÷ the same with recording off: one
//     lookout, its cameras PATCHed to one mode or the other before each
//     window (so every window follows the same camera restart), in the order
//     C O | O C | C O …, so a drift of the machine's load falls on both sides
//     alike. Goal ≤ 1.05: recording is a copy;
//   - bytes on disk per camera-hour ÷ the source's bytes (the clip's video
//     packets, by ffprobe) for the same stretch of stream (≈ 1);
//   - time to start serving (response headers, first byte of the body; p50
//     of 10 requests one after another) a clip of one hour, and an event's
//     clip, from that lookout while it records its 4 cameras.
// The hour is made before lookout starts, by lookout's own SegmentWriter and
// StoreWriter fed the clip looped for an hour (record-hour.ts says how, and
// why not a camera with `realtime: false`). The viewers run in a child
// process of their own, the HTTP clients in this one: neither is lookout's
// CPU. Ends with one line of JSON.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { make1080p, type ClipInfo } from './density-media.js';
import { Viewers } from './density-viewers.js';
import { timeGet, timeMany } from './record-clip.js';
import { makeHour, type Hour } from './record-hour.js';
import { detectedSoFar, filesOnDisk, getJson, recordings, setRecordMode, startRecordLookout, totalBytes, troubles, waitReady, type RecordLookout, type RecordMode } from './record-lookout.js';
import { sleep, treeMeter, type TreeCpu } from './record-procs.js';
import { printReport, type CpuRun, type EventTiming, type SegmentTotals, type Serving, type WindowBytes } from './record-report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WINDOW_S = Number(process.env.BENCH_SECONDS ?? 15);
const WARM_S = Number(process.env.BENCH_WARM_SECONDS ?? 5);
const CAMERAS = 4;
const CLIP_S = 20;
const SEGMENT_S = 10;
const DETECT_FPS = 5;
const MIN_SCORE = 0.4;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10);
const HOUR_S = Number(process.env.BENCH_HOUR_SECONDS ?? 3600);
/** How much of the hour's clip is read through once, for the rate a download goes at. */
const READ_MB = Number(process.env.BENCH_READ_MB ?? 200);

const started = Date.now();
const say = (text: string) => process.stderr.write(`[record ${((Date.now() - started) / 1000).toFixed(0)} s] ${text}\n`);
const ids = Array.from({ length: CAMERAS }, (_, i) => `cam${i + 1}`);

async function withViewers<T>(b: RecordLookout, clip: ClipInfo, body: (v: Viewers) => Promise<T>): Promise<T> {
  const viewers = await Viewers.start({ url: b.url, cameras: ids, video: 'native', sourceFps: clip.fps, keep: false });
  try {
    return await body(viewers);
  } finally {
    await viewers.close();
  }
}

/**
 * One window: every camera PATCHed to `mode` (each camera's ffmpeg restarts,
 * so every window starts the same way), warmed up, then lookout's CPU over
 * the window and, recording, what reached the disk meanwhile.
 */
async function cpuWindow(b: RecordLookout, viewers: Viewers, round: number, mode: RecordMode, source: { bytes: number }, clip: ClipInfo): Promise<CpuRun> {
  await setRecordMode(b, ids, mode);
  await waitReady(b, mode);
  await sleep(WARM_S * 1000);
  const d0 = await detectedSoFar(b);
  const td0 = Date.now();
  await viewers.reset();
  const files0 = filesOnDisk(b.recordingsDir);
  const t0 = Date.now();
  const meter = treeMeter(b.pid, DETECT_FPS);
  await sleep(WINDOW_S * 1000);
  const cpu: TreeCpu = meter.stop();
  const files1 = filesOnDisk(b.recordingsDir);
  const t1 = Date.now();
  const report = await viewers.report();
  const detectFps = ((await detectedSoFar(b)) - d0) / ids.length / ((Date.now() - td0) / 1000);
  const receipts = Object.values(report.cameras);
  const fragmentBytes = receipts.reduce((s, r) => s + r.payloadBytes, 0);
  const mediaS = receipts.reduce((s, r) => s + r.mediaS, 0);
  const disk: WindowBytes | undefined = mode === 'continuous'
    ? { windowBytes: totalBytes(files1) - totalBytes(files0), windowS: (t1 - t0) / 1000, fragmentBytes, mediaS, sourceBytes: (source.bytes * mediaS) / clip.durationS }
    : undefined;
  return { round, mode, cpu, detectFps, load1: os.loadavg()[0] ?? NaN, troubles: await troubles(b, mode), disk, viewerMediaS: mediaS };
}

/** Every complete segment the live cameras wrote (the rounds' continuous windows): bytes and span. */
async function liveSegments(b: RecordLookout, since: number, source: { bytes: number }, clip: ClipInfo): Promise<SegmentTotals> {
  const rec = await recordings(b.url, { camera: ids, since, until: Date.now() + 60_000 });
  const complete = rec.segments.filter((s) => s.complete);
  const onDisk = filesOnDisk(b.recordingsDir);
  const seconds = complete.reduce((s, x) => s + (x.end - x.start) / 1000, 0);
  return {
    count: complete.length,
    bytes: complete.reduce((s, x) => s + x.bytes, 0),
    fileBytes: complete.reduce((s, x) => s + (onDisk.get(path.join(b.recordingsDir, x.path)) ?? NaN), 0),
    seconds,
    sourceBytes: (source.bytes * seconds) / clip.durationS,
  };
}

interface EventJson { id: string; camera: string; start: number; end: number | null; label: string }

/** The hour's clip and an event's clip, asked of the lookout while it records its 4 cameras (a native viewer each). */
async function serving(b: RecordLookout, hour: Hour): Promise<Serving> {
  const hourUrl = `${b.url}/api/recordings/${encodeURIComponent(hour.camera)}/clip.mp4?since=${hour.start}&until=${hour.end}`;
  say(`the hour's clip, ${REQUESTS} requests`);
  const hourTimed = await timeMany(hourUrl, REQUESTS, { pauseMs: 200 });
  // A player seeking to the middle of the hour: a Range request from half the length on.
  const half = Number.isFinite(hourTimed.length) ? Math.floor(hourTimed.length / 2) : 0;
  const seekTimed = await timeMany(hourUrl, REQUESTS, { range: `bytes=${half}-`, pauseMs: 200 });
  say(`the hour's clip: its first ${READ_MB} MB read once`);
  const meter = treeMeter(b.pid, DETECT_FPS);
  const whole = await timeGet(hourUrl, { range: `bytes=0-${READ_MB * 1e6 - 1}`, readAll: true, timeoutMs: 300_000 });
  const readCpu = meter.stop();
  // Two events of cam1: the newest closed one that was recorded all through (one of the rounds' continuous
  // windows: the synthetic model sees its "person" in every frame, so an event lasts until the camera's
  // PATCH ends it), and the open one, whose clip reaches into the segment being written.
  const events = (await getJson<{ events: EventJson[] }>(`${b.url}/api/events?camera=cam1&label=person&limit=100`)).events;
  let closed: EventJson | undefined;
  for (const e of events.filter((x) => x.end !== null && x.end - x.start > 5_000)) {
    const rec = await recordings(b.url, { camera: ['cam1'], since: e.start, until: e.end as number });
    const covered = rec.segments.reduce((s, x) => s + Math.max(0, Math.min(x.end, e.end as number) - Math.max(x.start, e.start)), 0);
    if (covered >= 0.9 * ((e.end as number) - e.start)) {
      closed = e;
      break;
    }
  }
  const open = events.find((x) => x.end === null);
  const timeEvent = async (e: EventJson | undefined): Promise<EventTiming | undefined> => {
    if (!e) return undefined;
    say(`event ${e.id}'s clip (${e.end === null ? 'open' : 'closed'}), ${REQUESTS} requests`);
    const timed = await timeMany(`${b.url}/api/events/${encodeURIComponent(e.id)}/clip.mp4`, REQUESTS, { pauseMs: 200 });
    return { timed, id: e.id, start: e.start, end: e.end, askedAt: Date.now() };
  };
  const closedTiming = await timeEvent(closed);
  const openTiming = await timeEvent(open);
  return {
    hour: hourTimed,
    seek: seekTimed,
    whole: { bytes: whole.readBytes ?? NaN, ms: whole.readMs ?? NaN, status: whole.status, nodeCores: readCpu.parts['lookout node'] ?? NaN },
    event: closedTiming,
    openEvent: openTiming,
    troubles: await troubles(b, 'continuous'),
  };
}

/**
 * The source's bytes: the clip's video packets (ffprobe's packet sizes, the
 * H.264 a camera sends, without the MP4 file's own boxes), or, without
 * ffprobe, the file's size.
 */
function sourceBytes(clip: ClipInfo): { bytes: number; how: string } {
  const beside = path.join(path.dirname(resolveFfmpeg().path), 'ffprobe');
  const candidates = [beside, ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'ffprobe'))];
  const ffprobe = candidates.find((c) => existsSync(c));
  if (ffprobe) {
    const r = spawnSync(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=size', '-of', 'csv=p=0', clip.file], { encoding: 'utf8', maxBuffer: 16 << 20 });
    const sizes = r.stdout.split('\n').map(Number).filter((n) => n > 0);
    if (r.status === 0 && sizes.length === clip.frames) return { bytes: sizes.reduce((a, b) => a + b, 0), how: `ffprobe: ${sizes.length} video packets` };
  }
  return { bytes: clip.bytes, how: 'the clip file\'s size (no ffprobe)' };
}

async function main(): Promise<void> {
  const ffmpeg = resolveFfmpeg();
  console.log(`lookout bench:record — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, ${ffmpeg.source} ${ffmpeg.version}; load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const root = mkdtempSync(path.join(os.tmpdir(), 'lookout-record-'));
  try {
    say('making the 1080p30 clip');
    const clip = await make1080p(root, CLIP_S);
    console.log(`camera clip: ${clip.frames} frames 1920x1080 at ${clip.fps} fps, ${((clip.bytes * 8) / clip.durationS / 1e6).toFixed(2)} Mbit/s, looping; ${CAMERAS} cameras, detection at ${DETECT_FPS} fps (synthetic model), segments of ${SEGMENT_S} s; windows ${WINDOW_S} s after ${WARM_S} s\n`);
    const source = sourceBytes(clip);
    // The hour first, while nothing else runs; then one lookout on that data folder for everything else.
    say(`making ${HOUR_S} s of recordings`);
    const dir = path.join(root, 'data');
    mkdirSync(dir);
    const hour = await makeHour({ clip, dir, camera: 'hour', seconds: HOUR_S, segmentSeconds: SEGMENT_S, say });
    say(`${hour.how}`);
    const b = await startRecordLookout({ cameras: Object.fromEntries(ids.map((id) => [id, clip.file])), mode: 'continuous', segmentSeconds: SEGMENT_S, dir, detectFps: DETECT_FPS, minScore: MIN_SCORE });
    try {
      const recordingSince = Date.now();
      await waitReady(b, 'continuous');
      const { runs, segments, serve } = await withViewers(b, clip, async (viewers) => {
        const runs: CpuRun[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          const order: RecordMode[] = round % 2 === 1 ? ['continuous', 'off'] : ['off', 'continuous'];
          for (const mode of order) {
            say(`round ${round}: recording ${mode}`);
            runs.push(await cpuWindow(b, viewers, round, mode, source, clip));
          }
        }
        // Serving runs with the cameras recording, as it would.
        say('serving clips, the cameras recording');
        await setRecordMode(b, ids, 'continuous');
        await waitReady(b, 'continuous');
        await sleep(WARM_S * 1000);
        const serve = await serving(b, hour);
        const segments = await liveSegments(b, recordingSince, source, clip);
        return { runs, segments, serve };
      });
      printReport({ runs, segments, hour, serve, clip, source, cameras: CAMERAS, windowS: WINDOW_S, segmentSeconds: SEGMENT_S, detectFps: DETECT_FPS, seconds: (Date.now() - started) / 1000 });
    } finally {
      await b.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
// Anything left (a stuck handle) must not keep the bench from ending.
process.exit(0);
