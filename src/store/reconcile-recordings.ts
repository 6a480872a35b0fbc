// The start-up pass that makes the recordings index and the files agree
// after whatever ended the last run (kill -9, power loss, a full disk):
//   - a row left incomplete: its file is truncated to its last whole
//     fragment and the row finished from what the file holds, or both go
//     when nothing playable is left;
//   - a row whose file is gone: the row goes;
//   - a file no row names (written just before a crash took the row's
//     commit with it): indexed from its own prft box, or removed when it
//     cannot be read.
// It runs in the writer thread before the store says it is ready, so before
// any camera writes a new segment.
import { readdirSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { scanSegment } from '../record/segment-file.js';
import type { Db } from './db.js';
import { deleteSegmentFile, SEGMENT_PATH, segmentPath } from './segment-files.js';
import { prepareSegmentUpsert } from './segments.js';

export interface ReconcileReport {
  /** Incomplete segments cut back to their last whole fragment and finished. */
  repaired: number;
  /** Rows removed: their file was gone or held nothing playable. */
  removedRows: number;
  /** Files removed: unreadable, with no row. */
  removedFiles: number;
  /** Files with no row, indexed from their prft box. */
  indexed: number;
  ms: number;
}

function* mp4Files(dir: string, rel = ''): Generator<string> {
  let entries;
  try {
    entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) yield* mp4Files(dir, r);
    else if (e.isFile() && e.name.endsWith('.mp4')) yield r;
  }
}

export function reconcileRecordings(db: Db, dir: string): ReconcileReport {
  const started = Date.now();
  const report: ReconcileReport = { repaired: 0, removedRows: 0, removedFiles: 0, indexed: 0, ms: 0 };
  const upsert = prepareSegmentUpsert(db);
  const remove = db.prepare<[number]>('DELETE FROM segments WHERE id = ?');
  const rows = db.prepare('SELECT id, camera, path, start_time, start_pts, complete FROM segments').all() as
    { id: number; camera: string; path: string; start_time: number; start_pts: number; complete: number }[];
  const known = new Set<string>();
  // Files are removed only once the rows' changes are committed: a failed commit must not leave rows without files.
  const doomed: string[] = [];
  db.transaction(() => {
    for (const row of rows) {
      known.add(row.path);
      let file: string;
      try {
        file = segmentPath(dir, row.path);
      } catch {
        remove.run(row.id);
        report.removedRows++;
        continue;
      }
      if (row.complete === 1) {
        if (!exists(file)) {
          remove.run(row.id);
          report.removedRows++;
        }
        continue;
      }
      const scan = exists(file) ? safeScan(file) : undefined;
      if (!scan || !truncated(file, scan.goodBytes)) {
        remove.run(row.id);
        doomed.push(row.path);
        report.removedRows++;
        continue;
      }
      upsert({
        camera: row.camera, path: row.path, start: row.start_time, startPts: row.start_pts, timescale: scan.timescale,
        end: row.start_time + ((scan.endPts - row.start_pts) / scan.timescale) * 1000,
        initBytes: scan.initBytes, initHash: scan.initHash, bytes: scan.goodBytes, keyframes: scan.keyframes, complete: true,
      });
      report.repaired++;
    }
    for (const rel of mp4Files(dir)) {
      // Only files in lookout's own layout: anything else in the folder is someone else's.
      if (known.has(rel) || !SEGMENT_PATH.test(rel)) continue;
      const camera = rel.split('/')[0] ?? '';
      const scan = safeScan(path.join(dir, rel));
      if (!scan || scan.startWall === undefined || !truncated(path.join(dir, rel), scan.goodBytes)) {
        doomed.push(rel);
        report.removedFiles++;
        continue;
      }
      const start = Math.round(scan.startWall);
      upsert({
        camera, path: rel, start, startPts: scan.startPts, timescale: scan.timescale,
        end: start + ((scan.endPts - scan.startPts) / scan.timescale) * 1000,
        initBytes: scan.initBytes, initHash: scan.initHash, bytes: scan.goodBytes, keyframes: scan.keyframes, complete: true,
      });
      report.indexed++;
    }
  }).immediate();
  for (const rel of doomed) deleteSegmentFile(dir, rel);
  report.ms = Date.now() - started;
  return report;
}

/** Cuts a file back to its last whole fragment; false when that fails (it is then removed). */
function truncated(file: string, bytes: number): boolean {
  try {
    truncateSync(file, bytes);
    return true;
  } catch {
    return false;
  }
}

function exists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function safeScan(file: string): ReturnType<typeof scanSegment> {
  try {
    return scanSegment(file);
  } catch {
    return undefined;
  }
}
