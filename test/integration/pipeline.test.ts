// Cameras added, changed and removed while lookout runs, through the pipeline
// that feeds the scheduler, against the synthetic model over real gRPC.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type CameraConfig } from '../../src/config/parse.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { silentLogger } from '../../src/util/logger.js';
import { CameraConfigError, Pipeline, type CameraDetections } from '../../src/cameras/registry.js';
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

describe('pipeline', () => {
  it('adds, changes and removes cameras while running, leaving no ffmpeg behind', async () => {
    const s = await startModelServer(synthetic({ latencyMs: 10, capacity: 2 }));
    const client = new TfServingClient({ address: s.address, modelName: 'detector' });
    const config = parseConfig({ scheduler: { maxInFlight: 2 } });
    const pipeline = new Pipeline(config, client, resolveFfmpeg(), silentLogger);
    cleanup.push(() => s.server.close(), () => client.close(), () => pipeline.close());
    const seen: Record<string, CameraDetections[]> = {};
    pipeline.onDetections((id, d) => (seen[id] ??= []).push(d));

    const [bottles, people] = cameras([
      { id: 'bottles', url: BOTTLE_CLIP, loop: true, labels: ['bottle'] },
      { id: 'people', url: PERSON_CLIP, loop: true, minScore: 0.8 },
    ]);
    pipeline.addCamera(bottles);
    pipeline.addCamera(people);
    await until(() => (seen.bottles?.length ?? 0) >= 3 && (seen.people?.length ?? 0) >= 3);
    // Each camera's own filters: only bottles here; only the 0.9 person there (synthetic: person .9, bottle .75, chair .35).
    expect(seen.bottles.every((d) => d.detections.map((x) => x.label).join() === 'bottle')).toBe(true);
    expect(seen.people.every((d) => d.detections.map((x) => x.label).join() === 'person')).toBe(true);
    const view = pipeline.view('bottles');
    expect(view?.status.state).toBe('streaming');
    expect(view?.decodedFps).toBeGreaterThan(0);
    expect(view?.schedule?.detected).toBeGreaterThan(0);
    expect(pipeline.latestLiveFrame('bottles')?.width).toBe(640);

    expect(() => pipeline.addCamera(bottles)).toThrow(/already exists/);
    expect(() => pipeline.addCamera({ ...bottles, id: 'evil', url: 'concat:/etc/passwd' })).toThrow(CameraConfigError);

    // Change: a new ffmpeg with the new settings.
    const oldPid = pipeline.view('bottles')?.status.pid;
    await pipeline.updateCamera({ ...bottles, detectFps: 2, size: { width: 320, height: 320 } });
    await until(() => pipeline.view('bottles')?.status.state === 'streaming' && (pipeline.view('bottles')?.latest?.width ?? 0) === 320);
    expect(alive(oldPid)).toBe(false);
    expect(pipeline.view('bottles')?.config.detectFps).toBe(2);

    // Remove: its ffmpeg ends, its results stop.
    const peoplePid = pipeline.view('people')?.status.pid;
    await pipeline.removeCamera('people');
    expect(alive(peoplePid)).toBe(false);
    expect(pipeline.view('people')).toBeUndefined();
    expect(pipeline.cameraIds()).toEqual(['bottles']);
    const count = seen.people.length;
    await sleep(600);
    expect(seen.people.length).toBeLessThanOrEqual(count + 1);

    const lastPid = pipeline.view('bottles')?.status.pid;
    await pipeline.close();
    expect(alive(lastPid)).toBe(false);
  });
});
