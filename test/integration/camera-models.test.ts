// Cameras on different models of one model server, through `lookout serve`:
// a door camera on the default model, a street camera on another model's
// labelled version, each batched and answered by its own model; readiness and
// the breaker per model (a camera naming a model the server lacks pauses
// only itself, and /readyz says which); a bad `model` refused naming the key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseModelServerConfig } from '../../src/modelserver/model-config-file.js';
import { ModelServer } from '../../src/modelserver/server.js';
import type { RunningLookout } from '../../src/app.js';
import { tempDir } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

interface ModelView { key: string; name: string; version: number | null; label: string | null; default: boolean; state: { state: string }; answeredVersion: number | null; cameras: string[] }

function versionFolder(base: string, version: number): void {
  mkdirSync(path.join(base, String(version)), { recursive: true });
  writeFileSync(path.join(base, String(version), 'synthetic.json'), '{"latencyMs": 5, "capacity": 2}');
}

describe('cameras on different models of one model server', () => {
  let server: ModelServer;
  let lookout: RunningLookout;

  beforeAll(async () => {
    const root = tempDir('lookout-camera-models-');
    versionFolder(path.join(root, 'people'), 3);
    for (const v of [1, 2]) versionFolder(path.join(root, 'vehicles'), v);
    server = new ModelServer({
      modelConfig: {
        config: parseModelServerConfig(`model_config_list {
          config { name: "people" base_path: "${path.join(root, 'people')}" model_platform: "synthetic" }
          config { name: "vehicles" base_path: "${path.join(root, 'vehicles')}" model_platform: "synthetic" model_version_policy { all {} } version_labels { key: "stable" value: 1 } }
        }`),
      },
    });
    const port = await server.listen(0, '127.0.0.1');
    await server.loaded;
    lookout = await startTestLookout({
      modelServer: { address: `127.0.0.1:${port}`, modelName: 'people' },
      detection: { detectFps: 5 },
      cameras: [
        { id: 'door', url: BOTTLE_CLIP, loop: true, motion: { enabled: false } },
        { id: 'street', url: BOTTLE_CLIP, loop: true, motion: { enabled: false }, model: { name: 'vehicles', label: 'stable' } },
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await lookout?.close();
    await server?.close();
  });

  const models = async () => ((await (await fetch(`${lookout.url}/api/model`)).json()) as { models: ModelView[] }).models;

  it('sends each camera\'s frames to its own model, and /api/model lists the models with the version that answered', async () => {
    await until(async () => (await models()).every((m) => m.answeredVersion !== null), 20_000, 200);
    const byKey = Object.fromEntries((await models()).map((m) => [m.key, m]));
    expect(Object.keys(byKey).sort()).toEqual(['people', 'vehicles#stable']);
    expect(byKey.people).toMatchObject({ name: 'people', default: true, version: null, label: null, answeredVersion: 3, cameras: ['door'], state: { state: 'closed' } });
    expect(byKey['vehicles#stable']).toMatchObject({ name: 'vehicles', default: false, label: 'stable', answeredVersion: 1, cameras: ['street'], state: { state: 'closed' } });
    const ready = await fetch(`${lookout.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { ready: boolean; models: { model: string; ready: boolean }[] };
    expect(body.models.map((m) => [m.model, m.ready])).toEqual([['people', true], ['vehicles#stable', true]]);
    // Each camera detects, and the camera's settings say which model.
    for (const id of ['door', 'street']) expect(lookout.registry.view(id)?.schedule?.detected ?? 0).toBeGreaterThan(0);
    // Each camera's events carry the model and version that detected them.
    const eventsOf = async (camera: string) => ((await (await fetch(`${lookout.url}/api/events?camera=${camera}`)).json()) as { events: { model: string | null; modelVersion: number | null }[] }).events;
    await until(async () => (await eventsOf('door')).length > 0 && (await eventsOf('street')).length > 0, 20_000, 200);
    for (const e of await eventsOf('door')) expect([e.model, e.modelVersion]).toEqual(['people', 3]);
    for (const e of await eventsOf('street')) expect([e.model, e.modelVersion]).toEqual(['vehicles', 1]);
  }, 40_000);

  it('pauses only the camera whose model the server lacks, and /readyz names that model', async () => {
    const added = await fetch(`${lookout.url}/api/cameras`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: 'yard', url: BOTTLE_CLIP, loop: true, motion: { enabled: false }, model: { name: 'animals' } }) });
    expect(added.status).toBe(201);
    await until(async () => (await models()).find((m) => m.key === 'animals')?.state.state === 'open', 20_000, 200);
    const ready = await fetch(`${lookout.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { models: { model: string; ready: boolean; reason?: string; versions?: unknown }[] };
    const animals = body.models.find((m) => m.model === 'animals');
    expect(animals?.ready).toBe(false);
    expect(JSON.stringify(animals)).toMatch(/animals/);
    // The other models' cameras keep detecting while that breaker is open.
    const before = ['door', 'street'].map((id) => lookout.registry.view(id)?.schedule?.detected ?? 0);
    await until(() => ['door', 'street'].every((id, i) => (lookout.registry.view(id)?.schedule?.detected ?? 0) > before[i] + 3), 10_000, 100);
    expect((await models()).filter((m) => m.key !== 'animals').every((m) => m.state.state === 'closed')).toBe(true);
    // With its camera gone, the model is no longer asked about: ready again.
    expect((await fetch(`${lookout.url}/api/cameras/yard`, { method: 'DELETE' })).status).toBe(204);
    expect((await models()).map((m) => m.key).sort()).toEqual(['people', 'vehicles#stable']);
    expect((await fetch(`${lookout.url}/readyz`)).status).toBe(200);
  }, 40_000);

  it('refuses a camera model with both a version and a label, naming the key', async () => {
    const res = await fetch(`${lookout.url}/api/cameras`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: 'bad', url: BOTTLE_CLIP, model: { name: 'people', version: 3, label: 'stable' } }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/model: give version or label, not both/);
  });
});
