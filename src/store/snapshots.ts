// Event snapshots: one JPEG per event in one directory.
//
// File names are made here, from the event id, and nothing else: the id holds
// a camera id (operator-chosen text), so it is reduced to a safe alphabet and
// a digest of the full id keeps two ids that sanitize alike apart. Every path
// the outside hands back (an API's `/snapshots/:file`) is checked to be such
// a plain name before it touches the file system, so `../x` cannot escape.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, unlinkSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LookoutError } from '../util/errors.js';

export type SnapshotErrorCode = 'BAD_SNAPSHOT_NAME';

export class SnapshotError extends LookoutError {
  readonly code: SnapshotErrorCode;
  constructor(code: SnapshotErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** What `snapshotFileName` makes: a safe stem, '-', 12 hex digits, '.jpg'. Nothing else is ever served or deleted. */
const FILE_NAME = /^[A-Za-z0-9_-]{1,80}-[0-9a-f]{12}\.jpg$/;

/** The snapshot file name for an event id; deterministic, so a better snapshot replaces the old one. */
export function snapshotFileName(eventId: string): string {
  const stem = eventId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80) || '_';
  const digest = createHash('sha256').update(eventId).digest('hex').slice(0, 12);
  return `${stem}-${digest}.jpg`;
}

export function isSnapshotFileName(file: string): boolean {
  return FILE_NAME.test(file);
}

/** The absolute path of a snapshot in `dir`; throws BAD_SNAPSHOT_NAME for anything but a plain snapshot name. */
export function resolveSnapshot(dir: string, file: string): string {
  if (typeof file !== 'string' || !isSnapshotFileName(file)) {
    throw new SnapshotError('BAD_SNAPSHOT_NAME', `not a snapshot file name: ${JSON.stringify(String(file)).slice(0, 100)}`);
  }
  const root = path.resolve(dir);
  const full = path.join(root, file);
  // Belt and braces: the pattern already excludes separators and dot-names.
  if (path.dirname(full) !== root) throw new SnapshotError('BAD_SNAPSHOT_NAME', `snapshot name leaves the directory: ${file}`);
  return full;
}

/** Removes a snapshot synchronously (the writer's worker thread, during retention); true if it existed. */
export function deleteSnapshotSync(dir: string, file: string): boolean {
  try {
    unlinkSync(resolveSnapshot(dir, file));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export class SnapshotStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    // Synchronous once, at startup: every later call may assume the directory.
    mkdirSync(this.dir, { recursive: true });
  }

  /**
   * Writes the JPEG under the event's file name. It goes to a temporary name
   * first and is renamed into place, so a reader (or a crash) never sees half
   * a file; the temporary name is not a snapshot name, so it is never served.
   */
  async saveSnapshot(eventId: string, jpeg: Uint8Array): Promise<{ file: string; bytes: number }> {
    const file = snapshotFileName(eventId);
    const final = resolveSnapshot(this.dir, file);
    const temp = path.join(this.dir, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    await mkdir(this.dir, { recursive: true });
    try {
      await writeFile(temp, jpeg);
      await rename(temp, final);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    return { file, bytes: jpeg.byteLength };
  }

  /** The absolute path of a snapshot, for serving it; throws BAD_SNAPSHOT_NAME for anything else. */
  snapshotPath(file: string): string {
    return resolveSnapshot(this.dir, file);
  }

  /** Deletes a snapshot; true if it existed. */
  async deleteSnapshot(file: string): Promise<boolean> {
    try {
      await unlink(resolveSnapshot(this.dir, file));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
