// The small shared types every stage meets in. Stages import these, not each other.
import type { Rect, Size } from './util/rect.js';

export type { Rect, Size };

/** [ymin, xmin, ymax, xmax], normalized to 0–1 of the image, as TF Serving returns them. */
export type Box = [number, number, number, number];

export interface Detection {
  /** Label-map id (COCO: 1–90, with gaps). */
  classId: number;
  /** Display name from the label map, or `class N` when the map lacks the id. */
  label: string;
  score: number;
  box: Box;
}

/** One image for the model: packed RGB24 rows, or an encoded JPEG. */
export type ImageInput =
  | { kind: 'rgb'; width: number; height: number; data: Uint8Array }
  | { kind: 'jpeg'; data: Uint8Array };

/**
 * A frame's pixels, read-only once delivered: the same frame goes to the
 * model, the live view and the detection log's snapshots, so whoever draws
 * on it copies it first (annotate/annotator.ts draws into its own buffer).
 * The type refuses writes by index; Buffer's own mutating methods (fill,
 * set) it cannot refuse, so none is called on a frame.
 */
export type FrameBytes = Readonly<Buffer>;

/** One decoded frame of a camera, packed RGB24; nobody changes it once delivered. */
export interface Frame {
  cameraId: string;
  /** 0, 1, 2… per output of one ffmpeg run; restarts begin again at 0. */
  seq: number;
  /** Which ffmpeg run of the camera produced it (1, 2, … across restarts). */
  run: number;
  width: number;
  height: number;
  readonly data: FrameBytes;
  /** Presentation time in the stream, in ms (pts × 1000); `lookout detect`: seq ÷ output fps. */
  ptsMs: number;
  /**
   * Presentation time on the camera's copied stream (stream.mp4) of this run,
   * in seconds, as ffprobe prints the frame's pts_time there (microseconds).
   * Absent for frames that do not come from a copied stream.
   */
  pts?: number;
  /**
   * Wall-clock time of the frame, ms since the epoch: for a camera's frames,
   * its time on the run clock (ingest/run-clock.ts), the time the detection
   * log and the recordings share.
   */
  capturedAt: number;
  /**
   * When the frame was decoded and handed on, ms since the epoch; the
   * scheduler ages frames from here (a decoder that fell behind has already
   * skipped to a keyframe, and its frames are still worth detecting).
   * Absent: capturedAt.
   */
  readyAt?: number;
}

/**
 * A frame's id, shared by every decoder of one camera run's copied stream: the
 * run and the presentation time. A live frame and a detection frame with the
 * same id are the same picture.
 */
/**
 * Which model a camera's frames go to: a model the model server serves, by
 * name, and optionally one version of it (a number, or a version label).
 * A camera without one uses modelServer.modelName, newest version.
 */
export interface ModelChoice {
  name: string;
  version?: number;
  label?: string;
}

/** A model choice as one string: "name", "name@version" or "name#label"; null is the default model's name. */
export function modelKey(choice: ModelChoice | null, defaultName: string): string {
  if (!choice) return defaultName;
  return choice.version !== undefined ? `${choice.name}@${choice.version}` : choice.label !== undefined ? `${choice.name}#${choice.label}` : choice.name;
}

export function frameId(frame: Pick<Frame, 'run' | 'ptsMs'>): string {
  return `${frame.run}:${Math.round(frame.ptsMs)}`;
}

/**
 * What of a frame the model looks at (motion/gate.ts decides): the whole
 * frame, or regions of it. Each rectangle is scaled down to fit `fit` (never
 * up) before it goes to the model.
 */
export interface DetectPlan {
  kind: 'full' | 'regions';
  rects: Rect[];
  fit: Size;
}

/** A camera's detections for one frame, as the registry keeps the newest and hands them on. */
export interface CameraDetections {
  /** The detection frame's id (see frameId()): pairs it with the live frame of the same picture. */
  frameId: string;
  /** The ffmpeg run of the camera, and the frame's time on that run's copied stream (Frame.pts). */
  run: number;
  pts: number | undefined;
  frameSeq: number;
  capturedAt: number;
  width: number;
  height: number;
  detections: Detection[];
  latencyMs: number;
  /** How old the frame was when it was sent to the model, ms. */
  queueWaitMs: number;
  /**
   * The parts of the frame the model looked at, normalized like boxes; null
   * when it looked at the whole frame. Objects outside them were not looked
   * for, so they were not missed either.
   */
  regions: Box[] | null;
  /** The model that answered: its name, and its version when the server said (TF Serving's model_spec). */
  model?: { name: string; version: number | null };
}

export type CameraState = 'starting' | 'streaming' | 'reconnecting' | 'failed' | 'stopped';

/** A detection with the track the tracker (track/tracker.ts) gave it. */
export interface TrackedDetection extends Detection {
  /** The track's id, or null when the track bound left this detection untracked. */
  trackId: number | null;
  /** Whether the track has been seen often enough to count as a real object. */
  confirmed: boolean;
}

/** A live track as the motion gate sees it: where it should be now, and whether it needs looking at. */
export interface TrackedObject {
  trackId: number;
  label: string;
  /** Its box predicted for the time asked. */
  box: Box;
  /** Its centre moves by more than a tenth of its size per second. */
  moving: boolean;
  /** Tentative, or missed the last time it was looked for: the model must look again soon, or it ends. */
  uncertain: boolean;
  /** How long since the model last saw it, ms: a steady object is looked at again after motion.refreshSeconds. */
  unseenMs: number;
}

/** One detected object in one frame, as tracking hands it on (to the log, to `lookout detect`'s output). */
export interface DetectionRecord {
  camera: string;
  /** ms since the epoch: the frame's capture time (Frame.capturedAt), not the time of inference. */
  time: number;
  /** The frame's id (types.ts `frameId()`), shared with the live view. */
  frameId: string;
  label: string;
  /** Label-map id (COCO: 1–90 with gaps). */
  classId: number;
  score: number;
  /** [ymin, xmin, ymax, xmax], normalized 0–1, as TF Serving returns it. */
  box: Box;
  /** The tracker's id for the object, or null when it was not tracked. */
  trackId: number | null;
}

/**
 * One tracked object's appearance on a camera, from first to last sighting
 * (track/events.ts builds them). `start` is the track's first frame (not its
 * confirmation); `maxScore`, `bestBox`, `bestFrameId` and `bestTime` all
 * describe one detection, the object's best, so a snapshot of that frame
 * matches them. Times are ms since the epoch.
 */
export interface TrackEvent {
  /** Stable and unique: track/events.ts eventId(camera, start, trackId). */
  id: string;
  camera: string;
  trackId: number;
  label: string;
  classId: number;
  start: number;
  /** The last sighting; null while the event is ongoing. */
  end: number | null;
  maxScore: number;
  bestBox: Box;
  bestFrameId: string;
  bestTime: number;
  /** Zones the object entered (analytics/), in the order it entered them. */
  zones: string[];
  /** The model (name) and version that answered the frame the event started on; absent when unknown. */
  model?: string;
  modelVersion?: number;
}

/** The detections a camera keeps: at least its minScore, and among its labels when it names any. */
export function keptDetections<D extends Detection>(detections: readonly D[], filter: { minScore: number; labels: readonly string[] }): D[] {
  return detections.filter((d) => d.score >= filter.minScore && (filter.labels.length === 0 || filter.labels.includes(d.label)));
}
