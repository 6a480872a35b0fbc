// How well drawn boxes sit on a moving object, for bench:density: each shown
// frame's person boxes against the offline detections of that same frame
// (`lookout detect --fps 0`, every frame detected). Per frame, reference and
// drawn person boxes are paired greedily by IoU; a reference person with no
// drawn box, and a drawn box with no reference person, each count as IoU 0.
// Frames where neither side has a person add nothing.
import { frameIndex, type ClipInfo, type RefBox } from './density-media.js';
import { nearest, quantile, receivedOf, type Box, type Drawn } from './density-page.js';
import type { ViewerReport } from './density-viewers.js';

const LABEL = 'person';

export function iou(a: Box, b: Box): number {
  const [ay0, ax0, ay1, ax1] = a;
  const [by0, bx0, by1, bx1] = b;
  const h = Math.max(0, Math.min(ay1, by1) - Math.max(ay0, by0));
  const w = Math.max(0, Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const inter = h * w;
  const union = (ay1 - ay0) * (ax1 - ax0) + (by1 - by0) * (bx1 - bx0) - inter;
  return union > 0 ? inter / union : 0;
}

/** One frame's samples: IoU of each pair, 0 for each box left unpaired on either side. */
export function frameSamples(reference: Box[], drawn: Box[]): { samples: number[]; missed: number; extra: number } {
  const pairs: [number, number, number][] = [];
  reference.forEach((r, i) => drawn.forEach((d, j) => pairs.push([iou(r, d), i, j])));
  pairs.sort((a, b) => b[0] - a[0]);
  const usedR = new Set<number>();
  const usedD = new Set<number>();
  const samples: number[] = [];
  for (const [v, i, j] of pairs) {
    if (v <= 0 || usedR.has(i) || usedD.has(j)) continue;
    usedR.add(i);
    usedD.add(j);
    samples.push(v);
  }
  const missed = reference.length - usedR.size;
  const extra = drawn.length - usedD.size;
  for (let k = 0; k < missed + extra; k++) samples.push(0);
  return { samples, missed, extra };
}

export interface IouSummary {
  frames: number;
  samples: number;
  mean: number;
  p10: number;
  /** Reference persons with no drawn box, and drawn boxes with no reference person. */
  missed: number;
  extra: number;
  /** Shown boxes by where they came from (the page's own account; the JPEG path's are all "burnt"). */
  sources: Record<string, number>;
  /** How old the shown person boxes are: the frame's time minus that of the (earliest) detection they came from, ms, median. */
  boxAgeMsP50: number;
}

function summarize(perFrame: { reference: Box[]; drawn: Box[] }[], sources: Record<string, number>, ages: number[]): IouSummary {
  const all: number[] = [];
  let missed = 0;
  let extra = 0;
  let frames = 0;
  for (const f of perFrame) {
    frames++;
    const s = frameSamples(f.reference, f.drawn);
    all.push(...s.samples);
    missed += s.missed;
    extra += s.extra;
  }
  const mean = all.length ? all.reduce((a, b) => a + b, 0) / all.length : NaN;
  return { frames, samples: all.length, mean, p10: quantile(all, 0.1), missed, extra, sources, boxAgeMsP50: quantile(ages, 0.5) };
}

const persons = (boxes: RefBox[] | undefined): Box[] => (boxes ?? []).filter((b) => b.label === LABEL).map((b) => b.box);

/** The page's presented frames (one camera) against the offline detections. */
export function pageIou(drawn: Drawn, camera: string, clip: ClipInfo, offline: Map<number, RefBox[]>): IouSummary {
  const sources: Record<string, number> = {};
  const ages: number[] = [];
  const perFrame = (drawn.frames[camera] ?? []).map((f) => {
    const shown = f.boxes.filter((b) => b.label === LABEL);
    for (const b of shown) {
      sources[b.source] = (sources[b.source] ?? 0) + 1;
      // Held and extrapolated: the age of the newest detection used; interpolated: of the earlier of the two.
      if (b.fromPts.length) ages.push((f.mediaTime - (b.source === 'interpolated' ? Math.min(...b.fromPts) : Math.max(...b.fromPts))) * 1000);
    }
    return { reference: persons(offline.get(frameIndex(clip, f.mediaTime))), drawn: shown.map((b) => b.box) };
  });
  return summarize(perFrame, sources, ages);
}

/** The JPEG path: each frame's burnt-in boxes are its detectionsFrameId's detections; compared at the frame's own pts. */
export function jpegIou(report: ViewerReport, clip: ClipInfo, offline: Map<number, RefBox[]>): IouSummary {
  let burnt = 0;
  let unknown = 0;
  const ages: number[] = [];
  const perFrame = report.jpegs.map((j) => {
    const drawnDetections = j.detectionsFrameId === null ? [] : report.detections[j.detectionsFrameId]?.detections;
    if (j.detectionsFrameId !== null && drawnDetections === undefined) unknown++;
    const shown = (drawnDetections ?? []).filter((d) => d.label === LABEL).map((d) => d.box);
    burnt += shown.length;
    // frameId is RUN:round(pts × 1000).
    if (shown.length && j.detectionsFrameId !== null) ages.push(j.pts * 1000 - Number(j.detectionsFrameId.split(':')[1]));
    return { reference: persons(offline.get(frameIndex(clip, j.pts))), drawn: shown };
  });
  return summarize(perFrame, { burnt, 'detections message not seen': unknown }, ages);
}

/**
 * Whether the page's mediaTime lines up with the clip's frames: the mean IoU
 * of exact boxes (drawn on the very frame they were found in) at frame offsets
 * −1, 0, +1. A best offset other than 0 means the mapping is off.
 */
export function exactAlignment(drawn: Drawn, camera: string, clip: ClipInfo, offline: Map<number, RefBox[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const offset of [-1, 0, 1]) {
    const values: number[] = [];
    for (const f of drawn.frames[camera] ?? []) {
      const exact = f.boxes.filter((b) => b.label === LABEL && b.source === 'exact').map((b) => b.box);
      if (!exact.length) continue;
      const reference = persons(offline.get(frameIndex(clip, f.mediaTime + offset / clip.fps)));
      values.push(...frameSamples(reference, exact).samples);
    }
    out[String(offset)] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
  }
  return out;
}

export interface BoxPipeline {
  /** Fragment received by lookout → its frame out of the detection decoder (the message's timestamp), ms, p50. */
  detectDecodeMs: number;
  /** Fragment received by lookout → its detections at a WebSocket client, ms, p50. */
  detectionsMs: number;
  /** Fragment received → its frame out of the JPEG-view decoder, and → its JPEG at the client, ms, p50. */
  jpegDecodeMs: number;
  jpegMs: number;
}

/**
 * Where a box's age comes from, from the fragments' receivedAt (as the page
 * recorded them) and what the JPEG viewer got: detection decoder delay, then
 * the model; the JPEG view's own decoder delay.
 */
export function boxPipeline(drawn: Drawn, camera: string, report: ViewerReport): BoxPipeline {
  const received = receivedOf(drawn, camera);
  const since = (pts: number, t: number) => {
    const at = nearest(received, pts, 0.002);
    return at === undefined ? undefined : t - at;
  };
  const collect = (pairs: [number, number][]) => quantile(pairs.map(([pts, t]) => since(pts, t)).filter((x): x is number => x !== undefined), 0.5);
  const detections = Object.values(report.detections);
  return {
    detectDecodeMs: collect(detections.map((d) => [d.pts, d.timestamp])),
    detectionsMs: collect(detections.map((d) => [d.pts, d.at])),
    jpegDecodeMs: collect(report.jpegs.map((j) => [j.pts, j.timestamp])),
    jpegMs: collect(report.jpegs.map((j) => [j.pts, j.at])),
  };
}
