// cameras.json: the cameras the API added, changed or removed, kept across
// restarts as changes over the config file (which lookout never rewrites: its
// comments and layout would be lost). At start-up the file's cameras are read
// first, then these changes; each entry is checked exactly as a config entry
// is, so a bad one stops start-up naming the file and key.
//
// File cameras added through the API may only read under `fileRoots` (or,
// when none are configured, the bundled media folder): whoever can reach the
// API must not be able to make ffmpeg read any file on the machine. Network
// cameras whose url came through the API are marked `urlFromApi`, here at
// start-up as when they were saved, and checked before every connection
// (ingest/source-guard.ts).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cameraDefaults, parseCameraEntry } from '../config/camera.js';
import { ConfigError, type CameraConfig, type LookoutConfig } from '../config/schema.js';
import { LookoutError } from '../util/errors.js';
import { mediaDir } from '../util/paths.js';

export interface Overrides {
  version: 1;
  /** Added or replaced cameras, by id, as entries. */
  cameras: Record<string, Record<string, unknown>>;
  /** Ids of the config file's cameras that were removed. */
  removed: string[];
}

/** The change could not be written to cameras.json (a full or failing disk); nothing was changed. */
export class CameraStoreError extends LookoutError {
  readonly code = 'CAMERA_STORE';
}

/** The overrides kept in `file` (none if it does not exist). */
export function readOverrides(file: string): Overrides {
  if (!existsSync(file)) return { version: 1, cameras: {}, removed: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('(json)', (err as Error).message, file);
  }
  const o = doc as Partial<Overrides>;
  if (typeof o !== 'object' || o === null || o.version !== 1 || typeof o.cameras !== 'object' || o.cameras === null || !Array.isArray(o.removed)) {
    throw new ConfigError('(file)', 'expected {"version": 1, "cameras": {…}, "removed": […]}', file);
  }
  return { version: 1, cameras: o.cameras as Overrides['cameras'], removed: o.removed.filter((x): x is string => typeof x === 'string') };
}

/** The config's cameras with the API's changes applied (start-up). */
export function applyCameraOverrides(config: LookoutConfig, file: string, o: Overrides = readOverrides(file)): CameraConfig[] {
  const byId = new Map(config.cameras.map((c) => [c.id, c]));
  for (const id of o.removed) byId.delete(id);
  for (const [id, entry] of Object.entries(o.cameras)) {
    const camera = parseCameraEntry(entry, cameraDefaults(config), apiFileRoots(config), `${file} (camera ${JSON.stringify(id)})`);
    byId.set(id, urlFromApi(config, camera) ? { ...camera, urlFromApi: true } : camera);
  }
  return [...byId.values()];
}

/**
 * Whether a network camera's url came over the API: the config file does not
 * give that camera (by id) exactly this url. Decided from the two files alone,
 * so a restart decides as the save did; a PATCH of a config-file camera that
 * leaves its url alone (or sets it back) keeps it the operator's.
 */
export function urlFromApi(config: Pick<LookoutConfig, 'cameras'>, camera: CameraConfig): boolean {
  return camera.source.kind !== 'file' && !config.cameras.some((c) => c.id === camera.id && c.url === camera.url);
}

/** Where file cameras added through the API may read. */
export function apiFileRoots(config: LookoutConfig): string[] {
  return config.fileRoots.length > 0 ? config.fileRoots : [mediaDir];
}

/**
 * Writes `next` whole under a temporary name, applies the change, then
 * renames: the API answers a change as done only once it will survive a
 * restart, and a disk that cannot take the file (full, read-only, failing)
 * refuses the change before anything moved, rather than leaving a camera
 * running that the next start would not know. A crash leaves the old file
 * or the new one.
 */
export async function writeOverridesAround(file: string, next: Overrides, apply: () => unknown): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`);
  } catch (err) {
    removeTemp(temp);
    throw new CameraStoreError(`cannot keep the change in ${file}, so nothing was changed: ${(err as Error).message}`);
  }
  try {
    await apply();
  } catch (err) {
    removeTemp(temp);
    throw err;
  }
  try {
    renameSync(temp, file);
  } catch (err) {
    removeTemp(temp);
    throw new CameraStoreError(`the change is running but could not be kept in ${file}; it will be lost at restart: ${(err as Error).message}`);
  }
}

/**
 * Removes the temporary file, if there is one to remove. Where the folder
 * itself is the trouble (a file in its place: ENOTDIR), there is none, and
 * the error being reported is the one that says why.
 */
function removeTemp(temp: string): void {
  try {
    rmSync(temp, { force: true });
  } catch {
    // Nothing was written there.
  }
}
