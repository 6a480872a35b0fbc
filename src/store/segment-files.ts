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

/** Removes a segment file; then its folders, up to the camera's, while they are empty. */
export function deleteSegmentFile(dir: string, rel: string): boolean {
  let file: string;
  try {
    file = segmentPath(dir, rel);
  } catch {
    return false;
  }
  rmSync(file, { force: true });
  // <camera>/<day>/<hour>/<MM.SS>.mp4: the hour and day folders may now be empty.
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
