// Cameras added, changed and removed through the API, without a restart, and
// kept across restarts (overrides-file.ts). Changes run one at a time: each
// reads the overrides the one before left, and an update waits for its
// camera's ffmpeg to restart.
import { cameraDefaults, cameraEntry, parseCameraEntry } from '../config/camera.js';
import { motionEntry } from '../config/motion.js';
import { ConfigError, type CameraConfig, type LookoutConfig } from '../config/schema.js';
import { LookoutError } from '../util/errors.js';
import { apiFileRoots, applyCameraOverrides, readOverrides, urlFromApi, writeOverridesAround, type Overrides } from './overrides-file.js';
import { CameraConfigError, detectSize, type CameraRegistry } from './registry.js';

export { CameraStoreError } from './overrides-file.js';

/** Camera changes that may wait for the one running. */
const MAX_WAITING_CHANGES = 16;

export class CameraNotFoundError extends LookoutError {
  readonly code = 'CAMERA_NOT_FOUND';
}
export class CameraExistsError extends LookoutError {
  readonly code = 'CAMERA_EXISTS';
}
/** Too many camera changes already wait their turn; try again shortly. */
export class CameraBusyError extends LookoutError {
  readonly code = 'CAMERA_BUSY';
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

  /** The cameras to start with: the config's, with the changes kept from earlier runs applied (the file read once). */
  startingCameras(): CameraConfig[] {
    return this.file ? applyCameraOverrides(this.config, this.file, this.overrides) : this.config.cameras;
  }

  /** Adds a camera from an API body; throws ConfigError or SourceForbiddenError (400), CameraExistsError (409) or CameraStoreError (503). */
  add(body: unknown): Promise<CameraConfig> {
    return this.serially(async () => {
      const parsed = parseCameraEntry(body, cameraDefaults(this.config), apiFileRoots(this.config), cameraSource(body));
      if (this.registry.has(parsed.id)) throw new CameraExistsError(`camera ${JSON.stringify(parsed.id)} already exists; PATCH it to change it`);
      const camera = await this.guarded(parsed, true);
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
      const entry: Record<string, unknown> = { ...cameraEntry(current), ...patch, id };
      // `record` is merged key by key: PATCH {"record":{"mode":"continuous"}} keeps the rest.
      const rec = (patch as { record?: unknown }).record;
      if (isObject(rec)) entry.record = { ...current.record, ...rec };
      // `motion` and `regions` likewise.
      const motion = (patch as { motion?: unknown }).motion;
      if (isObject(motion)) entry.motion = { ...motionEntry(current.motion), ...motion };
      const regions = (patch as { regions?: unknown }).regions;
      if (isObject(regions)) entry.regions = { ...current.regions, ...regions };
      // `filters` label by label, then key by key; a label set to null drops the camera's own filter for it.
      const filters = (patch as { filters?: unknown }).filters;
      if (isObject(filters)) entry.filters = mergeFilters(current.ownFilters, filters);
      const parsed = parseCameraEntry(entry, cameraDefaults(this.config), apiFileRoots(this.config), `camera ${JSON.stringify(id)}`);
      // Only a new url is checked now; every url from the API is checked again before each connection.
      const camera = await this.guarded(parsed, parsed.url !== current.url);
      // Zones, lines, masks and filters apply to the next detection; anything else restarts the camera's ffmpeg.
      const restart = !sameIngest(current, camera);
      await this.change(this.remembering(camera), () => (restart ? this.registry.updateCamera(camera) : this.registry.reconfigure(camera)));
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
   * Marks a camera whose url came over the API (urlFromApi), and checks a new
   * one against the SSRF guard (ingest/source-guard.ts) before anything is
   * saved or started: a forbidden target throws SourceForbiddenError (400).
   */
  private async guarded(camera: CameraConfig, check: boolean): Promise<CameraConfig> {
    if (!urlFromApi(this.config, camera)) return camera;
    if (check) await this.registry.sourceGuard.check(camera.url);
    return { ...camera, urlFromApi: true };
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

  /** Applies a change; with a file, only once `next` is written (see writeOverridesAround). */
  private async change(next: Overrides, apply: () => unknown): Promise<void> {
    const applied = async (): Promise<void> => {
      await apply();
      // Running now, whether or not the file's rename then succeeds.
      this.overrides = next;
    };
    if (this.file) await writeOverridesAround(this.file, next, applied);
    else await applied();
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Errors about a camera name it: `camera "front": zones[1] (name "door").points: …`. */
function cameraSource(body: unknown): string {
  const id = isObject(body) ? body.id : undefined;
  return typeof id === 'string' ? `camera ${JSON.stringify(id)}` : 'camera';
}

function mergeFilters(own: CameraConfig['ownFilters'], patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...own };
  for (const [label, f] of Object.entries(patch)) {
    if (f === null) delete out[label];
    else out[label] = isObject(f) ? { ...own[label], ...f } : f;
  }
  return out;
}

/** Keys that are analytics and gating only: a change to nothing else needs no new ffmpeg. */
const ANALYTICS_KEYS = new Set(['zones', 'lines', 'masks', 'filters', 'ownFilters', 'motion', 'regions']);

/** Whether the camera's ffmpeg can stay: only analytics or gating changed, and not what the detection decoder makes (regions need the camera's own size). */
function sameIngest(a: CameraConfig, b: CameraConfig): boolean {
  const strip = (c: CameraConfig) => JSON.stringify([Object.entries(c).filter(([k]) => !ANALYTICS_KEYS.has(k)), detectSize(c)]);
  return strip(a) === strip(b);
}
