// Cameras added, changed and removed through the API, without a restart, and
// kept across restarts.
//
// The config file stays the user's: lookout never rewrites it (its comments
// and layout would be lost). What the API changed is kept beside the
// detection log, in cameras.json, as changes over the file: cameras added or
// replaced (their full settings) and ids removed. At start-up the file's
// cameras are read first, then these changes. Each entry is checked exactly
// as a config entry is, so a bad one stops start-up naming the file and key.
//
// File cameras added through the API may only read under `fileRoots` (or,
// when none are configured, the bundled media folder): whoever can reach the
// API must not be able to make ffmpeg read any file on the machine.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { cameraEntry, ConfigError, parseCameraEntry, type CameraConfig, type LookoutConfig } from '../config/parse.js';
import { mediaDir } from '../util/paths.js';
import { CameraConfigError, type CameraRegistry } from './registry.js';

interface Overrides {
  version: 1;
  /** Added or replaced cameras, by id, as entries. */
  cameras: Record<string, Record<string, unknown>>;
  /** Ids of the config file's cameras that were removed. */
  removed: string[];
}

/** Camera changes that may wait for the one running. */
const MAX_WAITING_CHANGES = 16;

export class CameraNotFoundError extends Error {
  readonly code = 'CAMERA_NOT_FOUND';
}
export class CameraExistsError extends Error {
  readonly code = 'CAMERA_EXISTS';
}
/** Too many camera changes already wait their turn; try again shortly. */
export class CameraBusyError extends Error {
  readonly code = 'CAMERA_BUSY';
}
/** The change could not be written to cameras.json (a full or failing disk); nothing was changed. */
export class CameraStoreError extends Error {
  readonly code = 'CAMERA_STORE';
}

function readOverrides(file: string): Overrides {
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
export function applyCameraOverrides(config: LookoutConfig, file: string): CameraConfig[] {
  const o = readOverrides(file);
  const byId = new Map(config.cameras.map((c) => [c.id, c]));
  for (const id of o.removed) byId.delete(id);
  for (const [id, entry] of Object.entries(o.cameras)) {
    byId.set(id, parseCameraEntry(entry, config.detection, apiFileRoots(config), `${file} (camera ${JSON.stringify(id)})`));
  }
  return [...byId.values()];
}

function apiFileRoots(config: LookoutConfig): string[] {
  return config.fileRoots.length > 0 ? config.fileRoots : [mediaDir];
}

export class CameraAdmin {
  private overrides: Overrides;
  private queue: Promise<unknown> = Promise.resolve();
  /** Changes queued or running. */
  private waiting = 0;

  constructor(
    private readonly config: LookoutConfig,
    private readonly registry: CameraRegistry,
    /** cameras.json; undefined keeps changes only until the process ends. */
    private readonly file: string | undefined,
  ) {
    this.overrides = file ? readOverrides(file) : { version: 1, cameras: {}, removed: [] };
  }

  /** Adds a camera from an API body; throws ConfigError (400), CameraExistsError (409) or CameraStoreError (503). */
  add(body: unknown): Promise<CameraConfig> {
    return this.serially(async () => {
      const camera = parseCameraEntry(body, this.config.detection, apiFileRoots(this.config), 'camera');
      if (this.registry.has(camera.id)) throw new CameraExistsError(`camera ${JSON.stringify(camera.id)} already exists; PATCH it to change it`);
      await this.change(this.remembering(camera), () => this.registry.addCamera(camera));
      return camera;
    });
  }

  /** Changes some of a camera's settings (its id stays); its ffmpeg restarts with them. */
  update(id: string, patch: unknown): Promise<CameraConfig> {
    return this.serially(async () => {
      const current = this.registry.view(id)?.config;
      if (!current) throw new CameraNotFoundError(`no camera ${JSON.stringify(id)}`);
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new ConfigError('(body)', 'expected a JSON object of settings to change', 'camera');
      if ('id' in patch && (patch as { id: unknown }).id !== id) throw new ConfigError('id', 'cannot be changed; add a camera with the new id and delete this one', 'camera');
      const camera = parseCameraEntry({ ...cameraEntry(current), ...patch, id }, this.config.detection, apiFileRoots(this.config), 'camera');
      await this.change(this.remembering(camera), () => this.registry.updateCamera(camera));
      return camera;
    });
  }

  remove(id: string): Promise<void> {
    return this.serially(async () => {
      if (!this.registry.has(id)) throw new CameraNotFoundError(`no camera ${JSON.stringify(id)}`);
      const cameras = { ...this.overrides.cameras };
      delete cameras[id];
      const fromFile = this.config.cameras.some((c) => c.id === id);
      const removed = fromFile && !this.overrides.removed.includes(id) ? [...this.overrides.removed, id] : this.overrides.removed;
      await this.change({ version: 1, cameras, removed }, async () => {
        try {
          await this.registry.removeCamera(id);
        } catch (err) {
          if (err instanceof CameraConfigError) throw new CameraNotFoundError(err.message);
          throw err;
        }
      });
    });
  }

  /**
   * One change at a time: each reads the overrides the one before left and
   * writes the same temporary file, and an update awaits its camera's restart.
   */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    // Changes wait here while an update restarts its camera (seconds):
    // bounded, so a client sending them in a loop gets 429s, not a backlog.
    if (this.waiting >= MAX_WAITING_CHANGES) {
      return Promise.reject(new CameraBusyError(`${MAX_WAITING_CHANGES} camera changes are already waiting; try again shortly`));
    }
    this.waiting++;
    const run = this.queue.then(work).finally(() => { this.waiting--; });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private remembering(camera: CameraConfig): Overrides {
    return {
      version: 1,
      cameras: { ...this.overrides.cameras, [camera.id]: cameraEntry(camera) },
      removed: this.overrides.removed.filter((r) => r !== camera.id),
    };
  }

  /**
   * Writes `next` whole under a temporary name, applies the change, then
   * renames: the API answers a change as done only once it will survive a
   * restart, and a disk that cannot take the file (full, read-only, failing)
   * refuses the change before anything moved, rather than leaving a camera
   * running that the next start would not know. A crash leaves the old file
   * or the new one.
   */
  private async change(next: Overrides, apply: () => unknown): Promise<void> {
    if (!this.file) {
      await apply();
      this.overrides = next;
      return;
    }
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`);
    } catch (err) {
      rmSync(temp, { force: true });
      throw new CameraStoreError(`cannot keep the change in ${this.file}, so nothing was changed: ${(err as Error).message}`);
    }
    try {
      await apply();
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
    this.overrides = next;
    try {
      renameSync(temp, this.file);
    } catch (err) {
      rmSync(temp, { force: true });
      throw new CameraStoreError(`the change is running but could not be kept in ${this.file}; it will be lost at restart: ${(err as Error).message}`);
    }
  }
}
