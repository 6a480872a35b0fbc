// bench:record's table and its one line of JSON: the same figures in both.
import os from 'node:os';
import type { ClipInfo } from './density-media.js';
import { quantile, type Timed } from './record-clip.js';
import type { Hour } from './record-hour.js';
import type { RecordMode, Troubles } from './record-lookout.js';
import type { TreeCpu } from './record-procs.js';
import { printTable, type Row } from './table.js';

/** A continuous window: what reached the disk, against what the viewers received of the same stream meanwhile. */
export interface WindowBytes {
  /** Growth of the recordings folder's .mp4 files over the CPU window, and the window's length. */
  windowBytes: number;
  windowS: number;
  /** The fragments (moof + mdat) the native viewers received over that window: the camera ffmpeg's copy, which the recorder writes. */
  fragmentBytes: number;
  /** Seconds of stream those fragments covered, all cameras together, and the source's bytes for that much of it. */
  mediaS: number;
  sourceBytes: number;
}

/** The live cameras' complete segments (from /api/recordings): bytes in their rows and on disk, their span, and the source's bytes for it. */
export interface SegmentTotals {
  count: number;
  bytes: number;
  fileBytes: number;
  seconds: number;
  sourceBytes: number;
}

export interface CpuRun {
  round: number;
  mode: RecordMode;
  cpu: TreeCpu;
  /** Detections per second per camera in the window (5 unless detection fell behind). */
  detectFps: number;
  /** The machine's 1-minute load average at the window's end (this bench alone makes about 2). */
  load1: number;
  troubles: Troubles;
  disk?: WindowBytes;
  viewerMediaS: number;
}

export interface EventTiming { timed: Timed; id: string; start: number; end: number | null; askedAt: number }

export interface Serving {
  hour: Timed;
  seek: Timed;
  /** The start of the hour's clip read through once, and the lookout process's cores meanwhile (its cameras go on). */
  whole: { bytes: number; ms: number; status: number; nodeCores: number };
  /** A closed event recorded all through, and the open one (its clip reaches the segment being written). */
  event?: EventTiming;
  openEvent?: EventTiming;
  troubles: Troubles;
}

