// From each inference result to the detection log: the camera's tracker gives
// every detection a track id, its event builder turns tracks into events, and
// the writer stores both. An event's best frame is drawn on and saved as a
// JPEG snapshot, off the frame path and with a bound: a burst of new objects
// costs skipped snapshots (counted), never memory or video.
import { annotateJpeg, renderOverlay } from '../annotate/annotator.js';
import type { Logger } from '../util/logger.js';
import type { Detection } from '../types.js';
import { EventBuilder, type EventBuilderOptions, type TrackEvent } from '../track/events.js';
import type { DetectionRecord, EventRecord } from './records.js';
import type { SnapshotStore } from './snapshots.js';
import type { StoreWriter } from './writer.js';

/** One inference result of one camera. */
export interface RecorderInput {
  camera: string;
  frameId: string;
  /** The frame's capture time, ms since the epoch. */
  time: number;
  /** Already filtered by the camera's threshold and labels. */
  detections: readonly Detection[];
  /** The frame the model saw (packed RGB24), for snapshots. */
  frame: { width: number; height: number; data: Uint8Array } | undefined;
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
  events?: EventBuilderOptions;
  /** A camera's first track id, so ids keep rising across restarts (e.g. the log's highest + 1). */
  firstTrackId?: (camera: string) => number;
  /** Snapshots waiting to be drawn and written; more are skipped. Default 16. */
  maxPendingSnapshots?: number;
  snapshotQuality?: number;
  log?: Logger;
}

interface SnapshotJob {
  event: EventRecord;
  detection: Detection;
  frame: { width: number; height: number; data: Buffer };
}

/** Results kept per camera for snapshots of a best frame that has passed; more than the tracker's minHits. */
const RECENT_FRAMES = 4;
const RECENT_KEEP_MS = 10_000;
/** How often cameras that went quiet are checked for tracks to end. */
const SWEEP_MS = 1_000;

