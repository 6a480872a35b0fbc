// Cameras added, changed and removed while lookout runs, through the registry
// that feeds the scheduler, against the synthetic model over real gRPC.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse.js';
import type { CameraConfig } from '../../src/config/schema.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { silentLogger } from '../../src/util/logger.js';
import { CameraRegistry } from '../../src/cameras/registry.js';
import type { CameraDetections } from '../../src/types.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import { BOTTLE_CLIP, PERSON_CLIP } from '../helpers/media.js';
import { startModelServer, synthetic } from '../helpers/servers.js';
import { sleep, until, alive } from '../helpers/wait.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});


function cameras(list: unknown[]): CameraConfig[] {
  return parseConfig({ cameras: list }).cameras;
}

describe('registry', () => {
  it('adds, changes and removes cameras while running, leaving no ffmpeg behind', async () => {
    const s = await startModelServer(synthetic({ latencyMs: 10, capacity: 2 }));
    const client = new TfServingClient({ address: s.address, modelName: 'detector' });
    const config = parseConfig({ scheduler: { maxInFlight: 2 } });
    const registry = new CameraRegistry(config, client, resolveFfmpeg(), silentLogger);
    cleanup.push(() => s.server.close(), () => client.close(), () => registry.close());
    const seen: Record<string, CameraDetections[]> = {};
    registry.onDetections((id, d) => (seen[id] ??= []).push(d));

    const [bottles, people] = cameras([
      { id: 'bottles', url: BOTTLE_CLIP, loop: true, labels: ['bottle'] },
      { id: 'people', url: PERSON_CLIP, loop: true, minScore: 0.8 },
    ]);
    registry.addCamera(bottles);
    registry.addCamera(people);
    await until(() => (seen.bottles?.length ?? 0) >= 3 && (seen.people?.length ?? 0) >= 3);
    // Each camera's own filters: only bottles here; only the 0.9 person there (synthetic: person .9, bottle .75, chair .35).
    expect(seen.bottles.every((d) => d.detections.map((x) => x.label).join() === 'bottle')).toBe(true);
    expect(seen.people.every((d) => d.detections.map((x) => x.label).join() === 'person')).toBe(true);
    const view = registry.view('bottles');
    expect(view?.status.state).toBe('streaming');
    expect(view?.decodedFps).toBeGreaterThan(0);
    expect(view?.schedule?.detected).toBeGreaterThan(0);
    // Live frames are made only while someone watches as JPEG.
    expect(registry.latestLiveFrame('bottles')).toBeUndefined();
    const release = registry.watchLive('bottles');
    await until(() => registry.latestLiveFrame('bottles')?.width === 640);
    release?.();
    expect(registry.stream('bottles')?.current?.codec).toBe('avc1.64001e');

    expect(() => registry.addCamera(bottles)).toThrow(/already exists/);
    // A url is checked once, when the camera's settings are parsed; the registry plays the checked `source`.
    expect(() => cameras([{ id: 'evil', url: 'concat:/etc/passwd' }])).toThrow(/protocol "concat:" is not allowed/);

    // Change: a new ffmpeg with the new settings.
    const oldPid = registry.view('bottles')?.status.pid;
    // Without regions, detection frames are scaled to `size` in ffmpeg: the new ffmpeg's frames show it.
    await registry.updateCamera({ ...bottles, detectFps: 2, size: { width: 320, height: 320 }, regions: { ...bottles.regions, enabled: false } });
    await until(() => registry.view('bottles')?.status.state === 'streaming' && (registry.view('bottles')?.latest?.width ?? 0) === 320);
    expect(alive(oldPid)).toBe(false);
    expect(registry.view('bottles')?.config.detectFps).toBe(2);

    // Remove: its ffmpeg ends, its results stop.
    const peoplePid = registry.view('people')?.status.pid;
    await registry.removeCamera('people');
    expect(alive(peoplePid)).toBe(false);
    expect(registry.view('people')).toBeUndefined();
    expect(registry.cameraIds()).toEqual(['bottles']);
    const count = seen.people.length;
    await sleep(600);
    expect(seen.people.length).toBeLessThanOrEqual(count + 1);

    const lastPid = registry.view('bottles')?.status.pid;
    await registry.close();
    expect(alive(lastPid)).toBe(false);
  });
});
