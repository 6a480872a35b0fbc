// `lookout model-server` with a TF Serving model config file: several
// models, each version on disk its own detector ("synthetic" platform:
// fast, with a version folder's synthetic.json), versions picked up from
// disk and swapped under load with no failed call, labels, status through the
// swaps (END kept), HandleReloadConfigRequest, and the file re-read by the CLI.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parseModelServerConfig } from '../../src/modelserver/model-config-file.js';
import { ModelServer } from '../../src/modelserver/server.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import { InvalidRequestError, ModelNotFoundError, TfServingError } from '../../src/tfserving/errors.js';
import { tfServingProtos } from '../../src/tfserving/protos.js';
import type { ReloadConfigRequest } from '../../src/tfserving/generated/tensorflow/serving/ReloadConfigRequest.js';
import type { ReloadConfigResponse__Output } from '../../src/tfserving/generated/tensorflow/serving/ReloadConfigResponse.js';
import { startCli, type RunningChild } from '../helpers/child.js';
import { tempDir } from '../helpers/cleanup.js';
import { until } from '../helpers/wait.js';

const FRAME = { kind: 'rgb' as const, width: 4, height: 4, data: new Uint8Array(48) };

/** A version folder of the synthetic platform, written under a temporary name and renamed in, as TF's docs advise. */
function addVersion(base: string, version: number, latencyMs = 5): void {
  mkdirSync(base, { recursive: true });
  const tmp = path.join(base, `tmp-${version}`);
  mkdirSync(tmp);
  writeFileSync(path.join(tmp, 'synthetic.json'), JSON.stringify({ latencyMs, capacity: 4 }));
  renameSync(tmp, path.join(base, String(version)));
}

function configText(models: { name: string; base: string; policy?: string; labels?: Record<string, number>; platform?: string }[]): string {
  const entries = models.map((m) => [
    '  config {',
    `    name: "${m.name}"`,
    `    base_path: "${m.base}"`,
    `    model_platform: "${m.platform ?? 'synthetic'}"`,
    ...(m.policy ? [`    model_version_policy { ${m.policy} }`] : []),
    ...Object.entries(m.labels ?? {}).map(([k, v]) => `    version_labels { key: "${k}" value: ${v} }`),
    '  }',
  ].join('\n'));
  return `model_config_list {\n${entries.join('\n')}\n}\n`;
}

const servers: ModelServer[] = [];
const clients: TfServingClient[] = [];
const children: RunningChild[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
  for (const c of children.splice(0)) await c.stop('SIGKILL');
});

async function serve(text: string, fileSystemPollSeconds = 0.2): Promise<{ server: ModelServer; address: string; rest: string }> {
  const server = new ModelServer({ modelConfig: { config: parseModelServerConfig(text) }, fileSystemPollSeconds, maxLoadRetries: 0 });
  servers.push(server);
  const port = await server.listen(0, '127.0.0.1');
  const restPort = await server.listenRest(0, '127.0.0.1');
  await server.loaded;
  return { server, address: `127.0.0.1:${port}`, rest: `http://127.0.0.1:${restPort}` };
}

function client(address: string, modelName: string, choice: { version?: number; versionLabel?: string } = {}): TfServingClient {
  const c = new TfServingClient({ address, modelName, ...choice });
  clients.push(c);
  return c;
}

function reload(address: string, request: ReloadConfigRequest): Promise<ReloadConfigResponse__Output> {
  const Ctor = tfServingProtos().model.tensorflow.serving.ModelService;
  const c = new Ctor(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    c.HandleReloadConfigRequest(request, (err, res) => {
      c.close();
      if (err) reject(err);
      else resolve(res as ReloadConfigResponse__Output);
    });
  });
}

const statusOf = async (c: TfServingClient) => (await c.modelStatus()).map((s) => `${s.version} ${s.state}`);

