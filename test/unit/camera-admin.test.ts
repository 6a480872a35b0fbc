// Camera changes through the API, with a fake registry and a real
// cameras.json in a temp folder: what is applied, what is kept for the next
// start (read back as start-up reads it), in what order, and that a refused
// or failed change leaves both the cameras and the file as they were.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CameraAdmin, CameraBusyError, CameraExistsError, CameraNotFoundError, CameraStoreError } from '../../src/cameras/admin.js';
import { applyCameraOverrides } from '../../src/cameras/overrides-file.js';
import type { CameraRegistry } from '../../src/cameras/registry.js';
import { parseConfig } from '../../src/config/parse.js';
import { MOTION_DEFAULTS, REGIONS_DEFAULTS } from '../../src/config/motion.js';
import { RECORD_DEFAULTS } from '../../src/config/record.js';
import { mediaDir } from '../../src/util/paths.js';
import { ConfigError, type CameraConfig, type LookoutConfig } from '../../src/config/schema.js';
import { SourceForbiddenError, SourceGuard } from '../../src/ingest/source-guard.js';

/** The registry's camera changes, kept in a map; updateCamera can be held open or made to fail. */
class FakeRegistry {
  readonly cameras = new Map<string, CameraConfig>();
  readonly calls: string[] = [];
  /** While set, updateCamera waits for it (a camera's ffmpeg restarting). */
  hold: Promise<void> | undefined;
  failUpdate: Error | undefined;
  /** The admin checks new camera urls with the registry's guard (no DNS asked: the urls here are addresses). */
  readonly sourceGuard = new SourceGuard([]);

  has(id: string): boolean {
    return this.cameras.has(id);
  }
  view(id: string): { config: CameraConfig } | undefined {
    const config = this.cameras.get(id);
    return config && { config };
  }
  addCamera(config: CameraConfig): void {
    this.calls.push(`add ${config.id}`);
    this.cameras.set(config.id, config);
  }
  async updateCamera(config: CameraConfig): Promise<void> {
    this.calls.push(`update ${config.id} minScore ${config.minScore}`);
    await this.hold;
    if (this.failUpdate) throw this.failUpdate;
    this.cameras.set(config.id, config);
  }
  async removeCamera(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.cameras.delete(id);
  }
}

const URL_A = 'rtsp://10.0.0.5:554/stream';
let dir: string;
let file: string;
let config: LookoutConfig;
let registry: FakeRegistry;
let admin: CameraAdmin;

/** cameras.json as start-up reads it. */
const saved = () => JSON.parse(readFileSync(file, 'utf8')) as { version: number; cameras: Record<string, Record<string, unknown>>; removed: string[] };
const atStart = () => applyCameraOverrides(config, file).map((c) => c.id);

function open(at: string): CameraAdmin {
  // The one place the fake stands in for the real registry: the admin calls nothing else of it.
  return new CameraAdmin(config, registry as unknown as CameraRegistry, at);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-admin-'));
  file = path.join(dir, 'cameras.json');
  config = parseConfig({ store: { path: path.join(dir, 'lookout.db') }, cameras: [{ id: 'fromfile', url: 'rtsp://10.0.0.9/live' }] });
  registry = new FakeRegistry();
  for (const c of config.cameras) registry.cameras.set(c.id, c);
  admin = open(file);
});

