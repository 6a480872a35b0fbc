// The annotated JPEG view's raw frames, made only while someone watches that
// way: a StreamDecoder started on the first lease, fed from the newest
// keyframe of the copied stream (so the first picture comes at once), and
// stopped a few seconds after the last lease is given back. A new run of the
// camera (a new init segment) restarts it on the new stream. The camera owns
// one and closes it when it stops.
import type { Frame } from '../types.js';
import type { OutputSpec } from './ffmpeg-args.js';
import type { StreamCache, StreamFragment, StreamInit } from './stream-cache.js';
import type { StreamDecoder } from './stream-decoder.js';

/** How long the decoder outlives its last viewer (a page reload, a snapshot poller). */
export const LIVE_IDLE_MS = 10_000;
/** After a decoder ends on its own while watched, the next try waits this long. */
const RETRY_MS = 1_000;

export interface LiveDecodingOptions {
  cameraId: string;
  /** Absent or fps 0: the camera has no JPEG view. */
  output: OutputSpec | undefined;
  start: () => StreamDecoder;
  cache: StreamCache;
  onFrame: (frame: Frame) => void;
  onSize: (size: { width: number; height: number }) => void;
  onSkipped: (n: number) => void;
}

export class LiveDecoding {
  private leases = 0;
  private decoder: StreamDecoder | undefined;
  private reading: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private seq = 0;
  /** Decoders started and not yet counted to onSkipped (the running one, one stopping). */
  private readonly unended = new Set<StreamDecoder>();

  constructor(private readonly options: LiveDecodingOptions) {}

  get running(): boolean {
    return this.decoder !== undefined;
  }

  /** Fragments the decoders not yet ended have skipped so far (each is counted to onSkipped when it ends). */
  get skipped(): number {
    let n = 0;
    for (const d of this.unended) n += d.skipped;
    return n;
  }

  get processId(): number | undefined {
    return this.decoder?.processId;
  }

  lease(): () => void {
    if (!this.options.output || this.options.output.fps <= 0 || this.closed) return () => undefined;
    this.leases++;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.ensure();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leases--;
      if (this.leases === 0 && !this.closed) this.idleTimer = setTimeout(() => void this.stopDecoder(), LIVE_IDLE_MS);
    };
  }

  /** A new run's stream began (the cache holds its init segment): a running decoder moves to it. */
  newRun(): void {
    if (this.decoder) void this.stopDecoder().then(() => this.ensure());
    else this.ensure();
  }

  /** The run ended: its decoder has nothing more to read. */
  async endRun(): Promise<void> {
    await this.stopDecoder();
  }

  write(fragment: StreamFragment): void {
    this.decoder?.write(fragment.data, fragment.keyframe, fragment.pts);
  }

  private ensure(): void {
    const init = this.options.cache.current;
    if (this.decoder || this.leases === 0 || this.closed || !init) return;
    const decoder = this.options.start();
    this.decoder = decoder;
    this.unended.add(decoder);
    decoder.write(init.data, true);
    for (const f of this.options.cache.fragments()) decoder.write(f.data, f.keyframe, f.pts);
    this.reading = this.read(decoder, init).catch(() => undefined).finally(() => {
      this.unended.delete(decoder);
      this.options.onSkipped(decoder.skipped);
      if (this.decoder !== decoder) return;
      // Ended on its own (a broken stream, ffmpeg killed): try again shortly while anyone watches.
      this.decoder = undefined;
      void decoder.stop();
      if (this.leases > 0 && !this.closed) this.retryTimer = setTimeout(() => this.ensure(), RETRY_MS);
    });
  }

  private async read(decoder: StreamDecoder, init: StreamInit): Promise<void> {
    const info = await decoder.info;
    this.options.onSize({ width: info.width, height: info.height });
    for await (const { data, pts } of decoder.frames()) {
      this.options.onFrame({
        cameraId: this.options.cameraId, seq: this.seq++, run: init.run,
        width: info.width, height: info.height, data, pts, ptsMs: pts * 1000, capturedAt: Date.now(),
      });
    }
  }

  private async stopDecoder(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    clearTimeout(this.retryTimer);
    const decoder = this.decoder;
    this.decoder = undefined;
    if (!decoder) return;
    await decoder.stop();
    await this.reading;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.leases = 0;
    await this.stopDecoder();
  }
}