export class Recorder {
  private readonly builders = new Map<string, EventBuilder>();
  /** The stored state (with its snapshot) of each open event, and of ended ones whose snapshot is still being made. */
  private readonly records = new Map<string, EventRecord>();
  /** The event whose snapshot is being drawn and written now. */
  private drawing: string | undefined;
  private readonly lastUpdate = new Map<string, number>();
  /**
   * Each camera's last few results with their frames (references, not
   * copies): an event starts on its confirming frame, but its best frame is
   * often the one before (the track's first), which must still be at hand.
   */
  private readonly recent = new Map<string, RecorderInput[]>();
  private readonly listeners = new Set<(phase: EventPhase, event: EventRecord) => void>();
  /** Latest-wins per event: a newer best frame replaces one not yet drawn. */
  private readonly pending = new Map<string, SnapshotJob>();
  private running: Promise<void> | undefined;
  private readonly counters = { snapshotsSaved: 0, snapshotsSkipped: 0, snapshotErrors: 0 };
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly writer: StoreWriter,
    private readonly snapshots: SnapshotStore,
    private readonly options: RecorderOptions = {},
  ) {
    this.sweep = setInterval(() => this.endQuietCameras(Date.now()), SWEEP_MS);
    this.sweep.unref();
  }

  /** Called with every event's start, its improvements (new best frame or snapshot), and its end. */
  onEvent(listener: (phase: EventPhase, event: EventRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(input: RecorderInput): void {
    if (this.closed) return;
    const builder = this.builder(input.camera);
    this.lastUpdate.set(input.camera, input.time);
    const recent = this.recent.get(input.camera) ?? [];
    recent.push(input);
    if (recent.length > RECENT_FRAMES) recent.shift();
    this.recent.set(input.camera, recent);
    const update = builder.update({ time: input.time, frameId: input.frameId }, input.detections);
    const records: DetectionRecord[] = update.tracked.map((d) => ({
      camera: input.camera,
      time: input.time,
      frameId: input.frameId,
      label: d.label,
      classId: d.classId,
      score: d.score,
      box: d.box,
      trackId: d.trackId,
    }));
    if (records.length > 0) this.writer.addDetections(records);
    for (const e of update.started) this.store('start', e, input);
    for (const e of update.improved) this.store('update', e, input);
    for (const e of update.ended) this.finish(e);
  }

  /** Ends the open events of a camera that is going away. */
  endCamera(camera: string): void {
    const builder = this.builders.get(camera);
    if (!builder) return;
    for (const e of builder.endAll()) this.finish(e);
    this.builders.delete(camera);
    this.lastUpdate.delete(camera);
    this.recent.delete(camera);
  }

  stats(): RecorderStats {
    let openEvents = 0;
    for (const r of this.records.values()) if (r.end === null) openEvents++;
    return { openEvents, ...this.counters };
  }

  private builder(camera: string): EventBuilder {
    let b = this.builders.get(camera);
    if (!b) {
      const firstId = this.options.firstTrackId?.(camera);
      b = new EventBuilder(camera, { ...this.options.events, tracker: { ...this.options.events?.tracker, ...(firstId !== undefined ? { firstId } : {}) } });
      this.builders.set(camera, b);
    }
    return b;
  }

  /** A camera with open events and no result for a while (down, or removed from the model): its tracks age out on the clock. */
  private endQuietCameras(now: number): void {
    for (const [camera, builder] of this.builders) {
      const last = this.lastUpdate.get(camera) ?? 0;
      // A camera silent for a while (down) need not keep its last frames for snapshots.
      if (now - last > RECENT_KEEP_MS) this.recent.delete(camera);
      if (builder.stats().open === 0 || now - last < SWEEP_MS * 2) continue;
      const update = builder.update({ time: now, frameId: '' }, []);
      for (const e of update.ended) this.finish(e);
    }
  }

  private toRecord(e: TrackEvent): EventRecord {
    const known = this.records.get(e.id);
    return { ...e, snapshot: known?.snapshot ?? null, snapshotBytes: known?.snapshotBytes ?? 0 };
  }

  private store(phase: 'start' | 'update', e: TrackEvent, input: RecorderInput): void {
    const record = this.toRecord(e);
    this.records.set(e.id, record);
    this.writer.upsertEvent(record);
    this.emit(phase, record);
    // The best frame: this one, or one of the last few (a start's best is often the track's first frame).
    const source = (this.recent.get(input.camera) ?? []).find((r) => r.frameId === e.bestFrameId);
    const best = source?.detections.find((d) => d.classId === e.classId && d.box.every((v, i) => v === e.bestBox[i]));
    if (source?.frame && best) this.queueSnapshot(record, best, source.frame);
  }

  private finish(e: TrackEvent): void {
    const record = this.toRecord(e);
    // Kept while its snapshot is on the way, so the snapshot lands on the ended row rather than reopening it.
    if (this.pending.has(e.id) || this.drawing === e.id) this.records.set(e.id, record);
    else this.records.delete(e.id);
    this.writer.upsertEvent(record);
    this.emit('end', record);
  }

  private emit(phase: EventPhase, event: EventRecord): void {
    for (const l of this.listeners) l(phase, event);
  }

  private queueSnapshot(event: EventRecord, detection: Detection, frame: NonNullable<RecorderInput['frame']>): void {
    const max = this.options.maxPendingSnapshots ?? 16;
    if (!this.pending.has(event.id) && this.pending.size >= max) {
      this.counters.snapshotsSkipped++;
      return;
    }
    if (this.pending.has(event.id)) this.counters.snapshotsSkipped++;
    // A copy: the drawing is blended into the pixels, and several events may share one frame.
    this.pending.set(event.id, { event, detection, frame: { width: frame.width, height: frame.height, data: Buffer.from(frame.data) } });
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
        const overlay = await renderOverlay(job.frame.width, job.frame.height, [{ ...job.detection, score: job.event.maxScore }]);
        const jpeg = await annotateJpeg(job.frame, overlay, this.options.snapshotQuality ?? 85);
        const saved = await this.snapshots.saveSnapshot(id, jpeg);
        this.counters.snapshotsSaved++;
        const current = this.records.get(id) ?? job.event;
        const updated = { ...current, snapshot: saved.file, snapshotBytes: saved.bytes };
        if (updated.end === null) this.records.set(id, updated);
        else if (!this.pending.has(id)) this.records.delete(id);
        this.writer.upsertEvent(updated);
        this.emit('update', updated);
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

  /** Ends every open event (end = its last sighting), writes the snapshots waiting, and stops. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.sweep);
    for (const camera of [...this.builders.keys()]) this.endCamera(camera);
    this.closed = true;
    await this.running;
  }
}
