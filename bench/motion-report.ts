// bench:motion's table and its one line of JSON: the same figures in both.
import os from 'node:os';
import { iou } from '../src/track/tracker.js';
import type { Box, TrackEvent } from '../src/types.js';
import { SMALL_PERSON } from './motion-clips.js';
import { eventsByLabel, type ReplayResult } from './motion-replay.js';
import { printTable, type Row } from './table.js';

export type ClipName = 'still' | 'people' | 'bottles' | 'small4k' | 'truth';

/** What a run knew of the person in one frame. */
export interface FramePerson {
  seq: number;
  /** The best person detection's score in the frame, 0 when none. */
  score: number;
  /** The gate skipped the frame (the model did not look). */
  skipped: boolean;
  /** A person detection, or on a skipped frame a confirmed person track. */
  knows: boolean;
  /** Where: the best detection's box, or the held track's. */
  box: Box | undefined;
}

export interface Run {
  clip: ClipName;
  gated: boolean;
  result: ReplayResult;
  /** Predict calls, images and seconds waiting for them, counted at the model. */
  calls: number;
  images: number;
  modelS: number;
  /** Events that ended while the clip went on (not by its end). */
  endedEarly: TrackEvent[];
  /** Frames per gate decision reason (motion/gate.ts GateReason); empty ungated. */
  reasons: Record<string, number>;
  persons?: FramePerson[];
}

export interface Throughput {
  callers: number;
  seconds: number;
  images: number;
  perS: number;
  p50Ms: number;
  width: number;
  height: number;
}