export interface Results {
  runs: CpuRun[];
  segments: SegmentTotals;
  hour: Hour;
  serve: Serving;
  clip: ClipInfo;
  /** The clip's video bytes (what the camera sends for one loop), and how they were counted. */
  source: { bytes: number; how: string };
  cameras: number;
  windowS: number;
  segmentSeconds: number;
  detectFps: number;
  seconds: number;
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
const r3 = (x: number) => (Number.isFinite(x) ? +x.toFixed(3) : null);
const r4 = (x: number) => (Number.isFinite(x) ? +x.toFixed(4) : null);
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function parts(cpu: TreeCpu): string {
  return Object.entries(cpu.parts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${f3(v)}`).join(', ');
}

function troubleText(t: Troubles): string {
  const bits = [];
  if (t.restarts) bits.push(`${t.restarts} restarts`);
  if (t.detectSkipped) bits.push(`${t.detectSkipped} detect fragments skipped`);
  if (t.droppedFragments) bits.push(`${t.droppedFragments} fragments not recorded`);
  if (t.notRecording.length) bits.push(`not recording: ${t.notRecording.join(', ')}`);
  return bits.join('; ');
}

function timedJson(t: Timed) {
  return {
    requests: t.requests, ok: t.ok, statuses: [...new Set(t.statuses)],
    headersMsP50: r3(quantile(t.headersMs, 0.5)), firstByteMsP50: r3(quantile(t.firstByteMs, 0.5)),
    firstByteMsMax: r3(Math.max(...t.firstByteMs)), bytes: Number.isFinite(t.length) ? t.length : null, truncated: t.truncated,
  };
}

function eventJson(e: EventTiming | undefined) {
  if (!e) return null;
  return {
    ...timedJson(e.timed), eventS: r3(((e.end ?? e.askedAt) - e.start) / 1000), open: e.end === null,
    clipS: e.timed.clipStart !== null && e.timed.clipEnd !== null ? r3((e.timed.clipEnd - e.timed.clipStart) / 1000) : null,
  };
}

export function summary(r: Results) {
  const cont = r.runs.filter((x) => x.mode === 'continuous');
  const off = r.runs.filter((x) => x.mode === 'off');
  const perRound = [...new Set(r.runs.map((x) => x.round))].map((round) => {
    const c = cont.find((x) => x.round === round);
    const o = off.find((x) => x.round === round);
    return c && o ? c.cpu.cores / o.cpu.cores : NaN;
  });
  const valid = perRound.filter(Number.isFinite);
  const roundMean = mean(valid);
  const roundSe = valid.length > 1 ? Math.sqrt(valid.reduce((a, x) => a + (x - roundMean) ** 2, 0) / (valid.length - 1) / valid.length) : NaN;
  const disks = cont.map((x) => x.disk).filter((d): d is WindowBytes => d !== undefined);
  const sourcePerS = r.source.bytes / r.clip.durationS;
  const segS = r.segments.seconds;
  const segBytes = r.segments.bytes;
  return {
    cpuContinuous: mean(cont.map((x) => x.cpu.cores)),
    cpuOff: mean(off.map((x) => x.cpu.cores)),
    cpuRatio: mean(cont.map((x) => x.cpu.cores)) / mean(off.map((x) => x.cpu.cores)),
    perRound,
    /** The rounds' own ratios: their mean and its standard error (how far this run's answer may be from another's). */
    roundMean,
    roundSe,
    /** The hour: its files' bytes ÷ the source's bytes for the hour (a whole number of loops of the clip). */
    hourRatio: r.hour.bytes / (sourcePerS * r.hour.seconds),
    hourMBPerCameraHour: (r.hour.bytes / r.hour.seconds) * 3600 / 1e6,
    /** The live runs' complete segments: bytes on disk ÷ the clip's bytes for their span. */
    diskRatio: segBytes / r.segments.sourceBytes,
    diskMBPerCameraHour: segS > 0 ? ((segBytes / segS) * 3600) / 1e6 : NaN,
    sourceMBPerCameraHour: (sourcePerS * 3600) / 1e6,
    segments: r.segments.count,
    segmentS: segS,
    /** The CPU windows: growth of the files ÷ the clip's bytes for the stream the viewers saw, and ÷ the fragments they received. */
    windowRatio: sum(disks.map((d) => d.windowBytes)) / sum(disks.map((d) => d.sourceBytes)),
    windowPerFragments: sum(disks.map((d) => d.windowBytes)) / sum(disks.map((d) => d.fragmentBytes)),
    rowsVsFiles: r.segments.fileBytes / segBytes,
  };
}

export function printReport(r: Results): void {
  const s = summary(r);
  const rows: Row[] = [];
  const add = (measure: string, value: string, side: string, goal = '') => rows.push([measure, value, side, goal]);
  const tag = `${r.cameras} × 1080p30, a native viewer each`;
  for (const run of r.runs) {
    const t = troubleText(run.troubles);
    add(`  round ${run.round}, recording ${run.mode}`, `${f3(run.cpu.cores)} cores`, `${parts(run.cpu)}; detect ${f2(run.detectFps)}/s per camera; load ${f2(run.load1)}${t ? `; ${t}` : ''}`);
    add('    lookout node by thread', '', Object.entries(run.cpu.threads).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k} ${f3(v)}`).join(', '));
  }
  const behind = r.runs.filter((x) => !(x.detectFps >= 4.5));
  if (behind.length) add('  ⚠ detection fell behind', `${behind.length} of ${r.runs.length}`, `windows below 4.5 detections/s per camera (frames older than 2 s are dropped: the machine is CPU-starved); their CPU is not like for like`);
  add(`CPU, ${tag}: continuous ÷ off`, f3(s.cpuRatio), `${f3(s.cpuContinuous)} ÷ ${f3(s.cpuOff)} cores (means of ${r.runs.length / 2} alternating runs each); each round: ${s.perRound.map(f3).join(', ')} (mean ${f3(s.roundMean)} ± ${f3(s.roundSe)} s.e.)`, '≤ 1.05');
  add('bytes on disk per camera-hour ÷ source', f4(s.hourRatio), `the hour: ${f2(s.hourMBPerCameraHour)} ÷ ${f2(s.sourceMBPerCameraHour)} MB per camera-hour (source: ${r.source.how})`, '≈ 1');
  add('  live runs, complete segments', f4(s.diskRatio), `${f2(s.diskMBPerCameraHour)} MB per camera-hour; ${s.segments} segments, ${f2(s.segmentS)} s of stream by their rows' start and end`);
  add('  over the CPU windows: file growth ÷ fragments', f4(s.windowPerFragments), `what the recorder wrote ÷ the fMP4 fragments the viewers got of the same stream meanwhile; rows' bytes ÷ files' ${f4(s.rowsVsFiles)}`);
  const h = r.serve.hour;
  add(`the hour's clip: headers (ms, p50)`, ms(quantile(h.headersMs, 0.5)), `${h.ok}/${h.requests} answered ${[...new Set(h.statuses)].join('/')}; ${f2(h.length / 1e9)} GB; max ${ms(Math.max(...h.headersMs))} ms`);
  add(`the hour's clip: first byte (ms, p50)`, ms(quantile(h.firstByteMs, 0.5)), `max ${ms(Math.max(...h.firstByteMs))} ms; X-Lookout-Clip-Start ${h.clipStart !== null ? `${h.clipStart - r.hour.start} ms after the hour's first frame` : 'absent'}${h.truncated ? `; truncated: ${h.truncated}` : ''}`);
  const k = r.serve.seek;
  add(`  Range from its middle: first byte (ms, p50)`, ms(quantile(k.firstByteMs, 0.5)), `${k.ok}/${k.requests} answered ${[...new Set(k.statuses)].join('/')}; headers p50 ${ms(quantile(k.headersMs, 0.5))} ms`);
  const w = r.serve.whole;
  add(`  its first ${f2(w.bytes / 1e6)} MB read once`, `${f2(w.bytes / 1e6 / (w.ms / 1000))} MB/s`, `${f2(w.ms / 1000)} s (status ${w.status}), lookout node at ${f2(w.nodeCores)} cores meanwhile; the whole hour would take ${f2((h.length / w.bytes) * w.ms / 1000)} s`);
  const eventRows = (e: EventTiming | undefined, what: string) => {
    if (!e) return add(`${what} clip`, 'n/a', 'no such event on cam1');
    const span = ((e.end ?? e.askedAt) - e.start) / 1000;
    const clipS = e.timed.clipStart !== null && e.timed.clipEnd !== null ? (e.timed.clipEnd - e.timed.clipStart) / 1000 : NaN;
    add(`${what} clip: headers (ms, p50)`, ms(quantile(e.timed.headersMs, 0.5)), `${e.timed.ok}/${e.timed.requests} answered ${[...new Set(e.timed.statuses)].join('/')}; the event ${f2(span)} s${e.end === null ? ' so far' : ''}, its clip ${f2(clipS)} s (asked: ${f2(span + 10)} s with 5 s before and after), ${f2(e.timed.length / 1e6)} MB`);
    add(`${what} clip: first byte (ms, p50)`, ms(quantile(e.timed.firstByteMs, 0.5)), `max ${ms(Math.max(...e.timed.firstByteMs))} ms`);
  };
  eventRows(r.serve.event, 'a closed event\'s');
  eventRows(r.serve.openEvent, 'the open event\'s');
  const st = troubleText(r.serve.troubles);
  if (st) add('  while serving', '', st);
  add('how the hour was made', '', r.hour.how);
  const load = os.loadavg();
  add('load average at the end (1, 5, 15 min)', load.map((x) => x.toFixed(2)).join(' '), `${os.availableParallelism()} cores; run took ${Math.round(r.seconds)} s`);
  printTable(rows, [46, 12, 70, 6], 140);
  console.log(JSON.stringify({
    bench: 'record',
    clip: { width: 1920, height: 1080, fps: r.clip.fps, mbitPerS: r3((r.clip.bytes * 8) / r.clip.durationS / 1e6) },
    cameras: r.cameras, windowS: r.windowS, segmentSeconds: r.segmentSeconds, detectFps: r.detectFps,
    cpu: {
      ratio: r3(s.cpuRatio), windowsDetectionBehind: behind.length, goal: 1.05, continuousCores: r3(s.cpuContinuous), offCores: r3(s.cpuOff), perRound: s.perRound.map(r3), roundMean: r3(s.roundMean), roundSe: r3(s.roundSe),
      runs: r.runs.map((x) => ({ round: x.round, mode: x.mode, cores: r3(x.cpu.cores), detectFps: r3(x.detectFps), load1: r3(x.load1), parts: Object.fromEntries(Object.entries(x.cpu.parts).map(([k, v]) => [k, r3(v)])), threads: Object.fromEntries(Object.entries(x.cpu.threads).map(([k, v]) => [k, r3(v)])), troubles: x.troubles })),
    },
    disk: {
      ratio: r4(s.hourRatio), hourMbPerCameraHour: r3(s.hourMBPerCameraHour), source: r.source.how,
      liveRatio: r4(s.diskRatio), mbPerCameraHour: r3(s.diskMBPerCameraHour), sourceMbPerCameraHour: r3(s.sourceMBPerCameraHour), segments: s.segments, segmentS: r3(s.segmentS),
      windowPerFragments: r4(s.windowPerFragments), rowsVsFiles: r4(s.rowsVsFiles),
    },
    hourClip: { ...timedJson(r.serve.hour), clipStartOffsetMs: r.serve.hour.clipStart !== null ? r.serve.hour.clipStart - r.hour.start : null, seek: timedJson(r.serve.seek), readMB: r3(r.serve.whole.bytes / 1e6), readMBPerS: r3(r.serve.whole.bytes / 1e6 / (r.serve.whole.ms / 1000)), readNodeCores: r3(r.serve.whole.nodeCores) },
    hour: { how: r.hour.howShort, seconds: r.hour.seconds, segments: r.hour.segments, bytes: r.hour.bytes, buildS: r3(r.hour.buildS), droppedFragments: r.hour.droppedFragments },
    eventClip: eventJson(r.serve.event),
    openEventClip: eventJson(r.serve.openEvent),
    servingTroubles: r.serve.troubles,
    loadAvg: load.map((x) => +x.toFixed(2)),
    seconds: Math.round(r.seconds),
  }));
}
