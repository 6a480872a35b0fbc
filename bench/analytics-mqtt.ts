// bench:analytics, part 2: how many notices lookout's MQTT sink gets
// acknowledged per second by a local mosquitto, QoS 1, sustained. The
// MqttSink itself (src/notify/mqtt-sink.ts) is driven with zone notices (the
// stream's commonest kind; no retained state rides on them) as fast as it
// takes them without dropping any: the bench keeps what the sink holds
// (waiting + awaiting PUBACK) under a window, topping it up on every turn of
// the event loop. The sink's own counters say what was acknowledged.
//
// Latency, publish → PUBACK: the sink keeps its FIFO order and MQTT.js
// settles QoS 1 publishes in order, so the message sent i-th is acknowledged
// when the sink's "published" count passes i; the count is read on every turn
// of the event loop, so a latency is at most one turn late. Twice: one
// message at a time (the round trip itself), and under the sustained load
// (where the window's queue dominates it, by Little's law).
import { performance } from 'node:perf_hooks';
import { MqttSink } from '../src/notify/mqtt-sink.js';
import type { Notice } from '../src/notify/notice.js';
import type { Logger } from '../src/util/logger.js';
import { readStat } from './procfs.js';

export interface MqttOptions {
  url: string;
  brokerPid: number;
  /** The sink's maxQueue (lookout's default 1000); the bench keeps at most this many in the sink. */
  maxQueue: number;
  seconds: number;
  warmSeconds: number;
  /** One message at a time, for this long. */
  singleSeconds: number;
}

export interface MqttResult {
  window: number;
  seconds: number;
  acked: number;
  perS: number;
  latencyMs: { p50: number; p99: number };
  single: { messages: number; p50: number; p99: number };
  dropped: number;
  failed: number;
  warnings: string[];
  /** This process (the sink and MQTT.js) and mosquitto, over the sustained window. */
  nodeCores: number;
  brokerCores: number;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sorted = (xs: number[]) => Float64Array.from(xs).sort();
const at = (s: Float64Array, q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN);

function zoneNotice(i: number): Notice {
  const time = Date.now();
  return { kind: 'zone', phase: i % 2 ? 'exit' : 'enter', time, camera: `cam${(i % 4) + 1}`, zone: `z${i % 10}`, label: 'person', trackId: i, eventId: `cam${(i % 4) + 1}-${time}-${i}`, occupancy: 1 };
}

export async function measureMqtt(o: MqttOptions): Promise<MqttResult> {
  const warnings: string[] = [];
  const log: Logger = { info: () => undefined, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
  const sink = new MqttSink({
    config: {
      url: o.url, username: undefined, password: undefined, topicPrefix: 'bench', clientId: `lookout-bench-${process.pid}`,
      discovery: false, discoveryPrefix: 'homeassistant', maxQueue: o.maxQueue, rejectUnauthorized: true, caFile: undefined,
    },
    catalog: { cameras: () => [] },
    log,
  });
  try {
    const deadline = Date.now() + 10_000;
    while (!sink.stats().connected) {
      if (Date.now() > deadline) throw new Error(`the MQTT sink did not connect to ${o.url}: ${sink.stats().lastError}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    let sent = 0;
    const sentAt: number[] = [];
    // Acknowledged so far, as the sink counts: message i (0-based) is acknowledged once this exceeds i.
    const acked = () => sink.stats().published;
    const send = () => {
      sentAt.push(performance.now());
      sink.send(zoneNotice(sent++));
    };

    // One at a time: the round trip with nothing else in flight.
    const single: number[] = [];
    const singleEnd = performance.now() + o.singleSeconds * 1000;
    while (performance.now() < singleEnd) {
      const before = acked();
      const t0 = performance.now();
      send();
      while (acked() === before) await turn();
      single.push(performance.now() - t0);
    }

    // Sustained: the window topped up on every turn.
    const latencies: number[] = [];
    let seen = acked();
    let measuring = false;
    let a0 = 0;
    let t0 = 0;
    let cpu0 = process.cpuUsage();
    let broker0 = readStat(`/proc/${o.brokerPid}/stat`)?.cpuMs ?? NaN;
    const warmEnd = performance.now() + o.warmSeconds * 1000;
    const end = warmEnd + o.seconds * 1000;
    for (;;) {
      const now = performance.now();
      const a = acked();
      if (measuring) for (let i = seen; i < a; i++) latencies.push(now - sentAt[i]);
      seen = a;
      if (!measuring && now >= warmEnd) {
        [measuring, a0, t0, cpu0] = [true, a, now, process.cpuUsage()];
        broker0 = readStat(`/proc/${o.brokerPid}/stat`)?.cpuMs ?? NaN;
      }
      if (now >= end) break;
      for (let held = sink.stats().queued; held < o.maxQueue; held++) send();
      await turn();
    }
    const t1 = performance.now();
    const a1 = acked();
    const cpu = process.cpuUsage(cpu0);
    const broker1 = readStat(`/proc/${o.brokerPid}/stat`)?.cpuMs ?? NaN;
    const seconds = (t1 - t0) / 1000;
    const l = sorted(latencies);
    const s = sorted(single);
    const stats = sink.stats();
    return {
      window: o.maxQueue,
      seconds,
      acked: a1 - a0,
      perS: (a1 - a0) / seconds,
      latencyMs: { p50: at(l, 0.5), p99: at(l, 0.99) },
      single: { messages: single.length, p50: at(s, 0.5), p99: at(s, 0.99) },
      dropped: stats.dropped,
      failed: stats.failed,
      warnings,
      nodeCores: (cpu.user + cpu.system) / 1000 / (t1 - t0),
      brokerCores: (broker1 - broker0) / (t1 - t0),
    };
  } finally {
    await sink.close();
  }
}
