// Version discovery and availability-preserving swaps, on real directories
// with a loader the test answers by hand: no timing decides an outcome, polls
// are driven with pollNow() and loads settle when the test says so.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TfServingError } from '../../src/tfserving/errors.js';
import type { Logger } from '../../src/util/logger.js';
import { VersionManager, type ServableHandle } from '../../src/modelserver/version-manager.js';
import { discoverVersions, VersionPoller, type ModelSource, type VersionPolicy } from '../../src/modelserver/version-source.js';

class FakeServable {
  closed = false;
  constructor(readonly model: string, readonly version: number) {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

interface PendingLoad { model: string; version: number; dir: string; resolve: () => void; reject: (err: Error) => void }

/** Loads that wait for the test to resolve or reject them. */
class FakeLoader {
  readonly pending: PendingLoad[] = [];
  readonly servables: FakeServable[] = [];
  readonly load = (model: string, version: number, dir: string): Promise<FakeServable> =>
    new Promise((resolve, reject) => {
      const servable = new FakeServable(model, version);
      this.pending.push({ model, version, dir, resolve: () => (this.servables.push(servable), resolve(servable)), reject });
    });

  /** The next load asked for, once it is asked. */
  async next(): Promise<PendingLoad> {
    await vi.waitFor(() => expect(this.pending.length).toBeGreaterThan(0), { timeout: 5000 });
    return this.pending.shift()!;
  }
}

const logged: string[] = [];
const log: Logger = { info: () => undefined, warn: (m) => logged.push(m), error: (m) => logged.push(m) };
const dirs: string[] = [];
async function baseWith(...children: string[]): Promise<string> {
  const base = await mkdtemp(path.join(tmpdir(), 'lookout-versions-'));
  dirs.push(base);
  for (const child of children) await mkdir(path.join(base, child));
  return base;
}
afterEach(async () => {
  logged.length = 0;
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function setup(children: string[], policy?: VersionPolicy, retries = { maxLoadRetries: 2, loadRetryIntervalMs: 1 }) {
  const base = await baseWith(...children);
  const loader = new FakeLoader();
  const manager = new VersionManager<FakeServable>({ load: loader.load, log, ...retries });
  const poller = new VersionPoller({ models: [{ name: 'm', basePath: base, policy }], target: manager, pollSeconds: -1, log });
  const states: string[] = [];
  manager.stateChanges.add((model, version, state) => states.push(`${version} ${state}`));
  return { base, loader, manager, poller, states };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
/** The version a request would be served by, its handle released at once. */
function versionOf(manager: VersionManager<FakeServable>, choice: Parameters<VersionManager['acquire']>[1] = {}): number {
  const handle = manager.acquire('m', choice);
  handle.release();
  return handle.version;
}
const summary = (manager: VersionManager<FakeServable>) => manager.status('m').map((s) => `${s.version} ${s.state}`);

async function expectError(fn: () => unknown, code: number, details: string): Promise<void> {
  let caught: TfServingError | undefined;
  try {
    await fn();
  } catch (err) {
    caught = err as TfServingError;
  }
  expect(caught?.code).toBe(code);
  expect(caught?.details).toBe(details);
}

describe('version discovery', () => {
  const source = (basePath: string, policy?: VersionPolicy): ModelSource => ({ name: 'm', basePath, policy });

  it('keeps numeric children and applies each policy', async () => {
    const base = await baseWith('1', '00000003', '7', 'tmp', '1.partial', '-2');
    await writeFile(path.join(base, 'README'), 'x');
    const versions = async (policy?: VersionPolicy) => (await discoverVersions(source(base, policy), log)).map((v) => v.version);
    expect(await versions()).toEqual([7]);
    expect(await versions({ kind: 'latest', numVersions: 2 })).toEqual([7, 3]);
    expect(await versions({ kind: 'all' })).toEqual([7, 3, 1]);
    expect(await versions({ kind: 'specific', versions: [1, 5] })).toEqual([1]);
    expect(logged).toContain('Version 5 of servable m was not found in the file system');
    const [three] = await discoverVersions(source(base, { kind: 'specific', versions: [3] }));
    expect(three.dir).toBe(path.join(base, '00000003'));
  });

  it('aspires nothing under an empty base path, and refuses a missing one', async () => {
    const base = await baseWith();
    expect(await discoverVersions(source(base), log)).toEqual([]);
    expect(logged[0]).toBe(`No versions of servable m found under base path ${base}. Did you forget to name your leaf directory as a number (eg. '/1/')?`);
    const missing = path.join(base, 'nope');
    await expectError(() => discoverVersions(source(missing)), Status.INVALID_ARGUMENT, `Could not find base path ${missing} for servable m`);
  });

  it('aborts the whole poll cycle when one base path is missing', async () => {
    const good = await baseWith('1');
    const seen: string[] = [];
    const target = { setAspiredVersions: (model: string) => void seen.push(model) };
    const poller = new VersionPoller({ models: [{ name: 'a', basePath: good }, { name: 'b', basePath: path.join(good, 'gone') }], target, pollSeconds: -1, log });
    expect(await poller.pollNow()).toBe(false);
    expect(seen).toEqual([]);
    expect(logged.at(-1)).toMatch(/^FileSystemStoragePathSource encountered a filesystem access error: Could not find base path .*gone for servable b$/);
    poller.setModels([{ name: 'a', basePath: good }]);
    expect(await poller.pollNow()).toBe(true);
    expect(seen).toEqual(['a']);
    poller.close();
    poller.close();
    expect(await poller.pollNow()).toBe(false);
  });

  it('polls once when started with pollSeconds 0', async () => {
    const seen: number[][] = [];
    const target = { setAspiredVersions: (_model: string, versions: { version: number }[]) => void seen.push(versions.map((v) => v.version)) };
    const poller = new VersionPoller({ models: [{ name: 'a', basePath: await baseWith('3') }], target, pollSeconds: 0 });
    await poller.start();
    await poller.start();
    expect(seen).toEqual([[3]]);
    poller.close();
  });
});

describe('the version manager', () => {
  it('swaps to a new version with every acquire succeeding, then ends the old one', async () => {
    const { base, loader, manager, poller, states } = await setup(['1']);
    await poller.pollNow();
    const settled = manager.whenSettled();
    (await loader.next()).resolve();
    await settled;
    expect(summary(manager)).toEqual(['1 AVAILABLE']);

    let running = true;
    let calls = 0;
    const failures: unknown[] = [];
    const served = new Set<number>();
    const load = (async () => {
      while (running) {
        try {
          const handle = manager.acquire('m');
          served.add(handle.version);
          await flush();
          handle.release();
          calls++;
        } catch (err) {
          failures.push(err);
        }
        await flush();
      }
    })();

    await mkdir(path.join(base, '2'));
    await poller.pollNow();
    const v2 = await loader.next();
    expect(v2.version).toBe(2);
    expect(v2.dir).toBe(path.join(base, '2'));
    expect(manager.status('m', 2)[0].state).toBe('LOADING');
    for (let i = 0; i < 5; i++) await flush();
    v2.resolve();
    await vi.waitFor(() => expect(summary(manager)).toEqual(['2 AVAILABLE', '1 END']), { timeout: 5000 });
    for (let i = 0; i < 5; i++) await flush();
    running = false;
    await load;

    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(5);
    expect([...served].sort()).toEqual([1, 2]);
    expect(loader.servables.map((s) => [s.version, s.closed])).toEqual([[1, true], [2, false]]);
    expect(states).toEqual(['1 START', '1 LOADING', '1 AVAILABLE', '2 START', '2 LOADING', '2 AVAILABLE', '1 UNLOADING', '1 END']);
    await manager.close();
  });

  it('keeps the old version serving when the new one fails, which ends END with its error after the retries', async () => {
    const { base, loader, manager, poller } = await setup(['1']);
    await poller.pollNow();
    (await loader.next()).resolve();
    await mkdir(path.join(base, '2'));
    await poller.pollNow();
    for (let attempt = 0; attempt < 3; attempt++) {
      const load = await loader.next();
      expect(load.version).toBe(2);
      expect(summary(manager)).toEqual(['2 LOADING', '1 AVAILABLE']);
      expect(versionOf(manager)).toBe(1);
      load.reject(new Error(`read less bytes than requested (${attempt})`));
    }
    await vi.waitFor(() => expect(summary(manager)).toEqual(['2 END', '1 AVAILABLE']), { timeout: 5000 });
    expect(manager.status('m', 2)[0].status).toEqual({ error_code: Status.UNKNOWN, error_message: 'read less bytes than requested (2)' });
    // Still aspired, but TF does not retry a failed version on later polls.
    await poller.pollNow();
    await flush();
    expect(loader.pending).toEqual([]);
    expect(versionOf(manager)).toBe(1);
    await manager.close();
  });

  it('reports a failed startup as TF does', async () => {
    const { loader, manager, poller } = await setup(['4'], undefined, { maxLoadRetries: 0, loadRetryIntervalMs: 1 });
    await poller.pollNow();
    const settled = manager.whenSettled();
    (await loader.next()).reject(new Error('no model.json'));
    await expectError(() => settled, Status.UNKNOWN, '1 servable(s) did not become available: {{{name: m version: 4} due to error: no model.json}, }');
    await manager.close();
  });

  it('unloads a deleted version and, under latest, loads the next-highest while the deleted one still serves', async () => {
    const { base, loader, manager, poller, states } = await setup(['1', '2']);
    await poller.pollNow();
    const v2 = await loader.next();
    expect(v2.version).toBe(2);
    v2.resolve();
    await vi.waitFor(() => expect(summary(manager)).toEqual(['2 AVAILABLE']));
    await rm(path.join(base, '2'), { recursive: true });
    await poller.pollNow();
    const v1 = await loader.next();
    expect(v1.version).toBe(1);
    expect(versionOf(manager)).toBe(2);
    v1.resolve();
    await vi.waitFor(() => expect(summary(manager)).toEqual(['2 END', '1 AVAILABLE']));
    expect(states.slice(3)).toEqual(['1 START', '1 LOADING', '1 AVAILABLE', '2 UNLOADING', '2 END']);
    await manager.close();
  });

  it('resolves labels and refuses unknown ones and unavailable versions in TF\'s words', async () => {
    const { loader, manager, poller } = await setup(['1', '2'], { kind: 'all' });
    await poller.pollNow();
    (await loader.next()).resolve();
    (await loader.next()).resolve();
    await manager.whenSettled();
    expect(manager.availableVersions('m')).toEqual([2, 1]);
    manager.setLabels('m', { stable: 1, canary: 2 });
    expect(versionOf(manager, { label: 'stable' })).toBe(1);
    expect(versionOf(manager, { label: 'canary' })).toBe(2);
    expect(versionOf(manager)).toBe(2);
    expect(versionOf(manager, { version: 1 })).toBe(1);
    await expectError(() => manager.acquire('m', { label: 'nope' }), Status.INVALID_ARGUMENT, 'Unrecognized servable version label: nope');
    await expectError(() => manager.setLabels('m', { stable: 1, next: 3 }), Status.FAILED_PRECONDITION,
      'Request to assign label to version 3 of model m, which is not currently available for inference');
    expect(manager.labels('m')).toEqual({ stable: 1, canary: 2 });
    await expectError(() => manager.acquire('m', { version: 9 }), Status.NOT_FOUND, 'Servable not found for request: Specific(m, 9)');
    await expectError(() => manager.acquire('other'), Status.NOT_FOUND, 'Servable not found for request: Latest(other)');
    await expectError(() => manager.acquire(''), Status.INVALID_ARGUMENT, 'ModelSpec has no name specified.');
    await expectError(() => manager.status('other'), Status.NOT_FOUND, 'Could not find any versions of model other');
    await expectError(() => manager.status('m', 9), Status.NOT_FOUND, 'Could not find version 9 of model m');
    await manager.close();
  });

  it('keeps every END in the status, highest version first', async () => {
    const { base, loader, manager, poller } = await setup(['1']);
    await poller.pollNow();
    (await loader.next()).resolve();
    for (const v of [2, 3]) {
      await mkdir(path.join(base, String(v)));
      await poller.pollNow();
      (await loader.next()).resolve();
      await vi.waitFor(() => expect(manager.status('m', v - 1)[0].state).toBe('END'));
    }
    expect(manager.status('m')).toEqual([
      { version: 3, state: 'AVAILABLE', status: { error_code: 0, error_message: '' } },
      { version: 2, state: 'END', status: { error_code: 0, error_message: '' } },
      { version: 1, state: 'END', status: { error_code: 0, error_message: '' } },
    ]);
    await manager.close();
  });

  it('waits for a handle in flight before closing the version it holds', async () => {
    const { base, loader, manager, poller } = await setup(['1']);
    await poller.pollNow();
    (await loader.next()).resolve();
    await manager.whenSettled();
    const held: ServableHandle<FakeServable> = manager.acquire('m');
    await mkdir(path.join(base, '2'));
    await poller.pollNow();
    (await loader.next()).resolve();
    await vi.waitFor(() => expect(summary(manager)).toEqual(['2 AVAILABLE', '1 UNLOADING']));
    for (let i = 0; i < 10; i++) await flush();
    expect(summary(manager)).toEqual(['2 AVAILABLE', '1 UNLOADING']);
    expect(held.servable.closed).toBe(false);
    await expectError(() => manager.acquire('m', { version: 1 }), Status.NOT_FOUND, 'Servable not found for request: Specific(m, 1)');
    held.release();
    held.release();
    await vi.waitFor(() => expect(summary(manager)).toEqual(['2 AVAILABLE', '1 END']));
    expect(held.servable.closed).toBe(true);
    await manager.close();
  });

  it('unloads every version of a model dropped from the config', async () => {
    const { loader, manager, poller } = await setup(['1', '2'], { kind: 'all' });
    await poller.pollNow();
    (await loader.next()).resolve();
    (await loader.next()).resolve();
    await manager.whenSettled();
    manager.setLabels('m', { stable: 1 });
    poller.setModels([]);
    await manager.setModels(['n']);
    expect(summary(manager)).toEqual(['2 END', '1 END']);
    expect(manager.labels('m')).toEqual({});
    expect(loader.servables.every((s) => s.closed)).toBe(true);
    await poller.pollNow();
    await expectError(() => manager.acquire('m'), Status.NOT_FOUND, 'Servable not found for request: Latest(m)');
    await manager.close();
  });

  it('close() stops polling and closes every servable, a load in flight included', async () => {
    const { base, loader, manager, poller } = await setup(['1']);
    await poller.pollNow();
    (await loader.next()).resolve();
    await mkdir(path.join(base, '2'));
    await poller.pollNow();
    const v2 = await loader.next();
    const waiting = manager.whenSettled(['m', 'never']);
    poller.close();
    const closing = manager.close();
    v2.resolve();
    await closing;
    await manager.close();
    await expectError(() => waiting, Status.UNAVAILABLE, 'version manager closed');
    expect(summary(manager)).toEqual(['2 END', '1 END']);
    expect(loader.servables.map((s) => s.closed)).toEqual([true, true]);
    await mkdir(path.join(base, '3'));
    expect(await poller.pollNow()).toBe(false);
    await flush();
    expect(loader.pending).toEqual([]);
  });
});