export interface Results {
  runs: Run[];
  throughput: Throughput;
  fps: number;
  stillSeconds: number;
  small: { start: number; seconds: number };
  loadAtStart: number[];
  lanes: number;
  model: string;
  seconds: number;
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const pc = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)} %` : 'n/a');
const r2 = (x: number) => (Number.isFinite(x) ? +x.toFixed(2) : null);
const r3 = (x: number) => (Number.isFinite(x) ? +x.toFixed(3) : null);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const mark = (goal: string, met: boolean) => `${goal} ${met ? '✓' : '✗'}`;

function find(runs: Run[], clip: ClipName, gated: boolean): Run {
  const run = runs.find((r) => r.clip === clip && r.gated === gated);
  if (!run) throw new Error(`no ${gated ? 'gated' : 'ungated'} run of ${clip}`);
  return run;
}

/** One side of a clip: its counts per camera-minute (minutes of clip). */
function side(run: Run, fps: number) {
  const r = run.result;
  const minutes = r.frames / fps / 60;
  return {
    frames: r.frames, sent: r.sent, full: r.full, regions: r.regions, skipped: r.skipped,
    calls: run.calls, images: run.images, callsPerMin: run.calls / minutes, imagesPerMin: run.images / minutes,
    sentShare: r.sent / r.frames, imagesPerFrame: run.images / r.frames,
    reasons: run.reasons, events: eventsByLabel(r.events), endedEarly: run.endedEarly.map((e) => ({ label: e.label, start: e.start, end: e.end })),
    seconds: r.seconds, modelS: run.modelS,
  };
}

type Side = ReturnType<typeof side>;

/** Both sides of a clip, and how they compare. */
function compare(runs: Run[], clip: ClipName, fps: number) {
  const gated = side(find(runs, clip, true), fps);
  const ungated = side(find(runs, clip, false), fps);
  const labels = [...new Set([...Object.keys(gated.events), ...Object.keys(ungated.events)])].sort();
  const diffs = labels.map((l) => ({ label: l, gated: gated.events[l] ?? 0, ungated: ungated.events[l] ?? 0 }));
  return {
    gated, ungated, diffs,
    callsRatio: gated.callsPerMin / ungated.callsPerMin,
    imagesRatio: gated.imagesPerMin / ungated.imagesPerMin,
    eventsWithinOne: diffs.every((d) => Math.abs(d.gated - d.ungated) <= 1),
    eventsSame: diffs.every((d) => d.gated === d.ungated),
  };
}

type Compared = ReturnType<typeof compare>;

/** A box on the original clip's picture, where that picture sits in the 4K frame. */
function onFourK(b: Box): Box {
  const { x, y, width, height, frame } = SMALL_PERSON;
  const fy = (v: number) => (y + v * height) / frame.height;
  const fx = (v: number) => (x + v * width) / frame.width;
  return [fy(b[0]), fx(b[1]), fy(b[2]), fx(b[3])];
}

/** Overlap with the truth's box from which a run's box counts as the person where it is. */
const LOCATED_IOU = 0.5;

/**
 * Recall of the small person against the ground truth's frames (by frame
 * number: both replays start at the same clip time), and the stricter
 * located recall: the box the run knows (its detection, or the held track)
 * overlaps the truth's box, mapped into the 4K frame, by LOCATED_IOU.
 */
function recall(run: Run, truth: Map<number, Box>) {
  const persons = run.persons ?? [];
  const inTruth = persons.filter((p) => truth.has(p.seq));
  const detected = persons.filter((p) => p.score > 0);
  const located = inTruth.filter((p) => {
    const want = truth.get(p.seq);
    return p.knows && p.box !== undefined && want !== undefined && iou(p.box, onFourK(want)) >= LOCATED_IOU;
  });
  return {
    frames: run.result.frames, sent: run.result.sent, images: run.images, calls: run.calls, reasons: run.reasons,
    recall: inTruth.filter((p) => p.knows).length / truth.size,
    located: located.length / truth.size,
    byDetection: inTruth.filter((p) => p.score > 0).length,
    byTrack: inTruth.filter((p) => p.knows && p.score === 0).length,
    /** Frames where the run found a person that the ground truth did not. */
    beyondTruth: persons.filter((p) => p.score > 0 && !truth.has(p.seq)).length,
    detectedFrames: detected.length,
    meanScore: mean(detected.map((p) => p.score)),
  };
}

export function summary(r: Results) {
  const clips = { still: compare(r.runs, 'still', r.fps), people: compare(r.runs, 'people', r.fps), bottles: compare(r.runs, 'bottles', r.fps) };
  const truthRun = find(r.runs, 'truth', false);
  const truthFrames = (truthRun.persons ?? []).filter((p) => p.score > 0);
  const truth = new Map(truthFrames.flatMap((p) => (p.box ? [[p.seq, p.box] as const] : [])));
  const small = {
    truth: { frames: truthRun.result.frames, withPerson: truth.size, meanScore: mean(truthFrames.map((p) => p.score)) },
    regions: recall(find(r.runs, 'small4k', true), truth),
    whole: recall(find(r.runs, 'small4k', false), truth),
  };
  const mix = Object.values(clips);
  // The model's cost is per image: a regions frame with three squares costs three whole frames' worth.
  const gatedImages = mean(mix.map((c) => c.gated.imagesPerFrame));
  const gatedSent = mean(mix.map((c) => c.gated.sentShare));
  const ungatedImages = mean(mix.map((c) => c.ungated.imagesPerFrame));
  const tp = r.throughput.perS;
  const cameras = {
    throughput: tp,
    gatedImagesPerFrame: gatedImages, gatedSentShare: gatedSent, ungatedImagesPerFrame: ungatedImages,
    gated: tp / (r.fps * gatedImages), gatedBySent: tp / (r.fps * gatedSent), ungated: tp / (r.fps * ungatedImages),
  };
  const ungatedRuns = r.runs.filter((run) => !run.gated);
  const perLane = ungatedRuns.reduce((s, run) => s + run.images, 0) / ungatedRuns.reduce((s, run) => s + run.modelS, 0);
  return { clips, small, cameras, perLane, flaps: clips.still.gated.endedEarly.length };
}

const labelsText = (c: Compared) => c.diffs.map((d) => `${d.label} ${d.gated}${d.gated === d.ungated ? '' : ` vs ${d.ungated}`}`).join(', ') || 'none';
const reasonsText = (s: Side) => Object.entries(s.reasons).map(([k, n]) => `${k} ${n}`).join(', ');
const sentText = (s: Side) => `${s.sent} of ${s.frames} frames sent (${s.full} whole, ${s.regions} regions, ${s.skipped} skipped), ${s.calls} calls, ${s.images} images${Object.keys(s.reasons).length ? `; why: ${reasonsText(s)}` : ''}`;
const endedText = (s: Side) => s.endedEarly.map((e) => `${e.label} ${f1(e.start / 1000)}–${e.end === null ? '…' : f1(e.end / 1000)} s`).join(', ');

function clipRows(add: (m: string, v: string, s: string, g?: string) => void, name: string, c: Compared, callsGoal?: number): void {
  const { gated: g, ungated: u } = c;
  add(`${name}: model calls per camera-minute, gated ÷ ungated`, f3(c.callsRatio), `${f1(g.callsPerMin)} ÷ ${f1(u.callsPerMin)}; images ${f1(g.imagesPerMin)} ÷ ${f1(u.imagesPerMin)} (${f3(c.imagesRatio)})`, callsGoal === undefined ? 'report' : mark(`≤ ${callsGoal}`, c.callsRatio <= callsGoal));
  add('  gated', pc(g.sentShare), sentText(g));
  add('  ungated', pc(u.sentShare), sentText(u));
  add(`${name}: events per label, gated (vs ungated where not the same)`, c.eventsSame ? 'same' : 'differ', labelsText(c), mark('same ±1 per label', c.eventsWithinOne));
}

function recallRow(add: (m: string, v: string, s: string, g?: string) => void, name: string, x: ReturnType<typeof recall>, truth: number): void {
  add(name, pc(x.recall), `${x.byDetection + x.byTrack} of ${truth} truth frames (${x.byDetection} by a detection, ${x.byTrack} by a confirmed track on a skipped frame); where the truth has it (IoU ≥ ${LOCATED_IOU}): ${pc(x.located)}; ${x.sent} of ${x.frames} frames sent, ${x.calls} calls, ${x.images} images; person found in ${x.detectedFrames} frames (${x.beyondTruth} beyond the truth's), mean score ${f2(x.meanScore)}${Object.keys(x.reasons).length ? `; why: ${Object.entries(x.reasons).map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}`);
}

