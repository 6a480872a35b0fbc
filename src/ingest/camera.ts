// One supervised camera: runs its ffmpeg, hands frames on, watches for
// stalls, and restarts with backoff when ffmpeg ends or stalls.
import type { CameraState, Frame } from '../types.js';
import { backoffDelay, CAMERA_BACKOFF } from '../util/backoff.js';
import type { FfmpegBinary } from './ffmpeg-binary.js';
import type { SourceSpec } from './ffmpeg-args.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import { redactUrl } from './source-url.js';
import type { StreamInfo } from './ffmpeg-stderr.js';

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
  onStateChange?: (status: CameraStatus) => void;
  /** A stall is this many frame intervals without a frame. */
  stallIntervals?: number;
  /** Never call a stall sooner than this, ms. */
  minStallMs?: number;
  /** Time allowed from spawn to the first frame (connecting, probing), ms. */
  startTimeoutMs?: number;
  backoff?: typeof CAMERA_BACKOFF;
  /** A run that streamed this long resets the backoff; default HEALTHY_RUN_MS (a minute). */
  healthyRunMs?: number;
}

export interface CameraStatus {
  id: string;
  url: string;
  state: CameraState;
  lastError: string | undefined;
  stderrTail: string[];
  ffmpeg: { path: string; version: string; source: string };
  input: StreamInfo | undefined;
  detectSize: { width: number; height: number } | undefined;
  liveSize: { width: number; height: number } | undefined;
  restarts: number;
  since: number;
  frames: { detect: number; live: number };
  /** ms until the next restart, while reconnecting or failed. */
  retryInMs: number | undefined;
  /** The running ffmpeg's pid (and process group id). */
  pid: number | undefined;
}

/**
 * Errors that will not go away by retrying soon (a wrong path, wrong
 * credentials, a missing file): retried at the slowest pace, and shown as
 * failed. "Invalid data" and the like are left out: RTSP and HLS produce them
 * in passing.
 */
const PERMANENT = /404 Not Found|401 Unauthorized|403 Forbidden|No such file or directory|Protocol not found/i;

