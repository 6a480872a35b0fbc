// The analytics stage of `lookout serve`: after tracking, before the log and
// the notifications. Per camera it follows every confirmed track through the
// camera's zones and across its lines, and says what changed: a track that
// became an event entering, leaving or loitering in a zone, a line crossed,
// how many objects of each label are in view and in each zone. Events carry
// the zones they entered. Nothing here does I/O; a change of a camera's zones
// or lines (PATCH, no restart) applies from its next result.
import type { CameraConfig } from '../config/schema.js';
import type { TrackUpdate } from '../track/tracking.js';
import type { TrackEvent } from '../types.js';
import { LineWatch, type Direction } from './lines.js';
import { ZoneWatch, type ZoneChange } from './zones.js';

export interface ZoneNews {
  phase: ZoneChange;
  camera: string;
  zone: string;
  label: string;
  trackId: number;
  eventId: string;
  time: number;
  occupancy: number;
}

export interface CrossingNews {
  camera: string;
  line: string;
  label: string;
  direction: Direction;
  trackId: number;
  eventId: string;
  time: number;
  totals: { in: number; out: number };
}

/** What one update of tracking changed. */
export interface AnalyticsNews {
  camera: string;
  zones: ZoneNews[];
  crossings: CrossingNews[];
  /** Labels whose count of objects in view changed, with the new count. */
  counts: { label: string; count: number }[];
  /** Zone × label occupancies that changed. */
  occupancy: { zone: string; label: string; count: number }[];
  /** Open events whose zones changed here and are not in the update's started/improved/ended. */
  changed: TrackEvent[];
}

/** A camera's analytics as the API and the page show them. */
export interface AnalyticsState {
  /** zone → label → objects in it now. */
  zones: Record<string, Record<string, number>>;
  /** line → label → counters (all-time in the log). */
  lines: Record<string, Record<string, { in: number; out: number }>>;
  /** label → objects in view (open events). */
  counts: Record<string, number>;
}

export interface LineTotal {
  camera: string;
  line: string;
  label: string;
  in: number;
  out: number;
}

/** Crossings a track made before it became an event, told when it does (a few at most). */
const MAX_PENDING_CROSSINGS = 4;

class CameraAnalytics {
  config: CameraConfig | undefined;
  zones: ZoneWatch[] = [];
  lines: LineWatch[] = [];
  /** Open events by track, with their zones and the zones they loiter in. */
  readonly events = new Map<number, { event: TrackEvent; loitering: Set<string> }>();
  readonly pending = new Map<number, { line: string; label: string; direction: Direction; time: number }[]>();
  counts = new Map<string, number>();
  occupancy = new Map<string, number>();

  /**
   * Applies changed settings. A zone keeps its tracks across a change of its
   * own settings (matched by name), so an edit neither enters anyone again
   * nor loses who is in; returns who left: the tracks of zones removed, and
   * of a zone that stopped counting their label. Lines that changed start
   * over (a side on the old line means nothing on the new one).
   */
  configure(config: CameraConfig | undefined): { zone: ZoneWatch; trackIds: number[] }[] {
    if (config === this.config) return [];
    this.config = config;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const left: { zone: ZoneWatch; trackIds: number[] }[] = [];
    const zones = (config?.zones ?? []).map((z) => {
      const kept = this.zones.find((w) => same(w.zone, z));
      if (kept) return kept;
      const next = new ZoneWatch(z);
      const before = this.zones.find((w) => w.zone.name === z.name);
      if (before) left.push({ zone: next, trackIds: next.adopt(before) });
      return next;
    });
    for (const w of this.zones) if (!zones.some((z) => z.zone.name === w.zone.name)) left.push({ zone: w, trackIds: w.evacuate() });
    this.zones = zones;
    this.lines = (config?.lines ?? []).map((l) => this.lines.find((w) => same(w.line, l)) ?? new LineWatch(l));
    return left;
  }
}

export class Analytics {
  private readonly cameras = new Map<string, CameraAnalytics>();
  /** camera → line → label → counters; kept across a camera's changes and restarts (seeded from the log). */
  private readonly totals = new Map<string, Map<string, Map<string, { in: number; out: number }>>>();

