// One supervised camera: runs its ffmpeg (the one connection to the camera,
// copying its video into fragmented MP4), cuts that stream into fragments
// for viewers (and keeps the newest group of pictures), feeds the detection
// decoder, and — only while someone watches as JPEG — a live decoder. It
// watches for stalls (stall-watch.ts) and restarts with backoff when ffmpeg
// ends or stalls. Its state moves only along CAMERA_TRANSITIONS.
import type { CameraState, Frame } from '../types.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import type { FfmpegBinary } from './ffmpeg-binary.js';
import { ffmpegMajor, sourcePlan, type SourceSpec } from './ffmpeg-args.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import type { InitInfo } from './fmp4.js';
import { LiveDecoding } from './live-decoding.js';
import { SourceForbiddenError } from './source-guard.js';
import { redactUrl } from './source-url.js';
import type { StreamInfo } from './ffmpeg-stderr.js';
import { CAMERA_TRANSITIONS, type CameraStatus } from './camera-state.js';
import { StallWatch } from './stall-watch.js';
import { StreamCache, type StreamFragment, type StreamInit, type StreamPiece } from './stream-cache.js';
import { DECODER_BEHIND_S, StreamDecoder } from './stream-decoder.js';
import { COPIED, readCopiedStream } from './stream-reader.js';
import { RunClock } from './run-clock.js';

/** Restart delays: 1 s doubling to 30 s, ±20 %. */
export const CAMERA_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** A run that streamed this long resets the backoff to its first step. */
export const HEALTHY_RUN_MS = 60_000;

export interface CameraOptions {
  id: string;
  /** URL for status and logs; any password in it is redacted. */
  displayUrl: string;
  spec: SourceSpec;
  binary: FfmpegBinary;
  onDetectFrame: (frame: Frame) => void;
  onLiveFrame?: (frame: Frame) => void;
  /** The copied stream: a run's init segment, then its fragments. */
  onStream?: (piece: StreamPiece) => void;
  onStateChange?: (status: CameraStatus) => void;
  /** The next run number (a new timeline of the copied stream); default 1, 2, 3… for this camera object. */
  nextRun?: () => number;
  /** A stall is this many frame intervals without a frame. */
  stallIntervals?: number;
  /** Never call a stall sooner than this, ms. */
  minStallMs?: number;
  /** Time allowed from spawn to the first frame (connecting, probing), ms. */
  startTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** A run that streamed this long resets the backoff; default HEALTHY_RUN_MS (a minute). */
  healthyRunMs?: number;
  /** Before every ffmpeg start: the spec to run (a URL from the API checked, its address pinned: source-guard.ts), or a throw that fails this run. */
  beforeConnect?: (spec: SourceSpec) => Promise<SourceSpec>;
}

export { CAMERA_TRANSITIONS, type CameraStatus } from './camera-state.js';

/**
 * Errors that will not go away by retrying soon (a wrong path, wrong
 * credentials, a missing file): retried at the slowest pace, and shown as
 * failed. "Invalid data" and the like are left out: RTSP and HLS produce them
 * in passing.
 */
/** A live source's decoders skip ahead when DECODER_BEHIND_S behind; a file read faster than real time is decoded whole. */
const behindBound = (spec: SourceSpec): number | undefined => (spec.kind !== 'file' || spec.realtime ? DECODER_BEHIND_S : undefined);

const PERMANENT = /404 Not Found|401 Unauthorized|403 Forbidden|No such file or directory|Protocol not found/i;

interface RunOutcome {
  error: string;
  finished: boolean;
  firstFrameAt: number | undefined;
  /** The camera's codec needs transcoding: start again at once, transcoding. */
  again?: boolean;
  /** Retrying soon will not help (a forbidden camera URL): failed, retried at the slowest pace. */
  permanent?: boolean;
}

