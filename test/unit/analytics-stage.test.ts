// The analytics stage: tracking's updates through a camera's zones and
// lines, what it says changed (zone news, crossings, counts, occupancy,
// events whose zones changed), and what it keeps (nothing of a track once
// it is gone, nothing of a camera once it is removed).
import { describe, expect, it } from 'vitest';
import { Analytics, type AnalyticsNews, type LineTotal } from '../../src/analytics/analytics.js';
import { parseConfig } from '../../src/config/parse.js';
import type { CameraConfig } from '../../src/config/schema.js';
import { EventBuilder } from '../../src/track/events.js';
import type { TrackUpdate } from '../../src/track/tracking.js';
import type { Box, Detection, TrackedDetection, TrackEvent } from '../../src/types.js';

const CAM = 'yard';
const T0 = 1_700_000_000_000;
const DT = 200;
const at = (i: number) => T0 + i * DT;

/** A box whose bottom centre is (x, y). */
const feet = (x: number, y: number, h = 0.2, w = 0.1): Box => [y - h, x - w / 2, y, x + w / 2];

const square = (x0: number, y0: number, x1: number, y1: number) => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
const DOOR = { name: 'door', points: square(0.4, 0.4, 0.6, 0.6), inertia: 3 };
const GATE = { name: 'gate', points: [[0.2, 0.5], [0.8, 0.5]] };

/** A camera config as the config file gives it. */
function cameraConfig(shapes: { zones?: unknown[]; lines?: unknown[] }): CameraConfig {
  return parseConfig({ cameras: [{ id: CAM, url: 'rtsp://cam/stream', ...shapes }] }).cameras[0];
}

/** The config getter of a camera whose config does not change. */
function fixed(shapes: { zones?: unknown[]; lines?: unknown[] }): () => CameraConfig {
  const config = cameraConfig(shapes);
  return () => config;
}

function seen(id: number, x: number, y: number, label = 'person', confirmed = true): TrackedDetection {
  return { classId: label === 'person' ? 1 : 18, label, score: 0.9, box: feet(x, y), trackId: id, confirmed };
}

function event(id: number, label = 'person', start = T0): TrackEvent {
  return { id: `${CAM}-${start}-${id}`, camera: CAM, trackId: id, label, classId: label === 'person' ? 1 : 18, start, end: null, maxScore: 0.9, bestBox: feet(0.5, 0.5), bestFrameId: '1:0', bestTime: start, zones: [] };
}

const ended = (e: TrackEvent, i: number): TrackEvent => ({ ...e, end: at(i) });

type Parts = Partial<Pick<TrackUpdate, 'tracked' | 'started' | 'improved' | 'ended' | 'gone' | 'last'>>;

/** Frame i of the camera, as tracking hands it on. */
function update(i: number, parts: Parts = {}, camera = CAM): TrackUpdate {
  return { camera, frameId: `1:${i * DT}`, time: at(i), tracked: [], records: [], started: [], improved: [], ended: [], gone: [], frame: undefined, last: false, ...parts };
}

const phases = (news: AnalyticsNews) => news.zones.map((z) => [z.phase, z.zone, z.trackId]);

