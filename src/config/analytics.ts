// A camera's zones, lines, masks and object filters (docs/analytics.md), in
// the config file and through the camera API alike. Shapes are checked here
// once: a polygon that crosses itself or a line of no length is refused with
// the camera, the zone and the reason, rather than counting nothing later.
import { describe, type Reader } from './reader.js';
import { ANCHORS, type Anchor, type LineConfig, type ObjectFilter, type ObjectFilters, type Point, type ZoneConfig } from './schema.js';

export const FILTER_KEYS = ['minScore', 'threshold', 'minArea', 'maxArea', 'minRatio', 'maxRatio'] as const;

/**
 * The filters every label starts from, chosen on the bundled clips with the
 * embedded CenterNet (docs/analytics.md has the scores seen): the demo's
 * false objects (a hand as a person, a bottle as a vase) never score above
 * 0.47, so no track of them reaches a median of 0.5; the bottles' tracks
 * (medians 0.5–0.6) and the walking people's (0.7–0.8) do. minScore stays
 * at the cameras' own 0.4: one bottle detection in eight scores 0.40–0.45,
 * and dropping those broke the bottles' tracks into several events.
 */
export const FILTER_DEFAULTS: ObjectFilter = { minScore: 0.4, threshold: 0.5, minArea: 0, maxArea: 1, minRatio: 0, maxRatio: 1_000 };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const MAX_SHAPES = 32;
const MAX_POINTS = 64;

/**
 * `filters` at `key`: label → filter. A level's "*" applies to every label at
 * that level and below it, so a label's key comes from, first to last: its
 * own filter here, this level's "*", its filter in `base`, base's "*".
 */
export function parseFilters(r: Reader, value: unknown, key: string, base: ObjectFilters = { '*': FILTER_DEFAULTS }): ObjectFilters {
  const level = r.object(value, key, Object.keys(value ?? {}));
  const star = level['*'];
  const out: ObjectFilters = {};
  for (const [label, f] of Object.entries(base)) out[label] = completeFilter(r, star, `${key}.*`, f);
  out['*'] = completeFilter(r, star, `${key}.*`, base['*'] ?? FILTER_DEFAULTS);
  for (const [label, raw] of Object.entries(level)) {
    if (label === '*') continue;
    r.labels([label], `${key}.${label}`, []);
    out[label] = completeFilter(r, raw, `${key}.${label}`, completeFilter(r, star, `${key}.*`, base[label] ?? base['*'] ?? FILTER_DEFAULTS));
  }
  return out;
}

/** One filter's keys at `at`, the rest from `from`. */
function completeFilter(r: Reader, raw: unknown, at: string, from: ObjectFilter): ObjectFilter {
  const o = r.object(raw, at, FILTER_KEYS);
  const f: ObjectFilter = {
    minScore: r.number(o.minScore, `${at}.minScore`, from.minScore, 0, 1),
    threshold: r.number(o.threshold, `${at}.threshold`, from.threshold, 0, 1),
    minArea: r.number(o.minArea, `${at}.minArea`, from.minArea, 0, 1),
    maxArea: r.number(o.maxArea, `${at}.maxArea`, from.maxArea, 0, 1),
    minRatio: r.number(o.minRatio, `${at}.minRatio`, from.minRatio, 0, 1_000),
    maxRatio: r.number(o.maxRatio, `${at}.maxRatio`, from.maxRatio, 0, 1_000),
  };
  if (f.minArea > f.maxArea) r.fail(`${at}.minArea`, `is more than maxArea (${f.minArea} > ${f.maxArea})`);
  if (f.minRatio > f.maxRatio) r.fail(`${at}.minRatio`, `is more than maxRatio (${f.minRatio} > ${f.maxRatio})`);
  return f;
}

/** The filter a label's detections meet: its own, else "*". */
export function filterFor(filters: ObjectFilters, label: string): ObjectFilter {
  return filters[label] ?? filters['*'] ?? FILTER_DEFAULTS;
}

function point(r: Reader, value: unknown, key: string): Point {
  if (!Array.isArray(value) || value.length !== 2) r.fail(key, `expected a point [x, y], got ${describe(value)}`);
  const [x, y] = value as unknown[];
  // null would read as "absent" and fall back to 0: a point has no default.
  if (typeof x !== 'number' || typeof y !== 'number') r.fail(key, `expected a point [x, y] of two numbers, got [${describe(x)}, ${describe(y)}]`);
  return [r.number(x, `${key}[0]`, 0, 0, 1), r.number(y, `${key}[1]`, 0, 0, 1)];
}

/** Twice the signed area (shoelace); positive when the points run clockwise on the picture (y down). */
function doubleArea(points: readonly Point[]): number {
  let a = 0;
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i];
    const [x2, y2] = points[(i + 1) % points.length];
    a += x1 * y2 - x2 * y1;
  }
  return a;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Whether segments ab and cd cross at a point inside both (touching ends do not count). */
