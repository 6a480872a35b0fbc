// The detections message of the live protocol (README, "Live protocol"):
// every box of one detection frame, with the tracker's id and, for boxes
// that do not count, why (an object filter, a mask, or a track whose scores
// have not reached its label's threshold), so the page can draw them marked
// and a user can tune the filters.
import type { GateDecision } from '../motion/gate.js';
import type { CameraDetections, Detection, Frame } from '../types.js';
import { rectBox } from '../util/rect.js';

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
    regions: d.regions,
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

/**
 * The motion message: what moved in a detection frame and what the model was
 * given of it (the whole frame, regions, or nothing), for every detection
 * frame, skipped ones too; the page draws it when asked to show motion.
 */
export function motionJson(camera: string, frame: Frame, decision: GateDecision) {
  const { plan, motion } = decision;
  return {
    type: 'motion',
    camera,
    run: frame.run,
    pts: frame.pts ?? null,
    timestamp: frame.capturedAt,
    state: motion?.state ?? 'off',
    boxes: motion?.boxes ?? [],
    changed: motion?.changed ?? 0,
    sent: plan ? (plan.kind === 'full' ? 'full' : 'regions') : 'skipped',
    reason: decision.reason,
    regions: plan?.kind === 'regions' ? plan.rects.map((r) => rectBox(r, frame)) : null,
  };
}
