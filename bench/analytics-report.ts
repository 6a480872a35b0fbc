// bench:analytics's tables and its one line of JSON: the same figures in both.
import os from 'node:os';
import type { CostResult, CostSide } from './analytics-cost.js';
import type { MqttResult } from './analytics-mqtt.js';
import type { Mode, SinkCounts, Window } from './analytics-pipeline.js';
import { printTable, type Row } from './table.js';

export interface Results {
  cost: CostResult;
  mqtt: MqttResult;
  windows: Window[];
  pipeline: { cameras: number; detectFps: number; windowS: number; warmS: number; model: string };
  loadAtStart: number[];
  seconds: number;
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const r2 = (x: number) => (Number.isFinite(x) ? +x.toFixed(2) : null);
const r3 = (x: number) => (Number.isFinite(x) ? +x.toFixed(3) : null);
const r4 = (x: number) => (Number.isFinite(x) ? +x.toFixed(4) : null);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Messages over B's windows, all sinks of a kind together. */
function sinkTotals(windows: Window[], kind: 'mqtt' | 'webhook'): SinkCounts {
  const out = { published: 0, dropped: 0, failed: 0, retried: 0 };
  for (const w of windows) {
    for (const [sink, c] of Object.entries(w.sinks)) {
      if (!(kind === 'mqtt' ? sink === 'mqtt' : sink.startsWith('webhook'))) continue;
      out.published += c.published;
      out.dropped += c.dropped;
      out.failed += c.failed;
      out.retried += c.retried;
    }
  }
  return out;
}

export function summary(r: Results) {
  const of = (mode: Mode) => r.windows.filter((w) => w.mode === mode);
  const [a, b] = [of('A'), of('B')];
  const rounds = [...new Set(r.windows.map((w) => w.round))];
  const pair = (f: (w: Window) => number) => rounds.map((round) => {
    const x = a.find((w) => w.round === round);
    const y = b.find((w) => w.round === round);
    return x && y ? f(y) / f(x) : NaN;
  });
  const bSeconds = b.reduce((s, w) => s + w.seconds, 0);
  const mqtt = sinkTotals(b, 'mqtt');
  const webhook = sinkTotals(b, 'webhook');
  const { zoned, bare } = r.cost;
  return {
    fpsA: mean(a.map((w) => w.detectFps)),
    fpsB: mean(b.map((w) => w.detectFps)),
    fpsRatio: mean(b.map((w) => w.detectFps)) / mean(a.map((w) => w.detectFps)),
    fpsPerRound: pair((w) => w.detectFps),
    cpuA: mean(a.map((w) => w.nodeCores)),
    cpuB: mean(b.map((w) => w.nodeCores)),
    cpuRatio: mean(b.map((w) => w.nodeCores)) / mean(a.map((w) => w.nodeCores)),
    cpuPerRound: pair((w) => w.nodeCores),
    mqtt,
    webhook,
    mqttPerS: mqtt.published / bSeconds,
    webhookPerS: webhook.published / bSeconds,
    receiverPosts: b.reduce((s, w) => s + w.receiverPosts, 0),
    crossingsA: a.reduce((s, w) => s + w.crossings, 0),
    crossingsB: b.reduce((s, w) => s + w.crossings, 0),
    troubled: r.windows.filter((w) => w.restarts > 0 || w.skipped > 0 || !(w.detectFps >= 0.95 * r.pipeline.detectFps)).length,
    addedUs: zoned.perDetectionUs.mean - bare.perDetectionUs.mean,
  };
}

function sinkText(w: Window): string {
  const parts = Object.entries(w.sinks).map(([sink, c]) => `${sink} ${c.published}${c.dropped ? ` (${c.dropped} dropped)` : ''}${c.failed ? ` (${c.failed} failed)` : ''}`);
  return parts.length ? parts.join(', ') : '—';
}

/** The rounds' table: one row per window, in the order they ran. */
function printRounds(windows: Window[]): void {
  const head = ['round', 'mode', 'detect fps', 'slowest cam', 'node cores (lookout + model)', 'ffmpeg cores', 'mosquitto', 'receiver', 'crossings', 'messages delivered', 'dropped/skipped/restarts', 'load'];
  const rows = windows.map((w) => [
    String(w.round), w.mode === 'A' ? 'A (no notify)' : 'B (mqtt+webhook)', f2(w.detectFps), f2(w.minCameraFps), f3(w.nodeCores), f3(w.ffmpegCores),
    f3(w.brokerCores), f3(w.receiverCores), String(w.crossings), sinkText(w), `${w.dropped}/${w.skipped}/${w.restarts}`, f2(w.load1),
  ]);
  const width = head.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k]?.length ?? 0)));
  console.log(head.map((h, k) => h.padEnd(width[k] ?? 0)).join(' | '));
  console.log(width.map((n) => '-'.repeat(n)).join('-|-'));
  for (const row of rows) console.log(row.map((c, k) => c.padEnd(width[k] ?? 0)).join(' | ').trimEnd());
  console.log('');
}

