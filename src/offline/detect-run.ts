// `lookout detect`: detection once over a video, as fast as the model
// allows. Unlike a live camera, nothing is dropped: ffmpeg decodes only as
// fast as frames are taken (the frame reader's backpressure), at most
// `maxInFlight` frames are at the model at once, and records come out in
// frame order, tracked, in the API's record shape.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import { detectPlan, ffmpegMajor } from '../ingest/ffmpeg-args.js';
import { FfmpegProcess } from '../ingest/ffmpeg-process.js';
import type { ClassifiedSource } from '../ingest/source-url.js';
import type { ModelClient } from '../model/client.js';
import { TfServingError } from '../tfserving/errors.js';
import { EventBuilder } from '../track/events.js';
import { detectionRecords } from '../track/records.js';
import { frameId, keptDetections, type Detection, type DetectionRecord, type ImageInput } from '../types.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import { LookoutError } from '../util/errors.js';

export interface DetectRunOptions {
  /** A file path, file://, http(s):// or rtsp:// URL, as the user gave it (for messages). */
  input: string;
  /** The input as ingest/source-url.ts classified it (detect-command.ts). */
  source: ClassifiedSource;
  /** The `camera` of the records. */
  camera: string;
  binary: FfmpegBinary;
  model: Pick<ModelClient, 'detect'>;
  /** Frames per second of video to detect; 0 detects every frame. */
  fps: number;
  maxWidth: number;
  maxHeight: number;
  minScore: number;
  /** Labels to keep; empty keeps all. */
  labels: readonly string[];
  maxInFlight: number;
  /** Wall-clock time of the video's start, ms since the epoch: record time = this + the frame's position. */
  startTime: number;
  /** Called with each frame's records, in frame order. */
  onRecords(records: DetectionRecord[]): void | Promise<void>;
  onProgress?(progress: DetectProgress): void;
  signal?: AbortSignal;
}

export interface DetectProgress {
  frames: number;
  detections: number;
  /** Position in the video of the newest frame done, ms. */
  positionMs: number;
  /** The video's length, when ffmpeg knows it (files). */
  durationMs: number | undefined;
  elapsedMs: number;
}

export interface DetectSummary extends DetectProgress {
  events: number;
}

export class DetectInputError extends LookoutError {
  readonly code = 'DETECT_INPUT';
}

/** How often a failed call is tried again when the model server is briefly away or busy. */
const RETRIES = 5;
/** A second between tries: an offline run has nothing newer to send meanwhile. */
const RETRY_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 1_000, factor: 1, jitter: 0 };

async function detectWithRetry(model: Pick<ModelClient, 'detect'>, image: ImageInput, signal?: AbortSignal): Promise<Detection[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await model.detect([image])).detections[0] ?? [];
    } catch (err) {
      if (!(err instanceof TfServingError) || !err.retryable || attempt >= RETRIES || signal?.aborted) throw err;
      await sleep(backoffDelay(attempt + 1, RETRY_BACKOFF), undefined, { signal }).catch(() => undefined);
    }
  }
}

export async function runDetect(options: DetectRunOptions): Promise<DetectSummary> {
  const proc = new FfmpegProcess(options.binary, detectPlan({
    ...options.source,
    rtspTransport: 'tcp',
    timeoutMs: 10_000,
    realtime: false,
    loop: false,
    detect: { fps: options.fps, maxWidth: options.maxWidth, maxHeight: options.maxHeight },
  }, ffmpegMajor(options.binary.version)));
  const onAbort = (): void => void proc.stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const started = Date.now();
  const builder = new EventBuilder(options.camera);
  const progress: DetectProgress = { frames: 0, detections: 0, positionMs: 0, durationMs: undefined, elapsedMs: 0 };
  let events = 0;
  try {
    let info;
    try {
      info = await proc.detectInfo;
    } catch {
      const exit = await proc.exited;
      throw new DetectInputError(`cannot read ${options.input}: ${proc.stderrTail.reason() ?? exit.message ?? 'ffmpeg ended without output'}`);
    }
    // Frame positions: the output rate when decimated, else the input's own rate.
    const fps = options.fps > 0 ? options.fps : (info.fps ?? proc.input?.fps ?? 25);
    const inFlight = new Map<number, Promise<Detection[]>>();
    let seq = 0;
    let next = 0;

    // Takes the oldest frame's answer and hands its records on: frame order, whatever order answers came in.
    const drainOne = async (): Promise<void> => {
      const pending = inFlight.get(next) as Promise<Detection[]>;
      const detections = await pending;
      inFlight.delete(next);
      const ptsMs = (next * 1000) / fps;
      const time = Math.round(options.startTime + ptsMs);
      const id = frameId({ run: 1, ptsMs });
      const update = builder.update({ time, frameId: id }, keptDetections(detections, options));
      events += update.started.length;
      const records = detectionRecords(options.camera, { time, frameId: id }, update.tracked);
      await options.onRecords(records);
      progress.frames++;
      progress.detections += records.length;
      progress.positionMs = ptsMs;
      progress.durationMs = proc.durationMs;
      progress.elapsedMs = Date.now() - started;
      options.onProgress?.(progress);
      next++;
    };

    for await (const data of proc.detectFrames()) {
      const image: ImageInput = { kind: 'rgb', width: info.width, height: info.height, data };
      const call = detectWithRetry(options.model, image, options.signal);
      // Failures surface in order through drainOne; this only stops an unhandled rejection meanwhile.
      call.catch(() => undefined);
      inFlight.set(seq++, call);
      while (inFlight.size >= options.maxInFlight) await drainOne();
    }
    while (inFlight.size > 0) await drainOne();
    const exit = await proc.exited;
    if (options.signal?.aborted) throw new DetectInputError('stopped');
    if (exit.code !== 0) {
      throw new DetectInputError(`ffmpeg stopped reading ${options.input} after ${progress.frames} frames: ${proc.stderrTail.reason() ?? exit.message ?? `exit code ${exit.code}`}`);
    }
    if (progress.frames === 0) throw new DetectInputError(`${options.input} has no video frames`);
    return { ...progress, elapsedMs: Date.now() - started, events };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await proc.stop();
  }
}
