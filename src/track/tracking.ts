// The tracking stage of `lookout serve`: one event builder (and so one
// tracker) per camera. Each inference result goes in; out comes what the
// tracker decided for it: every detection with its track id, and the events
// that started, found a better frame, or ended. Whoever keeps or shows those
// (the detection log, the live view) listens; tracking itself keeps nothing
// but the tracks, does no I/O, and never reads the pictures.
//
// Tracks also end on the clock: a camera that stops sending results (down,
// or the model away) would otherwise keep its objects "in view" for ever.
import type { Box, Detection, DetectionRecord, Frame, TrackedDetection, TrackedObject, TrackEvent } from '../types.js';
import { EventBuilder, type EventBuilderOptions, type EventBuilderStats } from './events.js';
import { detectionRecords } from './records.js';
import { Listeners } from '../util/listeners.js';

/** One camera's inference result, as the camera registry hands it on. */
export interface TrackInput {
  camera: string;
  frameId: string;
  /** The frame's capture time, ms since the epoch. */
  time: number;
  /** Already filtered by the camera's threshold and labels. */
  detections: readonly Detection[];
  /** The parts of the frame the model looked at (normalized); null or absent: all of it. */
  regions?: readonly Box[] | null;
  /** The model that answered (CameraDetections.model). */
  model?: { name: string; version: number | null };
}

/** What tracking decided for one result (or for the clock, when tracks aged out). */
export interface TrackUpdate {
  camera: string;
  frameId: string;
  time: number;
  tracked: TrackedDetection[];
  /** The same, as the records the log stores. */
  records: DetectionRecord[];
  started: TrackEvent[];
  improved: TrackEvent[];
  ended: TrackEvent[];
  /** Every track that ended (events or not): state kept per track can go. */
  gone: number[];
  /**
   * The picture the detections came from, carried along read-only for
   * whoever snapshots an event's best frame; absent when the clock or a
   * camera's removal ended tracks.
   */
  frame: Frame | undefined;
  /** The camera is gone (removed, or replaced by a change): nothing more will come of it under this run. */
  last: boolean;
}

export interface TrackingOptions {
  events?: EventBuilderOptions;
  /** A label's event threshold on a camera (its object filters'); see EventBuilderOptions.threshold. */
  threshold?: (camera: string, label: string) => number;
  /** A camera's first track id, so ids keep rising across restarts (e.g. the log's highest + 1). */
  firstTrackId?: (camera: string) => number;
}

/** How often cameras that went quiet are checked for tracks to end. */
const SWEEP_MS = 1_000;

export class Tracking {
  private readonly builders = new Map<string, EventBuilder>();
  private readonly lastUpdate = new Map<string, number>();
  private readonly updates = new Listeners<[update: TrackUpdate]>();
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: TrackingOptions = {}) {
    this.sweep = setInterval(() => this.endQuietCameras(Date.now()), SWEEP_MS);
    this.sweep.unref();
  }

  /** Called with every update, in order; returns the unsubscribe. */
  onUpdate(listener: (update: TrackUpdate) => void): () => void {
    return this.updates.add(listener);
  }

  /** Feeds one inference result (empty ones too: a frame without a match is what drops a tentative track); returns its detections with their track ids. */
  update(input: TrackInput, frame?: Frame): TrackedDetection[] | undefined {
    if (this.closed) return undefined;
    // An answer for an older frame (it waited for the model) must not make the camera look quiet.
    this.lastUpdate.set(input.camera, Math.max(this.lastUpdate.get(input.camera) ?? 0, input.time));
    const { tracked, started, improved, ended, gone } = this.builder(input.camera).update({ time: input.time, frameId: input.frameId, ...(input.model ? { model: input.model } : {}) }, input.detections, input.regions);
    this.updates.emit({ camera: input.camera, frameId: input.frameId, time: input.time, tracked, records: detectionRecords(input.camera, input, tracked), started, improved, ended, gone, frame, last: false });
    return tracked;
  }

  /**
   * A frame of the camera the model was not given (motion gating: nothing
   * moved): its steady tracks are held, and the camera is not quiet.
   */
  hold(camera: string, time: number): void {
    const builder = this.builders.get(camera);
    if (this.closed || !builder) return;
    this.lastUpdate.set(camera, Math.max(this.lastUpdate.get(camera) ?? 0, time));
    builder.hold(time);
  }

  /** A camera's live tracks, predicted for `time`. */
  objects(camera: string, time: number): TrackedObject[] {
    return this.builders.get(camera)?.objects(time) ?? [];
  }

  /** Ends the open events of a camera that is going away. */
  endCamera(camera: string): void {
    const builder = this.builders.get(camera);
    if (!builder) return;
    this.builders.delete(camera);
    this.lastUpdate.delete(camera);
    this.emitEnded(camera, Date.now(), builder.endAll(), [], true);
  }

  /** Per camera: live and confirmed tracks, open events. */
  stats(): Record<string, EventBuilderStats> {
    return Object.fromEntries([...this.builders].map(([camera, b]) => [camera, b.stats()]));
  }

  private builder(camera: string): EventBuilder {
    let b = this.builders.get(camera);
    if (!b) {
      const firstId = this.options.firstTrackId?.(camera);
      const threshold = this.options.threshold;
      b = new EventBuilder(camera, {
        ...this.options.events,
        ...(threshold ? { threshold: (label: string) => threshold(camera, label) } : {}),
        tracker: { ...this.options.events?.tracker, ...(firstId !== undefined ? { firstId } : {}) },
      });
      this.builders.set(camera, b);
    }
    return b;
  }

  /** A camera with open events and no result for a while (down, or the model away): its tracks age out on the clock. */
  private endQuietCameras(now: number): void {
    for (const [camera, builder] of this.builders) {
      const last = this.lastUpdate.get(camera) ?? 0;
      if (builder.stats().open === 0 || now - last < SWEEP_MS * 2) continue;
      const { ended, gone } = builder.update({ time: now, frameId: '' }, []);
      this.emitEnded(camera, now, ended, gone, false);
    }
  }

  /** Tracks that ended without a result (on the clock, or with their camera); a camera's last update goes out even with none. */
  private emitEnded(camera: string, time: number, ended: TrackEvent[], gone: number[], last: boolean): void {
    if (ended.length > 0 || gone.length > 0 || last) this.updates.emit({ camera, frameId: '', time, tracked: [], records: [], started: [], improved: [], ended, gone, frame: undefined, last });
  }

  /** Ends every open event (end = its last sighting) and stops the clock. Idempotent. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.sweep);
    for (const camera of [...this.builders.keys()]) this.endCamera(camera);
    this.closed = true;
  }
}
