// Raw frames from a decoder child, read straight into frame buffers. A pipe
// hands Node a fresh 64 KB buffer per read, and frames were then copied out
// of those into a fresh frame: at 1080p RGB that is 12 MB of short-lived
// memory per frame, and the garbage collector's marking and the kernel's
// page faults for it cost more than everything else lookout does with the
// frame (measured on the 2-core machine: 0.5 of a core for two 1080p
// cameras at 5 detection frames a second). Over a Unix socket, net's
// `onread` lets the kernel write into a buffer of our choosing: each frame's
// bytes land in that frame's own buffer, and frames the decoder's owner
// already knows it will drop (decimate()'s followers) land in one scratch
// buffer used again and again.
import net from 'node:net';
import { unlinkSync } from 'node:fs';
import path from 'node:path';
import { runtimeDir } from './runtime-dir.js';

export interface SocketFrame {
  /** The frame's number in the child's output: 0, 1, 2… including frames not handed on. */
  n: number;
  data: Buffer;
}

/** Frames read and not yet taken before reading pauses (and the child blocks on its write). */
const QUEUE = 2;

let sockets = 0;

export class FrameSocket {
  /** Bytes that came before the frame size was known (reading pauses until then). */
  private early: Buffer[] = [];
  private size = 0;
  private scratch: Buffer | undefined;
  private current: { n: number; data: Buffer; keep: boolean } | undefined;
  private filled = 0;
  private next = 0;
  private readonly queue: SocketFrame[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** A staging buffer for reads before the frame size is known. */
  private readonly staging = Buffer.allocUnsafe(64 * 1024);

  private constructor(
    /** The end to give the child as its stdout (stdio[1]); close it here once the child has it. */
    readonly childEnd: net.Socket,
    private readonly reader: net.Socket,
    private readonly discard: (n: number) => boolean,
  ) {}

  /**
   * A connected pair: `childEnd` for the child, read here. `discard(n)` is
   * asked as frame n begins: true when frame n will be dropped anyway (its
   * bytes go to the scratch buffer and it is not handed on); false keeps it.
   */
  static async open(discard: (n: number) => boolean): Promise<FrameSocket> {
    const file = path.join(runtimeDir(), `frames-${++sockets}.sock`);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
    try {
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      let self: FrameSocket | undefined;
      const reader = net.connect({
        path: file,
        onread: { buffer: () => self?.target() ?? Buffer.allocUnsafe(64 * 1024), callback: (nread, buf) => (self ? self.onRead(nread, buf) : true) },
      });
      await new Promise<void>((resolve, reject) => {
        reader.once('connect', resolve);
        reader.once('error', reject);
      });
      const childEnd = await accepted;
      // The child only writes; the reader end never writes back.
      childEnd.pause();
      self = new FrameSocket(childEnd, reader, discard);
      self.listen();
      return self;
    } finally {
      server.close();
      try { unlinkSync(file); } catch { /* already gone */ }
    }
  }

  private listen(): void {
    this.reader.on('end', () => this.finish());
    this.reader.on('close', () => this.finish());
    this.reader.on('error', (err) => this.finish(err));
    // Flowing, so the end of the child's output is seen (nothing is ever pushed: reads go to our buffers).
    this.reader.resume();
  }

  /** The frame size in bytes, once the child has said it; bytes that came before are framed now. */
  setFrameSize(bytes: number): void {
    if (this.size !== 0) return;
    if (!(bytes > 0)) {
      this.finish(new Error(`frame size must be positive, got ${bytes}`));
      return;
    }
    this.size = bytes;
    const early = this.early;
    this.early = [];
    for (const chunk of early) this.copyIn(chunk);
    if (this.queue.length < QUEUE) this.reader.resume();
  }

  /** Where the next read goes: the rest of the frame being filled, or staging while the size is unknown. */
  private target(): Uint8Array {
    if (this.size === 0) return this.staging;
    this.current ??= this.begin();
    return this.current.data.subarray(this.filled);
  }

  private begin(): { n: number; data: Buffer; keep: boolean } {
    const n = this.next++;
    const keep = !this.discard(n);
    if (keep) return { n, data: Buffer.allocUnsafeSlow(this.size), keep };
    this.scratch ??= Buffer.allocUnsafeSlow(this.size);
    return { n, data: this.scratch, keep };
  }

  private onRead(nread: number, buf: Uint8Array): boolean {
    if (this.size === 0) {
      this.early.push(Buffer.from(buf.subarray(0, nread)));
      return false;
    }
    if (this.current && buf.buffer === this.current.data.buffer && buf.byteOffset === this.current.data.byteOffset + this.filled) {
      this.filled += nread;
      if (this.filled === this.size) this.complete();
    } else {
      // A read into a buffer handed out before the size was known.
      this.copyIn(Buffer.from(buf.buffer, buf.byteOffset, nread));
    }
    return this.queue.length < QUEUE;
  }

  private copyIn(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      this.current ??= this.begin();
      const take = Math.min(bytes.length - at, this.size - this.filled);
      bytes.copy(this.current.data, this.filled, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled === this.size) this.complete();
    }
  }

  private complete(): void {
    const frame = this.current;
    this.current = undefined;
    this.filled = 0;
    if (frame?.keep) {
      this.queue.push({ n: frame.n, data: frame.data });
      this.wake?.();
    }
  }

  private finish(err?: Error): void {
    if (err && !this.failure && !this.ended) this.failure = err;
    this.ended = true;
    this.wake?.();
  }

  /** Frames in order as they complete; ends when the child closes its end (a partial last frame is dropped). */
  async *frames(): AsyncGenerator<SocketFrame> {
    for (;;) {
      const frame = this.queue.shift();
      if (frame) {
        // A read that filled the queue stopped reading (onRead returned false); resume() starts it again.
        if (this.size !== 0 && this.queue.length < QUEUE) this.reader.resume();
        yield frame;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }

  /** Closes both ends here (the child keeps its own copy of its end until it exits). */
  close(): void {
    this.childEnd.destroy();
    this.reader.destroy();
  }
}
