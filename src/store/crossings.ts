// Line crossings and zone changes in the log (migration 3), and the counts
// read back from them: totals per line and label (the counters lookout
// resumes from after a restart) and time series in buckets (GET /api/counts).
import type { Db } from './db.js';
import { QueryError } from './query-filter.js';

export type CrossingKind = 'line' | 'zone';
export type CrossingDirection = 'in' | 'out' | 'enter' | 'exit' | 'loiter';

/** One row: a track crossed a line (in/out) or entered, left or loitered in a zone. */
export interface CrossingRecord {
  camera: string;
  kind: CrossingKind;
  /** The line's or zone's name. */
  name: string;
  label: string;
  direction: CrossingDirection;
  /** ms since the epoch, on the detection log's clock. */
  time: number;
  trackId: number;
  eventId: string;
}

/** The row, and for a line crossing its counter, in the batch's transaction. */
export function prepareCrossingInsert(db: Db): (c: CrossingRecord) => void {
  const st = db.prepare(
    'INSERT INTO crossings (camera, kind, name, label, direction, time, track_id, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const total = db.prepare(
    `INSERT INTO line_totals (camera, line, label, in_n, out_n) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (camera, line, label) DO UPDATE SET in_n = in_n + excluded.in_n, out_n = out_n + excluded.out_n`,
  );
  return (c) => {
    st.run(c.camera, c.kind, c.name, c.label, c.direction, Math.round(c.time), c.trackId, c.eventId);
    if (c.kind === 'line') total.run(c.camera, c.name, c.label, c.direction === 'in' ? 1 : 0, c.direction === 'out' ? 1 : 0);
  };
}

export const BUCKETS = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type BucketName = keyof typeof BUCKETS;
/** A series longer than this asks for a larger bucket rather than a huge answer. */
const MAX_BUCKETS = 10_000;

export interface CountsQuery {
  camera?: string[];
  line?: string[];
  zone?: string[];
  label?: string[];
  since: number;
  until: number;
  bucket: BucketName;
}

export interface LineSeries {
  camera: string;
  line: string;
  label: string;
  in: number;
  out: number;
  /** Every bucket from since to until, empty ones included, oldest first. */
  buckets: { start: number; in: number; out: number }[];
}

export interface ZoneSeries {
  camera: string;
  zone: string;
  label: string;
  enter: number;
  exit: number;
  loiter: number;
  buckets: { start: number; enter: number; exit: number; loiter: number }[];
}

export interface CountsJson {
  since: number;
  until: number;
  bucket: BucketName;
  /** Bucket starts are multiples of the bucket's length since the epoch (UTC minutes, hours, days). */
  bucketMs: number;
  lines: LineSeries[];
  zones: ZoneSeries[];
}

/** The first bucket's start: `since` rounded down to the bucket. */
function bucketStart(t: number, ms: number): number {
  return Math.floor(t / ms) * ms;
}

export function checkCountsSpan(q: Pick<CountsQuery, 'since' | 'until' | 'bucket'>): void {
  const ms = BUCKETS[q.bucket];
  const n = Math.ceil((q.until - bucketStart(q.since, ms)) / ms);
  if (n > MAX_BUCKETS) throw new QueryError('bucket', `bucket: ${n} ${q.bucket} buckets from since to until; at most ${MAX_BUCKETS} (ask a larger bucket or a shorter span)`);
}

/**
 * Sums crossings per line (or zone), label, direction and bucket. With line
 * and no zone given, only lines are counted; with zone and no line, only
 * zones; with neither or both, both.
 */
export function queryCounts(db: Db, q: CountsQuery): CountsJson {
  checkCountsSpan(q);
  const ms = BUCKETS[q.bucket];
  const kinds: CrossingKind[] = q.line && !q.zone ? ['line'] : q.zone && !q.line ? ['zone'] : ['line', 'zone'];
  const conds = ['time >= ?', 'time < ?', `kind IN (${kinds.map(() => '?').join(', ')})`];
  const params: unknown[] = [q.since, q.until, ...kinds];
  const names = [...(q.line ?? []), ...(q.zone ?? [])];
  for (const [col, values] of [['camera', q.camera], ['label', q.label]] as const) {
    if (values?.length) {
      conds.push(`${col} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    }
  }
  if (names.length) {
    conds.push(`name IN (${names.map(() => '?').join(', ')})`);
    params.push(...names);
  }
  const rows = db
    // CAST: better-sqlite3 binds the bucket's length as a REAL, and a REAL division would not round down.
    .prepare(`SELECT camera, kind, name, label, direction, CAST(time / ? AS INTEGER) * ? AS bucket, COUNT(*) AS n FROM crossings
              WHERE ${conds.join(' AND ')} GROUP BY camera, kind, name, label, direction, bucket ORDER BY camera, kind, name, label, bucket`)
    .all(ms, ms, ...params) as { camera: string; kind: CrossingKind; name: string; label: string; direction: CrossingDirection; bucket: number; n: number }[];
  const first = bucketStart(q.since, ms);
  const count = Math.max(0, Math.ceil((q.until - first) / ms));
  const lines = new Map<string, LineSeries>();
  const zones = new Map<string, ZoneSeries>();
  for (const r of rows) {
    const key = JSON.stringify([r.camera, r.name, r.label]);
    const at = Math.floor((r.bucket - first) / ms + 1e-9);
    if (r.kind === 'line') {
      let s = lines.get(key);
      if (!s) {
        s = { camera: r.camera, line: r.name, label: r.label, in: 0, out: 0, buckets: Array.from({ length: count }, (_, i) => ({ start: first + i * ms, in: 0, out: 0 })) };
        lines.set(key, s);
      }
      if (r.direction === 'in' || r.direction === 'out') {
        s[r.direction] += r.n;
        if (s.buckets[at]) s.buckets[at][r.direction] += r.n;
      }
    } else {
      let s = zones.get(key);
      if (!s) {
        s = { camera: r.camera, zone: r.name, label: r.label, enter: 0, exit: 0, loiter: 0, buckets: Array.from({ length: count }, (_, i) => ({ start: first + i * ms, enter: 0, exit: 0, loiter: 0 })) };
        zones.set(key, s);
      }
      if (r.direction === 'enter' || r.direction === 'exit' || r.direction === 'loiter') {
        s[r.direction] += r.n;
        if (s.buckets[at]) s.buckets[at][r.direction] += r.n;
      }
    }
  }
  return { since: q.since, until: q.until, bucket: q.bucket, bucketMs: ms, lines: [...lines.values()], zones: [...zones.values()] };
}

/** Every line's all-time counters (table line_totals, which retention leaves alone): where the live counters resume. */
export function lineTotals(db: Db): { camera: string; line: string; label: string; in: number; out: number }[] {
  return db.prepare('SELECT camera, line, label, in_n AS "in", out_n AS "out" FROM line_totals').all() as { camera: string; line: string; label: string; in: number; out: number }[];
}
