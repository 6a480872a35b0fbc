// Segment files as the store sees them: removing one (and the hour and day
// folders it leaves empty, so the layout stays browsable), and the bytes
// they hold, for the data folder's size budget.
import { rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** A segment's path relative to the recordings folder, checked: no way out of it. */
export function segmentPath(dir: string, rel: string): string {
  const full = path.resolve(dir, rel);
  if (!full.startsWith(path.resolve(dir) + path.sep)) throw new Error(`segment path ${JSON.stringify(rel)} leaves the recordings folder`);
  return full;
}

/** The layout lookout writes: <camera>/<YYYY-MM-DD>/<HH>/<MM.SS>[-n].mp4; nothing else in the folder is lookout's. */
export const SEGMENT_PATH = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/\d{4}-\d{2}-\d{2}\/\d{2}\/\d{2}\.\d{2}(-\d{1,2})?\.mp4$/;

/**
 * Removes a segment file; then its hour and day folders while they are
 * empty (never the camera's, never the recordings folder). False when it
 * could not be removed (it stays for the next start's reconciliation).
 */
export function deleteSegmentFile(dir: string, rel: string): boolean {
  let file: string;
  try {
    file = segmentPath(dir, rel);
    rmSync(file, { force: true });
  } catch {
    return false;
  }
  if (!SEGMENT_PATH.test(rel)) return true;
  let folder = path.dirname(file);
  for (let i = 0; i < 2; i++) {
    try {
      rmdirSync(folder);
    } catch {
      break; // not empty (or gone): leave it
    }
    folder = path.dirname(folder);
  }
  return true;
}
