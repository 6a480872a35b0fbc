// One supervised camera: runs its ffmpeg, hands frames on, watches for
// stalls (its own stall clock, stall-watch.ts), and restarts with backoff
// when ffmpeg ends or stalls. Its state moves only along CAMERA_TRANSITIONS.
import type { CameraState, Frame } from '../types.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import type { FfmpegBinary } from './ffmpeg-binary.js';
import type { SourceSpec } from './ffmpeg-args.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import { redactUrl } from './source-url.js';
import type { StreamInfo } from './ffmpeg-stderr.js';
import { StallWatch } from './stall-watch.js';

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
  onStateChange?: (status: CameraStatus) => void;
  /** A stall is this many frame intervals without a frame. */
  stallIntervals?: number;
  /** Never call a stall sooner than this, ms. */
  minStallMs?: number;
  /** Time allowed from spawn to the first frame (connecting, probing), ms. */
  startTimeoutMs?: number;
  backoff?: BackoffOptions;
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
 * The moves a camera's state may make. A run starts as `starting` (or stays
 * `reconnecting`/`failed` while it retries) and becomes `streaming` at its
 * first frame; a run that ends goes to `reconnecting` (or `failed` for an
 * error retrying will not fix soon); `stopped` is final: stop() was called,
 * or a file played to its end.
 */
export const CAMERA_TRANSITIONS: Readonly<Record<CameraState, readonly CameraState[]>> = {
  starting: ['streaming', 'reconnecting', 'failed', 'stopped'],
  streaming: ['reconnecting', 'failed', 'stopped'],
  reconnecting: ['streaming', 'failed', 'stopped'],
  failed: ['streaming', 'reconnecting', 'stopped'],
  stopped: [],
};

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
      const delay = permanent ? (this.options.backoff ?? CAMERA_BACKOFF).maxMs : backoffDelay(attempt, this.options.backoff ?? CAMERA_BACKOFF);
      this.setState(permanent ? 'failed' : 'reconnecting');
      this.retryAt = Date.now() + delay;
      await this.sleep(delay);
      this.retryAt = undefined;
    }
    this.setState('stopped');
  }

  /** One ffmpeg run, to its end. */
  private async runOnce(): Promise<{ error: string; finished: boolean; firstFrameAt: number | undefined }> {
    const { spec } = this.options;
    const proc = new FfmpegProcess(this.options.binary, spec);
    this.process = proc;
    const run = ++this.runs;
    let stallReason: string | undefined;
    let readerError: string | undefined;
    const watch = new StallWatch({
      intervals: this.options.stallIntervals ?? 8,
      minStallMs: this.options.minStallMs ?? 4_000,
      startTimeoutMs: this.options.startTimeoutMs ?? spec.timeoutMs + 10_000,
      outputFps: Math.max(spec.detect.fps || 0, spec.live?.fps || 0),
    }, Date.now());
    const onFrame = (): void => {
      if (!watch.frame(Date.now())) return;
      this.input = proc.input;
      this.setState('streaming');
    };
    const detectLoop = (async () => {
      const info = await proc.detectInfo.catch(() => undefined);
      if (!info) return;
      this.detectSize = { width: info.width, height: info.height };
      const fps = spec.detect.fps || info.fps || 0;
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
      const fps = spec.live?.fps || info.fps || 0;
      let seq = 0;
      for await (const data of proc.liveFrames()) {
        onFrame();
        this.frames.live++;
        const n = seq++;
        onLive?.({ cameraId: this.id, seq: n, run, width: info.width, height: info.height, data, ptsMs: fps ? (n * 1000) / fps : 0, capturedAt: Date.now() });
      }
    })().catch((err: unknown) => {
      // ffmpeg ending before it opened the live output is its exit's business, not a reader failure.
      if (proc.state !== 'exited') readerError ??= `reading live frames failed: ${(err as Error).message}`;
    });

    const watchdog = setInterval(() => {
      const reason = watch.stalled(Date.now(), proc.input?.fps);
      if (!reason) return;
      stallReason ??= reason;
      void proc.stop();
    }, 500);

    const exit = await proc.exited;
    clearInterval(watchdog);
    await Promise.all([detectLoop, liveLoop]);
    this.process = undefined;
    this.stderrTail = proc.stderrTail.get();
    const finished = !stallReason && exit.code === 0 && spec.kind === 'file' && !spec.loop;
    const reason = stallReason ?? readerError ?? proc.stderrTail.reason() ?? exit.message ?? `ffmpeg exited with ${exit.signal ?? `code ${exit.code}`}`;
    const ended = exit.code === 0 && !stallReason ? `stream ended (${reason})` : reason;
    return { error: ended, finished, firstFrameAt: watch.firstFrameAt };
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