export function printReport(r: Results): void {
  const s = summary(r);
  const { still, people, bottles } = s.clips;
  const rows: Row[] = [];
  const add = (measure: string, value: string, sideBySide: string, goal = '') => rows.push([measure, value, sideBySide, goal]);
  clipRows(add, `1. still scene (${r.stillSeconds} s)`, still, 0.1);
  add('  gated events that ended before the clip did (flapping)', String(s.flaps), endedText(still.gated) || `none (ungated: ${still.ungated.endedEarly.length}${still.ungated.endedEarly.length ? `: ${endedText(still.ungated)}` : ''})`, mark('none', s.flaps === 0));
  clipRows(add, `2. walking people (${f1(people.gated.frames / r.fps)} s)`, people);
  clipRows(add, `3. bottles (${f1(bottles.gated.frames / r.fps)} s)`, bottles);
  const { truth, regions, whole } = s.small;
  add(`4. small person at 4K (clip ${r.small.start}–${r.small.start + r.small.seconds} s): ground truth`, `${truth.withPerson} frames`, `of ${truth.frames}: a person found on the original 768×432 clip, whole frame, mean score ${f2(truth.meanScore)}`);
  recallRow(add, '  recall, regions (gated, defaults)', regions, truth.withPerson);
  recallRow(add, '  recall, whole frame (ungated)', whole, truth.withPerson);
  add('  recall, regions ÷ whole frame', f2(regions.recall / whole.recall), `images ${regions.images} vs ${whole.images}`, 'report');
  const tp = r.throughput;
  const cam = s.cameras;
  add('5. model throughput (images/s)', f2(tp.perS), `${tp.images} whole ${tp.width}×${tp.height} frames in ${f1(tp.seconds)} s from ${tp.callers} callers, p50 ${f1(tp.p50Ms)} ms; the ungated replays (serial, ${r.lanes} at a time) got ${f2(s.perLane)} images per model-second each`);
  add('  cameras at 5 fps, gated (mix of 1–3)', f1(cam.gated), `throughput ÷ (${r.fps} × ${f3(cam.gatedImagesPerFrame)} images a frame, the mean of the three clips'); by frames sent (${f3(cam.gatedSentShare)} of them) ${f1(cam.gatedBySent)}`);
  add('  cameras at 5 fps, ungated', f1(cam.ungated), `throughput ÷ (${r.fps} × ${f3(cam.ungatedImagesPerFrame)})`);
  add('  cameras, gated ÷ ungated', f2(cam.gated / cam.ungated), `images a frame, gated: still ${f3(still.gated.imagesPerFrame)}, people ${f3(people.gated.imagesPerFrame)}, bottles ${f3(bottles.gated.imagesPerFrame)}`, 'report');
  const load = os.loadavg();
  add('model', '', `${r.model}, embedded, 2 workers, over gRPC; ${r.fps} detection fps on each clip's own clock`);
  add('load average at start → end (1, 5, 15 min)', `${r.loadAtStart.map(f2).join(' ')} → ${load.map(f2).join(' ')}`, `${os.availableParallelism()} cores; run took ${Math.round(r.seconds)} s`);
  printTable(rows, [50, 8, 60, 6], 160);
  const sideJson = (x: Side) => ({ ...x, callsPerMin: r2(x.callsPerMin), imagesPerMin: r2(x.imagesPerMin), sentShare: r3(x.sentShare), imagesPerFrame: r3(x.imagesPerFrame), seconds: r2(x.seconds), modelS: r2(x.modelS) });
  const clipJson = (c: Compared) => ({ gated: sideJson(c.gated), ungated: sideJson(c.ungated), callsRatio: r3(c.callsRatio), imagesRatio: r3(c.imagesRatio), eventsSame: c.eventsSame, eventsWithinOne: c.eventsWithinOne });
  const recallJson = (x: ReturnType<typeof recall>) => ({ ...x, recall: r3(x.recall), located: r3(x.located), locatedIou: LOCATED_IOU, meanScore: r3(x.meanScore) });
  console.log(JSON.stringify({
    bench: 'motion', fps: r.fps, model: r.model,
    still: { ...clipJson(still), seconds: r.stillSeconds, flaps: s.flaps },
    people: clipJson(people),
    bottles: clipJson(bottles),
    small4k: { ...r.small, truth: { ...truth, meanScore: r3(truth.meanScore) }, regions: recallJson(regions), whole: recallJson(whole), recallRatio: r3(regions.recall / whole.recall) },
    throughput: { ...tp, seconds: r2(tp.seconds), perS: r3(tp.perS), p50Ms: r2(tp.p50Ms), replayPerModelSecond: r3(s.perLane) },
    cameras: {
      gated: r2(cam.gated), gatedBySent: r2(cam.gatedBySent), ungated: r2(cam.ungated), ratio: r3(cam.gated / cam.ungated),
      gatedImagesPerFrame: r3(cam.gatedImagesPerFrame), gatedSentShare: r3(cam.gatedSentShare), ungatedImagesPerFrame: r3(cam.ungatedImagesPerFrame),
    },
    goals: {
      stillCallsRatio: { goal: 0.1, met: still.callsRatio <= 0.1 },
      stillNoFlaps: s.flaps === 0,
      eventsWithinOne: { still: still.eventsWithinOne, people: people.eventsWithinOne, bottles: bottles.eventsWithinOne },
    },
    lanes: r.lanes,
    loadAvg: { start: r.loadAtStart.map(r2), end: load.map(r2) },
    seconds: Math.round(r.seconds),
  }));
}
