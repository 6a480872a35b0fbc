// The detections message of the live protocol (README, "Live protocol"):
// every box of one detection frame, with the tracker's id and, for boxes
// that do not count, why (an object filter, a mask, or a track whose scores
// have not reached its label's threshold), so the page can draw them marked
// and a user can tune the filters.
import type { CameraDetections, Detection } from '../types.js';

/** A box as the page gets it; `filtered` is null for one that counts. */
export interface ShownDetection extends Detection {
  trackId: number | null;
  filtered: string | null;
}

export function detectionsJson(camera: string, d: CameraDetections, shown?: readonly ShownDetection[]) {
  return {
    type: 'detections',
    camera,
    frameId: d.frameId,
    run: d.run,
    pts: d.pts ?? null,
    timestamp: d.capturedAt,
    width: d.width,
    height: d.height,
    latencyMs: d.latencyMs,
    detections: (shown ?? d.detections).map((t) => ({
      label: t.label,
      classId: t.classId,
      score: t.score,
      box: t.box,
      trackId: 'trackId' in t ? t.trackId : null,
      filtered: 'filtered' in t ? t.filtered : null,
    })),
  };
}
