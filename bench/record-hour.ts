// An hour of one camera's recordings for bench:record, made in a minute
// rather than an hour, by lookout's own recording code: the clip looped
// (`-stream_loop`) and copied by ffmpeg into fragmented MP4 with the
// camera's own output options (ffmpeg-args.ts sourcePlan, FMP4_OUTPUT), cut
// into its init segment and fragments by lookout's Fmp4Splitter, and handed
// to lookout's SegmentWriter with the index rows going to lookout's
// StoreWriter — the same objects `serve` feeds from a camera. Only the clock
// is made up: a realtime camera's fragment at pts p gets wall-clock time
// epoch + p (run-clock.ts); here the epoch is put an hour (and two minutes)
// before now, so the hour ends just before the bench asks for it. (A file
// camera with `realtime: false` would not do: it has no wall clock and is
// not recorded at all.) The writer is fed as fast as its write queue drains.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { RECORD_DEFAULTS } from '../src/config/record.js';
import type { RecordSettings } from '../src/config/schema.js';
import { ffmpegArgv, ffmpegMajor, sourcePlan } from '../src/ingest/ffmpeg-args.js';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { Fmp4Splitter, parseFragment, parseInit } from '../src/ingest/fmp4.js';
import type { StreamInit } from '../src/ingest/stream-cache.js';
import { SegmentWriter } from '../src/record/segment-writer.js';
import { StoreWriter } from '../src/store/writer.js';
import { silentLogger } from '../src/util/logger.js';
import type { ClipInfo } from './density-media.js';
import { filesOnDisk, recordingsDirOf, totalBytes } from './record-lookout.js';
import { sleep } from './record-procs.js';

export interface Hour {
  /** The data folder: lookout.db and recordings/. */
  dir: string;
  camera: string;
  /** Wall-clock ms of the first frame and the end of the last. */
  start: number;
  end: number;
  seconds: number;
  segments: number;
  /** The segment files' bytes on disk. */
  bytes: number;
  buildS: number;
  droppedFragments: number;
  how: string;
  howShort: string;
}

export interface HourOptions {
  clip: ClipInfo;
  /** Data folder for lookout.db and recordings/. */
  dir: string;
  camera: string;
  seconds: number;
  segmentSeconds: number;
  say(text: string): void;
}

/** Bytes waiting in the writer's queue (a private field: the bench waits on it rather than let the writer drop fragments). */
const queued = (w: SegmentWriter) => (w as unknown as { queuedBytes: number }).queuedBytes;

export async function makeHour(o: HourOptions): Promise<Hour> {
  const t0 = performance.now();
  const recordingsDir = recordingsDirOf(o.dir);
  const store = await StoreWriter.open({ file: path.join(o.dir, 'lookout.db'), snapshotDir: null, recordingsDir, logger: silentLogger });
  const settings: RecordSettings = { ...RECORD_DEFAULTS, mode: 'continuous', segmentSeconds: o.segmentSeconds };
  const writer = new SegmentWriter(o.camera, recordingsDir, () => settings, (record) => store.upsertSegment(record), silentLogger);
  const epoch = Math.floor(Date.now() / 1000) * 1000 - o.seconds * 1000 - 120_000;

  const ffmpeg = resolveFfmpeg();
  const loops = Math.ceil(o.seconds / o.clip.durationS);
  const plan = sourcePlan({
    kind: 'file', input: o.clip.file, rtspTransport: 'tcp', timeoutMs: 10_000, realtime: false, loop: false,
    detect: { fps: 5, maxWidth: 640, maxHeight: 640 },
  }, ffmpegMajor(ffmpeg.version));
  plan.inputOptions.push('-stream_loop', String(loops - 1));
  const proc = spawn(ffmpeg.path, ffmpegArgv(plan), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));

  const splitter = new Fmp4Splitter();
  let timescale = 0;
  let seq = 0;
  let lastEnd = epoch;
  let done = false;
  let nextSay = 600;
  for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
    for (const piece of splitter.push(chunk)) {
      if (done) break;
      if (piece.kind === 'init') {
        const info = parseInit(piece.data);
        if (!info) throw new Error('the hour\'s stream has no video track');
        timescale = info.timescale;
        const init: StreamInit = { ...info, camera: o.camera, run: 1, data: piece.data, transcoded: false, from: 'h264', mime: `video/mp4; codecs="${info.codec}"` };
        writer.newInit(init);
        continue;
      }
      const info = parseFragment(piece.data);
      if (!info || !timescale) continue;
      const pts = Math.round((info.pts * 1e6) / timescale) / 1e6;
      // The last fragment wanted ends at the hour; the writer ends its segment at close.
      if (pts >= o.seconds) {
        done = true;
        break;
      }
      const time = Math.round(epoch + pts * 1000);
      const duration = info.duration / timescale;
      writer.fragment({ camera: o.camera, run: 1, seq: seq++, data: piece.data, pts, duration, keyframe: info.keyframe, receivedAt: time, time, epoch });
      lastEnd = Math.round(epoch + (pts + duration) * 1000);
      if (pts >= nextSay) {
        o.say(`  ${Math.round(pts)} s of ${o.seconds} written`);
        nextSay += 600;
      }
    }
    if (done) break;
    while (queued(writer) > 4 << 20) await sleep(2);
  }
  if (done) proc.kill('SIGKILL');
  const code = await exited;
  if (!done && code !== 0) throw new Error(`ffmpeg making the hour exited ${code}: ${stderr.slice(-800)}`);
  await writer.close();
  const status = writer.status();
  await store.close();
  const files = filesOnDisk(path.join(recordingsDir, o.camera));
  const buildS = (performance.now() - t0) / 1000;
  const seconds = (lastEnd - epoch) / 1000;
  const howShort = `lookout's SegmentWriter + StoreWriter fed the ${o.clip.durationS} s clip looped ×${loops} (ffmpeg -stream_loop, the camera's fMP4 copy) with wall times epoch + pts, epoch ${Math.round((Date.now() - epoch) / 60_000)} min ago`;
  return {
    dir: o.dir, camera: o.camera, start: epoch, end: lastEnd, seconds, segments: files.size, bytes: totalBytes(files), buildS,
    droppedFragments: status.droppedFragments,
    how: `${howShort}; ${files.size} segments, ${(totalBytes(files) / 1e9).toFixed(2)} GB, built in ${buildS.toFixed(0)} s, ${status.droppedFragments} fragments dropped`,
    howShort,
  };
}
