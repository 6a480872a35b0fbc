// A decoder of a camera's copied stream: an ffmpeg child that reads the
// fragmented MP4 on its stdin and writes raw RGB frames, decimated and
// scaled, to a frame socket (frame-socket.ts: each frame read straight into
// its own buffer), each with its presentation time on the stream's timeline
// (from showinfo on stderr). The camera runs one for detection while it
// streams, and one more for the annotated JPEG view only while someone
// watches that way. The child starts once its socket is open (a few ms);
// what is written before waits, within the same bound. It runs in its own
// process group; stop() ends the group, and lookout's exit kills any left
// (runtime-dir.ts).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { decoderArgv, type OutputSpec } from './ffmpeg-args.js';
import type { FfmpegBinary } from './ffmpeg-binary.js';
import { LineTail, StderrParser, type StreamInfo } from './ffmpeg-stderr.js';
import { FrameSocket } from './frame-socket.js';
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

/**
 * For a live stream: how far (in stream time) the newest fragment written may
 * be past the newest frame decoded before the decoder skips to the next
 * keyframe. A decoder starved of CPU otherwise hands out frames seconds old
 * (8 MB is 16 s of a 4 Mbit/s camera), and boxes and events lag by as much.
 * A skip loses up to a group of pictures, so the bound is never less than
 * 1.5 groups of pictures (GOP_FACTOR): falling a little behind a camera
 * with a keyframe every 8 s is cheaper than losing 8 s of detection.
 */
export const DECODER_BEHIND_S = 2;
const GOP_FACTOR = 1.5;

/** A frame's pts is waited for this long after its pixels (stderr and the frames are separate channels). */
const PTS_WAIT_MS = 2_000;

const SHOWINFO = /n:\s*(\d+)\s+pts:\s*(-?\d+)/;
const TIME_BASE = /config in time_base: (\d+)\/(\d+)/;

type Exit = { code: number | null; signal: string | null };

export class StreamDecoder {
  readonly stderrTail = new LineTail(20);
  readonly info: Promise<StreamInfo>;
  readonly exited: Promise<Exit>;
  /** Fragments not written because the decoder was behind (it resumes at a keyframe). */
  skipped = 0;
  private child: ChildProcessByStdio<Writable, null, Readable> | undefined;
  private socket: FrameSocket | undefined;
  /** Settles when the child runs, or will never run (stopped first, or no socket). */
  private readonly started: Promise<void>;
  /** Stream written before the child runs. */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private endRequested = false;
  private readonly parser = new StderrParser();
  private timeBase: [number, number] | undefined;
  /** By showinfo's frame number: the frame's pts in seconds (microseconds), and its 1/fps slot. */
  private readonly pts = new Map<number, { pts: number; slot: number }>();
  /** The slot of the newest frame whose pts was known as it began and that was kept (see dropsFrame). */
  private decidedSlot = -Infinity;
  private ptsWaiter: { n: number; resolve: () => void } | undefined;
  private waitingForKeyframe = false;
  /** Pts of the newest frame out of the decoder, follower or not; reset when writing resumes after a skip. */
  private decodedPts: number | undefined;
  /** Where writing resumed after the last skip: frames before it (written before the skip) do not say how far behind the decoder is. */
  private resumedPts = -Infinity;
  /**
   * Whether the decoder has been within its bound of the stream since it
   * started or resumed: a JPEG view starts from the cached group of pictures,
   * seconds old, and decodes through it faster than real time; that start is
   * not falling behind.
   */
  private caughtUp = false;
  /** The newest keyframe's pts written, and the longest gap seen between two (the stream's group of pictures, s). */
  private keyframePts: number | undefined;
  private gopS = 0;
  private done = false;
  private stopping: Promise<void> | undefined;
  private resolveExit!: (e: Exit) => void;
  private resolveInfo!: (i: StreamInfo) => void;
  private rejectInfo!: (e: Error) => void;

  /**
   * maxBehindS: a live stream's bound on how far behind the decoder may fall
   * (DECODER_BEHIND_S); none for a file read as fast as it decodes.
   * knownGopS: the camera's group of pictures as measured so far (StreamCache.gopS), s.
   */
  constructor(
    private readonly binary: FfmpegBinary,
    private readonly output: OutputSpec,
    private readonly major: number,
    private readonly maxBehindS?: number,
    private readonly knownGopS: () => number = () => 0,
  ) {
    this.info = new Promise<StreamInfo>((resolve, reject) => { this.resolveInfo = resolve; this.rejectInfo = reject; });
    this.info.catch(() => undefined);
    this.exited = new Promise((resolve) => { this.resolveExit = resolve; });
    this.started = FrameSocket.open((n) => this.dropsFrame(n)).then(
      (socket) => this.spawnWith(socket),
      (err: unknown) => {
        this.stderrTail.push(`cannot open the decoder's frame socket: ${(err as Error).message}`);
        this.end({ code: null, signal: null });
      },
    );
  }

