// bench:analytics's scene: ten objects walking across the picture on rows
// of their own, at speeds of their own, half of them left to right and half
// right to left, so they enter and leave every zone and cross every line in
// both directions. Each pass ends off the picture for longer than the
// tracker's 2 s max age, so the next pass is a new track and a new event:
// events start and end all the time, as on a busy street. The same scene
// drives the in-process cost measure (at a simulated clock) and the walking
// model server of the pipeline runs (at the wall clock).
import type { Box, Detection } from '../src/types.js';

export const OBJECTS = 10;
/** Box size, in frame fractions (about 150 × 86 px at 1080p). */
const W = 0.08;
const H = 0.08;
/**
 * One pass, in frame widths: 1 − W of it on the picture, the rest off it
 * (0.48 frame widths, 3.6 s at the fastest walker: more than the tracker's
 * 2 s max age, so every pass is a new track).
 */
const SPAN = 1.4;

interface Walker {
  classId: number;
  label: string;
  score: number;
  top: number;
  /** Frame widths per second. */
  speed: number;
  /** Where along its pass it is at t = 0, so passes do not all start together. */
  phase: number;
  rightward: boolean;
}

// Persons and cars (COCO ids 1 and 3), scores well above the default filters'
// minScore 0.45 and event threshold 0.5, so every walker becomes an event.
const WALKERS: Walker[] = Array.from({ length: OBJECTS }, (_, k) => ({
  classId: k % 3 === 2 ? 3 : 1,
  label: k % 3 === 2 ? 'car' : 'person',
  score: 0.9 - 0.02 * k,
  top: 0.04 + 0.09 * k,
  // 0.08–0.134 frame widths per second: at 10 detections/s a box moves at
  // most 0.0134 between frames, a sixth of its width, so IoU matching holds
  // (and still at 5/s, should detection fall behind).
  speed: 0.08 + 0.006 * k,
  phase: (0.37 * k) % SPAN,
  rightward: k % 2 === 0,
}));

export interface SceneObject {
  classId: number;
  label: string;
  score: number;
  box: Box;
}

/** The objects on the picture at `t` seconds, highest score first (as a model answers). */
export function sceneAt(t: number): SceneObject[] {
  const out: SceneObject[] = [];
  for (const w of WALKERS) {
    const s = (((w.phase + w.speed * t) % SPAN) + SPAN) % SPAN;
    // Off the picture for the rest of the pass: a model sees nothing there.
    if (s > 1 - W) continue;
    const x = w.rightward ? s : 1 - W - s;
    out.push({ classId: w.classId, label: w.label, score: w.score, box: [w.top, x, w.top + H, x + W] });
  }
  return out;
}

/** The scene as the detections tracking gets (already past the camera's minScore). */
export function detectionsAt(t: number): Detection[] {
  return sceneAt(t).map((o) => ({ classId: o.classId, label: o.label, score: o.score, box: [...o.box] }));
}

/**
 * Ten zones, vertical strips a tenth of the picture wide: every object is in
 * one of them, and walks through all ten on each pass (about 1 s in each,
 * well over the 3 frames of inertia).
 */
export const ZONES = Array.from({ length: 10 }, (_, i) => ({
  name: `z${i}`,
  points: [[0.1 * i, 0], [0.1 * i + 0.1, 0], [0.1 * i + 0.1, 1], [0.1 * i, 1]],
}));

/** Ten vertical lines through the strips' middles, top to bottom: each pass crosses all ten. */
export const LINES = Array.from({ length: 10 }, (_, i) => ({
  name: `l${i}`,
  points: [[0.05 + 0.1 * i, 0], [0.05 + 0.1 * i, 1]],
}));