describe('lookout model-server with a model config file', () => {
  it('serves each model\'s newest version, and swaps in a new one under load from several clients with no failed call', async () => {
    const root = tempDir('lookout-models-');
    addVersion(path.join(root, 'person'), 1);
    addVersion(path.join(root, 'vehicle'), 1);
    addVersion(path.join(root, 'vehicle'), 2);
    const { address, rest } = await serve(configText([{ name: 'person', base: path.join(root, 'person') }, { name: 'vehicle', base: path.join(root, 'vehicle') }]));
    const person = client(address, 'person');
    expect(await statusOf(person)).toEqual(['1 AVAILABLE']);
    // latest { num_versions: 1 }: version 1 of vehicle is never loaded, so never seen.
    expect(await statusOf(client(address, 'vehicle'))).toEqual(['2 AVAILABLE']);
    expect((await client(address, 'vehicle').detect([FRAME])).modelVersion).toBe(2);

    // Six clients calling without pause while version 2 of person arrives on disk.
    const load = Array.from({ length: 6 }, () => client(address, 'person'));
    const answered: number[][] = load.map(() => []);
    const failures: string[] = [];
    let stop = false;
    const loops = load.map(async (c, i) => {
      while (!stop) {
        try {
          answered[i].push((await c.detect([FRAME])).modelVersion);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    await until(() => answered.every((a) => a.length > 5), 10_000);
    // Requests that fail after their version was looked up (a bad output_filter over gRPC, an unknown
    // signature over REST) give their hold back: otherwise version 1 could never unload below.
    await expect(person.predict({ model_spec: { name: 'person' }, inputs: {}, output_filter: ['nope'] })).rejects.toThrow();
    const badSignature = await fetch(`${rest}/v1/models/person:predict`, { method: 'POST', body: JSON.stringify({ signature_name: 'nope', instances: [[[[0, 0, 0]]]] }) });
    expect(badSignature.status).toBe(400);
    addVersion(path.join(root, 'person'), 2);
    await until(async () => (await statusOf(person)).join() === '2 AVAILABLE,1 END', 15_000, 100);
    const afterSwap = answered.map((a) => a.length);
    await until(() => answered.every((a, i) => a.length > afterSwap[i] + 5), 10_000);
    stop = true;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    for (const a of answered) {
      // Each client was served by version 1, then by version 2, never by 1 again after 2.
      expect(a[0]).toBe(1);
      expect(a[a.length - 1]).toBe(2);
      expect(a.slice(a.indexOf(2))).not.toContain(1);
    }
    // A version folder removed from disk: latest falls back to the one below, loaded before 2 goes.
    addVersion(path.join(root, 'person'), 3);
    await until(async () => (await statusOf(person))[0] === '3 AVAILABLE', 15_000, 100);
    rmSync(path.join(root, 'person', '3'), { recursive: true });
    await until(async () => (await statusOf(person)).join() === '3 END,2 AVAILABLE,1 END', 15_000, 100);
  }, 60_000);

  it('routes by version and label, over gRPC and REST, with TF Serving\'s errors', async () => {
    const root = tempDir('lookout-models-');
    for (const v of [1, 2]) addVersion(path.join(root, 'person'), v);
    const { address, rest } = await serve(configText([{ name: 'person', base: path.join(root, 'person'), policy: 'specific { versions: 1 versions: 2 }', labels: { stable: 1, canary: 2 } }]));
    expect((await client(address, 'person', { versionLabel: 'stable' }).detect([FRAME])).modelVersion).toBe(1);
    expect((await client(address, 'person', { versionLabel: 'canary' }).detect([FRAME])).modelVersion).toBe(2);
    expect((await client(address, 'person', { version: 1 }).detect([FRAME])).modelVersion).toBe(1);
    expect((await client(address, 'person').detect([FRAME])).modelVersion).toBe(2);
    await expect(client(address, 'person', { versionLabel: 'beta' }).detect([FRAME])).rejects.toThrow(InvalidRequestError);
    await expect(client(address, 'person', { versionLabel: 'beta' }).detect([FRAME])).rejects.toThrow('Unrecognized servable version label: beta');
    await expect(client(address, 'person', { version: 3 }).detect([FRAME])).rejects.toThrow('Servable not found for request: Specific(person, 3)');
    await expect(client(address, 'vehicle').detect([FRAME])).rejects.toThrow(ModelNotFoundError);

    const body = JSON.stringify({ instances: [[[[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]]]] });
    const post = (p: string) => fetch(`${rest}${p}`, { method: 'POST', body });
    expect((await post('/v1/models/person/labels/canary:predict')).status).toBe(200);
    const unknown = await post('/v1/models/person/labels/beta:predict');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ error: 'Unrecognized servable version label: beta' });
    const status = await (await fetch(`${rest}/v1/models/person`)).json() as { model_version_status: { version: string; state: string }[] };
    expect(status.model_version_status.map((s) => `${s.version} ${s.state}`)).toEqual(['2 AVAILABLE', '1 AVAILABLE']);
    const meta = await (await fetch(`${rest}/v1/models/person/labels/stable/metadata`)).json() as { model_spec: { version: string } };
    expect(meta.model_spec.version).toBe('1');
  }, 30_000);

  it('applies HandleReloadConfigRequest: models added and removed, labels moved; refuses bad configs with TF\'s codes and words', async () => {
    const root = tempDir('lookout-models-');
    for (const v of [1, 2]) addVersion(path.join(root, 'person'), v);
    addVersion(path.join(root, 'vehicle'), 1);
    addVersion(path.join(root, 'third'), 4);
    const person = { name: 'person', base_path: path.join(root, 'person'), model_platform: 'synthetic', model_version_policy: { all: {} } };
    const { address } = await serve(configText([{ name: 'person', base: path.join(root, 'person'), policy: 'all {}' }, { name: 'vehicle', base: path.join(root, 'vehicle') }]));

    const ok = await reload(address, { config: { model_config_list: { config: [{ ...person, version_labels: { stable: 1 } }, { name: 'third', base_path: path.join(root, 'third'), model_platform: 'synthetic' }] } } });
    expect(ok.status?.error_code).toBe('OK');
    // Returned once the added model is AVAILABLE; the removed one has ended.
    expect(await statusOf(client(address, 'third'))).toEqual(['4 AVAILABLE']);
    expect(await statusOf(client(address, 'vehicle'))).toEqual(['1 END']);
    await expect(client(address, 'vehicle').detect([FRAME])).rejects.toThrow('Servable not found for request: Latest(vehicle)');
    expect((await client(address, 'person', { versionLabel: 'stable' }).detect([FRAME])).modelVersion).toBe(1);

    const refused = async (request: ReloadConfigRequest): Promise<TfServingError | grpc.ServiceError> => {
      try {
        await reload(address, request);
      } catch (err) {
        return err as grpc.ServiceError;
      }
      throw new Error('the reload was accepted');
    };
    const relative = await refused({ config: { model_config_list: { config: [{ ...person, base_path: 'models/person' }] } } });
    expect([relative.code, relative.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'Expected model person to have an absolute path or URI; got base_path()=models/person']);
    const platform = await refused({ config: { model_config_list: { config: [{ ...person, name: 'x', model_platform: 'tensorflow_saved' }] } } });
    expect([platform.code, platform.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'Model x requests unsupported platform tensorflow_saved']);
    const label = await refused({ config: { model_config_list: { config: [{ ...person, version_labels: { stable: 9 } }] } } });
    expect([label.code, label.details]).toEqual([grpc.status.FAILED_PRECONDITION, 'Request to assign label to version 9 of model person, which is not currently available for inference']);
    const custom = await refused({ config: { custom_model_config: { type_url: 'x', value: Buffer.alloc(0) } } });
    expect([custom.code, custom.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported']);
    // None of the refused configs changed what is served.
    expect((await client(address, 'person', { versionLabel: 'stable' }).detect([FRAME])).modelVersion).toBe(1);
    expect(await statusOf(client(address, 'third'))).toEqual(['4 AVAILABLE']);

    // The config in effect again is nothing to do, even with its labelled version gone from disk meanwhile.
    const current = { config: { model_config_list: { config: [{ ...person, version_labels: { stable: 1 } }, { name: 'third', base_path: path.join(root, 'third'), model_platform: 'synthetic' }] } } };
    rmSync(path.join(root, 'person', '1'), { recursive: true });
    const watch = client(address, 'person');
    await until(async () => (await statusOf(watch)).includes('1 END'), 10_000, 100);
    expect((await reload(address, current)).status?.error_code).toBe('OK');
    // A model added whose version cannot load: ReloadConfig's UNKNOWN, in its words.
    const broken = path.join(root, 'broken', '1');
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, 'synthetic.json'), '{"latencyMs": "soon"}');
    const failed = await refused({ config: { model_config_list: { config: [person, { name: 'third', base_path: path.join(root, 'third'), model_platform: 'synthetic' }, { name: 'broken', base_path: path.join(root, 'broken'), model_platform: 'synthetic' }] } } });
    expect(failed.code).toBe(grpc.status.UNKNOWN);
    expect(failed.details).toMatch(/^1 model\(s\) did not become available: \{\{\{name: broken version: 1\} due to error: .*latencyMs must be a number/);
  }, 30_000);

  it('ends a reload still waiting for its models when the server closes, with UNAVAILABLE', async () => {
    const root = tempDir('lookout-models-');
    addVersion(path.join(root, 'a'), 1);
    mkdirSync(path.join(root, 'empty'));
    const { server, address } = await serve(configText([{ name: 'a', base: path.join(root, 'a') }]));
    // A model with no version folder keeps ReloadConfig waiting, as in TF.
    const waiting = reload(address, { config: { model_config_list: { config: [{ name: 'a', base_path: path.join(root, 'a'), model_platform: 'synthetic' }, { name: 'e', base_path: path.join(root, 'empty'), model_platform: 'synthetic' }] } } });
    const outcome = waiting.then(() => 'answered', (err: grpc.ServiceError) => err.code);
    await new Promise((r) => setTimeout(r, 300));
    await server.close(1_000);
    expect(await outcome).toBe(grpc.status.UNAVAILABLE);
  }, 30_000);

  it('re-reads the file every --model_config_file_poll_wait_seconds, and stops start-up on a bad file naming the flag', async () => {
    const root = tempDir('lookout-models-');
    addVersion(path.join(root, 'a'), 1);
    addVersion(path.join(root, 'b'), 1);
    const file = path.join(tempDir('lookout-config-'), 'models.config');
    writeFileSync(file, configText([{ name: 'a', base: path.join(root, 'a') }]));
    const c = startCli(['model-server', '--port=0', '--host=127.0.0.1', `--model_config_file=${file}`, '--model_config_file_poll_wait_seconds=1', '--file_system_poll_wait_seconds=1']);
    children.push(c);
    const [, port] = await c.waitFor(/gRPC listening on 127\.0\.0\.1:(\d+), models a from/);
    const address = `127.0.0.1:${port}`;
    const a = client(address, 'a');
    const b = client(address, 'b');
    await a.waitUntilReady(10_000);
    writeFileSync(file, configText([{ name: 'b', base: path.join(root, 'b') }]));
    await until(async () => (await statusOf(a)).join() === '1 END', 10_000, 200);
    await b.waitUntilReady(10_000);
    // A file that stops parsing leaves the config in effect.
    writeFileSync(file, 'model_config_list { config { name: "b" base_pth: "/x" } }\n');
    await until(() => /Failed to read ModelServerConfig file: .*base_pth/.test(c.stderr()), 10_000);
    expect((await b.detect([FRAME])).modelVersion).toBe(1);
    expect(await c.stop('SIGTERM')).toBe(0);

    const bad = startCli(['model-server', '--port=0', `--model_config_file=${file}`]);
    children.push(bad);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--model_config_file: Error parsing text-format tensorflow\.serving\.ModelServerConfig: 1:\d+: .*base_pth/);
  }, 60_000);
});