describe('camera admin', () => {
  it('adds a camera: running at once, and in cameras.json as start-up reads it', async () => {
    const added = await admin.add({ id: 'hall', url: URL_A, detectFps: 3, labels: ['person'] });
    expect(registry.calls).toEqual(['add hall']);
    expect(registry.cameras.get('hall')).toEqual(added);
    expect(saved()).toEqual({
      version: 1,
      cameras: { hall: { id: 'hall', url: URL_A, rtspTransport: 'tcp', timeoutMs: 10_000, realtime: true, loop: false, detectFps: 3, liveFps: 15, size: { width: 640, height: 640 }, liveSize: { width: 1280, height: 720 }, minScore: 0.4, labels: ['person'], record: { ...RECORD_DEFAULTS }, zones: [], lines: [], masks: [], filters: {}, motion: { ...MOTION_DEFAULTS }, regions: { ...REGIONS_DEFAULTS } } },
      removed: [],
    });
    expect(applyCameraOverrides(config, file)).toEqual([config.cameras[0], added]);
    // The next start's admin starts the same cameras, from its one read of the file.
    expect(open(file).startingCameras()).toEqual([config.cameras[0], added]);
  });

  it('updates a camera from the config file: its other settings kept, the change kept', async () => {
    const changed = await admin.update('fromfile', { minScore: 0.6 });
    expect(changed).toEqual({ ...config.cameras[0], minScore: 0.6 });
    expect(registry.calls).toEqual(['update fromfile minScore 0.6']);
    expect(saved().cameras.fromfile).toMatchObject({ url: 'rtsp://10.0.0.9/live', minScore: 0.6 });
    expect(applyCameraOverrides(config, file)).toEqual([changed]);
  });

  it('removes cameras: one from the config file is remembered as removed, one added through the API is forgotten', async () => {
    await admin.add({ id: 'hall', url: URL_A });
    await admin.remove('fromfile');
    expect(saved()).toMatchObject({ cameras: { hall: { id: 'hall' } }, removed: ['fromfile'] });
    expect(atStart()).toEqual(['hall']);
    await admin.remove('hall');
    expect(saved()).toEqual({ version: 1, cameras: {}, removed: ['fromfile'] });
    expect(atStart()).toEqual([]);
    // Added again, a removed config camera is no longer "removed".
    await admin.add({ id: 'fromfile', url: URL_A });
    expect(saved()).toMatchObject({ removed: [], cameras: { fromfile: { url: URL_A } } });
    expect(registry.calls).toEqual(['add hall', 'remove fromfile', 'remove hall', 'add fromfile']);
    // A new admin (a restart) starts from what the file says.
    await open(file).remove('fromfile');
    expect(saved()).toEqual({ version: 1, cameras: {}, removed: ['fromfile'] });
  });

  it('refuses a bad body with a ConfigError naming the key, and writes and changes nothing', async () => {
    const refused = async (change: Promise<unknown>, key: string) => {
      const err = await change.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe(key);
    };
    await refused(admin.add({ id: 'x', url: URL_A, detectFPS: 5 }), 'detectFPS');
    await refused(admin.add({ id: 'x', url: URL_A, detectFps: 500 }), 'detectFps');
    await refused(admin.add({ id: '../x', url: URL_A }), 'id');
    await refused(admin.add({ id: 'x', url: 'concat:/a|/b' }), 'url');
    await refused(admin.add(['x']), '');
    await refused(admin.update('fromfile', { minScore: 'high' }), 'minScore');
    await refused(admin.update('fromfile', { id: 'other' }), 'id');
    await refused(admin.update('fromfile', 'minScore=1'), '(body)');
    await refused(admin.update('fromfile', { labels: ['unicorn'] }), 'labels[0]');
    await expect(admin.add({ id: 'fromfile', url: URL_A })).rejects.toBeInstanceOf(CameraExistsError);
    await expect(admin.update('nope', { minScore: 0.5 })).rejects.toBeInstanceOf(CameraNotFoundError);
    await expect(admin.remove('nope')).rejects.toBeInstanceOf(CameraNotFoundError);
    expect(registry.calls).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an API url aimed at this machine or link-local, and marks the API\'s urls, as a restart marks them', async () => {
    await expect(admin.add({ id: 'x', url: 'rtsp://127.0.0.1:8554/x' })).rejects.toBeInstanceOf(SourceForbiddenError);
    await expect(admin.update('fromfile', { url: 'http://169.254.169.254/latest/meta-data' })).rejects.toThrow(/targets 169\.254\.169\.254/);
    expect(registry.calls).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    expect((await admin.add({ id: 'hall', url: URL_A })).urlFromApi).toBe(true);
    // A config-file camera changed otherwise keeps the operator's url; given another, the url is the API's; set back, the operator's again.
    expect((await admin.update('fromfile', { minScore: 0.5 })).urlFromApi).toBeUndefined();
    expect((await admin.update('fromfile', { url: URL_A })).urlFromApi).toBe(true);
    expect(applyCameraOverrides(config, file).map((c) => [c.id, c.urlFromApi])).toEqual([['fromfile', true], ['hall', true]]);
    expect((await admin.update('fromfile', { url: 'rtsp://10.0.0.9/live' })).urlFromApi).toBeUndefined();
    expect(applyCameraOverrides(config, file).map((c) => [c.id, c.urlFromApi])).toEqual([['fromfile', undefined], ['hall', true]]);
    // File cameras are fileRoots' business.
    expect((await admin.add({ id: 'clip', url: path.join(mediaDir, 'bottle-detection.mp4') })).urlFromApi).toBeUndefined();
  });

  it('leaves the config file\'s own loopback cameras alone: the operator wrote them', async () => {
    config = parseConfig({ store: { path: path.join(dir, 'lookout.db') }, cameras: [{ id: 'relay', url: 'rtsp://127.0.0.1:8554/cam' }] });
    registry.cameras.set('relay', config.cameras[0]);
    admin = open(file);
    expect((await admin.update('relay', { minScore: 0.5 })).urlFromApi).toBeUndefined();
    expect(applyCameraOverrides(config, file)[0]).toMatchObject({ id: 'relay', url: 'rtsp://127.0.0.1:8554/cam', minScore: 0.5 });
    expect(applyCameraOverrides(config, file)[0].urlFromApi).toBeUndefined();
  });

  it('runs changes one at a time, in order, each on what the one before left', async () => {
    let release = () => undefined as void;
    registry.hold = new Promise((resolve) => { release = resolve; });
    const first = admin.update('fromfile', { minScore: 0.5 });
    const second = admin.add({ id: 'hall', url: URL_A });
    const third = admin.update('fromfile', { minScore: 0.7 });
    await new Promise((r) => setTimeout(r, 20));
    // The first waits for its camera's restart; the others wait for it.
    expect(registry.calls).toEqual(['update fromfile minScore 0.5']);
    registry.hold = undefined;
    release();
    await Promise.all([first, second, third]);
    expect(registry.calls).toEqual(['update fromfile minScore 0.5', 'add hall', 'update fromfile minScore 0.7']);
    expect(saved()).toMatchObject({ cameras: { fromfile: { minScore: 0.7 }, hall: { id: 'hall' } } });
  });

  it('refuses a change with CameraBusyError when 16 already wait, and takes one again once they are done', async () => {
    let release = () => undefined as void;
    registry.hold = new Promise((resolve) => { release = resolve; });
    const accepted = Array.from({ length: 16 }, (_, i) => admin.update('fromfile', { minScore: 0.5 + i / 100 }));
    await expect(admin.update('fromfile', { minScore: 0.9 })).rejects.toBeInstanceOf(CameraBusyError);
    await expect(admin.add({ id: 'hall', url: URL_A })).rejects.toBeInstanceOf(CameraBusyError);
    registry.hold = undefined;
    release();
    await Promise.all(accepted);
    expect(registry.calls).toHaveLength(16);
    expect(saved().cameras.fromfile.minScore).toBe(0.65);
    await expect(admin.add({ id: 'hall', url: URL_A })).resolves.toMatchObject({ id: 'hall' });
  });

  it('leaves cameras.json as it was when the registry fails the update, and the next change builds on the old state', async () => {
    await admin.add({ id: 'hall', url: URL_A, minScore: 0.3 });
    const before = readFileSync(file, 'utf8');
    registry.failUpdate = new Error('camera "hall" could not be restarted');
    await expect(admin.update('hall', { minScore: 0.8 })).rejects.toThrow('could not be restarted');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['cameras.json']); // no temporary file left
    registry.failUpdate = undefined;
    await admin.add({ id: 'yard', url: URL_A });
    expect(saved().cameras.hall.minScore).toBe(0.3);
    expect(Object.keys(saved().cameras)).toEqual(['hall', 'yard']);
  });

  /** cameras.json under a regular file: its folder cannot be made, so nothing can be written. */
  function unwritable(): void {
    writeFileSync(path.join(dir, 'plain'), 'a file, not a folder');
    file = path.join(dir, 'plain', 'cameras.json');
    admin = open(file);
  }

  it('changes nothing when cameras.json cannot be written', async () => {
    unwritable();
    await expect(admin.add({ id: 'hall', url: URL_A })).rejects.toBeInstanceOf(Error);
    await expect(admin.update('fromfile', { minScore: 0.9 })).rejects.toBeInstanceOf(Error);
    await expect(admin.remove('fromfile')).rejects.toBeInstanceOf(Error);
    expect(registry.calls).toEqual([]);
    expect([...registry.cameras.keys()]).toEqual(['fromfile']);
    expect(registry.cameras.get('fromfile')?.minScore).toBe(0.4);
  });

  // KNOWN BUG (remove `.fails` once fixed): writeOverridesAround's cleanup,
  // rmSync(temp, { force: true }), throws ENOTDIR itself (force ignores only
  // ENOENT), so the raw fs error escapes instead of CameraStoreError: the API
  // answers 500 where it means 503 "nothing was changed".
  it('says so with CameraStoreError (503) when cameras.json cannot be written, and changes nothing', async () => {
    unwritable();
    await expect(admin.add({ id: 'hall', url: URL_A })).rejects.toBeInstanceOf(CameraStoreError);
    expect(registry.calls).toEqual([]);
  });

  it('says the change runs but will be lost at restart when cameras.json cannot be replaced', async () => {
    mkdirSync(file); // a folder where the file should be: the rename fails after the change was applied
    await expect(admin.add({ id: 'hall', url: URL_A })).rejects.toThrow(CameraStoreError);
    await expect(admin.update('fromfile', { minScore: 0.9 })).rejects.toThrow(/running but could not be kept .* lost at restart/);
    expect(registry.calls).toEqual(['add hall', 'update fromfile minScore 0.9']);
    expect(readdirSync(dir)).toEqual(['cameras.json']); // no temporary file left beside it
  });
});
