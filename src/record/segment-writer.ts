// One camera's recording: the copied stream's fragments, exactly as the
// camera's one ffmpeg wrote them, appended to segment files cut on
// keyframes (docs/recordings.md). File work runs in one ordered queue of
// operations (open, writes coalesced into one writev, close) so the frame
// path never waits on the disk; the queue is bounded in bytes, and what
// does not fit is dropped, counted, and the segment ended where its last
// whole fragment is.
//
// A write that fails (disk full, I/O error) ends the segment there
// (truncated to its last whole fragment) and pauses recording with the
// reason; every RETRY_MS the next keyframe tries a new segment. Live view and
// detection never notice.
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { RecordSettings } from '../config/schema.js';
import { parseFragment } from '../ingest/fmp4.js';
import type { StreamFragment, StreamInit } from '../ingest/stream-cache.js';
import type { SegmentRecord } from '../store/segments.js';
import type { Logger } from '../util/logger.js';
import { initHash, prftBox, rebased, segmentName, type Keyframe } from './segment-file.js';

/** Bytes waiting for the disk per camera before fragments are dropped: seconds of even a 4K stream. */
export const MAX_QUEUED_BYTES = 16 << 20;
/** A paused recording tries again this often. */
export const RETRY_MS = 5_000;
/**
 * Fragments wait this long to go to the disk together: one writev per camera
 * every 200 ms instead of one per frame through the thread pool (measured:
 * 0.025 → 0.003 cores for 4 cameras at 30 fps). A kill -9 loses at most this
 * much more; the file still ends on a whole fragment.
 */
const FLUSH_MS = 200;
/** Finished segments remembered until their rows are surely committed (the store may be failing for a while). */
const RECENT_SEGMENTS = 16;

export type RecordingState = 'off' | 'waiting' | 'recording' | 'paused';

export interface RecordingStatus {
  mode: RecordSettings['mode'];
  state: RecordingState;
  reason: string | null;
  /** The segment being written, relative to the recordings folder. */
  segment: string | null;
  /** Segments finished by this lookout, bytes written, fragments dropped (queue full) or skipped (paused). */
  segments: number;
  bytes: number;
  droppedFragments: number;
  skippedFragments: number;
}

interface Segment {
  record: SegmentRecord;
  /** The run's decode time of the segment's first frame: taken off every decode time, so the file starts at 0. */
  base: number;
  run: number;
  epoch: number;
  handle: FileHandle | undefined;
  /** Bytes handed to the queue (the file's size once they are written). */
  queued: number;
  failed: boolean;
  /** The row has been handed to the store (after its first fragment was written). */
  indexed: boolean;
}

type Op =
  | { kind: 'open'; seg: Segment; init: Buffer }
  | { kind: 'write'; seg: Segment; data: Buffer[]; bytes: number; end: number; keyframe: Keyframe | undefined }
  | { kind: 'close'; seg: Segment };

export class SegmentWriter {
  private init: StreamInit | undefined;
  private initHashValue = '';
  private current: Segment | undefined;
  private readonly ops: Op[] = [];
  private queuedBytes = 0;
  private draining: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Segments finished lately, whose closing row may not be committed yet: clips and lists read these instead. */
  private readonly recent: SegmentRecord[] = [];
  private state: RecordingState = 'waiting';
  private reason: string | null = null;
  private retryAt = 0;
  private readonly counts = { segments: 0, bytes: 0, droppedFragments: 0, skippedFragments: 0 };
  private closed = false;

  constructor(
    readonly camera: string,
    private readonly dir: string,
    private readonly settings: () => RecordSettings,
    /** Hands a segment's row to the store (an upsert by path). */
    private readonly index: (record: SegmentRecord) => void,
    private readonly log: Logger,
    /** Called when the disk is full: the data folder's budget may free room now rather than at the next pass. */
    private readonly onDiskFull: () => void = () => undefined,
  ) {}

  newInit(init: StreamInit): void {
    this.init = init;
    this.initHashValue = initHash(init.data);
    // A new run is a new timeline: the segment of the old one ends here.
    this.finishCurrent();
  }

