// The recordings pass, in the writer thread like retention (retention.ts
// says why): every segment, once old enough that no event can still claim
// it, is judged — does an event (with its camera's pre and post seconds)
// overlap it? In `events` mode a segment no event overlaps is deleted; in
// every mode the judgement decides how long it is kept (retainDays, or
// eventRetainDays), and segments past that go. Rows are committed deleted
// before their files go, so a crash between the two (or a file that cannot
// be removed) leaves a file without a row, never a row without a file; the
// next start's reconciliation indexes it again, and this pass judges it
// again.
import type { RecordMode } from '../config/schema.js';
import type { Db } from './db.js';
import { deleteSegmentFile } from './segment-files.js';

export interface CameraRecordPolicy {
  mode: RecordMode;
  preMs: number;
  postMs: number;
  /** A segment is judged once its end + preMs + graceMs has passed. */
  graceMs: number;
  retainMs: number;
  eventRetainMs: number;
}

export interface RecordingsPolicy {
  cameras: Record<string, CameraRecordPolicy>;
  /** For segments of cameras no longer configured: judged as continuous, kept by these times. */
  fallback: CameraRecordPolicy;
  chunkRows: number;
}

export interface RecordingsReport {
  /** Segments judged to overlap an event, and not to. */
  withEvents: number;
  withoutEvents: number;
  /** Deleted in events mode (no event), and for their age. */
  pruned: number;
  aged: number;
  bytesFreed: number;
  ms: number;
}

interface Candidate {
  id: number;
  camera: string;
  path: string;
  start_time: number;
  end_time: number;
  bytes: number;
  event: number | null;
}

export function* recordingsPass(db: Db, policy: RecordingsPolicy, dir: string, now: number): Generator<void, RecordingsReport> {
  const started = Date.now();
  const report: RecordingsReport = { withEvents: 0, withoutEvents: 0, pruned: 0, aged: 0, bytesFreed: 0, ms: 0 };
  const chunk = Math.max(1, Math.floor(policy.chunkRows));
  const of = (camera: string) => policy.cameras[camera] ?? policy.fallback;
  const unjudged = db.prepare<[number, number, number], Candidate>(
    `SELECT id, camera, path, start_time, end_time, bytes, event FROM segments
     WHERE event IS NULL AND complete = 1 AND (start_time, id) > (?, ?) ORDER BY start_time, id LIMIT ?`,
  );
  // Ongoing events (end NULL) and those that ended after the segment began (the end index keeps this short).
  const overlapping = db.prepare<[string, number, number, string, number], { one: number }>(
    `SELECT 1 AS one FROM events WHERE camera = ? AND end_time > ? AND start_time < ?
     UNION ALL SELECT 1 FROM events WHERE camera = ? AND end_time IS NULL AND start_time < ? LIMIT 1`,
  );
  const judge = db.prepare<[number, number]>('UPDATE segments SET event = ? WHERE id = ?');
  const remove = db.prepare<[number]>('DELETE FROM segments WHERE id = ?');
  const gone: Candidate[] = [];
  const drop = (c: Candidate) => {
    remove.run(c.id);
    gone.push(c);
  };
  const deleteFiles = () => {
    for (const c of gone.splice(0)) {
      deleteSegmentFile(dir, c.path);
      report.bytesFreed += c.bytes;
    }
  };

  /**
   * Walks the rows `page` returns in (start, id) order, a chunk per
   * transaction, yielding between chunks; files of dropped rows go after
   * each commit.
   */
  function* walk(page: (after: [number, number]) => Candidate[], visit: (c: Candidate) => void): Generator<void> {
    let after: [number, number] = [-Infinity, 0];
    for (;;) {
      const rows = page(after);
      db.transaction(() => rows.forEach(visit)).immediate();
      deleteFiles();
      const last = rows[rows.length - 1];
      if (!last || rows.length < chunk) return;
      after = [last.start_time, last.id];
      yield;
    }
  }

  // 1. Judge what is old enough: an event that would claim it has begun by now.
  yield* walk((after) => unjudged.all(after[0], after[1], chunk), (c) => {
    const p = of(c.camera);
    if (c.end_time + p.preMs + p.graceMs > now) return;
    const claimed = overlapping.get(c.camera, c.start_time - p.postMs, c.end_time + p.preMs, c.camera, c.end_time + p.preMs) !== undefined;
    if (claimed) report.withEvents++;
    else report.withoutEvents++;
    if (!claimed && p.mode === 'events') {
      drop(c);
      report.pruned++;
    } else {
      judge.run(claimed ? 1 : 0, c.id);
    }
  });

  // 2. Age: each judged segment by its camera's retainDays or eventRetainDays.
  const policies = [policy.fallback, ...Object.values(policy.cameras)];
  const oldestCut = now - Math.min(...policies.map((p) => Math.min(p.retainMs, p.eventRetainMs)));
  const old = db.prepare<[number, number, number, number], Candidate>(
    `SELECT id, camera, path, start_time, end_time, bytes, event FROM segments
     WHERE event IS NOT NULL AND complete = 1 AND end_time < ? AND (start_time, id) > (?, ?) ORDER BY start_time, id LIMIT ?`,
  );
  yield* walk((after) => old.all(oldestCut, after[0], after[1], chunk), (c) => {
    const p = of(c.camera);
    if (c.end_time < now - (c.event === 1 ? p.eventRetainMs : p.retainMs)) {
      drop(c);
      report.aged++;
    }
  });
  report.ms = Date.now() - started;
  return report;
}
