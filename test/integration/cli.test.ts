// The CLI as users and scripts drive it, in real child processes.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TfServingClient } from '../../src/tfserving/client.js';
import { BOTTLE_CLIP, decodeFrameJpeg } from '../helpers/media.js';
import { startCli, type RunningChild } from '../helpers/child.js';
import { tempDir } from '../helpers/cleanup.js';

const running: RunningChild[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop('SIGKILL');
});
function cli(args: string[]): RunningChild {
  const c = startCli(args);
  running.push(c);
  return c;
}
function tempConfig(text: string): string {
  const file = path.join(tempDir('lookout-cli-'), 'lookout.yaml');
  writeFileSync(file, text);
  return file;
}

describe('lookout model-server', () => {
  it('serves TF Serving flags, prints its port, and exits 0 on SIGTERM', async () => {
    const c = cli(['model-server', '--port=0', '--host', '127.0.0.1', '--model_name', 'ssd', '--model', 'synthetic', '--latency-ms', '1', '--capacity', '2']);
    const [, port] = await c.waitFor(/gRPC listening on 127\.0\.0\.1:(\d+), model "ssd" version 1/);
    const client = new TfServingClient({ address: `127.0.0.1:${port}`, modelName: 'ssd' });
    try {
      await client.waitUntilReady(10_000);
      const { detections } = await client.detect([{ kind: 'rgb', width: 2, height: 2, data: new Uint8Array(12) }]);
      expect(detections[0].map((d) => d.label)).toEqual(['person', 'bottle', 'chair']);
    } finally {
      client.close();
    }
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(c.stderr()).toMatch(/SIGTERM: shutting down/);
  });

  it('refuses bad flags with exit code 2 and the flag named', async () => {
    const bad = cli(['model-server', '--port', 'eighty']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--port: expected an integer from 0 to 65535, got "eighty"/);
    const unknown = cli(['model-server', '--modle', 'x']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toMatch(/Unknown option '--modle'/);
    const base = cli(['model-server', '--model_base_path', '/nonexistent/models']);
    expect(await base.exited).toBe(2);
    expect(base.stderr()).toMatch(/--model_base_path \/nonexistent\/models cannot be read/);
  });
});

describe('lookout serve', () => {
  it('with no config runs the embedded real detector and answers over HTTP', async () => {
    const c = cli(['serve', '--port', '0', '--host', '127.0.0.1']);
    const [, url] = await c.waitFor(/lookout listening on (http:\/\/127\.0\.0\.1:\d+)/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // Ready once the model is AVAILABLE.
    let ready: Response | undefined;
    for (let i = 0; i < 100; i++) {
      ready = await fetch(`${url}/readyz`);
      if (ready.status === 200) break;
      expect(ready.status).toBe(503);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready?.status).toBe(200);
    const model = (await (await fetch(`${url}/api/model`)).json()) as { embedded: boolean; signature: { inputDtype: string } };
    expect(model.embedded).toBe(true);
    expect(model.signature.inputDtype).toBe('DT_UINT8');

    const res = await fetch(`${url}/api/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: decodeFrameJpeg(BOTTLE_CLIP, 0) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { width: number; height: number; detections: { label: string; score: number }[] };
    expect(body).toMatchObject({ width: 640, height: 360 });
    expect(body.detections.filter((d) => d.label === 'bottle' && d.score >= 0.3).length).toBeGreaterThanOrEqual(2);

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<title>lookout/);

    const notImage = await fetch(`${url}/api/detect`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(notImage.status).toBe(415);
    expect(((await notImage.json()) as { error: string }).error).toMatch(/Content-Type image\/jpeg/);
    const broken = await fetch(`${url}/api/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: Buffer.from('not a jpeg') });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toMatch(/cannot decode the image/);
    const missing = await fetch(`${url}/api/nothing`);
    expect(missing.status).toBe(404);

    expect(await c.stop('SIGTERM')).toBe(0);
  });

  it('uses a remote model server from the config, and reports it unready while it is down', async () => {
    const ms = cli(['model-server', '--port', '0', '--host', '127.0.0.1', '--model', 'synthetic']);
    const [, port] = await ms.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    const config = tempConfig(`modelServer:\n  address: 127.0.0.1:${port}\n  modelName: detector\n`);
    const c = cli(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1']);
    const [, url] = await c.waitFor(/lookout listening on (http:\/\/\S+)/);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const model = (await (await fetch(`${url}/api/model`)).json()) as { embedded: boolean; address: string };
    expect(model).toMatchObject({ embedded: false, address: `127.0.0.1:${port}` });
    await ms.stop('SIGTERM');
    const down = await fetch(`${url}/readyz`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { ready: boolean }).ready).toBe(false);
    expect(await c.stop('SIGTERM')).toBe(0);
  });

  it('stops at start-up on a config mistake, naming the key', async () => {
    const config = tempConfig('modelServer:\n  adress: localhost:8500\n');
    const c = cli(['serve', '--config', config]);
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toContain(`${config}: modelServer.adress: unknown key`);
  });

  it('names an unknown command', async () => {
    const c = cli(['detekt']);
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toMatch(/unknown command "detekt"/);
  });
});
