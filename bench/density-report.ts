// bench:density's table and its one line of JSON: the same figures in both.
import type { BoxPipeline, IouSummary } from './density-iou.js';
import type { Troubles } from './density-lookout.js';
import type { ClipInfo } from './density-media.js';
import { quantile, type Latency } from './density-page.js';
import type { CpuWindow } from './density-procs.js';
import { printTable, type Row } from './table.js';

/** A CPU window with the detections per second per camera made in it (5 unless detection fell behind). */
export type RowCpu = CpuWindow & { detectFps: number };

export interface ViewedRow {
  cpu: RowCpu;
  /** Whole WebSocket messages received (framing header + payload), and the payloads alone. */
  bytes: number;
  payloadBytes: number;
  messages: number;
  /** Seconds of stream the messages covered, summed over cameras. */
  mediaS: number;
  /** The clip's bytes for that much of it. */
  sourceBytes: number;
  /** The clip's bytes for the window's wall time, every camera. */
  wallSourceBytes: number;
  bytesRatio: number;
}

export interface DensityRow {
  n: number;
  floor: number;
  native: ViewedRow;
  none: RowCpu;
  jpeg: ViewedRow;
  troubles: Troubles;
}

export interface IouResults {
  default: IouSummary;
  synced: IouSummary;
  jpeg: IouSummary;
  latency: Record<'default' | 'synced', Latency>;
  /** Mean IoU of exact boxes at frame offsets −1, 0, +1 (0 should be best: the frame mapping holds). */
  alignment: Record<string, number>;
  pipeline: BoxPipeline;
  /** Detections per second the camera got during the window, and the model's p50 latency. */
  detectFps: number;
  inferenceMsP50: number;
}

export interface Results {
  rows: DensityRow[];
  /** The page's latency on one 1080p30 camera, or why it was not measured. */
  latency: Record<'default' | 'synced', Latency> | string;
  iou: IouResults | string;
  clip: ClipInfo;
  walk: ClipInfo;
  windowS: number;
  pageS: number;
  iouS: number;
  detectFps: number;
  seconds: number;
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const r3 = (x: number) => (Number.isFinite(x) ? +x.toFixed(3) : null);
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : 'n/a');

function parts(cpu: CpuWindow): string {
  return Object.entries(cpu.parts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${f2(v)}`).join(', ');
}

function threads(cpu: CpuWindow): string {
  return Object.entries(cpu.threads).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k} ${f3(v)}`).join(', ');
}

function latencyJson(l: Latency) {
  return { p50Ms: r3(quantile(l.samples, 0.5)), p99Ms: r3(quantile(l.samples, 0.99)), frames: l.samples.length, unmatched: l.unmatched, lagMsP50: r3(l.lagMsP50) };
}

function iouJson(s: IouSummary) {
  return { mean: r3(s.mean), p10: r3(s.p10), frames: s.frames, samples: s.samples, missed: s.missed, extra: s.extra, boxAgeMsP50: r3(s.boxAgeMsP50), sources: s.sources };
}

function cpuJson(cpu: RowCpu, floor: number) {
  const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, r3(v)]));
  return { cores: r3(cpu.cores), perFloor: r3(cpu.cores / floor), detectFpsPerCamera: r3(cpu.detectFps), parts: round(cpu.parts), threads: round(cpu.threads) };
}