export class Camera {
  readonly id: string;
  private state: CameraState = 'starting';
  private lastError: string | undefined;
  private stderrTail: string[] = [];
  private restarts = 0;
  private runs = 0;
  private since = Date.now();
  private frames = { detect: 0, live: 0 };
  private input: StreamInfo | undefined;
  private detectSize: { width: number; height: number } | undefined;
  private liveSize: { width: number; height: number } | undefined;
  private process: FfmpegProcess | undefined;
  private retryAt: number | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: CameraOptions) {
    this.id = options.id;
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
      retryInMs: this.retryAt === undefined ? undefined : Math.max(0, this.retryAt - Date.now()),
      pid: this.process?.processId,
    };
  }

  /** The running ffmpeg's stderr once it has said something; until then, the last run's, which explains the last error. */
  private currentTail(): string[] {
    const live = this.process?.stderrTail.get();
    return live && live.length > 0 ? live : this.stderrTail;
  }

  private setState(state: CameraState): void {
    if (this.state === state) return;
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
      const permanent = PERMANENT.test(outcome.error);
      const delay = permanent ? (this.options.backoff ?? CAMERA_BACKOFF).maxMs : backoffDelay(attempt, this.options.backoff);
      this.setState(permanent ? 'failed' : 'reconnecting');
      this.retryAt = Date.now() + delay;
      await this.sleep(delay);
      this.retryAt = undefined;
    }
    this.setState('stopped');
  }

  /** One ffmpeg run, to its end. */
  private async runOnce(): Promise<{ error: string; finished: boolean; firstFrameAt: number | undefined }> {
    if (this.state !== 'reconnecting' && this.state !== 'failed') this.setState('starting');
    const proc = new FfmpegProcess(this.options.binary, this.options.spec);
    this.process = proc;
    const run = ++this.runs;
    let firstFrameAt: number | undefined;
    let stallReason: string | undefined;
    let readerError: string | undefined;
    /** Running mean of the gaps between frames actually received, ms. */
    let gapMs: number | undefined;
    const spawnedAt = Date.now();
    const onFrame = (): void => {
      const now = Date.now();
      if (proc.lastFrameAt > 0) gapMs = gapMs === undefined ? now - proc.lastFrameAt : 0.9 * gapMs + 0.1 * (now - proc.lastFrameAt);
      proc.lastFrameAt = now;
      if (firstFrameAt === undefined) {
        firstFrameAt = proc.lastFrameAt;
        this.input = proc.input;
        this.setState('streaming');
      }
    };
    const detectLoop = (async () => {
      const info = await proc.detectInfo.catch(() => undefined);
      if (!info) return;
      this.detectSize = { width: info.width, height: info.height };
      const fps = this.options.spec.detect.fps || info.fps || 0;
      let seq = 0;
      for await (const data of proc.detectFrames()) {
        onFrame();
        this.frames.detect++;
        const n = seq++;
        this.options.onDetectFrame({ cameraId: this.id, seq: n, run, width: info.width, height: info.height, data, ptsMs: fps ? (n * 1000) / fps : 0, capturedAt: Date.now() });
      }
    })().catch((err: unknown) => {
      readerError ??= `reading detection frames failed: ${(err as Error).message}`;
      void proc.stop();
    });
    const liveLoop = (async () => {
      const onLive = this.options.onLiveFrame;
      const info = proc.liveInfo ? await proc.liveInfo.catch(() => undefined) : undefined;
      if (!info) return;
      this.liveSize = { width: info.width, height: info.height };
      const fps = this.options.spec.live?.fps || info.fps || 0;
      let seq = 0;
      for await (const data of proc.liveFrames()) {
        onFrame();
        this.frames.live++;
        const n = seq++;
        onLive?.({ cameraId: this.id, seq: n, run, width: info.width, height: info.height, data, ptsMs: fps ? (n * 1000) / fps : 0, capturedAt: Date.now() });
      }
    })().catch((err: unknown) => {
      // ffmpeg ending before it opened the live output is its exit's business, not a reader failure.
      if (!proc.hasExited) readerError ??= `reading live frames failed: ${(err as Error).message}`;
    });

    // The stall watch: judged from the stream's own frame rate, so a sparse stream is not killed.
    const watchdog = setInterval(() => {
      const now = Date.now();
      if (firstFrameAt === undefined) {
        const limit = this.options.startTimeoutMs ?? this.options.spec.timeoutMs + 10_000;
        if (now - spawnedAt > limit) {
          stallReason = `no frame within ${Math.round(limit / 1000)} s of starting ffmpeg`;
          void proc.stop();
        }
        return;
      }
      // The interval is the slower of what the stream declares and what actually arrives, so a
      // sparse stream (an MJPEG camera sending a frame every few seconds) is not called stalled.
      const outputFps = Math.max(this.options.spec.detect.fps || 0, this.options.spec.live?.fps || 0) || proc.input?.fps || 1;
      const declaredMs = 1000 / Math.min(outputFps, proc.input?.fps ?? outputFps);
      const intervalMs = Math.max(declaredMs, gapMs ?? 0);
      const intervals = this.options.stallIntervals ?? 8;
      const limit = Math.max(this.options.minStallMs ?? 4_000, intervals * intervalMs);
      if (now - proc.lastFrameAt > limit) {
        stallReason = `stalled: no frame for ${((now - proc.lastFrameAt) / 1000).toFixed(1)} s (${intervals} frame intervals of ${Math.round(intervalMs)} ms)`;
        void proc.stop();
      }
    }, 500);

    const exit = await proc.exited;
    clearInterval(watchdog);
    await Promise.all([detectLoop, liveLoop]);
    this.process = undefined;
    this.stderrTail = proc.stderrTail.get();
    const finished = !stallReason && exit.code === 0 && this.options.spec.kind === 'file' && !this.options.spec.loop;
    const reason = stallReason ?? readerError ?? proc.stderrTail.reason() ?? exit.message ?? `ffmpeg exited with ${exit.signal ?? `code ${exit.code}`}`;
    const ended = exit.code === 0 && !stallReason ? `stream ended (${reason})` : reason;
    return { error: ended, finished, firstFrameAt };
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
    this.setState('stopped');
  }
}