  fragment(f: StreamFragment): void {
    if (this.closed || !this.init || f.run !== this.init.run) return;
    const settings = this.settings();
    if (settings.mode === 'off') return this.setOff(null);
    if (f.epoch === null) return this.setOff('a file read faster than real time has no wall clock to record by');
    if (this.state === 'paused' && Date.now() < this.retryAt) {
      this.counts.skippedFragments++;
      return;
    }
    let seg = this.current;
    if (seg && f.keyframe && (f.time - seg.record.start >= settings.segmentSeconds * 1000 || f.epoch !== seg.epoch)) {
      this.finishCurrent();
      seg = undefined;
    }
    if (!seg) {
      if (!f.keyframe) return;
      if (this.queuedBytes > MAX_QUEUED_BYTES / 2) {
        // Still draining a backlog: start again once the disk has caught up.
        this.counts.droppedFragments++;
        return;
      }
      seg = this.open(f);
    }
    const timescale = this.init.timescale;
    const data = rebased(f.data, -seg.base);
    let keyframe: Keyframe | undefined;
    if (f.keyframe) {
      const dts = (parseFragment(f.data)?.decodeTime ?? Math.round(f.pts * timescale)) - seg.base;
      const pts = Math.round(f.pts * timescale) - seg.base;
      // The wall-clock time of this fragment's decode time, for anyone reading the file without its row.
      data.unshift(prftBox(f.time - ((pts - dts) / timescale) * 1000, dts));
      keyframe = [seg.queued, pts, dts];
    }
    const bytes = data.reduce((n, b) => n + b.length, 0);
    if (this.queuedBytes + bytes > MAX_QUEUED_BYTES) {
      // The disk is not keeping up: this segment ends at what is written, the next starts at a keyframe.
      this.counts.droppedFragments++;
      this.finishCurrent();
      return;
    }
    seg.queued += bytes;
    this.push({ kind: 'write', seg, data, bytes, end: f.time + f.duration * 1000, keyframe });
  }

  private open(f: StreamFragment): Segment {
    const init = this.init as StreamInit;
    const base = parseFragment(f.data)?.decodeTime ?? Math.round(f.pts * init.timescale);
    const seg: Segment = {
      base,
      record: {
        camera: this.camera, path: '', start: f.time, end: f.time, startPts: Math.round(f.pts * init.timescale) - base, timescale: init.timescale,
        initBytes: init.data.length, initHash: this.initHashValue, bytes: 0, keyframes: [], complete: false,
      },
      run: f.run,
      epoch: f.epoch ?? 0,
      handle: undefined,
      queued: init.data.length,
      failed: false,
      indexed: false,
    };
    this.current = seg;
    // Paused stays paused until this segment's first fragment is on disk.
    if (this.state !== 'paused') {
      this.state = 'recording';
      this.reason = null;
    }
    this.push({ kind: 'open', seg, init: init.data });
    return seg;
  }

  private finishCurrent(): void {
    const seg = this.current;
    if (!seg) return;
    this.current = undefined;
    this.push({ kind: 'close', seg });
  }

  private setOff(reason: string | null): void {
    this.finishCurrent();
    this.state = 'off';
    this.reason = reason;
  }

  private push(op: Op): void {
    if (op.kind === 'write') this.queuedBytes += op.bytes;
    this.ops.push(op);
    if (this.draining) return;
    if (op.kind === 'write') {
      this.flushTimer ??= setTimeout(() => this.startDrain(), FLUSH_MS);
      return;
    }
    this.startDrain();
  }