  private spawnWith(socket: FrameSocket): void {
    if (this.stopping) {
      socket.close();
      this.end({ code: null, signal: null });
      return;
    }
    this.socket = socket;
    // detached: a process group of its own, signalled as a whole.
    // LOOKOUT_PID names the lookout it belongs to, for whoever looks for strays (its argv names nothing of the camera's).
    const child = spawn(this.binary.path, decoderArgv(this.output, this.major), { stdio: ['pipe', socket.childEnd, 'pipe'], detached: true, env: { ...process.env, LOOKOUT_PID: String(process.pid) } });
    this.child = child;
    // The child holds its own copy of the socket's end now.
    socket.childEnd.destroy();
    const untrack = child.pid !== undefined ? trackGroup(child.pid) : () => undefined;
    child.once('close', (code, signal) => {
      untrack();
      this.end({ code, signal });
    });
    child.once('error', (err) => {
      this.stderrTail.push(`cannot run ffmpeg: ${err.message}`);
    });
    // A decoder that ended (or was stopped) takes no more input; its write errors are its exit's business.
    child.stdin.on('error', () => undefined);
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line);
    });
    this.info.then((i) => socket.setFrameSize(i.width * i.height * 3), () => undefined);
    for (const data of this.early) child.stdin.write(data);
    this.early = [];
    this.earlyBytes = 0;
    if (this.endRequested) child.stdin.end();
  }

  private end(exit: Exit): void {
    if (this.done) return;
    this.done = true;
    this.rejectInfo(new Error(`the decoder ended before describing its output: ${this.stderrTail.reason() ?? 'no output'}`));
    this.ptsWaiter?.resolve();
    this.resolveExit(exit);
  }

  /**
   * Asked as frame n begins: true when it is sure to be dropped (a follower
   * sharing the slot of a kept frame, its pts already known), so its bytes
   * need no buffer of their own. An unknown pts keeps the frame; frames()
   * decides then.
   */
  private dropsFrame(n: number): boolean {
    const time = this.pts.get(n);
    if (!time || !(this.output.fps > 0)) return false;
    if (time.slot <= this.decidedSlot) {
      this.pts.delete(n);
      return true;
    }
    this.decidedSlot = time.slot;
    return false;
  }

  private line(line: string): void {
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
    if (this.parser.push(line) === 0) this.resolveInfo(this.parser.facts.outputs.get(0) as StreamInfo);
  }

  get processId(): number | undefined {
    return this.child?.pid;
  }

  /** The stream's input as the decoder read it (codec, size, rate). */
  get input(): StreamInfo | undefined {
    return this.parser.facts.input;
  }

  /**
   * Hands the decoder a piece of the stream (`pts`: the fragment's first
   * frame's). A decoder that has fallen more than DECODER_BACKLOG behind, or,
   * with maxBehindS, whose newest frame is that far in stream time before
   * this fragment, drops fragments until the next keyframe (counted in
   * `skipped`) instead of queueing without bound or handing out old frames.
   */
  write(data: Buffer, keyframe: boolean, pts?: number): void {
    if (this.done || this.stopping || this.child?.stdin.destroyed) return;
    if (keyframe && pts !== undefined) {
      if (this.keyframePts !== undefined && pts > this.keyframePts) this.gopS = Math.max(this.gopS, pts - this.keyframePts);
      this.keyframePts = pts;
    }
    if (this.waitingForKeyframe && !keyframe) {
      this.skipped++;
      return;
    }
    const backlog = this.child ? this.child.stdin.writableLength : this.earlyBytes;
    if (this.waitingForKeyframe) {
      // A keyframe after a skip: writing resumes (unless the pipe is still full), and how far
      // behind the decoder is gets measured again from the frames decoded from here on.
      if (backlog > DECODER_BACKLOG) {
        this.skipped++;
        return;
      }
      this.waitingForKeyframe = false;
      this.decodedPts = undefined;
      this.caughtUp = false;
      this.resumedPts = pts ?? -Infinity;
    } else {
      const behindS = pts !== undefined && this.decodedPts !== undefined ? pts - this.decodedPts : 0;
      const bound = Math.max(this.maxBehindS ?? Infinity, GOP_FACTOR * Math.max(this.gopS, this.knownGopS()));
      if (this.decodedPts !== undefined && behindS <= bound) this.caughtUp = true;
      if (backlog > DECODER_BACKLOG || (this.caughtUp && behindS > bound)) {
        this.waitingForKeyframe = true;
        this.skipped++;
        return;
      }
    }
    if (this.child) {
      this.child.stdin.write(data);
    } else {
      this.early.push(data);
      this.earlyBytes += data.length;
    }
  }

  /**
   * Frames in order, each with its pts, one per 1/fps slot (the followers
   * decimate() lets through are dropped here); reading slowly slows the
   * decoder (and then write() skips).
   */
  async *frames(): AsyncGenerator<DecodedFrame> {
    await this.started;
    if (!this.socket) return;
    let lastSlot = -Infinity;
    for await (const { n, data } of this.socket.frames()) {
      const time = await this.ptsOf(n);
      this.pts.delete(n);
      if (time === undefined) throw new Error(`the decoder gave frame ${n} without its time`);
      if (time.pts >= this.resumedPts) this.decodedPts = time.pts;
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
    if (this.done || this.child?.pid === undefined) return;
    signalGroup(this.child.pid, sig);
  }

  /** Lets the decoder finish what it was given (end of input), then stops it if it takes longer than waitMs. */
  async finish(waitMs = 3_000): Promise<void> {
    if (!this.done) {
      this.endRequested = true;
      this.child?.stdin.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise<void>((r) => { timer = setTimeout(r, waitMs); })]);
      clearTimeout(timer);
    }
    await this.stop();
  }

  /** Ends the decoder: its input closed, SIGTERM to its group, SIGKILL after graceMs. Safe to call twice. */
  stop(graceMs = 2_000): Promise<void> {
    this.stopping ??= (async () => {
      // A child not yet spawned never will be (spawnWith sees `stopping`).
      await this.started;
      this.child?.stdin.destroy();
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
      this.socket?.close();
    })();
    return this.stopping;
  }
}
