// Recording segments in the store: the record the recorder hands the writer
// (an upsert by path: once when the file opens, once when it closes), the
// writer thread's upsert, and the reads the API and clips need, on the
// reader's connection.
import type { Keyframe } from '../record/segment-file.js';
import type { Db } from './db.js';

export interface SegmentRecord {
  camera: string;
  /** Relative to the recordings folder, with / separators. */
  path: string;
  /** Wall-clock ms of the first frame, and just after the last (its time + duration). */
  start: number;
  end: number;
  /** The first frame's pts in the file, timescale units. */
  startPts: number;
  timescale: number;
  initBytes: number;
  initHash: string;
  bytes: number;
  keyframes: Keyframe[];
  /** False while it is being written (or when a crash cut it off before the next start repaired it). */
  complete: boolean;
}

export interface StoredSegment extends SegmentRecord {
  id: number;
  /** Overlaps an event (with its pre/post seconds): true, false, or null while too recent to say. */
  event: boolean | null;
}

interface SegmentRow {
  id: number;
  camera: string;
  path: string;
  start_time: number;
  end_time: number;
  start_pts: number;
  timescale: number;
  init_bytes: number;
  init_hash: string;
  bytes: number;
  keyframes: string;
  complete: number;
  event: number | null;
}

const COLUMNS = 'id, camera, path, start_time, end_time, start_pts, timescale, init_bytes, init_hash, bytes, keyframes, complete, event';

export function fromRow(r: SegmentRow): StoredSegment {
  return {
    id: r.id, camera: r.camera, path: r.path, start: r.start_time, end: r.end_time, startPts: r.start_pts, timescale: r.timescale,
    initBytes: r.init_bytes, initHash: r.init_hash, bytes: r.bytes, keyframes: JSON.parse(r.keyframes) as Keyframe[],
    complete: r.complete === 1, event: r.event === null ? null : r.event === 1,
  };
}

/** The writer thread's upsert; a row already judged (event) keeps its judgement. */
export function prepareSegmentUpsert(db: Db): (s: SegmentRecord) => void {
  const st = db.prepare(
    `INSERT INTO segments (camera, path, start_time, end_time, start_pts, timescale, init_bytes, init_hash, bytes, keyframes, complete)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (path) DO UPDATE SET
       end_time = excluded.end_time, bytes = excluded.bytes, keyframes = excluded.keyframes, complete = excluded.complete`,
  );
  return (s) => {
    st.run(s.camera, s.path, Math.round(s.start), Math.round(s.end), Math.round(s.startPts), s.timescale, s.initBytes, s.initHash,
      s.bytes, JSON.stringify(s.keyframes), s.complete ? 1 : 0);
  };
}

/** No segment is longer: segmentSeconds is at most 600, and a cut waits at most for the next keyframe. */
export const MAX_SEGMENT_MS = 15 * 60_000;

export interface SegmentQuery {
  cameras: string[];
  since: number;
  until: number;
  limit: number;
}

/** Reads segments on a (read-only) connection. */
export class SegmentReader {
  constructor(private readonly db: Db) {}

  /** Segments overlapping [since, until), oldest first; one more than `limit` says there are more. */
  overlapping(q: SegmentQuery): StoredSegment[] {
    const cams = q.cameras.length ? `camera IN (${q.cameras.map(() => '?').join(',')}) AND` : '';
    // The start_time range is what the index walks; end_time > since filters it.
    const rows = this.db.prepare(
      `SELECT ${COLUMNS} FROM segments WHERE ${cams} start_time >= ? AND start_time < ? AND end_time > ? ORDER BY start_time, id LIMIT ?`,
    ).all(...q.cameras, q.since - MAX_SEGMENT_MS, q.until, q.since, q.limit + 1) as SegmentRow[];
    return rows.map(fromRow);
  }

  /**
   * One camera's segments for a clip of [since, until): the one playing at
   * `since` (it may have started up to its length before) and those after.
   */
  forClip(camera: string, since: number, until: number): StoredSegment[] {
    const rows = this.db.prepare(
      `SELECT ${COLUMNS} FROM segments WHERE camera = ? AND start_time >= ? AND start_time < ? AND end_time > ? ORDER BY start_time, id`,
    ).all(camera, since - MAX_SEGMENT_MS, until, since) as SegmentRow[];
    return rows.map(fromRow);
  }

  get(id: number): StoredSegment | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM segments WHERE id = ?`).get(id) as SegmentRow | undefined;
    return row && fromRow(row);
  }

  private lastTotals = { segments: 0, bytes: 0 };

  /** Segments indexed and their bytes; after the store closed, the last figures read. */
  totals(): { segments: number; bytes: number } {
    if (!this.db.open) return this.lastTotals;
    const r = this.db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM segments').get() as { n: number; bytes: number };
    this.lastTotals = { segments: r.n, bytes: r.bytes };
    return this.lastTotals;
  }
}