export function printReport(r: Results): void {
  const s = summary(r);
  const { zoned, bare } = r.cost;
  const m = r.mqtt;
  const p = r.pipeline;
  printRounds(r.windows);
  const rows: Row[] = [];
  const add = (measure: string, value: string, side: string, goal = '') => rows.push([measure, value, side, goal]);
  const costSide = (c: CostSide) => `p99 ${f2(c.perDetectionUs.p99)}, max ${f1(c.perDetectionUs.max)}, mean ${f2(c.perDetectionUs.mean)} (screen ${f2(c.screenUs)} + apply ${f2(c.applyUs)}); tracking ${f2(c.trackingUs)} µs/detection beside it; ${c.detections} detections in ${c.frames} frames`;
  add('analytics per detection, 10 zones + 10 lines (µs, p50)', f2(zoned.perDetectionUs.p50), costSide(zoned));
  add('  the same, no zones or lines (µs, p50)', f2(bare.perDetectionUs.p50), costSide(bare));
  add('  added by 10 zones + 10 lines (µs per detection, mean)', f2(s.addedUs), `zoned ÷ bare ${f2(zoned.perDetectionUs.mean / bare.perDetectionUs.mean)}× (means), ${f2(zoned.perDetectionUs.p50 / bare.perDetectionUs.p50)}× (p50)`);
  const per1k = (n: number) => f1((n * 1000) / zoned.detections);
  add('  what the zoned camera\'s analytics found', '', `per 1000 detections: ${per1k(zoned.news.zoneChanges)} zone enters/exits, ${per1k(zoned.news.crossings)} crossings, ${per1k(zoned.news.started)} events started, ${per1k(zoned.news.occupancyChanges)} occupancy changes`);
  add('  main thread\'s CPU ÷ wall time, measuring', f2(r.cost.cpuShare), 'below 1, other processes held the core at times (the machine is shared), and the wall times above include those waits, the tails most');
  add('MQTT QoS 1: PUBACKed notices/s, sustained', f1(m.perS), `${m.acked} zone notices in ${f1(m.seconds)} s, at most ${m.window} in the sink (its maxQueue); dropped ${m.dropped}, failed ${m.failed}; this process ${f2(m.nodeCores)} cores, mosquitto ${f2(m.brokerCores)}`);
  add('  publish → PUBACK (ms, p50), one at a time', f2(m.single.p50), `p99 ${f2(m.single.p99)} over ${m.single.messages} messages`);
  add('  publish → PUBACK (ms, p50), sustained', f1(m.latencyMs.p50), `p99 ${f1(m.latencyMs.p99)}: ≈ window ÷ rate (${f1((m.window / m.perS) * 1000)} ms), the queue's wait`);
  add('pipeline detect fps, with ÷ without notifications', f3(s.fpsRatio), `${f2(s.fpsB)} ÷ ${f2(s.fpsA)} per camera (target ${p.detectFps}); ${p.cameras} cameras; each round B÷A: ${s.fpsPerRound.map(f3).join(', ')}`, '≥ 0.98');
  add('  lookout CPU, with ÷ without', f3(s.cpuRatio), `${f3(s.cpuB)} ÷ ${f3(s.cpuA)} cores (lookout's process); each round: ${s.cpuPerRound.map(f3).join(', ')}`);
  add('  delivered during B (notices/s)', `${f1(s.mqttPerS)} mqtt`, `${s.mqtt.published} MQTT publishes (acknowledged), ${s.webhook.published} webhook POSTs (${f1(s.webhookPerS)}/s; the receiver counted ${s.receiverPosts}); dropped ${s.mqtt.dropped} + ${s.webhook.dropped}, failed ${s.mqtt.failed} + ${s.webhook.failed}, retried ${s.webhook.retried}`);
  add('  line crossings the analytics counted', `${s.crossingsB} in B`, `${s.crossingsA} in A; the scene is the same on both sides, the crossings follow detect fps (far below 10/s, a box moves too far between frames to keep its track)`);
  if (s.troubled) add('  ⚠ windows below 95 % of the target fps, or with skips or restarts', `${s.troubled} of ${r.windows.length}`, 'detection fell behind there (frames superseded before the model had them): the cores were short, for whatever reason');
  add('model', '', p.model);
  const load = os.loadavg();
  add('load average at start → end (1, 5, 15 min)', `${r.loadAtStart.map(f2).join(' ')} → ${load.map(f2).join(' ')}`, `${os.availableParallelism()} cores; run took ${Math.round(r.seconds)} s`);
  printTable(rows, [50, 10, 60, 6], 160);
  console.log(JSON.stringify({
    bench: 'analytics',
    cost: Object.fromEntries([zoned, bare].map((c) => [c.camera, {
      zones: c.zones, lines: c.lines, detections: c.detections, frames: c.frames,
      p50Us: r3(c.perDetectionUs.p50), p99Us: r3(c.perDetectionUs.p99), maxUs: r3(c.perDetectionUs.max), meanUs: r3(c.perDetectionUs.mean),
      screenUs: r3(c.screenUs), applyUs: r3(c.applyUs), trackingUs: r3(c.trackingUs), news: c.news,
    }])),
    costAddedUs: r3(s.addedUs),
    costCpuShare: r3(r.cost.cpuShare),
    mqtt: {
      perS: r2(m.perS), acked: m.acked, seconds: r2(m.seconds), window: m.window, dropped: m.dropped, failed: m.failed,
      latencyMs: { p50: r3(m.latencyMs.p50), p99: r3(m.latencyMs.p99) }, singleMs: { p50: r3(m.single.p50), p99: r3(m.single.p99), messages: m.single.messages },
      nodeCores: r3(m.nodeCores), brokerCores: r3(m.brokerCores), warnings: m.warnings,
    },
    pipeline: {
      ...p,
      fpsRatio: r4(s.fpsRatio), goal: 0.98, fpsA: r3(s.fpsA), fpsB: r3(s.fpsB), fpsPerRound: s.fpsPerRound.map(r4),
      cpuRatio: r4(s.cpuRatio), cpuA: r3(s.cpuA), cpuB: r3(s.cpuB), cpuPerRound: s.cpuPerRound.map(r4),
      deliveredB: { mqtt: s.mqtt, webhook: s.webhook, mqttPerS: r2(s.mqttPerS), webhookPerS: r2(s.webhookPerS), receiverPosts: s.receiverPosts },
      crossings: { A: s.crossingsA, B: s.crossingsB }, troubledWindows: s.troubled,
      windows: r.windows.map((w) => ({
        round: w.round, mode: w.mode, seconds: r2(w.seconds), detectFps: r3(w.detectFps), minCameraFps: r3(w.minCameraFps),
        nodeCores: r3(w.nodeCores), ffmpegCores: r3(w.ffmpegCores), brokerCores: r3(w.brokerCores), receiverCores: r3(w.receiverCores),
        sinks: w.sinks, receiverPosts: w.receiverPosts, crossings: w.crossings, dropped: w.dropped, skipped: w.skipped, restarts: w.restarts, load1: r2(w.load1),
      })),
    },
    loadAvg: { start: r.loadAtStart.map(r2), end: load.map(r2) },
    seconds: Math.round(r.seconds),
  }));
}
