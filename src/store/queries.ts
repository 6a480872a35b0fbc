// The read side of the detection log: pages of detections and events, newest
// first, on a read-only connection of its own. WAL lets it read while the
// writer thread writes; each page is its own short read, so a long export
// never pins an old snapshot (which would keep the WAL from being recycled).
//
// Pagination is by keyset, not OFFSET: the cursor holds the last row's
// (time, id), and the next page starts strictly below it, so a page costs
// the same at row 10 and at row 10 million, and rows arriving meanwhile
// neither shift nor repeat rows.
import type { Statement } from 'better-sqlite3';
import { openStore, type Db } from './db.js';
import { decodeCursor, encodeCursor, QueryError, type QueryFilter } from './query-filter.js';
import type { EventRecord, StoredDetection } from './records.js';

export interface Page<T> {
  rows: T[];
  /** Pass back as `cursor` for the next (older) page; null when this page is the last. */
  nextCursor: string | null;
}

export interface IterateOptions {
  /** Rows per internal page (one short read each); default 2000. */
  chunkRows?: number;
  /** Stop after this many rows; default all. */
  maxRows?: number;
}

interface Table<T> {
  kind: 'd' | 'e';
  select: string;
  timeColumn: string;
  scoreColumn: string;
  /** Builds the record from a raw row (an array in select order: cheaper than a row object, then this one). */
  row(r: unknown[]): T;
  key(t: T): [number, number | string];
}

const detections: Table<StoredDetection> = {
  kind: 'd',
  select: 'SELECT id, camera, time, frame_id, label, class_id, score, ymin, xmin, ymax, xmax, track_id FROM detections',
  timeColumn: 'time',
  scoreColumn: 'score',
  row: (r) => ({
    id: r[0] as number,
    camera: r[1] as string,
    time: r[2] as number,
    frameId: r[3] as string,
    label: r[4] as string,
    classId: r[5] as number,
    score: r[6] as number,
    box: [r[7] as number, r[8] as number, r[9] as number, r[10] as number],
    trackId: r[11] as number | null,
  }),
  key: (d) => [d.time, d.id],
};

const events: Table<EventRecord> = {
  kind: 'e',
  select:
    'SELECT id, camera, track_id, label, class_id, start_time, end_time, max_score, ymin, xmin, ymax, xmax, ' +
    'best_frame_id, best_time, snapshot, snapshot_bytes, zones, model, model_version FROM events',
  // Events are filtered and ordered by their start, as NVRs list them.
  timeColumn: 'start_time',
  scoreColumn: 'max_score',
  row: (r) => ({
    id: r[0] as string,
    camera: r[1] as string,
    trackId: r[2] as number,
    label: r[3] as string,
    classId: r[4] as number,
    start: r[5] as number,
    end: r[6] as number | null,
    maxScore: r[7] as number,
    bestBox: [r[8] as number, r[9] as number, r[10] as number, r[11] as number],
    bestFrameId: r[12] as string,
    bestTime: r[13] as number,
    snapshot: r[14] as string | null,
    snapshotBytes: r[15] as number,
    zones: JSON.parse(r[16] as string) as string[],
    ...(r[17] !== null ? { model: r[17] as string } : {}),
    ...(r[18] !== null ? { modelVersion: r[18] as number } : {}),
  }),
  key: (e) => [e.start, e.id],
};

/** Prepared statements differ only by the shape of the filter; a small cache keeps the common shapes. */
const STATEMENT_CACHE = 64;
/** Most (camera × label) pairs a query reads as separate ordered ranges; SQLite allows 500 compound arms. */
const MAX_ARMS = 64;

export class StoreReader {
  private readonly statements = new Map<string, Statement<unknown[], unknown[]>>();
  private closed = false;

  private constructor(readonly db: Db) {}

  /** Opens the store read-only; the writer must have created and migrated it. */
  static open(file: string, options: { busyTimeoutMs?: number } = {}): StoreReader {
    return new StoreReader(openStore(file, { readonly: true, busyTimeoutMs: options.busyTimeoutMs }).db);
  }

  queryDetections(filter: QueryFilter): Page<StoredDetection> {
    return this.page(detections, filter);
  }

  queryEvents(filter: QueryFilter): Page<EventRecord> {
    return this.page(events, filter);
  }

  /** All detections matching the filter (its `limit` is ignored), newest first, in chunks: an export of millions streams. */
  iterateDetections(filter: QueryFilter, options: IterateOptions = {}): Generator<StoredDetection[]> {
    return this.iterate(detections, filter, options);
  }

  iterateEvents(filter: QueryFilter, options: IterateOptions = {}): Generator<EventRecord[]> {
    return this.iterate(events, filter, options);
  }

  /**
   * The track id of a camera's newest event, so a restarted tracker goes on
   * from there (ids rise over time; the (camera, start) index answers this
   * without a scan).
   */
  lastTrackId(camera: string): number | undefined {
    const r = this.statement('SELECT track_id FROM events WHERE camera = ? ORDER BY start_time DESC LIMIT 1').get(camera);
    return r && typeof r[0] === 'number' ? r[0] : undefined;
  }

