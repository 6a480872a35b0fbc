// npm run soak — lookout under a steady load for a long time, watched from
// outside: 4 cameras (the bundled clips at their own pace, looped) and 20
// WebSocket viewers, first on the synthetic model, then on the real embedded
// CenterNet. Every 10 s it records lookout's RSS and open file descriptors
// (from /proc) and its event-loop delay p99 (from /metrics, over the last
// interval). Goals, after a warm-up: RSS growth < 10 %, no descriptor
// growth, event-loop delay p99 < 50 ms.
//
// Writes docs/soak.json and docs/soak.svg (the plot), prints a table and ends
// with one line of JSON. SOAK_MINUTES sets each phase's length (default 15),
// SOAK_WARMUP_S the warm-up left out of the figures (default 120),
// SOAK_PHASES which phases run (default "synthetic,centernet"; also
// "centernet-nice0": the real model with its workers at normal priority, to
// compare with the default niceness side by side), SOAK_OUT the folder the
// JSON and SVG go to (default docs/), SOAK_RESUMMARIZE a saved soak.json to
// summarize again without running.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { mediaDir, packageRoot } from '../src/util/paths.js';
import { startServeChild } from './serve-child.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 15);
const WARMUP_S = Number(process.env.SOAK_WARMUP_S ?? 120);
const EVERY_MS = 10_000;
const VIEWERS = 20;
const clips = [path.join(mediaDir, 'bottle-detection.mp4'), path.join(mediaDir, 'one-by-one-person-detection.mp4')];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample { phase: string; t: number; rssMiB: number; rssAnonMiB?: number; fds: number; loopP99Ms: number; viewerFps: number; detectFps: number }

const PHASES: Record<string, { model: 'synthetic' | 'centernet'; workerNice?: number }> = {
  synthetic: { model: 'synthetic' },
  centernet: { model: 'centernet' },
  'centernet-nice0': { model: 'centernet', workerNice: 0 },
};
const phaseNames = (process.env.SOAK_PHASES ?? 'synthetic,centernet').split(',').map((p) => p.trim()).filter(Boolean);
for (const p of phaseNames) if (!PHASES[p]) throw new Error(`SOAK_PHASES: unknown phase ${JSON.stringify(p)} (expected ${Object.keys(PHASES).join(', ')})`);
const OUT = path.resolve(process.env.SOAK_OUT ?? path.join(packageRoot, 'docs'));

/** Resident memory, MiB: all of it, and the part that is anonymous (heaps) rather than mapped files (code, SQLite's map). */
function rss(pid: number): { total: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { total: kb('VmRSS'), anon: kb('RssAnon') };
}
const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Event-loop delay p99 over the last interval, and detections so far (all cameras), from /metrics. */
async function scrape(url: string): Promise<{ loopP99Ms: number; detections: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^lookout_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
  let detections = 0;
  for (const c of text.matchAll(/^lookout_inference_latency_seconds_count\{[^}]*\} (\S+)$/gm)) detections += Number(c[1]);
  return { loopP99Ms: m ? Number(m[1]) * 1000 : NaN, detections };
}

