// What tracking decided, into the detection log: every tracked detection
// and every event's start, improvements and end go to the writer. An event's
// best frame is drawn on and saved as a JPEG snapshot, off the frame path and
// with a bound: a burst of new objects costs skipped snapshots (counted),
// never memory or video.
import sharp from 'sharp';
import { annotateJpeg, renderOverlay } from '../annotate/annotator.js';
import type { TrackUpdate } from '../track/tracking.js';
import type { Detection, Frame, TrackEvent } from '../types.js';
import type { Logger } from '../util/logger.js';
import type { EventRecord } from './records.js';
import type { SnapshotStore } from './snapshots.js';
import type { StoreWriter } from './writer.js';
import { Listeners } from '../util/listeners.js';

/** A result of tracking that came with its picture: where a best frame is found. */
interface RecentFrame {
  frameId: string;
  tracked: readonly Detection[];
  frame: Frame;
}

export type EventPhase = 'start' | 'update' | 'end';

export interface RecorderStats {
  openEvents: number;
  snapshotsSaved: number;
  /** Snapshots not taken because too many were waiting. */
  snapshotsSkipped: number;
  snapshotErrors: number;
}

export interface RecorderOptions {
  /** Snapshots waiting to be drawn and written; more are skipped. Default 16. */
  maxPendingSnapshots?: number;
  snapshotQuality?: number;
  log?: Logger;
}

interface SnapshotJob {
  event: EventRecord;
  detection: Detection;
  /** Read-only: the drawing goes into a copy (annotateJpeg). */
  frame: Frame;
}

/** Results kept per camera for snapshots of a best frame that has passed; more than the tracker's minHits. */
const RECENT_FRAMES = 4;
/** A camera silent this long (down) need not keep its last frames for snapshots. */
const RECENT_KEEP_MS = 10_000;

export class Recorder {
  /** The stored state (with its snapshot) of each open event, and of ended ones whose snapshot is still being made. */
  private readonly records = new Map<string, EventRecord>();
  /** The event whose snapshot is being drawn and written now. */
  private drawing: string | undefined;
  /**
   * Each camera's last few results with their frames (references: frames
   * are read-only once delivered): an event starts on its confirming frame,
   * but its best frame is often the one before (the track's first), which
   * must still be at hand.
   */
  private readonly recent = new Map<string, { at: number; frames: RecentFrame[] }>();
  private lastSweep = 0;
  private readonly events = new Listeners<[phase: EventPhase, event: EventRecord]>();
  /** Latest-wins per event: a newer best frame replaces one not yet drawn. */
  private readonly pending = new Map<string, SnapshotJob>();
  private running: Promise<void> | undefined;
  private readonly counters = { snapshotsSaved: 0, snapshotsSkipped: 0, snapshotErrors: 0 };
  private closed = false;

  constructor(
    private readonly writer: StoreWriter,
    private readonly snapshots: SnapshotStore,
    private readonly options: RecorderOptions = {},
  ) {}

  /** Called with every event's start, its improvements (new best frame or snapshot), and its end. */
  onEvent(listener: (phase: EventPhase, event: EventRecord) => void): () => void {
    return this.events.add(listener);
  }

  /** Stores one update of tracking: its records, and its events' starts, improvements and ends. */
  record(update: TrackUpdate): void {
    if (this.closed) return;
    if (update.frame) this.remember(update.camera, { frameId: update.frameId, tracked: update.tracked, frame: update.frame });
    if (update.records.length > 0) this.writer.addDetections(update.records);
    for (const e of update.started) this.store('start', e);
    for (const e of update.improved) this.store('update', e);
    for (const e of update.ended) this.finish(e);
    // A camera that is gone lets go of its frames (a changed camera starts its frame ids over).
    if (update.last) this.recent.delete(update.camera);
  }

