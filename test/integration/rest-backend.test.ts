// `modelServer.address: http://…`: lookout's cameras detected through TF
// Serving's REST API, here the embedded server's (real HTTP on port 0).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/schema.js';
import { parseConfig } from '../../src/config/parse.js';
import { ModelServer } from '../../src/modelserver/server.js';
import { RestTfServingClient } from '../../src/tfserving/rest-client.js';
import { onCleanup } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

describe('REST model server', () => {
  it('detects a camera through TF Serving\'s REST API, and reports the server down when it goes', async () => {
    const server = new ModelServer({ model: 'synthetic', latencyMs: 5, capacity: 2 });
    const port = await server.listenRest(0, '127.0.0.1');
    onCleanup(() => server.close());
    const lookout = await startTestLookout({
      modelServer: { address: `http://127.0.0.1:${port}`, modelName: 'detector' },
      detection: { detectFps: 5, liveFps: 0, minScore: 0.3 },
      cameras: [{ id: 'shelf', url: BOTTLE_CLIP, loop: true }],
    });
    expect(lookout.client).toBeInstanceOf(RestTfServingClient);
    await until(() => (lookout.registry.latestDetections('shelf')?.detections.length ?? 0) === 3, 30_000);
    expect(lookout.registry.latestDetections('shelf')?.detections.map((d) => d.label)).toEqual(['person', 'bottle', 'chair']);
    expect((await fetch(`${lookout.url}/readyz`)).status).toBe(200);

    await server.close();
    await until(async () => (await fetch(`${lookout.url}/readyz`)).status === 503, 15_000);
    await until(() => lookout.registry.modelState().state === 'open', 15_000);
  });

  it('takes one http(s):// address alone, with no path', () => {
    expect(parseConfig({ modelServer: { address: 'http://tfs:8501' } }).modelServer.address).toEqual(['http://tfs:8501']);
    expect(() => parseConfig({ modelServer: { address: ['http://a:8501', 'b:8500'] } })).toThrow(ConfigError);
    expect(() => parseConfig({ modelServer: { address: 'http://tfs:8501/v1/models/x' } })).toThrow(/no path/);
  });
});
