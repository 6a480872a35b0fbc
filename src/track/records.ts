// The one place tracked detections become records (the shape the log stores
// and `lookout detect` writes), so live and offline runs agree on every field.
import type { DetectionRecord, TrackedDetection } from '../types.js';

/** The records of one frame's tracked detections, in order. */
export function detectionRecords(camera: string, frame: { time: number; frameId: string }, tracked: readonly TrackedDetection[]): DetectionRecord[] {
  return tracked.map((d) => ({
    camera,
    time: frame.time,
    frameId: frame.frameId,
    label: d.label,
    classId: d.classId,
    score: d.score,
    box: d.box,
    trackId: d.trackId,
  }));
}