export function segmentsCross(a: Point, b: Point, c: Point, d: Point): boolean {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/** A polygon of 3 to 64 points that encloses some area and does not cross itself. */
export function polygon(r: Reader, value: unknown, key: string): Point[] {
  if (!Array.isArray(value)) r.fail(key, `expected a list of points [[x, y], …], got ${describe(value)}`);
  if (value.length < 3 || value.length > MAX_POINTS) r.fail(key, `a polygon needs 3 to ${MAX_POINTS} points, got ${value.length}`);
  const points = value.map((p, i) => point(r, p, `${key}[${i}]`));
  const n = points.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      if (segmentsCross(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n])) {
        r.fail(key, `crosses itself: the edge from point ${i} meets the edge from point ${j}; list the points in order around the area`);
      }
    }
  }
  // After the crossing check: a bow tie's two halves cancel out to no area, but its fault is the crossing.
  if (Math.abs(doubleArea(points)) < 1e-6) r.fail(key, 'encloses no area (its points are on one line)');
  return points;
}

function anchor(r: Reader, value: unknown, key: string): Anchor {
  const a = r.string(value, key, 'bottom-center');
  if (!(ANCHORS as readonly string[]).includes(a)) r.fail(key, `expected one of ${ANCHORS.join(', ')}; got ${JSON.stringify(a)}`);
  return a as Anchor;
}

function list(r: Reader, value: unknown, key: string, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) r.fail(key, `expected a list of ${what}, got ${describe(value)}`);
  if (value.length > MAX_SHAPES) r.fail(key, `at most ${MAX_SHAPES} ${what} per camera, got ${value.length}`);
  return value;
}

/** A zone's or line's name, unique among the camera's zones and lines (they share MQTT topics). */
function shapeName(r: Reader, value: unknown, key: string, taken: Set<string>): string {
  const name = r.string(value, key, '');
  if (!NAME.test(name)) r.fail(key, `expected 1 to 64 letters, digits, "-" or "_", starting with a letter or digit; got ${describe(value)}`);
  if (taken.has(name)) r.fail(key, `${JSON.stringify(name)} is already the name of another zone or line of this camera`);
  taken.add(name);
  return name;
}

/** Names an entry of a list in errors by its name when it has one: zones[1] (name "driveway"). */
function entryKey(key: string, i: number, raw: unknown): string {
  const name = typeof raw === 'object' && raw !== null ? (raw as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? `${key}[${i}] (name ${JSON.stringify(name)})` : `${key}[${i}]`;
}

export interface ParsedShapes {
  zones: ZoneConfig[];
  lines: LineConfig[];
  masks: Point[][];
}

/** A camera's `zones`, `lines` and `masks`; `key(k)` names the camera in errors. */
export function parseShapes(r: Reader, raw: { zones?: unknown; lines?: unknown; masks?: unknown }, key: (k: string) => string): ParsedShapes {
  const taken = new Set<string>();
  const zones = list(r, raw.zones, key('zones'), 'zones').map((z, i): ZoneConfig => {
    const at = entryKey(key('zones'), i, z);
    const o = r.object(z, at, ['name', 'points', 'labels', 'loiterSeconds', 'inertia', 'anchor']);
    const name = shapeName(r, o.name, `${at}.name`, taken);
    const loiter = o.loiterSeconds === undefined || o.loiterSeconds === null ? null : r.number(o.loiterSeconds, `${at}.loiterSeconds`, 0, 0.1, 86_400);
    return {
      name,
      points: polygon(r, o.points, `${at}.points`),
      labels: r.labels(o.labels, `${at}.labels`, []),
      loiterSeconds: loiter,
      inertia: r.number(o.inertia, `${at}.inertia`, 3, 1, 100, true),
      anchor: anchor(r, o.anchor, `${at}.anchor`),
    };
  });
  const lines = list(r, raw.lines, key('lines'), 'lines').map((l, i): LineConfig => {
    const at = entryKey(key('lines'), i, l);
    const o = r.object(l, at, ['name', 'points', 'labels', 'anchor']);
    const name = shapeName(r, o.name, `${at}.name`, taken);
    if (!Array.isArray(o.points) || o.points.length !== 2) r.fail(`${at}.points`, `a line is two points [[x1, y1], [x2, y2]], got ${describe(o.points)}`);
    const a = point(r, o.points[0], `${at}.points[0]`);
    const b = point(r, o.points[1], `${at}.points[1]`);
    if (Math.hypot(a[0] - b[0], a[1] - b[1]) < 0.01) r.fail(`${at}.points`, 'its two points are (nearly) the same: a line needs some length (at least 0.01 of the frame)');
    return { name, points: [a, b], labels: r.labels(o.labels, `${at}.labels`, []), anchor: anchor(r, o.anchor, `${at}.anchor`) };
  });
  const masks = list(r, raw.masks, key('masks'), 'masks').map((m, i) => polygon(r, m, `${key('masks')}[${i}]`));
  return { zones, lines, masks };
}

/** Shapes back in the form a config entry or an API request gives them. */
export function shapesEntry(s: ParsedShapes): Record<string, unknown> {
  return {
    zones: s.zones.map((z) => ({ name: z.name, points: z.points.map((p) => [...p]), labels: [...z.labels], loiterSeconds: z.loiterSeconds, inertia: z.inertia, anchor: z.anchor })),
    lines: s.lines.map((l) => ({ name: l.name, points: l.points.map((p) => [...p]), labels: [...l.labels], anchor: l.anchor })),
    masks: s.masks.map((m) => m.map((p) => [...p])),
  };
}