export function printReport(r: Results): void {
  const rows: Row[] = [];
  const add = (measure: string, value: string, side: string, goal = '') => rows.push([measure, value, side, goal]);
  for (const d of r.rows) {
    const tag = `${d.n} × 1080p30`;
    add(`CPU, ${tag}, one native viewer each`, `${f2(d.native.cpu.cores)} cores`, `${f2(d.native.cpu.cores / d.floor)} × the floor (old: 5.3); detect ${f2(d.native.cpu.detectFps)}/s per camera`, '≤ 1.5');
    add('  by process', '', parts(d.native.cpu));
    add('  lookout node by thread', '', threads(d.native.cpu));
    add(`CPU, ${tag}, nobody watching`, `${f2(d.none.cores)} cores`, `${f2(d.none.cores / d.floor)} × the floor; detect ${f2(d.none.detectFps)}/s; ${parts(d.none)}`);
    const jpegFps = d.jpeg.messages / d.n / d.jpeg.cpu.seconds;
    add(`CPU, ${tag}, one JPEG viewer each`, `${f2(d.jpeg.cpu.cores)} cores`, `${f2(d.jpeg.cpu.cores / d.floor)} × the floor; JPEG ${f2(jpegFps)} fps per viewer; ${parts(d.jpeg.cpu)}`);
    add(`floor: ffmpeg alone decoding ${tag}`, `${f2(d.floor)} cores`, `-re -stream_loop -1 -i clip -f null -, ×${d.n}`);
    add(`bytes to a native viewer ÷ source, ${tag}`, f3(d.native.bytesRatio), `${(d.native.bytes / 1e6).toFixed(1)} MB for ${d.native.mediaS.toFixed(1)} s of stream (payload alone ${f3(d.native.payloadBytes / d.native.sourceBytes)})`, '≤ 1.1');
    add(`bytes to a JPEG viewer ÷ source, ${tag}`, f3(d.jpeg.bytesRatio), `${(d.jpeg.bytes / 1e6).toFixed(1)} MB, ${d.jpeg.messages} frames for ${d.jpeg.mediaS.toFixed(1)} s (per wall time ${f3(d.jpeg.bytes / d.jpeg.wallSourceBytes)}; old: 4.6)`);
    const t = d.troubles;
    if (t.restarts || t.detectSkipped || t.jpegSkipped) add('  camera restarts, fragments skipped', `${t.restarts}, ${t.detectSkipped}, ${t.jpegSkipped}`, 'restarts; skipped by detection decoders, by JPEG decoders (behind: CPU-starved)');
  }
  if (typeof r.latency === 'string') {
    add('lookout-to-glass latency (Chromium)', 'n/a', r.latency);
  } else {
    for (const mode of ['default', 'synced'] as const) {
      const l = r.latency[mode];
      add(`lookout-to-glass, page ${mode}, 1 × 1080p30 (ms)`, `p50 ${ms(quantile(l.samples, 0.5))}`, `p99 ${ms(quantile(l.samples, 0.99))} over ${l.samples.length} frames; page's lag p50 ${ms(l.lagMsP50)} ms`);
    }
  }
  if (typeof r.iou === 'string') {
    add('IoU of drawn person boxes', 'n/a', r.iou);
  } else {
    const i = r.iou;
    const goals = { default: '≥ 0.8', synced: '≥ 0.9', jpeg: '' };
    for (const mode of ['default', 'synced', 'jpeg'] as const) {
      const s = i[mode];
      const src = Object.entries(s.sources).map(([k, v]) => `${k} ${v}`).join(' ');
      add(`IoU, walking person, ${mode === 'jpeg' ? 'JPEG path' : `page ${mode}`}`, `mean ${f3(s.mean)}`, `p10 ${f3(s.p10)}; ${s.frames} frames, missed ${s.missed}, extra ${s.extra}; boxes ${ms(s.boxAgeMsP50)} ms old; ${src}`, goals[mode]);
    }
    for (const mode of ['default', 'synced'] as const) {
      const l = i.latency[mode];
      add(`  lookout-to-glass, ${mode}, CenterNet run (ms)`, `p50 ${ms(quantile(l.samples, 0.5))}`, `p99 ${ms(quantile(l.samples, 0.99))}; page's lag p50 ${ms(l.lagMsP50)} ms`);
    }
    const p = i.pipeline;
    add('  fragment in lookout → (ms, p50)', `detections ${ms(p.detectionsMs)}`, `detection decoder's frame ${ms(p.detectDecodeMs)}; JPEG decoder's frame ${ms(p.jpegDecodeMs)}, JPEG at viewer ${ms(p.jpegMs)}`);
    add('  CenterNet in that run', `${f2(i.detectFps)} detect/s`, `inference p50 ${ms(i.inferenceMsP50)} ms; exact boxes' IoU at frame −1/0/+1: ${['-1', '0', '1'].map((k) => f3(i.alignment[k])).join(' / ')}`);
  }
  for (const d of r.rows) add(`cameras one core carries, native viewing, N = ${d.n}`, f2(d.n / d.native.cpu.cores), `${d.n} ÷ ${f2(d.native.cpu.cores)} cores (native row)`);
  printTable(rows, [50, 16, 70, 6]);
  console.log(JSON.stringify({
    bench: 'density',
    clip: { width: 1920, height: 1080, fps: r.clip.fps, mbitPerS: r3((r.clip.bytes * 8) / r.clip.durationS / 1e6) },
    windowS: r.windowS, detectFps: r.detectFps, seconds: Math.round(r.seconds),
    cameras: r.rows.map((d) => ({
      n: d.n,
      floorCores: r3(d.floor),
      native: cpuJson(d.native.cpu, d.floor),
      none: cpuJson(d.none, d.floor),
      jpeg: cpuJson(d.jpeg.cpu, d.floor),
      nativeBytesRatio: r3(d.native.bytesRatio),
      nativePayloadRatio: r3(d.native.payloadBytes / d.native.sourceBytes),
      jpegBytesRatio: r3(d.jpeg.bytesRatio),
      jpegBytesRatioWallTime: r3(d.jpeg.bytes / d.jpeg.wallSourceBytes),
      jpegFpsPerViewer: r3(d.jpeg.messages / d.n / d.jpeg.cpu.seconds),
      camerasPerCore: r3(d.n / d.native.cpu.cores),
      troubles: d.troubles,
    })),
    latency: typeof r.latency === 'string' ? r.latency : { default: latencyJson(r.latency.default), synced: latencyJson(r.latency.synced) },
    iou: typeof r.iou === 'string' ? r.iou : {
      default: iouJson(r.iou.default), synced: iouJson(r.iou.synced), jpeg: iouJson(r.iou.jpeg),
      latency: { default: latencyJson(r.iou.latency.default), synced: latencyJson(r.iou.latency.synced) },
      alignment: Object.fromEntries(Object.entries(r.iou.alignment).map(([k, v]) => [k, r3(v)])),
      pipelineMsP50: Object.fromEntries(Object.entries(r.iou.pipeline).map(([k, v]) => [k, r3(v)])),
      detectFps: r3(r.iou.detectFps), inferenceMsP50: r3(r.iou.inferenceMsP50),
    },
  }));
}
