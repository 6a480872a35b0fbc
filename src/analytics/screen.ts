// Object filters and masks: which detections count (docs/analytics.md).
// What fails a filter is not tracked, logged or told; it stays on the live
// view, marked with the reason, so a user can see what a filter removes.
import { filterFor } from '../config/analytics.js';
import type { CameraConfig } from '../config/schema.js';
import type { Detection } from '../types.js';
import { anchorPoint, boxShape, insidePolygon } from './geometry.js';

/** Why a detection does not count; "threshold": its track's median score has not reached the filter's threshold (yet). */
export type FilterReason = 'minScore' | 'area' | 'ratio' | 'mask' | 'threshold';

export interface Screened<D extends Detection> {
  kept: D[];
  filtered: { detection: D; reason: FilterReason }[];
}

/** Splits one frame's detections by the camera's filters and masks; `width`×`height` is the frame the boxes are on. */
export function screen<D extends Detection>(detections: readonly D[], camera: Pick<CameraConfig, 'filters' | 'masks'>, width: number, height: number): Screened<D> {
  const out: Screened<D> = { kept: [], filtered: [] };
  for (const d of detections) {
    const why = reason(d, camera, width, height);
    if (why) out.filtered.push({ detection: d, reason: why });
    else out.kept.push(d);
  }
  return out;
}

function reason(d: Detection, camera: Pick<CameraConfig, 'filters' | 'masks'>, width: number, height: number): FilterReason | null {
  const f = filterFor(camera.filters, d.label);
  if (d.score < f.minScore) return 'minScore';
  const { area, ratio } = boxShape(d.box, width, height);
  if (area < f.minArea || area > f.maxArea) return 'area';
  if (ratio < f.minRatio || ratio > f.maxRatio) return 'ratio';
  // Where the object stands decides, as for zones: a person whose feet are in a masked area is ignored.
  if (camera.masks.length > 0) {
    const p = anchorPoint(d.box, 'bottom-center');
    if (camera.masks.some((m) => insidePolygon(p, m))) return 'mask';
  }
  return null;
}
