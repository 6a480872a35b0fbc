// Model versions laid out as TF Serving lays out SavedModels: BASE/N/…; the newest is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { builtinCenternetPath } from '../../src/modelserver/centernet.js';
import { listVersions, ModelRepositoryError, resolveServedVersion } from '../../src/modelserver/model-repository.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import { ModelNotFoundError } from '../../src/tfserving/errors.js';
import { BOTTLE_CLIP, decodeFrame } from '../helpers/media.js';
import { startModelServer, type StartedServer } from '../helpers/servers.js';
import { tempDir } from '../helpers/cleanup.js';

/** A base path with versions 1 and 3 (real CenterNet copies), a stray folder and an empty version 5. */
function modelBase(): string {
  const base = tempDir('lookout-models-');
  const source = builtinCenternetPath();
  for (const v of ['1', '3']) {
    mkdirSync(path.join(base, v));
    copyFileSync(source, path.join(base, v, 'model.json'));
    // model.json names its weight shards relative to itself.
    copyFileSync(source.replace(/\.json$/, '.bin'), path.join(base, v, path.basename(source).replace(/\.json$/, '.bin')));
  }
  mkdirSync(path.join(base, '5'));
  mkdirSync(path.join(base, 'tmp'));
  writeFileSync(path.join(base, 'tmp', 'model.json'), '{}');
  return base;
}

describe('model versions on disk', () => {
  let base: string;
  let s: StartedServer;
  beforeAll(async () => {
    base = modelBase();
    s = await startModelServer({ modelBasePath: base, workers: 1 });
  });
  afterAll(async () => {
    await s?.server.close();
  });

  it('lists numbered versions that hold a model.json, oldest first', () => {
    expect(listVersions(base).map((v) => v.version)).toEqual([1, 3]);
    expect(resolveServedVersion(base)).toEqual({ version: 3, modelJsonPath: path.join(base, '3', 'model.json') });
    expect(resolveServedVersion(undefined).version).toBe(1);
  });

  it('explains a base path it cannot serve', () => {
    expect(() => resolveServedVersion(path.join(base, 'missing'))).toThrow(/cannot be read/);
    expect(() => resolveServedVersion(path.join(base, '5'))).toThrow(ModelRepositoryError);
    expect(() => resolveServedVersion(path.join(base, '5'))).toThrow(/holds no version directory with a model.json/);
  });

  it('serves the newest version and reports it; older ones are NOT_FOUND', async () => {
    const latest = new TfServingClient({ address: s.address, modelName: 'detector' });
    const v1 = new TfServingClient({ address: s.address, modelName: 'detector', version: 1 });
    const v3 = new TfServingClient({ address: s.address, modelName: 'detector', version: 3 });
    try {
      expect(await latest.modelStatus()).toEqual([{ version: 3, state: 'AVAILABLE' }]);
      const frame = decodeFrame(BOTTLE_CLIP, 0);
      const viaLatest = await latest.detect([frame]);
      expect(viaLatest.modelVersion).toBe(3);
      expect(viaLatest.detections[0].filter((d) => d.label === 'bottle' && d.score >= 0.3).length).toBeGreaterThanOrEqual(2);
      expect((await v3.detect([frame])).modelVersion).toBe(3);
      const err = await v1.detect([frame]).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ModelNotFoundError);
      expect((err as ModelNotFoundError).details).toBe('Servable not found for request: Specific(detector, 1)');
    } finally {
      latest.close();
      v1.close();
      v3.close();
    }
  });
});