  private startDrain(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      await this.drainOps();
    } finally {
      // In the same step that found no op left: a push after this starts a new drain.
      this.draining = undefined;
    }
  }

  private async drainOps(): Promise<void> {
    for (let op = this.ops.shift(); op; op = this.ops.shift()) {
      if (op.kind === 'write') {
        // Every write of the same segment waiting behind this one goes in the same writev.
        const batch = [op];
        while (this.ops[0]?.kind === 'write' && this.ops[0].seg === op.seg) batch.push(this.ops.shift() as typeof op);
        await this.write(op.seg, batch);
        for (const w of batch) this.queuedBytes -= w.bytes;
      } else if (op.kind === 'open') {
        await this.openFile(op.seg, op.init);
      } else {
        await this.closeFile(op.seg);
      }
    }
  }

  private async openFile(seg: Segment, init: Buffer): Promise<void> {
    try {
      for (let suffix = 0; ; suffix++) {
        const rel = segmentName(this.camera, seg.record.start, suffix);
        const file = path.join(this.dir, rel);
        await mkdir(path.dirname(file), { recursive: true });
        try {
          seg.handle = await open(file, 'wx');
          seg.record.path = rel;
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || suffix >= 99) throw err;
        }
      }
      await this.writeAll(seg, [init]);
      seg.record.bytes = init.length;
    } catch (err) {
      this.fail(seg, err as NodeJS.ErrnoException);
    }
  }

  private async write(seg: Segment, batch: Extract<Op, { kind: 'write' }>[]): Promise<void> {
    if (seg.failed || !seg.handle) return;
    try {
      await this.writeAll(seg, batch.flatMap((w) => w.data));
    } catch (err) {
      this.fail(seg, err as NodeJS.ErrnoException);
      return;
    }
    for (const w of batch) {
      if (w.keyframe) seg.record.keyframes.push(w.keyframe);
      seg.record.bytes += w.bytes;
      // The end of the last frame shown, which with B-frames need not be the last one written.
      seg.record.end = Math.max(seg.record.end, w.end);
      this.counts.bytes += w.bytes;
    }
    if (this.state === 'paused' && !this.closed) {
      this.log.info(`recording ${this.camera} resumed: ${seg.record.path}`);
      this.state = 'recording';
      this.reason = null;
    }
    if (!seg.indexed) {
      // The row appears once the file holds a fragment: an empty file is never indexed.
      seg.indexed = true;
      this.index({ ...seg.record, keyframes: seg.record.keyframes.slice() });
    }
  }

  /** writev, then whatever a short write left. */
  private async writeAll(seg: Segment, bufs: Buffer[]): Promise<void> {
    const handle = seg.handle as FileHandle;
    const total = bufs.reduce((n, b) => n + b.length, 0);
    let done = (await handle.writev(bufs)).bytesWritten;
    while (done < total) {
      const rest = Buffer.concat(bufs).subarray(done);
      const n = (await handle.write(rest)).bytesWritten;
      if (n === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
      done += n;
    }
  }

  private fail(seg: Segment, err: NodeJS.ErrnoException): void {
    seg.failed = true;
    const why = err.code === 'ENOSPC' || err.code === 'EDQUOT' ? 'the disk is full' : err.code === 'EROFS' ? 'the disk is read-only' : 'the disk failed';
    this.reason = `${why} (${err.code ?? 'error'}: ${err.message}) writing ${seg.record.path || this.camera}; retrying every ${RETRY_MS / 1000} s`;
    if (this.state !== 'paused') {
      this.log.warn(`recording ${this.camera} paused: ${this.reason}`);
      if (err.code === 'ENOSPC' || err.code === 'EDQUOT') this.onDiskFull();
    }
    this.state = 'paused';
    this.retryAt = Date.now() + RETRY_MS;
    // Whichever segment failed, the one being written ends too: fragments skipped while paused would leave a hole in it.
    this.finishCurrent();
  }

  private async closeFile(seg: Segment): Promise<void> {
    const handle = seg.handle;
    if (!handle) return;
    try {
      // A failed write may have left part of a fragment: the file ends at the last whole one.
      if (seg.failed) await handle.truncate(seg.record.bytes).catch(() => undefined);
      await handle.datasync().catch(() => undefined);
    } finally {
      await handle.close().catch(() => undefined);
    }
    if (seg.record.bytes <= seg.record.initBytes) {
      // No fragment made it: nothing to play, nothing indexed.
      await rm(path.join(this.dir, seg.record.path), { force: true }).catch(() => undefined);
      return;
    }
    this.counts.segments++;
    const record = { ...seg.record, keyframes: seg.record.keyframes.slice(), complete: true };
    this.recent.push(record);
    if (this.recent.length > RECENT_SEGMENTS) this.recent.shift();
    this.index(record);
  }

  /**
   * The segment being written, as far as it is on disk, and those finished
   * lately (their rows may still be on the way to the store): what clips and
   * lists reaching the present read instead of the rows.
   */
  live(): SegmentRecord[] {
    const seg = this.current;
    const now = seg && seg.indexed && !seg.failed ? [{ ...seg.record, keyframes: seg.record.keyframes.slice() }] : [];
    return [...this.recent, ...now];
  }

  status(): RecordingStatus {
    return { mode: this.settings().mode, state: this.state, reason: this.reason, segment: this.current?.record.path || null, ...this.counts };
  }

  /** Finishes the segment being written (its row complete) and waits for the disk. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.finishCurrent();
    this.startDrain();
    while (this.draining) await this.draining;
  }
}
