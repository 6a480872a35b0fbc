// bench:analytics, part 1: what the analytics cost per detection, in this
// process, without I/O. Two cameras, one with 10 zones and 10 lines and one
// with none (the baseline), each fed the walking scene at 10 frames/s of a
// simulated clock through the object filters (screen), Tracking and
// Analytics.apply, as src/app.ts and src/analytics-flow.ts chain them. The
// cameras take turns in blocks of frames, so a drift of the machine's load
// (other agents run tests here) falls on both alike. Each update's analytics
// time (screen + apply) is divided by its detections; tracking's own time is
// measured beside it for scale.
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { Analytics, type AnalyticsNews } from '../src/analytics/analytics.js';
import { screen } from '../src/analytics/screen.js';
import { filterFor } from '../src/config/analytics.js';
import { parseConfig } from '../src/config/parse.js';
import type { CameraConfig } from '../src/config/schema.js';
import { Tracking } from '../src/track/tracking.js';
import { mediaDir } from '../src/util/paths.js';
import { detectionsAt, LINES, ZONES } from './analytics-scene.js';
import { threadsMs } from './procfs.js';

export interface CostOptions {
  /** Frames per camera that are measured (after the warm-up). */
  frames: number;
  warmFrames: number;
  /** Frames one camera runs before the other takes its turn. */
  block: number;
  fps: number;
}

export interface CostSide {
  camera: string;
  zones: number;
  lines: number;
  frames: number;
  detections: number;
  /** Per update: (screen + apply) ÷ its detections, µs. */
  perDetectionUs: { p50: number; p99: number; max: number; mean: number };
  /** Totals ÷ detections, µs: the two parts of the analytics, and tracking for scale. */
  screenUs: number;
  applyUs: number;
  trackingUs: number;
  /** What the analytics found over the measured frames. */
  news: { started: number; ended: number; zoneChanges: number; crossings: number; occupancyChanges: number; countChanges: number };
}

/** The camera of the config: every field as lookout parses it. */
function cameras(): Map<string, CameraConfig> {
  const url = path.join(mediaDir, 'bottle-detection.mp4');
  const config = parseConfig({
    store: { enabled: false },
    cameras: [{ id: 'zoned', url, zones: ZONES, lines: LINES }, { id: 'bare', url }],
  }, 'bench:analytics');
  return new Map(config.cameras.map((c) => [c.id, c]));
}

/** The value at quantile q of sorted values. */
const at = (s: Float64Array, q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN);

class Side {
  readonly samples: Float64Array;
  count = 0;
  frames = 0;
  detections = 0;
  screenMs = 0;
  applyMs = 0;
  trackingMs = 0;
  readonly news = { started: 0, ended: 0, zoneChanges: 0, crossings: 0, occupancyChanges: 0, countChanges: 0 };
  /** The next frame's number: each camera's clock runs on its own frames. */
  frame = 0;

  constructor(readonly config: CameraConfig, capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  result(): CostSide {
    const s = this.samples.slice(0, this.count).sort();
    const us = (ms: number) => (ms * 1000) / this.detections;
    return {
      camera: this.config.id,
      zones: this.config.zones.length,
      lines: this.config.lines.length,
      frames: this.frames,
      detections: this.detections,
      perDetectionUs: { p50: at(s, 0.5), p99: at(s, 0.99), max: at(s, 1), mean: us(this.screenMs + this.applyMs) },
      screenUs: us(this.screenMs),
      applyUs: us(this.applyMs),
      trackingUs: us(this.trackingMs),
      news: { ...this.news },
    };
  }
}

function tally(side: Side, started: number, ended: number, news: AnalyticsNews): void {
  side.news.started += started;
  side.news.ended += ended;
  side.news.zoneChanges += news.zones.length;
  side.news.crossings += news.crossings.length;
  side.news.occupancyChanges += news.occupancy.length;
  side.news.countChanges += news.counts.length;
}

export interface CostResult {
  zoned: CostSide;
  bare: CostSide;
  /**
   * The main thread's CPU time ÷ wall time over the measured frames: under
   * 1, other processes had the core for a while, and the wall times (the
   * tails first) include those waits. The main thread only: the process's
   * total counts V8's GC helper threads too, and can pass 1.
   */
  cpuShare: number;
}

export function measureCost(o: CostOptions): CostResult {
  const configs = cameras();
  const tracking = new Tracking({ threshold: (camera, label) => filterFor(configs.get(camera)?.filters ?? {}, label).threshold });
  const analytics = new Analytics((id) => configs.get(id));
  const sides = new Map([...configs.values()].map((c) => [c.id, new Side(c, o.frames)]));
  const start = Date.now();
  // apply() runs inside tracking.update(), as in serve: its time is taken there and handed out here.
  let applied = 0;
  /** The camera whose frame is being measured: what its analytics found is tallied there. */
  let tallying: Side | undefined;
  tracking.onUpdate((update) => {
    const t0 = performance.now();
    const news = analytics.apply(update);
    applied += performance.now() - t0;
    if (tallying) tally(tallying, update.started.length, update.ended.length, news);
  });

  const step = (side: Side, measured: boolean): void => {
    const n = side.frame++;
    const time = start + (n * 1000) / o.fps;
    const detections = detectionsAt(n / o.fps);
    applied = 0;
    tallying = measured ? side : undefined;
    const t0 = performance.now();
    const { kept } = screen(detections, side.config, 1920, 1080);
    const t1 = performance.now();
    tracking.update({ camera: side.config.id, frameId: `${side.config.id}-${n}`, time, detections: kept });
    const t2 = performance.now();
    if (!measured) return;
    const screenMs = t1 - t0;
    side.frames++;
    side.detections += detections.length;
    side.screenMs += screenMs;
    side.applyMs += applied;
    side.trackingMs += t2 - t1 - applied;
    // A frame with nobody on it costs something too (it is in the means); per detection it has no value.
    if (detections.length > 0) side.samples[side.count++] = ((screenMs + applied) * 1000) / detections.length;
  };

  const order = [...sides.values()];
  // Warm-up: the JIT settles on both cameras' paths before anything counts.
  for (let i = 0; i < o.warmFrames; i++) for (const side of order) step(side, false);
  const mainMs = () => threadsMs(process.pid).get('main') ?? NaN;
  const [cpu0, wall0] = [mainMs(), performance.now()];
  for (let done = 0; done < o.frames; done += o.block) {
    for (const side of order) for (let i = 0; i < Math.min(o.block, o.frames - done); i++) step(side, true);
    // The next block starts with the other camera: neither always follows the other.
    order.reverse();
  }
  // /proc counts in 10 ms ticks: about 1 % of a loop of a second or more.
  const cpuShare = (mainMs() - cpu0) / (performance.now() - wall0);
  tallying = undefined;
  tracking.close();
  const zoned = sides.get('zoned');
  const bare = sides.get('bare');
  if (!zoned || !bare) throw new Error('bench:analytics: the cost cameras are missing');
  return { zoned: zoned.result(), bare: bare.result(), cpuShare };
}