async function phase(name: string, minutes: number, samples: Sample[]): Promise<void> {
  const { model, workerNice } = PHASES[name];
  const lookout = await startServeChild({
    modelServer: { embedded: model === 'synthetic' ? { model, latencyMs: 20, capacity: 4 } : { model, workerNice } },
    scheduler: { maxInFlight: model === 'synthetic' ? 4 : 2 },
    detection: { detectFps: 5, liveFps: 15, minScore: 0.3 },
    cameras: [0, 1, 2, 3].map((i) => ({ id: `cam${i + 1}`, url: clips[i % 2], loop: true })),
  });
  const { url, pid } = lookout;
  let frames = 0;
  const viewers = Array.from({ length: VIEWERS }, (_, i) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?camera=cam${(i % 4) + 1}`, { perMessageDeflate: false });
    ws.on('message', (_d, binary) => { if (binary) frames++; });
    ws.on('error', () => undefined);
    return ws;
  });
  const started = Date.now();
  let lastFrames = 0;
  let lastDetections = (await scrape(url)).detections;
  while (Date.now() - started < minutes * 60_000) {
    await sleep(EVERY_MS);
    const m = await scrape(url);
    const mem = rss(pid);
    const s: Sample = {
      phase: name,
      t: Math.round((Date.now() - started) / 1000),
      rssMiB: +mem.total.toFixed(1),
      rssAnonMiB: +mem.anon.toFixed(1),
      fds: fds(pid),
      loopP99Ms: +m.loopP99Ms.toFixed(1),
      viewerFps: +((frames - lastFrames) / (EVERY_MS / 1000) / VIEWERS).toFixed(1),
      detectFps: +((m.detections - lastDetections) / (EVERY_MS / 1000)).toFixed(1),
    };
    lastFrames = frames;
    lastDetections = m.detections;
    samples.push(s);
    console.log(`${name.padEnd(10)} t=${String(s.t).padStart(4)} s  RSS ${s.rssMiB.toFixed(0).padStart(4)} MiB  fds ${String(s.fds).padStart(4)}  loop p99 ${s.loopP99Ms.toFixed(1).padStart(6)} ms  ${s.viewerFps} fps per viewer  ${s.detectFps} detections/s`);
  }
  for (const ws of viewers) ws.terminate();
  await lookout.stop();
}

function summary(samples: Sample[]) {
  const after = samples.filter((s) => s.t >= WARMUP_S);
  const last3 = after.slice(-3);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // RSS swings by 10-15 % between two samples (garbage collection, libvips'
  // buffers), so one sample at each end can show growth that is not there,
  // or hide some: the first and last minute's medians are compared.
  const rssStart = median(after.slice(0, 6).map((s) => s.rssMiB));
  const rssEnd = median(after.slice(-6).map((s) => s.rssMiB));
  const fdsStart = Math.max(...after.slice(0, 3).map((s) => s.fds));
  const fdsEnd = Math.max(...last3.map((s) => s.fds));
  const loops = after.map((s) => s.loopP99Ms).sort((a, b) => a - b);
  return {
    samples: samples.length,
    rssWarmMiB: rssStart,
    rssEndMiB: rssEnd,
    rssGrowthPct: +(((rssEnd - rssStart) / rssStart) * 100).toFixed(1),
    fdsStart,
    fdsEnd,
    loopP99MaxMs: loops[loops.length - 1],
    loopP99MedianMs: loops[Math.floor(loops.length / 2)],
    loopP99P90Ms: loops[Math.floor(loops.length * 0.9)],
    loopSamplesOver50: loops.filter((v) => v >= 50).length,
    viewerFpsMedian: median(after.map((s) => s.viewerFps)),
    detectFpsMedian: median(after.map((s) => s.detectFps)),
  };
}

/** A plot of the run: RSS, descriptors and event-loop p99 over time, one panel each, phases side by side. */
function svg(samples: Sample[], phases: string[]): string {
  const W = 900, H = 180, PAD = 50;
  const series: { key: 'rssMiB' | 'fds' | 'loopP99Ms'; label: string; colour: string }[] = [
    { key: 'rssMiB', label: 'RSS (MiB)', colour: '#58a6ff' },
    { key: 'fds', label: 'open file descriptors', colour: '#3fb950' },
    { key: 'loopP99Ms', label: 'event-loop delay p99 (ms)', colour: '#d29922' },
  ];
  const total = samples.length;
  const parts: string[] = [];
  series.forEach((ser, row) => {
    const y0 = row * (H + 30) + 20;
    const vals = samples.map((s) => s[ser.key]);
    const max = Math.max(...vals, ser.key === 'loopP99Ms' ? 50 : 1) * 1.1;
    const x = (i: number) => PAD + (i / Math.max(1, total - 1)) * (W - PAD - 10);
    const y = (v: number) => y0 + H - (v / max) * H;
    parts.push(`<text x="${PAD}" y="${y0 - 5}" fill="#e6edf3" font-size="13">${ser.label}</text>`);
    parts.push(`<rect x="${PAD}" y="${y0}" width="${W - PAD - 10}" height="${H}" fill="none" stroke="#263140"/>`);
    for (const frac of [0, 0.5, 1]) parts.push(`<text x="${PAD - 6}" y="${y(max * frac / 1.1) + 4}" fill="#8b98a8" font-size="11" text-anchor="end">${(max * frac / 1.1).toFixed(0)}</text>`);
    if (ser.key === 'loopP99Ms') parts.push(`<line x1="${PAD}" x2="${W - 10}" y1="${y(50)}" y2="${y(50)}" stroke="#f85149" stroke-dasharray="4 4"/><text x="${W - 12}" y="${y(50) - 4}" fill="#f85149" font-size="11" text-anchor="end">goal 50 ms</text>`);
    let start = 0;
    for (const p of phases) {
      const idx = samples.map((s, i) => (s.phase === p ? i : -1)).filter((i) => i >= 0);
      if (!idx.length) continue;
      parts.push(`<polyline fill="none" stroke="${ser.colour}" stroke-width="1.5" points="${idx.map((i) => `${x(i).toFixed(1)},${y(samples[i][ser.key]).toFixed(1)}`).join(' ')}"/>`);
      if (row === 0) parts.push(`<text x="${x(idx[0]) + 4}" y="${y0 + 14}" fill="#8b98a8" font-size="11">${p}</text>`);
      if (start > 0) parts.push(`<line x1="${x(idx[0])}" x2="${x(idx[0])}" y1="${y0}" y2="${y0 + H}" stroke="#8b98a8" stroke-dasharray="2 3"/>`);
      start += idx.length;
    }
  });
  const height = series.length * (H + 30) + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="#0f1419"/>${parts.join('')}<text x="${PAD}" y="${height - 8}" fill="#8b98a8" font-size="11">one sample every 10 s; ${MINUTES} min per phase, 4 cameras, ${VIEWERS} viewers</text></svg>\n`;
}

console.log(`lookout soak — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}; ${MINUTES} min per phase, warm-up ${WARMUP_S} s\n`);
// SOAK_RESUMMARIZE=FILE: no run; the summary of the samples a run saved, by this file's rules.
const saved = process.env.SOAK_RESUMMARIZE;
const samples: Sample[] = saved ? (JSON.parse(readFileSync(saved, 'utf8')) as { samples: Sample[] }).samples : [];
// A phase named twice runs twice (alternating rounds, for side-by-side
// comparisons on a machine whose load drifts); its figures pool both.
if (!saved) for (const p of phaseNames) await phase(p, MINUTES, samples);
const phases = [...new Set(saved ? samples.map((s) => s.phase) : phaseNames)];
const result = Object.fromEntries(phases.map((p) => [p, summary(samples.filter((s) => s.phase === p))]));
if (!saved) {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'soak.json'), `${JSON.stringify({ minutes: MINUTES, warmupS: WARMUP_S, viewers: VIEWERS, result, samples }, null, 1)}\n`);
  writeFileSync(path.join(OUT, 'soak.svg'), svg(samples, phases));
}
console.log('\nphase           | RSS after warm-up → end (medians of 1 min) | growth | fds start → end | loop p99 median / p90 / max (samples ≥ 50) | fps per viewer | detections/s | goals');
for (const p of phases) {
  const r = result[p];
  const ok = r.rssGrowthPct < 10 && r.fdsEnd <= r.fdsStart && r.loopP99MaxMs < 50;
  console.log(`${p.padEnd(15)} | ${r.rssWarmMiB.toFixed(0)} → ${r.rssEndMiB.toFixed(0)} MiB`.padEnd(42) + ` | ${r.rssGrowthPct}% | ${r.fdsStart} → ${r.fdsEnd} | ${r.loopP99MedianMs} / ${r.loopP99P90Ms} / ${r.loopP99MaxMs} ms (${r.loopSamplesOver50}) | ${r.viewerFpsMedian} | ${r.detectFpsMedian} | ${ok ? 'held' : 'NOT held'}`);
}
console.log(JSON.stringify({ bench: 'soak', minutes: MINUTES, ...result }));
process.exit(0);
