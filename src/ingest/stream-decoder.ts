// A decoder of a camera's copied stream: an ffmpeg child that reads the
// fragmented MP4 on its stdin and writes raw RGB frames, decimated and
// scaled, on its stdout, each with its presentation time on the stream's
// timeline (from showinfo on stderr). The camera runs one for detection
// while it streams, and one more for the annotated JPEG view only while
// someone watches that way. The child runs in its own process group; stop()
// ends the group, and lookout's exit kills any left (runtime-dir.ts).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { decoderArgv, type OutputSpec } from './ffmpeg-args.js';
import type { FfmpegBinary } from './ffmpeg-binary.js';
import { LineTail, StderrParser, type StreamInfo } from './ffmpeg-stderr.js';
import { readFrames } from './frame-reader.js';
import { signalGroup, trackGroup } from './runtime-dir.js';

/** A decoded frame's 1/fps slot, computed as ffmpeg's select filter computes it (t = pts × time base). */
export function slotOf(pts: number, timeBase: [number, number], fps: number): number {
  return Math.floor(pts * (timeBase[0] / timeBase[1]) * fps);
}

export interface DecodedFrame {
  data: Buffer;
  /** Presentation time on the stream's timeline, seconds, rounded to the microsecond as ffprobe prints it. */
  pts: number;
}

/** Bytes of stream waiting for a decoder that is behind before it skips to the next keyframe. */
export const DECODER_BACKLOG = 8 << 20;

/** A frame's pts is waited for this long after its pixels (stderr and stdout are separate pipes). */
const PTS_WAIT_MS = 2_000;

const SHOWINFO = /n:\s*(\d+)\s+pts:\s*(-?\d+)/;
const TIME_BASE = /config in time_base: (\d+)\/(\d+)/;

export class StreamDecoder {
  readonly stderrTail = new LineTail(20);
  readonly info: Promise<StreamInfo>;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Fragments not written because the decoder was behind (it resumes at a keyframe). */
  skipped = 0;
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly parser = new StderrParser();
  private timeBase: [number, number] | undefined;
  /** By showinfo's frame number: the frame's pts in seconds (microseconds), and its 1/fps slot. */
  private readonly pts = new Map<number, { pts: number; slot: number }>();
  private ptsWaiter: { n: number; resolve: () => void } | undefined;
  private waitingForKeyframe = false;
  private done = false;
  private stopping: Promise<void> | undefined;

  constructor(binary: FfmpegBinary, private readonly output: OutputSpec, major: number) {
    // detached: a process group of its own, signalled as a whole.
    // LOOKOUT_PID names the lookout it belongs to, for whoever looks for strays (its argv names nothing of the camera's).
    this.child = spawn(binary.path, decoderArgv(output, major), { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, LOOKOUT_PID: String(process.pid) } });
    const untrack = this.child.pid !== undefined ? trackGroup(this.child.pid) : () => undefined;
    let resolveInfo!: (i: StreamInfo) => void;
    let rejectInfo!: (e: Error) => void;
    this.info = new Promise<StreamInfo>((resolve, reject) => { resolveInfo = resolve; rejectInfo = reject; });
    this.info.catch(() => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.done = true;
        untrack();
        rejectInfo(new Error(`the decoder ended before describing its output: ${this.stderrTail.reason() ?? 'no output'}`));
        this.ptsWaiter?.resolve();
        resolve({ code, signal });
      });
      this.child.once('error', (err) => {
        this.stderrTail.push(`cannot run ffmpeg: ${err.message}`);
      });
    });
    // A decoder that ended (or was stopped) takes no more input; its write errors are its exit's business.
    this.child.stdin.on('error', () => undefined);
    let partial = '';
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line, resolveInfo);
    });
  }

  private line(line: string, resolveInfo: (i: StreamInfo) => void): void {
    const shown = SHOWINFO.exec(line);
    if (shown && this.timeBase) {
      const n = Number(shown[1]);
      const [num, den] = this.timeBase;
      const raw = Number(shown[2]);
      this.pts.set(n, { pts: Math.round((raw * num * 1e6) / den) / 1e6, slot: slotOf(raw, this.timeBase, this.output.fps) });
      if (this.ptsWaiter && this.pts.has(this.ptsWaiter.n)) this.ptsWaiter.resolve();
      return;
    }
    const tb = TIME_BASE.exec(line);
    if (tb) {
      this.timeBase ??= [Number(tb[1]), Number(tb[2])];
      return;
    }
    this.stderrTail.push(line);
    if (this.parser.push(line) === 0) resolveInfo(this.parser.facts.outputs.get(0) as StreamInfo);
  }

  get processId(): number | undefined {
    return this.child.pid;
  }

  /** The stream's input as the decoder read it (codec, size, rate). */
  get input(): StreamInfo | undefined {
    return this.parser.facts.input;
  }

  /**
   * Hands the decoder a piece of the stream. A decoder that has fallen more
   * than DECODER_BACKLOG behind drops fragments until the next keyframe
   * (counted in `skipped`) instead of queueing without bound.
   */
  write(data: Buffer, keyframe: boolean): void {
    if (this.done || this.child.stdin.destroyed) return;
    if (this.waitingForKeyframe && !keyframe) {
      this.skipped++;
      return;
    }
    if (this.child.stdin.writableLength > DECODER_BACKLOG) {
      this.waitingForKeyframe = true;
      this.skipped++;
      return;
    }
    this.waitingForKeyframe = false;
    this.child.stdin.write(data);
  }

  /**
   * Frames in order, each with its pts, one per 1/fps slot (the followers
   * decimate() lets through are dropped here); reading slowly slows the
   * decoder (and then write() skips).
   */
  async *frames(): AsyncGenerator<DecodedFrame> {
    let n = 0;
    let lastSlot = -Infinity;
    for await (const data of readFrames(this.child.stdout, async () => {
      const info = await this.info;
      return info.width * info.height * 3;
    })) {
      const time = await this.ptsOf(n);
      this.pts.delete(n);
      n++;
      if (time === undefined) throw new Error(`the decoder gave frame ${n - 1} without its time`);
      if (this.output.fps > 0) {
        if (time.slot <= lastSlot) continue;
        lastSlot = time.slot;
      }
      yield { data, pts: time.pts };
    }
  }

  private async ptsOf(n: number): Promise<{ pts: number; slot: number } | undefined> {
    if (!this.pts.has(n) && !this.done) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.ptsWaiter = { n, resolve };
        timer = setTimeout(resolve, PTS_WAIT_MS);
      });
      clearTimeout(timer);
      this.ptsWaiter = undefined;
    }
    return this.pts.get(n);
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.done || this.child.pid === undefined) return;
    signalGroup(this.child.pid, sig);
  }

  /** Lets the decoder finish what it was given (end of input), then stops it if it takes longer than waitMs. */
  async finish(waitMs = 3_000): Promise<void> {
    if (!this.done) {
      this.child.stdin.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise<void>((r) => { timer = setTimeout(r, waitMs); })]);
      clearTimeout(timer);
    }
    await this.stop();
  }

  /** Ends the decoder: its input closed, SIGTERM to its group, SIGKILL after graceMs. Safe to call twice. */
  stop(graceMs = 2_000): Promise<void> {
    this.stopping ??= (async () => {
      this.child.stdin.destroy();
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
      this.child.stdout.destroy();
    })();
    return this.stopping;
  }
}
