// A camera's zones, lines, masks and object filters as the config gives
// them: shapes checked once with errors naming the camera and the zone,
// filters completed label by label and key by key; and what the filters do:
// which detections count (screen) and which tracks become events (threshold).
import { describe, expect, it } from 'vitest';
import { screen } from '../../src/analytics/screen.js';
import { FILTER_DEFAULTS, filterFor } from '../../src/config/analytics.js';
import { parseConfig } from '../../src/config/parse.js';
import { ConfigError, type CameraConfig } from '../../src/config/schema.js';
import { EventBuilder } from '../../src/track/events.js';
import type { Box, Detection } from '../../src/types.js';

const URL = 'rtsp://cam/stream';
const DOOR_OK = { name: 'porch', points: [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]] };

function front(entry: Record<string, unknown>, top: Record<string, unknown> = {}): CameraConfig {
  return parseConfig({ ...top, cameras: [{ id: 'front', url: URL, ...entry }] }, 'lookout.yaml').cameras[0];
}

function refusal(entry: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  try {
    front(entry, top);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(entry)}`);
}

const door = (over: Record<string, unknown>) => ({ zones: [DOOR_OK, { name: 'door', points: [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]], ...over }] });
const AT = 'lookout.yaml: cameras[0] (id "front").zones[1] (name "door")';

describe('zones, lines and masks in the config', () => {
  it('takes a concave zone and a line, and fills in the defaults', () => {
    const c = front({
      zones: [{ name: 'yard', points: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.6, 0.9], [0.6, 0.4], [0.4, 0.4], [0.4, 0.9], [0.1, 0.9]] }],
      lines: [{ name: 'gate', points: [[0.2, 0.5], [0.8, 0.5]], labels: ['car'], anchor: 'center' }],
      masks: [[[0, 0], [1, 0], [1, 0.1]]],
    });
    expect(c.zones).toEqual([{ name: 'yard', points: expect.any(Array), labels: [], loiterSeconds: null, inertia: 3, anchor: 'bottom-center' }]);
    expect(c.lines).toEqual([{ name: 'gate', points: [[0.2, 0.5], [0.8, 0.5]], labels: ['car'], anchor: 'center' }]);
    expect(c.masks).toEqual([[[0, 0], [1, 0], [1, 0.1]]]);
  });

  it('refuses a polygon that crosses itself, naming the camera, the zone and the edges', () => {
    // A lopsided bow-tie: the edge from point 0 crosses the edge from point 2.
    expect(refusal(door({ points: [[0.1, 0.1], [0.6, 0.5], [0.6, 0.1], [0.1, 0.3]] }))).toBe(
      `${AT}.points: crosses itself: the edge from point 0 meets the edge from point 2; list the points in order around the area`,
    );
  });

  it('says "crosses itself" for a rectangle whose corners are listed row by row, not that its points are on one line', () => {
    // Top left, top right, bottom left, bottom right: the commonest slip. Its two
    // triangles cancel out to no signed area, but its points are not on one line.
    const message = refusal(door({ points: [[0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]] }));
    expect(message).toMatch(/crosses itself/);
    expect(message).not.toMatch(/on one line/);
  });

  it('refuses collinear points, too few points and points outside the picture, by zone', () => {
    expect(refusal(door({ points: [[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]] }))).toBe(`${AT}.points: encloses no area (its points are on one line)`);
    expect(refusal(door({ points: [[0.1, 0.1], [0.5, 0.5]] }))).toBe(`${AT}.points: a polygon needs 3 to 64 points, got 2`);
    expect(refusal(door({ points: [[0.1, 0.1], [0.5, 0.5], [1.2, 0.5]] }))).toBe(`${AT}.points[2][0]: must be between 0 and 1, got 1.2`);
    expect(refusal(door({ points: [[0.1, 0.1], [0.5, 0.5], [0.5]] }))).toMatch(/zones\[1\] \(name "door"\)\.points\[2\]: expected a point \[x, y\]/);
  });

  it('refuses a line of no length, a bad anchor and an unknown label', () => {
    expect(refusal({ lines: [{ name: 'gate', points: [[0.5, 0.5], [0.505, 0.5]] }] })).toMatch(
      /^lookout\.yaml: cameras\[0\] \(id "front"\)\.lines\[0\] \(name "gate"\)\.points: its two points are \(nearly\) the same/,
    );
    expect(refusal({ lines: [{ name: 'gate', points: [[0.5, 0.5]] }] })).toMatch(/lines\[0\] \(name "gate"\)\.points: a line is two points/);
    expect(refusal(door({ anchor: 'feet' }))).toBe(`${AT}.anchor: expected one of bottom-center, center, top-center; got "feet"`);
    expect(refusal(door({ labels: ['persn'] }))).toMatch(/zones\[1\] \(name "door"\)\.labels\[0\]: unknown label "persn"/);
  });

  it('refuses a name used twice among a camera\'s zones and lines, but not across cameras', () => {
    expect(refusal({ zones: [DOOR_OK], lines: [{ name: 'porch', points: [[0.2, 0.5], [0.8, 0.5]] }] })).toMatch(
      /cameras\[0\] \(id "front"\)\.lines\[0\] \(name "porch"\)\.name: "porch" is already the name of another zone or line of this camera/,
    );
    expect(refusal({ zones: [DOOR_OK, DOOR_OK] })).toMatch(/zones\[1\] \(name "porch"\)\.name: "porch" is already the name/);
    const two = parseConfig({ cameras: [{ id: 'a', url: URL, zones: [DOOR_OK] }, { id: 'b', url: URL, zones: [DOOR_OK] }] });
    expect(two.cameras.map((c) => c.zones[0].name)).toEqual(['porch', 'porch']);
  });

  it('checks masks as polygons too', () => {
    expect(refusal({ masks: [[[0.1, 0.1], [0.6, 0.5], [0.6, 0.1], [0.1, 0.3]]] })).toMatch(/^lookout\.yaml: cameras\[0\] \(id "front"\)\.masks\[0\]: crosses itself/);
  });
});

describe('object filters in the config', () => {
  it('refuses an unknown label and a minimum above its maximum', () => {
    expect(refusal({}, { filters: { persn: { minScore: 0.5 } } })).toMatch(/filters\.persn.*unknown label "persn"/);
    expect(refusal({}, { filters: { person: { minArea: 0.5, maxArea: 0.1 } } })).toMatch(/filters\.person\.minArea: is more than maxArea \(0\.5 > 0\.1\)/);
    expect(refusal({}, { filters: { person: { minRatio: 3, maxRatio: 2 } } })).toMatch(/filters\.person\.minRatio: is more than maxRatio/);
    expect(refusal({}, { filters: { person: { minScre: 0.5 } } })).toMatch(/filters\.person\.minScre: unknown key/);
    // A camera's minimum above the maximum it inherits from the config is refused as the camera's.
    expect(refusal({ filters: { person: { minArea: 0.3 } } }, { filters: { person: { maxArea: 0.2 } } })).toMatch(
      /cameras\[0\] \(id "front"\)\.filters\.person\.minArea: is more than maxArea \(0\.3 > 0\.2\)/,
    );
  });

  it('takes a camera\'s filter over the config\'s, key by key: a label\'s over the same label\'s, the camera\'s "*" over every label of the config', () => {
    const top = { filters: { '*': { minScore: 0.3 }, person: { threshold: 0.7, minScore: 0.35 } } };
    const c = front({ filters: { person: { minScore: 0.6 }, '*': { maxArea: 0.5 } } }, top);
    // The camera's person: its minScore over the config's person (whose threshold stays), and the camera's "*" (maxArea) for every label.
    expect(filterFor(c.filters, 'person')).toEqual({ ...FILTER_DEFAULTS, minScore: 0.6, threshold: 0.7, maxArea: 0.5 });
    // Other labels: the camera's "*" over the config's "*".
    expect(filterFor(c.filters, 'bottle')).toEqual({ ...FILTER_DEFAULTS, minScore: 0.3, maxArea: 0.5 });
    // The camera keeps apart what it set itself (what cameras.json and PATCH work on).
    expect(c.ownFilters).toEqual({ person: { minScore: 0.6 }, '*': { maxArea: 0.5 } });
    // A camera with no filters of its own has the config's; without any, the defaults.
    expect(filterFor(front({}, top).filters, 'dog')).toEqual({ ...FILTER_DEFAULTS, minScore: 0.3 });
    expect(filterFor(front({}, top).filters, 'person')).toEqual({ ...FILTER_DEFAULTS, minScore: 0.35, threshold: 0.7 });
    expect(filterFor(front({}).filters, 'dog')).toEqual(FILTER_DEFAULTS);
  });

  it('completes a label\'s filter from "*" of the same config key by key: lowering minScore for all and setting a person threshold keeps person\'s minScore low', () => {
    const c = parseConfig({ filters: { '*': { minScore: 0.3 }, person: { threshold: 0.7 } } });
    expect(filterFor(c.filters, 'dog')).toEqual({ ...FILTER_DEFAULTS, minScore: 0.3 });
    expect(filterFor(c.filters, 'person')).toEqual({ ...FILTER_DEFAULTS, minScore: 0.3, threshold: 0.7 });
  });
});

/** A box whose bottom centre is (x, y), w × h of the frame. */
const feet = (x: number, y: number, w = 0.1, h = 0.2): Box => [y - h, x - w / 2, y, x + w / 2];
const person = (score: number, box: Box = feet(0.5, 0.8)): Detection => ({ classId: 1, label: 'person', score, box });
const bottle = (score: number, box: Box = feet(0.6, 0.8)): Detection => ({ classId: 44, label: 'bottle', score, box });

describe('screen', () => {
  it('with the defaults, drops a 0.38 "vase" and keeps a 0.41 "person" (a hand) to track, whose event its threshold then refuses', () => {
    const out = screen([person(0.41), bottle(0.6), { ...bottle(0.38), label: 'vase', classId: 86 }], front({}), 640, 360);
    expect(out.kept.map((d) => d.label)).toEqual(['person', 'bottle']);
    expect(out.filtered.map((f) => [f.detection.label, f.reason])).toEqual([['vase', 'minScore']]);
    expect(FILTER_DEFAULTS).toMatchObject({ minScore: 0.4, threshold: 0.5 });
  });

  it('says why each detection does not count: minScore, area, ratio (in pixels) or mask (where its feet are)', () => {
    const cam = front({
      filters: { person: { minScore: 0.5, minArea: 0.01, maxArea: 0.5, minRatio: 0.2, maxRatio: 1 } },
      masks: [[[0, 0.6], [0.3, 0.6], [0.3, 1], [0, 1]]],
    });
    const cases: [Detection, string | null][] = [
      [person(0.9), null],
      [person(0.4, feet(0.5, 0.9, 0.05, 0.05)), 'minScore'], // the score is checked first
      [person(0.9, feet(0.5, 0.9, 0.05, 0.05)), 'area'], // 0.0025 of the frame
      [person(0.9, feet(0.5, 0.95, 0.9, 0.9)), 'area'], // 0.81
      [person(0.9, feet(0.5, 0.9, 0.2, 0.2)), 'ratio'], // 128×72 pixels: 1.78
      [person(0.9, feet(0.15, 0.9)), 'mask'], // feet in the masked corner
      [person(0.9, feet(0.34, 0.9)), null], // box reaches into the mask, feet do not
      [bottle(0.9, feet(0.15, 0.9)), 'mask'],
      [bottle(0.9, feet(0.5, 0.9, 0.2, 0.2)), null], // no ratio limit for bottles
    ];
    const out = screen(cases.map(([d]) => d), cam, 640, 360);
    expect(out.kept).toEqual(cases.filter(([, r]) => r === null).map(([d]) => d));
    expect(out.filtered.map((f) => [f.detection, f.reason])).toEqual(cases.filter(([, r]) => r !== null));
    // The same box on a portrait picture is 72×128 pixels: within the ratio.
    expect(screen([person(0.9, feet(0.5, 0.9, 0.2, 0.2))], cam, 360, 640).kept).toHaveLength(1);
  });
});

describe('the event threshold', () => {
  const T0 = 1_700_000_000_000;
  /** Frames of one object with these scores; the index of the frame whose update started an event, or -1. */
  function startsAt(scores: number[], label = 'person', config: CameraConfig = front({})): number {
    const builder = new EventBuilder('front', { threshold: (l) => filterFor(config.filters, l).threshold });
    return scores.findIndex((score, i) => builder.update({ time: T0 + i * 200, frameId: `1:${i * 200}` }, [{ classId: 1, label, score, box: feet(0.5, 0.8) }]).started.length > 0);
  }

  it('never makes an event of a track scoring 0.46 for ever, though each frame passes minScore', () => {
    expect(startsAt(Array(60).fill(0.46))).toBe(-1);
  });

  it('makes one once the median of its last 15 scores reaches 0.5', () => {
    // 0.46, 0.46, 0.46, then 0.6: the median passes 0.5 with the 6th score.
    expect(startsAt([0.46, 0.46, 0.46, ...Array(20).fill(0.6)])).toBe(5);
    // A track that scored low for long: the old scores leave the window.
    expect(startsAt([...Array(40).fill(0.46), ...Array(20).fill(0.6)])).toBe(47);
  });

  it('does not make one of a lone 0.99 frame among 0.3s', () => {
    const scores = Array(40).fill(0.3) as number[];
    scores[10] = 0.99;
    expect(startsAt(scores)).toBe(-1);
  });

  it('takes the label\'s own threshold', () => {
    const config = front({ filters: { person: { threshold: 0.8 } } });
    expect(startsAt(Array(20).fill(0.7), 'person', config)).toBe(-1);
    expect(startsAt(Array(20).fill(0.7), 'bottle', config)).toBe(1);
  });
});