export class Camera {
  readonly id: string;
  private state: CameraState = 'starting';
  private lastError: string | undefined;
  private stderrTail: string[] = [];
  private restarts = 0;
  /** Timelines the camera's copied stream has had: a run is numbered when its init segment is accepted, not when ffmpeg is tried. */
  private runs = 0;
  private since = Date.now();
  private frames = { detect: 0, live: 0, fragments: 0 };
  private skipped = { detect: 0, live: 0 };
  /** Set once a run finds the camera's codec is not one browsers play; kept for the camera's life. */
  private transcodeFrom: string | undefined;
  private video: CameraStatus['video'];
  private readonly cache = new StreamCache();
  private readonly major: number;
  private readonly live: LiveDecoding;
  private input: StreamInfo | undefined;
  private detectSize: { width: number; height: number } | undefined;
  private liveSize: { width: number; height: number } | undefined;
  private process: FfmpegProcess | undefined;
  private detectDecoder: StreamDecoder | undefined;
  private retryAt: number | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: CameraOptions) {
    this.id = options.id;
    this.major = ffmpegMajor(options.binary.version);
    this.live = new LiveDecoding({
      cameraId: options.id,
      output: options.spec.live,
      start: () => new StreamDecoder(options.binary, options.spec.live ?? options.spec.detect, this.major, behindBound(options.spec), () => this.cache.gopS),
      cache: this.cache,
      onFrame: (frame) => {
        this.frames.live++;
        options.onLiveFrame?.(frame);
      },
      onSize: (size) => { this.liveSize = size; },
      onSkipped: (n) => { this.skipped.live += n; },
    });
  }

  /** The copied stream now: the run's init segment and the fragments since the newest keyframe. */
  get stream(): StreamCache {
    return this.cache;
  }

  /**
   * Asks for raw live frames (the annotated JPEG view). The decoder runs
   * while anyone holds a lease, and a few seconds after the last is given
   * back; returns the release. A camera without a live output returns a no-op.
   */
  watchLive(): () => void {
    return this.live.lease();
  }

  start(): void {
    this.loop ??= this.run();
  }

  status(): CameraStatus {
    return {
      id: this.id,
      url: redactUrl(this.options.displayUrl),
      state: this.state,
      lastError: this.lastError,
      stderrTail: this.currentTail(),
      ffmpeg: { path: this.options.binary.path, version: this.options.binary.version, source: this.options.binary.source },
      input: this.input,
      detectSize: this.detectSize,
      liveSize: this.liveSize,
      restarts: this.restarts,
      since: this.since,
      frames: { ...this.frames },
      video: this.video,
      // The running decoders' skips count as they happen, not only once they end.
      decoderSkipped: { detect: this.skipped.detect + (this.detectDecoder?.skipped ?? 0), live: this.skipped.live + this.live.skipped },
      liveDecoding: this.live.running,
      retryInMs: this.retryAt === undefined ? undefined : Math.max(0, this.retryAt - Date.now()),
      pid: this.process?.processId,
      decoderPids: [this.detectDecoder?.processId, this.live.processId].filter((p): p is number => p !== undefined),
    };
  }

  /** The running ffmpeg's stderr once it has said something; until then, the last run's, which explains the last error. */
  private currentTail(): string[] {
    const live = this.process?.stderrTail.get();
    return live && live.length > 0 ? live : this.stderrTail;
  }

  private setState(state: CameraState): void {
    if (this.state === state) return;
    if (!CAMERA_TRANSITIONS[this.state].includes(state)) {
      // A bug, never a camera's fault: refused and said, and the camera goes on as it was.
      process.emitWarning(`camera ${this.id}: no move from ${this.state} to ${state}`, { code: 'LOOKOUT_CAMERA_STATE' });
      return;
    }
    this.state = state;
    this.since = Date.now();
    this.options.onStateChange?.(this.status());
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      let outcome: Awaited<ReturnType<Camera['runOnce']>>;
      try {
        outcome = await this.runOnce();
      } catch (err) {
        // ffmpeg could not even be started (no writable temp folder, a broken binary): retry like any failure.
        this.process = undefined;
        outcome = { error: `cannot start ffmpeg: ${(err as Error).message}`, finished: false, firstFrameAt: undefined };
      }
      if (this.stopped) break;
      if (outcome.again) continue;
      const streamedMs = outcome.firstFrameAt ? Date.now() - outcome.firstFrameAt : 0;
      if (outcome.finished) {
        // A file that played to its end without loop: the camera is done.
        this.lastError = undefined;
        break;
      }
      if (streamedMs >= (this.options.healthyRunMs ?? HEALTHY_RUN_MS)) attempt = 0;
      attempt++;
      this.restarts++;
      this.lastError = outcome.error;
      const permanent = outcome.permanent === true || PERMANENT.test(outcome.error);
      const delay = permanent ? (this.options.backoff ?? CAMERA_BACKOFF).maxMs : backoffDelay(attempt, this.options.backoff ?? CAMERA_BACKOFF);
      this.setState(permanent ? 'failed' : 'reconnecting');
      this.retryAt = Date.now() + delay;
      await this.sleep(delay);
      this.retryAt = undefined;
    }
    this.setState('stopped');
  }

  /** One ffmpeg run, to its end. */
  private async runOnce(): Promise<RunOutcome> {
    const spec = await this.options.beforeConnect?.(this.options.spec).catch((err: Error) => err) ?? this.options.spec;
    // Refused, or stopped while the check ran (stop() has passed by, so no ffmpeg may start now).
    if (spec instanceof Error || this.stopped) return { error: spec instanceof Error ? spec.message : 'stopped', finished: false, firstFrameAt: undefined, permanent: spec instanceof SourceForbiddenError };
    const proc = new FfmpegProcess(this.options.binary, sourcePlan(spec, this.major, this.transcodeFrom !== undefined));
    this.process = proc;
    let stallReason: string | undefined;
    let readerError: string | undefined;
    let again = false;
    let detect: StreamDecoder | undefined;
    let detectLoop: Promise<void> = Promise.resolve();
    const watch = new StallWatch({
      intervals: this.options.stallIntervals ?? 8,
      minStallMs: this.options.minStallMs ?? 4_000,
      startTimeoutMs: this.options.startTimeoutMs ?? spec.timeoutMs + 10_000,
      // Fragments arrive at the camera's own rate.
      outputFps: 0,
    }, Date.now());
    const fail = (reason: string): void => {
      readerError ??= reason;
      void proc.stop();
    };

    // One clock per run: the copied stream's timeline starts again with each ffmpeg.
    const clock = new RunClock(spec.kind !== 'file' || spec.realtime);
    const onInit = (data: Buffer, info: InitInfo | undefined): { timescale: number; run: number; clock: RunClock } | undefined => {
      if (!info) {
        fail('the camera\'s stream has no video track');
        return undefined;
      }
      if (detect) {
        // ffmpeg's muxer writes one moov per run; a second one would mean a second decoder with no owner.
        fail('the copied stream began again within one ffmpeg run');
        return undefined;
      }
      const from = proc.input?.codec ?? info.sampleEntry;
      if (this.transcodeFrom === undefined && !COPIED.has(info.sampleEntry)) {
        // Browsers cannot play it as it is: this run ends, and the next transcodes once to H.264.
        this.transcodeFrom = from;
        again = true;
        void proc.stop();
        return undefined;
      }
      const transcoded = this.transcodeFrom !== undefined;
      const run = this.options.nextRun?.() ?? ++this.runs;
      const init: StreamInit = { ...info, camera: this.id, run, data, transcoded, from: this.transcodeFrom ?? from, mime: `video/mp4; codecs="${info.codec}"` };
      this.video = { codec: info.codec, transcoded, from: init.from, width: info.width, height: info.height };
      this.cache.setInit(init);
      this.options.onStream?.({ kind: 'init', init });
      detect = new StreamDecoder(this.options.binary, spec.detect, this.major, behindBound(spec), () => this.cache.gopS);
      this.detectDecoder = detect;
      detect.write(data, true);
      detectLoop = this.readDetections(detect, run, clock).then(
        () => { if (proc.state === 'running') fail(`the detection decoder ended: ${detect?.stderrTail.reason() ?? 'no reason given'}`); },
        (err: unknown) => fail(`reading detection frames failed: ${(err as Error).message}`),
      );
      this.live.newRun();
      return { timescale: info.timescale, run, clock };
    };

    const onFragment = (fragment: StreamFragment): void => {
      if (watch.frame(fragment.receivedAt)) {
        this.input = proc.input;
        this.setState('streaming');
      }
      this.frames.fragments++;
      this.cache.add(fragment);
      this.options.onStream?.({ kind: 'fragment', fragment });
      detect?.write(fragment.data, fragment.keyframe, fragment.pts);
      this.live.write(fragment);
    };
    const streamLoop = readCopiedStream(proc.detectStream, this.id, { onInit, onFragment })
      .catch((err: unknown) => fail(`reading the camera's stream failed: ${(err as Error).message}`));

    const watchdog = setInterval(() => {
      const reason = watch.stalled(Date.now(), proc.input?.fps);
      if (!reason) return;
      stallReason ??= reason;
      void proc.stop();
    }, 500);

    const exit = await proc.exited;
    clearInterval(watchdog);
    await streamLoop;
    this.cache.clear();
    // A file that played to its end: its last frames are still detected.
    await Promise.all([exit.code === 0 ? detect?.finish() : detect?.stop(), this.live.endRun()]);
    await detectLoop;
    if (detect) this.skipped.detect += detect.skipped;
    this.detectDecoder = undefined;
    this.process = undefined;
    this.stderrTail = proc.stderrTail.get();
    if (again) return { error: `transcoding ${this.transcodeFrom ?? 'the camera\'s codec'} to H.264`, finished: false, firstFrameAt: undefined, again };
    const finished = !stallReason && !readerError && exit.code === 0 && spec.kind === 'file' && !spec.loop;
    const reason = stallReason ?? readerError ?? proc.stderrTail.reason() ?? exit.message ?? `ffmpeg exited with ${exit.signal ?? `code ${exit.code}`}`;
    const ended = exit.code === 0 && !stallReason ? `stream ended (${reason})` : reason;
    return { error: ended, finished, firstFrameAt: watch.firstFrameAt };
  }

  /** The detection decoder's frames, handed on with their time on the copied stream. */
  private async readDetections(decoder: StreamDecoder, run: number, clock: RunClock): Promise<void> {
    const info = await decoder.info.catch(() => undefined);
    if (!info) return;
    this.detectSize = { width: info.width, height: info.height };
    let seq = 0;
    for await (const { data, pts } of decoder.frames()) {
      this.frames.detect++;
      this.options.onDetectFrame({ cameraId: this.id, seq: seq++, run, width: info.width, height: info.height, data, pts, ptsMs: pts * 1000, capturedAt: clock.at(pts, Date.now()), readyAt: Date.now() });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    }).finally(() => {
      this.sleepTimer = undefined;
      this.wake = undefined;
    });
  }

  /** Stops ffmpeg (its whole process group) and the restart loop. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.process?.stop();
    await this.loop;
    await this.live.close();
    this.setState('stopped');
  }
}