  constructor(private readonly config: (camera: string) => CameraConfig | undefined, totals: readonly LineTotal[] = []) {
    for (const t of totals) Object.assign(this.counter(t.camera, t.line, t.label), { in: t.in, out: t.out });
  }

  /**
   * Runs one update of tracking through the camera's zones and lines. Sets
   * `zones` on the update's events (the log stores them) and returns what changed.
   */
  apply(update: TrackUpdate): AnalyticsNews {
    const cam = this.camera(update.camera);
    const news: AnalyticsNews = { camera: update.camera, zones: [], crossings: [], counts: [], occupancy: [], changed: [] };
    const touched = new Set<number>();
    for (const { zone, trackIds } of update.last ? [] : cam.configure(this.config(update.camera))) {
      for (const id of trackIds) {
        const open = cam.events.get(id);
        if (open && this.zoneNews(news, zone, open, 'exit', update.time)) touched.add(id);
      }
    }
    for (const e of update.started) cam.events.set(e.trackId, { event: { ...e, zones: [...e.zones] }, loitering: new Set() });
    for (const d of update.tracked) {
      if (d.trackId === null || !d.confirmed) continue;
      const open = cam.events.get(d.trackId);
      for (const w of cam.zones) {
        for (const phase of w.update(d.trackId, d.label, d.box, update.time, open !== undefined)) {
          if (open && this.zoneNews(news, w, open, phase, update.time)) touched.add(d.trackId);
        }
      }
      for (const w of cam.lines) {
        const direction = w.update(d.trackId, d.label, d.box);
        if (!direction) continue;
        if (open) this.crossing(news, w.line.name, d.label, direction, open.event, update.time);
        else this.hold(cam, d.trackId, { line: w.line.name, label: d.label, direction, time: update.time });
      }
    }
    // Crossings made before the track was an event are told now, under its event.
    for (const e of update.started) {
      for (const c of cam.pending.get(e.trackId) ?? []) this.crossing(news, c.line, c.label, c.direction, e, c.time);
      cam.pending.delete(e.trackId);
    }
    for (const e of update.ended) {
      const open = cam.events.get(e.trackId);
      for (const w of cam.zones) {
        for (const phase of w.forget(e.trackId)) if (open) this.zoneNews(news, w, open, phase, e.end ?? update.time);
      }
      cam.events.delete(e.trackId);
      if (open) e.zones = [...open.event.zones];
    }
    // Every track that ended (events or not) leaves no state behind.
    for (const id of update.gone) {
      for (const w of cam.zones) w.forget(id);
      for (const w of cam.lines) w.forget(id);
      cam.pending.delete(id);
    }
    for (const e of [...update.started, ...update.improved]) {
      const open = cam.events.get(e.trackId);
      if (!open) continue;
      e.zones = [...open.event.zones];
      // Its best detection moved on: the copy told with zone changes must not go back to the old one.
      Object.assign(open.event, { maxScore: e.maxScore, bestBox: [...e.bestBox], bestFrameId: e.bestFrameId, bestTime: e.bestTime });
    }
    const told = new Set([...update.started, ...update.improved, ...update.ended].map((e) => e.trackId));
    for (const id of touched) {
      const open = cam.events.get(id);
      if (open && !told.has(id)) news.changed.push({ ...open.event, bestBox: [...open.event.bestBox], zones: [...open.event.zones] });
    }
    if (update.last) {
      cam.events.clear();
      cam.pending.clear();
      cam.configure(undefined);
    }
    this.diffStates(cam, news);
    if (update.last) this.cameras.delete(update.camera);
    return news;
  }

  /** Whether a track of the camera is an event (the live view marks the others "threshold"). */
  hasEvent(camera: string, trackId: number): boolean {
    return this.cameras.get(camera)?.events.has(trackId) === true;
  }

  /** Zones an open event's object is loitering in now. */
  loitering(camera: string, trackId: number): string[] {
    return [...(this.cameras.get(camera)?.events.get(trackId)?.loitering ?? [])];
  }