  /** Open events whose zones changed (analytics/) without a new best frame: stored and told as updates, no snapshot. */
  changed(events: readonly TrackEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      const known = this.records.get(e.id);
      if (!known || known.end !== null) continue;
      const record = { ...known, zones: [...e.zones] };
      this.records.set(e.id, record);
      this.writer.upsertEvent(record);
      this.events.emit('update', record);
    }
  }

  stats(): RecorderStats {
    let openEvents = 0;
    for (const r of this.records.values()) if (r.end === null) openEvents++;
    return { openEvents, ...this.counters };
  }

  private remember(camera: string, recent: RecentFrame): void {
    const now = Date.now();
    // Cameras that went quiet (down) let go of their frames; looked at once a second, not per result.
    if (now - this.lastSweep >= 1_000) {
      this.lastSweep = now;
      for (const [id, r] of this.recent) if (now - r.at > RECENT_KEEP_MS) this.recent.delete(id);
    }
    const kept = this.recent.get(camera) ?? { at: now, frames: [] };
    kept.at = now;
    kept.frames.push(recent);
    if (kept.frames.length > RECENT_FRAMES) kept.frames.shift();
    this.recent.set(camera, kept);
  }

  private toRecord(e: TrackEvent): EventRecord {
    const known = this.records.get(e.id);
    return { ...e, snapshot: known?.snapshot ?? null, snapshotBytes: known?.snapshotBytes ?? 0 };
  }

  private store(phase: 'start' | 'update', e: TrackEvent): void {
    const record = this.toRecord(e);
    this.records.set(e.id, record);
    this.writer.upsertEvent(record);
    this.events.emit(phase, record);
    // The best frame: this one, or one of the last few (a start's best is often the track's first frame).
    const source = this.recent.get(e.camera)?.frames.find((r) => r.frameId === e.bestFrameId);
    const best = source?.tracked.find((d) => d.classId === e.classId && d.box.every((v, i) => v === e.bestBox[i]));
    if (source && best) this.queueSnapshot(record, best, source.frame);
  }

  private finish(e: TrackEvent): void {
    const record = this.toRecord(e);
    // Kept while its snapshot is on the way, so the snapshot lands on the ended row rather than reopening it.
    if (this.pending.has(e.id) || this.drawing === e.id) this.records.set(e.id, record);
    else this.records.delete(e.id);
    this.writer.upsertEvent(record);
    this.events.emit('end', record);
  }

  private queueSnapshot(event: EventRecord, detection: Detection, frame: Frame): void {
    const max = this.options.maxPendingSnapshots ?? 16;
    if (!this.pending.has(event.id) && this.pending.size >= max) {
      this.counters.snapshotsSkipped++;
      return;
    }
    if (this.pending.has(event.id)) this.counters.snapshotsSkipped++;
    this.pending.set(event.id, { event, detection, frame });
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    for (;;) {
      const next = this.pending.entries().next();
      if (next.done) return;
      const [id, job] = next.value;
      this.pending.delete(id);
      this.drawing = id;
      try {
        const frame = await snapshotSize(job.frame);
        const overlay = await renderOverlay(frame.width, frame.height, [{ ...job.detection, score: job.event.maxScore }]);
        const jpeg = await annotateJpeg(frame, overlay, this.options.snapshotQuality ?? 85);
        const saved = await this.snapshots.saveSnapshot(id, jpeg);
        this.counters.snapshotsSaved++;
        const current = this.records.get(id) ?? job.event;
        const updated = { ...current, snapshot: saved.file, snapshotBytes: saved.bytes };
        if (updated.end === null) this.records.set(id, updated);
        else if (!this.pending.has(id)) this.records.delete(id);
        this.writer.upsertEvent(updated);
        this.events.emit('update', updated);
      } catch (err) {
        this.counters.snapshotErrors++;
        this.options.log?.warn(`snapshot of event ${id} failed: ${(err as Error).message}`);
      } finally {
        this.drawing = undefined;
        const r = this.records.get(id);
        if (r && r.end !== null && !this.pending.has(id)) this.records.delete(id);
      }
    }
  }

  /**
   * Writes the snapshots waiting, and takes no more updates. Idempotent.
   * Close tracking first: its last updates end the open events.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.recent.clear();
    await this.running;
  }
}

/** Snapshots are at most this size: detection frames come at the camera's own (up to 4K, for regions); a snapshot need not. */
const SNAPSHOT_MAX = { width: 1920, height: 1080 };

/** The frame scaled down to fit SNAPSHOT_MAX (boxes are normalized, so they still fit); as it is when it fits. */
async function snapshotSize(frame: Frame): Promise<Pick<Frame, 'width' | 'height' | 'data'>> {
  const scale = Math.min(SNAPSHOT_MAX.width / frame.width, SNAPSHOT_MAX.height / frame.height);
  if (scale >= 1) return frame;
  const width = Math.round(frame.width * scale);
  const height = Math.round(frame.height * scale);
  const data = await sharp(frame.data as Buffer, { raw: { width: frame.width, height: frame.height, channels: 3 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  return { width, height, data };
}