describe('Analytics', () => {
  it('follows a real track through two zones: events get their zones in order of entry, with enter/exit, occupancy and counts', () => {
    const config = cameraConfig({
      zones: [
        { name: 'left', points: square(0.1, 0.3, 0.41, 0.8), inertia: 2 },
        { name: 'right', points: square(0.59, 0.3, 0.9, 0.8), inertia: 2 },
      ],
    });
    const analytics = new Analytics(() => config);
    const builder = new EventBuilder(CAM);
    const all: { i: number; update: TrackUpdate; news: AnalyticsNews }[] = [];
    const step = (i: number, detections: Detection[]) => {
      const u = builder.update({ time: at(i), frameId: `1:${i * DT}` }, detections);
      const up = update(i, u);
      all.push({ i, update: up, news: analytics.apply(up) });
    };
    // A person walks right to left, feet at y 0.6, x 0.86 → 0.14 (frames 0–36), then is gone.
    for (let i = 0; i <= 36; i++) step(i, [{ classId: 1, label: 'person', score: 0.9, box: feet((86 - 2 * i) / 100, 0.6) }]);
    expect(analytics.state(CAM).zones).toEqual({ left: { person: 1 }, right: {} });
    for (let i = 37; i < 80 && !all.some((a) => a.update.ended.length); i++) step(i, []);
    const end = all.find((a) => a.update.ended.length)!;
    expect(end.update.ended[0].zones).toEqual(['right', 'left']);

    const zones = all.flatMap((a) => a.news.zones.map((z) => [z.phase, z.zone, z.time, z.occupancy, z.eventId]));
    const id = end.update.ended[0].id;
    // Right: enters on its 2nd confirmed frame (2), leaves at x 0.56 (15); left: enters at x 0.38 (24), leaves when the track ends, at its last sighting.
    expect(zones).toEqual([
      ['enter', 'right', at(2), 1, id],
      ['exit', 'right', at(15), 0, id],
      ['enter', 'left', at(24), 1, id],
      ['exit', 'left', at(36), 0, id],
    ]);
    const occupancy = all.flatMap((a) => a.news.occupancy.map((o) => [a.i, o.zone, o.label, o.count]));
    expect(occupancy).toEqual([[2, 'right', 'person', 1], [15, 'right', 'person', 0], [24, 'left', 'person', 1], [end.i, 'left', 'person', 0]]);
    const counts = all.flatMap((a) => a.news.counts.map((c) => [a.i, c.label, c.count]));
    expect(counts).toEqual([[1, 'person', 1], [end.i, 'person', 0]]);
    // The open event is told again when its zones change (it has no new best then); leaving changes nothing.
    const changed = all.flatMap((a) => a.news.changed.map((e) => [a.i, e.id, e.zones]));
    expect(changed).toEqual([[2, id, ['right']], [24, id, ['right', 'left']]]);
    expect(analytics.state(CAM)).toEqual({ zones: { left: {}, right: {} }, lines: {}, counts: {} });
  });

  it('does not list in `changed` an event already in the update as started or improved, but sets its zones there', () => {
    const analytics = new Analytics(fixed({ zones: [{ ...DOOR, inertia: 1 }] }));
    const e = event(1);
    const first = update(0, { started: [e], tracked: [seen(1, 0.5, 0.5)] });
    const news = analytics.apply(first);
    expect(phases(news)).toEqual([['enter', 'door', 1]]);
    expect(news.changed).toEqual([]);
    expect(first.started[0].zones).toEqual(['door']);
    // A second zone entered in the same frame as a new best: told through `improved`.
    const two = new Analytics(fixed({ zones: [{ ...DOOR, inertia: 2 }] }));
    const e2 = event(1);
    two.apply(update(0, { started: [e2], tracked: [seen(1, 0.5, 0.7)] }));
    two.apply(update(1, { tracked: [seen(1, 0.5, 0.5)] }));
    const better = update(2, { improved: [{ ...e2, maxScore: 0.95 }], tracked: [seen(1, 0.5, 0.5)] });
    const n = two.apply(better);
    expect(phases(n)).toEqual([['enter', 'door', 1]]);
    expect(n.changed).toEqual([]);
    expect(better.improved[0].zones).toEqual(['door']);
  });

  it('says loitering through `changed` and loitering(), once per stay', () => {
    const analytics = new Analytics(fixed({ zones: [{ ...DOOR, inertia: 1, loiterSeconds: 1 }] }));
    const e = event(1);
    const news = [analytics.apply(update(0, { started: [e], tracked: [seen(1, 0.5, 0.5)] }))];
    for (let i = 1; i <= 10; i++) news.push(analytics.apply(update(i, { tracked: [seen(1, 0.5, 0.5)] })));
    expect(news.map((n) => n.zones.map((z) => z.phase))).toEqual([['enter'], [], [], [], [], ['loiter'], [], [], [], [], []]);
    expect(news[5].changed.map((c) => c.id)).toEqual([e.id]);
    expect(analytics.loitering(CAM, 1)).toEqual(['door']);
    // Leaving ends the loitering: the event is told again.
    const left = analytics.apply(update(11, { tracked: [seen(1, 0.5, 0.9)] }));
    expect(left.zones.map((z) => z.phase)).toEqual(['exit']);
    expect(left.changed.map((c) => c.id)).toEqual([e.id]);
    expect(analytics.loitering(CAM, 1)).toEqual([]);
  });

  it('tells crossings made before the track was an event when it becomes one, and those of a track that never does not at all', () => {
    const analytics = new Analytics(fixed({ lines: [GATE] }));
    const before: AnalyticsNews[] = [];
    // Track 7 (confirmed, below its threshold) walks down across the gate at frame 2.
    for (const [i, y] of [[0, 0.4], [1, 0.45], [2, 0.55], [3, 0.6]] as const) before.push(analytics.apply(update(i, { tracked: [seen(7, 0.5, y)] })));
    // Track 8 does the same and is gone without ever being an event.
    for (const [i, y] of [[4, 0.4], [5, 0.6]] as const) before.push(analytics.apply(update(i, { tracked: [seen(8, 0.3, y)] })));
    before.push(analytics.apply(update(6, { gone: [8] })));
    expect(before.flatMap((n) => n.crossings)).toEqual([]);
    expect(analytics.hasEvent(CAM, 7)).toBe(false);
    const e = event(7);
    const now = analytics.apply(update(7, { started: [e], tracked: [seen(7, 0.5, 0.62)] }));
    expect(analytics.hasEvent(CAM, 7)).toBe(true);
    expect(now.crossings).toEqual([{ camera: CAM, line: 'gate', label: 'person', direction: 'in', trackId: 7, eventId: e.id, time: at(2), totals: { in: 1, out: 0 } }]);
    expect(analytics.state(CAM).lines).toEqual({ gate: { person: { in: 1, out: 0 } } });
    // Back up across it as an event: told at once.
    const back = analytics.apply(update(8, { tracked: [seen(7, 0.5, 0.4)] }));
    expect(back.crossings.map((c) => [c.direction, c.time, c.totals])).toEqual([['out', at(8), { in: 1, out: 1 }]]);
  });

  it('goes on counting from the totals it was given (the log\'s), per line and label', () => {
    const totals: LineTotal[] = [
      { camera: CAM, line: 'gate', label: 'person', in: 41, out: 7 },
      { camera: CAM, line: 'gone-line', label: 'person', in: 3, out: 3 },
      { camera: 'other', line: 'gate', label: 'person', in: 100, out: 100 },
    ];
    const analytics = new Analytics(fixed({ lines: [GATE] }), totals);
    // Lines the camera no longer has, and other cameras' lines, are not shown.
    expect(analytics.state(CAM).lines).toEqual({ gate: { person: { in: 41, out: 7 } } });
    analytics.apply(update(0, { started: [event(1)], tracked: [seen(1, 0.5, 0.4)] }));
    const news = analytics.apply(update(1, { tracked: [seen(1, 0.5, 0.6)] }));
    expect(news.crossings.map((c) => c.totals)).toEqual([{ in: 42, out: 7 }]);
    analytics.apply(update(2, { started: [event(2, 'dog')], tracked: [seen(1, 0.5, 0.61), seen(2, 0.3, 0.4, 'dog')] }));
    analytics.apply(update(3, { tracked: [seen(1, 0.5, 0.62), seen(2, 0.3, 0.6, 'dog')] }));
    expect(analytics.state(CAM).lines).toEqual({ gate: { person: { in: 42, out: 7 }, dog: { in: 1, out: 0 } } });
  });

  it('counts objects in view per label, and reports a label going to 0 when its last event ends', () => {
    const analytics = new Analytics(fixed({}));
    const [p1, p2, d] = [event(1), event(2), event(3, 'dog')];
    expect(analytics.apply(update(0, { started: [p1, d], tracked: [seen(1, 0.2, 0.5), seen(3, 0.8, 0.5, 'dog')] })).counts).toEqual([{ label: 'person', count: 1 }, { label: 'dog', count: 1 }]);
    expect(analytics.apply(update(1, { started: [p2], tracked: [seen(2, 0.5, 0.5)] })).counts).toEqual([{ label: 'person', count: 2 }]);
    expect(analytics.apply(update(2)).counts).toEqual([]);
    expect(analytics.apply(update(3, { ended: [ended(p1, 2)], gone: [1] })).counts).toEqual([{ label: 'person', count: 1 }]);
    expect(analytics.apply(update(4, { ended: [ended(p2, 3)], gone: [2] })).counts).toEqual([{ label: 'person', count: 0 }]);
    expect(analytics.state(CAM).counts).toEqual({ dog: 1 });
  });

  it('keeps who is in a zone across a change of its settings (no second enter), and lets them out of a zone removed', () => {
    let config = cameraConfig({ zones: [DOOR, { name: 'hall', points: square(0.3, 0.3, 0.7, 0.7), inertia: 1 }, { name: 'porch', points: square(0.45, 0.45, 0.55, 0.55), inertia: 1 }] });
    const analytics = new Analytics(() => config);
    const e = event(1);
    analytics.apply(update(0, { started: [e], tracked: [seen(1, 0.5, 0.5)] }));
    for (let i = 1; i <= 3; i++) analytics.apply(update(i, { tracked: [seen(1, 0.5, 0.5)] }));
    expect(analytics.state(CAM).zones).toEqual({ door: { person: 1 }, hall: { person: 1 }, porch: { person: 1 } });
    // PATCH: door unchanged (a new but equal object), hall's inertia changed, porch removed.
    config = cameraConfig({ zones: [DOOR, { name: 'hall', points: square(0.3, 0.3, 0.7, 0.7), inertia: 2 }] });
    const news = analytics.apply(update(4, { tracked: [seen(1, 0.5, 0.5)] }));
    expect(phases(news)).toEqual([['exit', 'porch', 1]]);
    expect(news.occupancy).toEqual([{ zone: 'porch', label: 'person', count: 0 }]);
    expect(analytics.state(CAM).zones).toEqual({ door: { person: 1 }, hall: { person: 1 } });
    // Nobody enters hall or door again.
    expect(phases(analytics.apply(update(5, { tracked: [seen(1, 0.5, 0.5)] })))).toEqual([]);
    // hall's new shape leaves the track outside: it exits by hall's new inertia (2 frames).
    config = cameraConfig({ zones: [DOOR, { name: 'hall', points: square(0.8, 0.8, 0.9, 0.9), inertia: 2 }] });
    expect(phases(analytics.apply(update(6, { tracked: [seen(1, 0.5, 0.5)] })))).toEqual([]);
    expect(phases(analytics.apply(update(7, { tracked: [seen(1, 0.5, 0.5)] })))).toEqual([['exit', 'hall', 1]]);
    const end = ended(e, 7);
    analytics.apply(update(20, { ended: [end], gone: [1] }));
    // In the order entered (hall and porch at frame 0, door at frame 2), each once.
    expect(end.zones).toEqual(['hall', 'porch', 'door']);
  });

  it('reports a removed camera\'s counts and occupancy as 0 and forgets it', () => {
    let config: CameraConfig | undefined = cameraConfig({ zones: [{ ...DOOR, inertia: 1 }] });
    const analytics = new Analytics(() => config);
    const e = event(1);
    analytics.apply(update(0, { started: [e], tracked: [seen(1, 0.5, 0.5)] }));
    analytics.apply(update(0, { started: [{ ...event(1), camera: 'porch', id: `porch-${T0}-1` }], tracked: [seen(1, 0.5, 0.5)] }, 'porch'));
    expect(analytics.state(CAM)).toMatchObject({ zones: { door: { person: 1 } }, counts: { person: 1 } });
    config = undefined;
    // As tracking.endCamera sends it: the camera's open events ended, last.
    const news = analytics.apply(update(1, { ended: [ended(e, 0)], last: true }));
    expect(news.counts).toEqual([{ label: 'person', count: 0 }]);
    expect(news.occupancy).toEqual([{ zone: 'door', label: 'person', count: 0 }]);
    expect(phases(news)).toEqual([['exit', 'door', 1]]);
    expect(analytics.state(CAM)).toEqual({ zones: {}, lines: {}, counts: {} });
    expect(analytics.hasEvent(CAM, 1)).toBe(false);
    // The other camera is untouched; a camera added again under the id starts from nothing.
    expect(analytics.hasEvent('porch', 1)).toBe(true);
    config = cameraConfig({ zones: [{ ...DOOR, inertia: 1 }] });
    const again = analytics.apply(update(2, { started: [event(2)], tracked: [seen(2, 0.5, 0.5)] }));
    expect(again.counts).toEqual([{ label: 'person', count: 1 }]);
    expect(analytics.state(CAM).zones).toEqual({ door: { person: 1 } });
  });

  it('lets go of every track that is gone: 10 000 short-lived tracks leave no zone streak, line side or held crossing behind', () => {
    const analytics = new Analytics(fixed({ zones: [DOOR], lines: [GATE] }));
    const told: AnalyticsNews[] = [];
    const N = 10_000;
    let i = 0;
    // Each track: confirmed, never an event; two frames in the door above the gate (streak 2 of 3);
    // even ones then step below the gate (a crossing held, streak 3). Then it is gone.
    for (let id = 1; id <= N; id++) {
      told.push(analytics.apply(update(i++, { tracked: [seen(id, 0.5, 0.45)] })));
      told.push(analytics.apply(update(i++, { tracked: [seen(id, 0.5, 0.45)] })));
      if (id % 2 === 0) told.push(analytics.apply(update(i++, { tracked: [seen(id, 0.5, 0.55)] })));
      told.push(analytics.apply(update(i++, { gone: [id] })));
    }
    // Had anything been kept, the same ids becoming events below the gate in the door would
    // enter at once (streak ≥ 3), cross (side was above) or tell a held crossing.
    for (let id = 1; id <= N; id++) {
      const e = event(id, 'person', at(i));
      told.push(analytics.apply(update(i++, { started: [e], tracked: [seen(id, 0.5, 0.55)] })));
      told.push(analytics.apply(update(i++, { ended: [ended(e, i - 2)], gone: [id] })));
    }
    expect(told.flatMap((n) => n.zones)).toEqual([]);
    expect(told.flatMap((n) => n.crossings)).toEqual([]);
    expect(told.flatMap((n) => n.occupancy)).toEqual([]);
    expect(analytics.state(CAM)).toEqual({ zones: { door: {} }, lines: { gate: {} }, counts: {} });
  });
});
