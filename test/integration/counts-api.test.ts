// Zones, filters and counts in a running lookout: a real camera (ffmpeg on
// the bottle clip, looping) with the synthetic model over gRPC and the real
// detection log; zones and filters changed over the camera API without a
// restart; and GET /api/counts over crossings in the log.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CrossingRecord } from '../../src/store/crossings.js';
import { onCleanup } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { sleep, until } from '../helpers/wait.js';

interface EventJson { id: string; label: string; start: number; end: number | null; zones: string[] }
interface CameraJson {
  status: { pid: number | undefined; restarts: number };
  analytics: { zones: Record<string, Record<string, number>>; counts: Record<string, number> };
  settings: { zones: { name: string }[]; filters: Record<string, { minScore: number }>; ownFilters: Record<string, Record<string, number>> };
}
interface Shown { label: string; trackId: number | null; filtered: string | null }

const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
};
const patch = (url: string, body: unknown) => fetch(url, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

// The synthetic bottle's box is [0.40, 0.55, 0.85, 0.70]: it stands at (0.625, 0.85). The person stands at (0.25, 0.90).
const COUNTER = { name: 'counter', points: [[0.55, 0.75], [0.7, 0.75], [0.7, 0.95], [0.55, 0.95]], inertia: 2 };
const AISLE = { name: 'aisle', points: [[0.15, 0.8], [0.35, 0.8], [0.35, 0.98], [0.15, 0.98]], inertia: 2 };

describe('zones and filters on a running camera', () => {
  it('puts the bottle in its zone, stores the zone on its event, and takes zone and filter changes without restarting ffmpeg', async () => {
    const lookout = await startTestLookout({
      modelServer: { embedded: { latencyMs: 10 } },
      detection: { detectFps: 5, liveFps: 5 },
      cameras: [{ id: 'shelf', url: BOTTLE_CLIP, loop: true, zones: [COUNTER] }],
    });
    const base = lookout.url;
    const camera = async () => (await get<CameraJson>(`${base}/api/cameras/shelf`)).body;
    const events = async (query: string) => (await get<{ events: EventJson[] }>(`${base}/api/events?camera=shelf${query}`)).body.events;

    // The bottle is counted in the zone; the person, standing elsewhere, is in view but not in it.
    await until(async () => (await camera()).analytics.zones.counter?.bottle === 1, 30_000);
    const cam = await camera();
    expect(cam.analytics.zones.counter).toEqual({ bottle: 1 });
    expect(cam.analytics.counts).toEqual({ person: 1, bottle: 1 });

    // Its event in the log carries the zone; the zone filter finds it, and only it.
    await until(async () => (await events('&label=bottle')).some((e) => e.zones.includes('counter')), 15_000);
    const bottle = (await events('&label=bottle'))[0];
    expect(bottle.zones).toEqual(['counter']);
    expect((await events('&zone=counter')).map((e) => e.id)).toEqual([bottle.id]);
    expect(await events('&zone=other')).toEqual([]);
    expect((await events('')).find((e) => e.label === 'person')?.zones).toEqual([]);

    // A zone that crosses itself is refused with the camera, the zone and the reason; nothing changes.
    const { pid, restarts } = cam.status;
    expect(pid).toBeGreaterThan(0);
    const bad = await patch(`${base}/api/cameras/shelf`, { zones: [COUNTER, { name: 'door', points: [[0.1, 0.1], [0.6, 0.5], [0.6, 0.1], [0.1, 0.3]] }] });
    expect(bad.status).toBe(400);
    const refused = (await bad.json()) as { error: string; key: string };
    expect(refused.error).toMatch(/^camera "shelf": zones\[1\] \(name "door"\)\.points: crosses itself/);
    expect(refused.key).toBe('zones[1] (name "door").points');
    expect((await camera()).settings.zones.map((z) => z.name)).toEqual(['counter']);

    // A valid zones-only change applies to the running camera: same ffmpeg, the bottle still in its unchanged zone, the person in the new one.
    const added = await patch(`${base}/api/cameras/shelf`, { zones: [COUNTER, AISLE] });
    expect(added.status).toBe(200);
    expect(((await added.json()) as CameraJson).settings.zones.map((z) => z.name)).toEqual(['counter', 'aisle']);
    await until(async () => (await camera()).analytics.zones.aisle?.person === 1, 15_000);
    const after = await camera();
    expect(after.analytics.zones).toEqual({ counter: { bottle: 1 }, aisle: { person: 1 } });
    expect(after.status).toMatchObject({ pid, restarts });
    // The bottle did not leave and enter the counter again: its event is the same one, and the only bottle event.
    expect((await events('&label=bottle')).map((e) => e.id)).toEqual([bottle.id]);

    // Filters: the bottle needs 0.8 now (it scores 0.75): shown as filtered, no longer tracked, its event ends and no new one starts.
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=shelf`);
    const shown: Shown[][] = [];
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (binary) return;
      const m = JSON.parse(d.toString()) as { type: string; detections?: Shown[] };
      if (m.type === 'detections' && m.detections) shown.push(m.detections);
    });
    onCleanup(() => ws.terminate());
    const filtered = await patch(`${base}/api/cameras/shelf`, { filters: { bottle: { minScore: 0.8 } } });
    expect(filtered.status).toBe(200);
    // Label by label: a second label's filter joins the first.
    expect((await patch(`${base}/api/cameras/shelf`, { filters: { person: { threshold: 0.6 } } })).status).toBe(200);
    const settings = (await camera()).settings;
    expect(settings.ownFilters).toEqual({ bottle: { minScore: 0.8 }, person: { threshold: 0.6 } });
    expect(settings.filters.bottle.minScore).toBe(0.8);
    const seen = shown.length;
    await until(() => shown.slice(seen).some((frame) => frame.some((d) => d.label === 'bottle' && d.filtered === 'minScore')), 15_000);
    const frame = shown.slice(seen).find((f) => f.some((d) => d.label === 'bottle' && d.filtered === 'minScore'))!;
    expect(frame.find((d) => d.label === 'bottle')).toMatchObject({ trackId: null, filtered: 'minScore' });
    expect(frame.find((d) => d.label === 'person')).toMatchObject({ filtered: null });
    expect(frame.find((d) => d.label === 'person')?.trackId).toBeGreaterThan(0);
    // Unseen for 2 s, the bottle's event ends and leaves the zone.
    await until(async () => (await events('&label=bottle'))[0]?.end !== null, 15_000);
    await until(async () => (await camera()).analytics.counts.bottle === undefined, 5_000);
    expect((await camera()).analytics.zones.counter).toEqual({});
    await sleep(1_500);
    expect((await events('&label=bottle')).map((e) => e.id)).toEqual([bottle.id]);
    expect((await camera()).status).toMatchObject({ pid, restarts });

    // Detections record no zones: asking them by zone is a 400 that says so, as JSON and as an export.
    for (const q of ['', '&format=csv', '&format=jsonl&limit=10']) {
      const res = await fetch(`${base}/api/detections?zone=counter${q}`);
      expect(res.status, q).toBe(400);
      const body = (await res.json()) as { error: string; param: string };
      expect(body.param).toBe('zone');
      expect(body.error).toMatch(/^zone: only events record zones/);
    }
  });
});

const HOUR = 3_600_000;
const MIN = 60_000;

describe('GET /api/counts', () => {
  it('sums crossings per line or zone, label and bucket, as JSON or CSV, and names a bad parameter', async () => {
    const lookout = await startTestLookout({});
    const base = lookout.url;
    const store = lookout.store!;
    // A whole UTC hour three hours ago, so the rows are recent and buckets line up.
    const T = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    const row = (camera: string, kind: 'line' | 'zone', name: string, label: string, direction: CrossingRecord['direction'], dt: number, trackId = 1): CrossingRecord =>
      ({ camera, kind, name, label, direction, time: T + dt, trackId, eventId: `${camera}-${T}-${trackId}` });
    expect(store.writer.addCrossings([
      row('a', 'line', 'gate', 'person', 'in', 10_000),
      row('a', 'line', 'gate', 'person', 'in', 20_000, 2),
      row('a', 'line', 'gate', 'person', 'out', 70_000),
      row('a', 'line', 'gate', 'person', 'out', 4 * 60_000 + 40_000, 5),
      row('a', 'line', 'gate', 'person', 'in', HOUR + 5_000, 3),
      row('a', 'line', 'gate', 'car', 'in', 30_000, 4),
      row('a', 'zone', 'door', 'person', 'enter', 15_000),
      row('a', 'zone', 'door', 'person', 'loiter', 50_000),
      row('a', 'zone', 'door', 'person', 'exit', 80_000),
      row('b', 'line', 'gate', 'person', 'in', 5_000, 9),
    ])).toBe(true);
    await store.writer.flush();

    type Counts = {
      bucket: string; bucketMs: number; since: number; until: number;
      lines: { camera: string; line: string; label: string; in: number; out: number; buckets: { start: number; in: number; out: number }[] }[];
      zones: { camera: string; zone: string; label: string; enter: number; exit: number; loiter: number; buckets: { start: number; enter: number; exit: number; loiter: number }[] }[];
    };
    const counts = async (q: string) => {
      const r = await get<Counts>(`${base}/api/counts?${q}`);
      expect(r.status, q).toBe(200);
      return r.body;
    };

    // By hour over two hours: totals, and each hour's.
    const hourly = await counts(`since=${T}&until=${T + 2 * HOUR}&bucket=1h`);
    expect(hourly).toMatchObject({ bucket: '1h', bucketMs: HOUR, since: T, until: T + 2 * HOUR });
    const line = (c: Counts, camera: string, label: string) => c.lines.find((l) => l.camera === camera && l.line === 'gate' && l.label === label);
    expect(line(hourly, 'a', 'person')).toEqual({ camera: 'a', line: 'gate', label: 'person', in: 3, out: 2, buckets: [{ start: T, in: 2, out: 2 }, { start: T + HOUR, in: 1, out: 0 }] });
    expect(line(hourly, 'a', 'car')).toMatchObject({ in: 1, out: 0 });
    expect(line(hourly, 'b', 'person')).toMatchObject({ in: 1, out: 0 });
    expect(hourly.lines).toHaveLength(3);
    expect(hourly.zones).toEqual([{ camera: 'a', zone: 'door', label: 'person', enter: 1, exit: 1, loiter: 1, buckets: [{ start: T, enter: 1, exit: 1, loiter: 1 }, { start: T + HOUR, enter: 0, exit: 0, loiter: 0 }] }]);

    // By minute over five minutes, from a since inside the first minute: every bucket, empty ones too, each
    // crossing in the minute it happened (0:50 in the first, 4:40 in the last); until is exclusive.
    const minutes = await counts(`since=${T + 5_000}&until=${T + 5 * MIN}&bucket=1m&camera=a&label=person`);
    expect(minutes.lines.map((l) => [l.camera, l.label])).toEqual([['a', 'person']]);
    expect(minutes.lines[0]).toMatchObject({ in: 2, out: 2 });
    expect(minutes.lines[0].buckets).toEqual([
      { start: T, in: 2, out: 0 }, { start: T + MIN, in: 0, out: 1 }, { start: T + 2 * MIN, in: 0, out: 0 }, { start: T + 3 * MIN, in: 0, out: 0 }, { start: T + 4 * MIN, in: 0, out: 1 },
    ]);
    expect(minutes.zones[0].buckets.map((b) => [b.enter, b.loiter, b.exit])).toEqual([[1, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect((await counts(`since=${T + 10_001}&until=${T + 70_000}&bucket=1m&camera=a&label=person`)).lines[0]).toMatchObject({ in: 1, out: 0 });

    // line alone: lines only; zone alone: zones only; both: both. ISO times work as ms do.
    const span = `since=${new Date(T).toISOString()}&until=${new Date(T + 2 * HOUR).toISOString()}`;
    const lineOnly = await counts(`${span}&line=gate`);
    expect(lineOnly.zones).toEqual([]);
    expect(lineOnly.lines).toHaveLength(3);
    const zoneOnly = await counts(`${span}&zone=door`);
    expect(zoneOnly.lines).toEqual([]);
    expect(zoneOnly.zones.map((z) => z.zone)).toEqual(['door']);
    expect(await counts(`${span}&zone=nosuch`)).toMatchObject({ lines: [], zones: [] });
    const both = await counts(`${span}&line=gate&zone=door&camera=b`);
    expect(both.lines.map((l) => l.camera)).toEqual(['b']);
    expect(both.zones).toEqual([]);
    // Without since and until: the last 24 hours, by hour.
    const day = await counts('camera=b');
    expect(day.until - day.since).toBe(24 * HOUR);
    expect(day.lines[0]).toMatchObject({ camera: 'b', in: 1 });
    expect(day.lines[0].buckets.length).toBeGreaterThanOrEqual(24);

    // CSV: one row per series and bucket.
    const csv = await fetch(`${base}/api/counts?since=${T}&until=${T + 2 * HOUR}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await csv.text()).trimEnd().split('\r\n');
    expect(rows[0]).toBe('start,camera,kind,name,label,in,out,enter,exit,loiter');
    expect(rows).toHaveLength(1 + 4 * 2);
    const hour0 = new Date(T).toISOString();
    const hour1 = new Date(T + HOUR).toISOString();
    expect(rows).toContain(`${hour0},a,line,gate,person,2,2,,,`);
    expect(rows).toContain(`${hour1},a,line,gate,person,1,0,,,`);
    expect(rows).toContain(`${hour0},a,zone,door,person,,,1,1,1`);

    // Bad parameters: a 400 naming each.
    const refused = async (q: string, param: string, message: RegExp) => {
      const r = await get<{ error: string; param: string }>(`${base}/api/counts?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.param, q).toBe(param);
      expect(r.body.error, q).toMatch(message);
    };
    await refused('bucket=5m', 'bucket', /^bucket: expected 1m, 1h, 1d; got "5m"/);
    await refused(`since=${T}&until=${T + 8 * 24 * HOUR}&bucket=1m`, 'bucket', /^bucket: 11520 1m buckets .*at most 10000/);
    await refused('since=yesterday', 'since', /^since: expected ISO 8601/);
    await refused('until=soon', 'until', /^until: expected ISO 8601/);
    await refused(`since=${T + HOUR}&until=${T}`, 'until', /earlier than since/);
    await refused(`since=${Date.now() + 10 * HOUR}`, 'since', /later than until/);
    await refused('format=xml', 'format', /^format: /);
    // A day's minutes are within the limit.
    expect((await counts(`since=${T}&until=${T + 24 * HOUR}&bucket=1m&camera=b`)).lines[0].buckets).toHaveLength(1440);
  });
});