  state(camera: string): AnalyticsState {
    const cam = this.cameras.get(camera);
    // The settings as they are now (a PATCH shows at once, even on a camera that is down); occupancy by zone name.
    const cfg = this.config(camera) ?? cam?.config;
    const zones: AnalyticsState['zones'] = {};
    for (const z of cfg?.zones ?? []) zones[z.name] = Object.fromEntries(cam?.zones.find((w) => w.zone.name === z.name)?.occupancy() ?? []);
    const lines: AnalyticsState['lines'] = {};
    const counters = this.totals.get(camera);
    for (const l of cfg?.lines ?? []) lines[l.name] = Object.fromEntries([...(counters?.get(l.name) ?? [])].map(([label, t]) => [label, { ...t }]));
    return { zones, lines, counts: Object.fromEntries(cam?.counts ?? []) };
  }

  /** A line's counters for a label, made at 0 the first time. */
  private counter(camera: string, line: string, label: string): { in: number; out: number } {
    const lines = this.totals.get(camera) ?? new Map<string, Map<string, { in: number; out: number }>>();
    this.totals.set(camera, lines);
    const labels = lines.get(line) ?? new Map<string, { in: number; out: number }>();
    lines.set(line, labels);
    const t = labels.get(label) ?? { in: 0, out: 0 };
    labels.set(label, t);
    return t;
  }

  private camera(id: string): CameraAnalytics {
    let cam = this.cameras.get(id);
    if (!cam) {
      cam = new CameraAnalytics();
      this.cameras.set(id, cam);
    }
    return cam;
  }

  /** Returns whether the event's zones changed. */
  private zoneNews(news: AnalyticsNews, w: ZoneWatch, open: { event: TrackEvent; loitering: Set<string> }, phase: ZoneChange, time: number): boolean {
    const { event } = open;
    let changed = false;
    if (phase === 'enter' && !event.zones.includes(w.zone.name)) {
      event.zones.push(w.zone.name);
      changed = true;
    }
    if (phase === 'loiter') open.loitering.add(w.zone.name);
    if (phase === 'exit') changed = open.loitering.delete(w.zone.name) || changed;
    if (phase === 'loiter') changed = true;
    news.zones.push({
      phase, camera: event.camera, zone: w.zone.name, label: event.label, trackId: event.trackId, eventId: event.id, time,
      occupancy: w.occupancy().get(event.label) ?? 0,
    });
    return changed;
  }

  private crossing(news: AnalyticsNews, line: string, label: string, direction: Direction, event: TrackEvent, time: number): void {
    const t = this.counter(event.camera, line, label);
    t[direction]++;
    news.crossings.push({ camera: event.camera, line, label, direction, trackId: event.trackId, eventId: event.id, time, totals: { ...t } });
  }

  private hold(cam: CameraAnalytics, trackId: number, c: { line: string; label: string; direction: Direction; time: number }): void {
    const list = cam.pending.get(trackId) ?? [];
    list.push(c);
    if (list.length > MAX_PENDING_CROSSINGS) list.shift();
    cam.pending.set(trackId, list);
  }

  /** Counts in view and zone occupancy: what changed since the last update goes into the news. */
  private diffStates(cam: CameraAnalytics, news: AnalyticsNews): void {
    const counts = new Map<string, number>();
    for (const { event } of cam.events.values()) counts.set(event.label, (counts.get(event.label) ?? 0) + 1);
    for (const [label, count] of counts) if (cam.counts.get(label) !== count) news.counts.push({ label, count });
    for (const label of cam.counts.keys()) if (!counts.has(label)) news.counts.push({ label, count: 0 });
    cam.counts = counts;
    const occupancy = new Map<string, number>();
    for (const w of cam.zones) for (const [label, n] of w.occupancy()) occupancy.set(JSON.stringify([w.zone.name, label]), n);
    for (const [key, count] of occupancy) {
      if (cam.occupancy.get(key) !== count) {
        const [zone, label] = JSON.parse(key) as [string, string];
        news.occupancy.push({ zone, label, count });
      }
    }
    for (const key of cam.occupancy.keys()) {
      if (!occupancy.has(key)) {
        const [zone, label] = JSON.parse(key) as [string, string];
        news.occupancy.push({ zone, label, count: 0 });
      }
    }
    cam.occupancy = occupancy;
  }
}