  /** Every snapshot file name the events refer to (startup's clean-up of files a crash left behind). */
  snapshotNames(): Set<string> {
    return new Set(this.db.prepare('SELECT snapshot FROM events WHERE snapshot IS NOT NULL').pluck().all() as string[]);
  }

  getEvent(id: string): EventRecord | undefined {
    const r = this.statement(`${events.select} WHERE id = ?`).get(id);
    return r ? events.row(r) : undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }

  private *iterate<T>(table: Table<T>, filter: QueryFilter, options: IterateOptions): Generator<T[]> {
    const chunk = Math.max(1, Math.floor(options.chunkRows ?? 2_000));
    let left = options.maxRows ?? Infinity;
    let cursor = filter.cursor;
    while (left > 0) {
      const page = this.page(table, { ...filter, cursor, limit: Math.min(chunk, left) });
      if (page.rows.length > 0) yield page.rows;
      left -= page.rows.length;
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }

  private page<T>(table: Table<T>, filter: QueryFilter): Page<T> {
    // Conditions every arm shares. Values are always bound parameters; only
    // placeholders are generated.
    const shared: string[] = [];
    const sharedParams: unknown[] = [];
    if (filter.minScore !== undefined) {
      shared.push(`${table.scoreColumn} >= ?`);
      sharedParams.push(filter.minScore);
    }
    if (filter.zone?.length) {
      if (table.kind !== 'e') throw new QueryError('zone', 'zone: only events record zones; ask /api/events?zone=…');
      shared.push(`EXISTS (SELECT 1 FROM json_each(zones) WHERE value IN (${filter.zone.map(() => '?').join(', ')}))`);
      sharedParams.push(...filter.zone);
    }
    if (filter.since !== undefined) {
      shared.push(`${table.timeColumn} >= ?`);
      sharedParams.push(filter.since);
    }
    if (filter.until !== undefined) {
      shared.push(`${table.timeColumn} < ?`);
      sharedParams.push(filter.until);
    }
    if (filter.cursor !== undefined) {
      const c = decodeCursor(filter.cursor);
      if (c.kind !== table.kind || typeof c.id !== (table.kind === 'd' ? 'number' : 'string')) {
        throw new QueryError('cursor', `cursor: it belongs to a ${c.kind === 'd' ? 'detections' : 'events'} query`);
      }
      // A row-value compare, which SQLite runs as an index range, not a filter.
      shared.push(`(${table.timeColumn}, id) < (?, ?)`);
      sharedParams.push(c.time, c.id);
    }
    const order = ` ORDER BY ${table.timeColumn} DESC, id DESC LIMIT ?`;
    // One row more than asked says whether another page exists.
    const take = filter.limit + 1;
    const arm = (conds: string[]) => `${table.select}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`;

    const cameras = filter.camera?.length ? filter.camera : [undefined];
    const labels = filter.label?.length ? filter.label : [undefined];
    const arms = cameras.length * labels.length;
    let sql: string;
    const params: unknown[] = [];
    if (arms === 1 || arms > MAX_ARMS) {
      // One camera and one label (or none) read one index range already in
      // (time, id) order. (Past MAX_ARMS lists, SQLite sorts the matches.)
      const conds = [...shared];
      if (filter.camera?.length) conds.unshift(`camera IN (${filter.camera.map(() => '?').join(', ')})`);
      if (filter.label?.length) conds.splice(filter.camera?.length ? 1 : 0, 0, `label IN (${filter.label.map(() => '?').join(', ')})`);
      sql = arm(conds) + order;
      params.push(...(filter.camera ?? []), ...(filter.label ?? []), ...sharedParams, take);
    } else {
      // Several cameras or labels: `camera IN (a, b) ORDER BY time` would
      // collect every row of both cameras and sort them (seconds, on a big
      // log). Instead one arm per (camera, label) reads its own index range
      // in order, at most `take` rows each, and SQLite merges the arms.
      const parts: string[] = [];
      for (const camera of cameras) {
        for (const label of labels) {
          const conds = [...shared];
          if (label !== undefined) conds.unshift('label = ?');
          if (camera !== undefined) conds.unshift('camera = ?');
          parts.push(`SELECT * FROM (${arm(conds)}${order})`);
          if (camera !== undefined) params.push(camera);
          if (label !== undefined) params.push(label);
          params.push(...sharedParams, take);
        }
      }
      sql = parts.join(' UNION ALL ') + order;
      params.push(take);
    }
    const raw = this.statement(sql).all(...params);
    const more = raw.length > filter.limit;
    const rows = (more ? raw.slice(0, filter.limit) : raw).map(table.row);
    const last = rows[rows.length - 1];
    return { rows, nextCursor: more && last !== undefined ? encodeCursor(table.kind, ...table.key(last)) : null };
  }

  private statement(sql: string): Statement<unknown[], unknown[]> {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.delete(this.statements.keys().next().value as string);
      s = this.db.prepare<unknown[], unknown[]>(sql).raw(true);
      this.statements.set(sql, s);
    }
    return s;
  }
}
