// `lookout model-server` started as a TF Serving deploy starts tensorflow_model_server:
// the same flags and the same text-format files (a batching parameters file,
// a monitoring config file), in a real child process. A file that does not
// parse stops start-up naming the flag, the line and the field.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TfServingClient } from '../../src/tfserving/client.js';
import { startCli, type RunningChild } from '../helpers/child.js';
import { tempDir } from '../helpers/cleanup.js';

const running: RunningChild[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop('SIGKILL');
});

function files(contents: Record<string, string>): Record<string, string> {
  const dir = tempDir('lookout-tfs-');
  return Object.fromEntries(Object.entries(contents).map(([name, text]) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return [name, file];
  }));
}

describe('lookout model-server with TF Serving\'s deploy files', () => {
  it('takes --enable_batching=true, a batching parameters file and a monitoring config file, and serves the metrics on the REST port', async () => {
    const f = files({
      'batching.config': 'max_batch_size { value: 8 }\nbatch_timeout_micros { value: 2000 }\nmax_enqueued_batches { value: 100 }\nnum_batch_threads { value: 1 }\n',
      'monitoring.config': 'prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }\n',
    });
    const c = startCli(['model-server', '--port=0', '--rest_api_port=0', '--host=127.0.0.1', '--model=synthetic', '--latency-ms=20', '--capacity=1',
      '--enable_batching=true', `--batching_parameters_file=${f['batching.config']}`, `--monitoring_config_file=${f['monitoring.config']}`]);
    running.push(c);
    const [, port] = await c.waitFor(/gRPC listening on 127\.0\.0\.1:(\d+)/);
    const [, restPort] = await c.waitFor(/REST listening on 127\.0\.0\.1:(\d+)/);
    const clients = Array.from({ length: 4 }, () => new TfServingClient({ address: `127.0.0.1:${port}`, modelName: 'detector' }));
    try {
      await clients[0].waitUntilReady(10_000);
      const frame = { kind: 'rgb' as const, width: 2, height: 2, data: new Uint8Array(12) };
      const answers = await Promise.all(clients.map((cl) => cl.detect([frame])));
      expect(answers.every((a) => a.detections[0].length === 3)).toBe(true);
    } finally {
      for (const cl of clients) cl.close();
    }
    const metrics = await (await fetch(`http://127.0.0.1:${restPort}/monitoring/prometheus/metrics`)).text();
    expect(metrics).toContain('# TYPE :tensorflow:serving:request_count counter');
    expect(metrics).toContain(':tensorflow:serving:request_count{model_name="detector",status="OK"} 4');
    expect(c.stderr()).toMatch(/batching up to 8 frames/);
    expect(await c.stop('SIGTERM')).toBe(0);
  });

  it('stops start-up with exit code 2 naming the flag, the line and the field of a bad file, and refuses a batching file without --enable_batching', async () => {
    const f = files({ 'batching.config': 'max_batch_size { value: 8 }\nmax_batch_sise { value: 2 }\n', 'ok.config': 'max_batch_size { value: 8 }\n' });
    const bad = startCli(['model-server', '--port=0', '--model=synthetic', '--enable_batching', `--batching_parameters_file=${f['batching.config']}`]);
    running.push(bad);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--batching_parameters_file: .*2:1: .*no field named "max_batch_sise"/);
    const without = startCli(['model-server', '--port=0', '--model=synthetic', '--enable_batching=false', `--batching_parameters_file=${f['ok.config']}`]);
    running.push(without);
    expect(await without.exited).toBe(2);
    expect(without.stderr()).toMatch(/server_options\.batching_parameters_file is set without setting server_options\.enable_batching to true\./);
  });

  it('starts from a whole TF Serving deploy (model config, batching and monitoring files, the same flags) and serves each model by name', async () => {
    const dir = tempDir('lookout-deploy-');
    for (const [model, version] of [['people', 3], ['vehicles', 1]] as const) {
      mkdirSync(path.join(dir, model, String(version)), { recursive: true });
      writeFileSync(path.join(dir, model, String(version), 'synthetic.json'), '{"latencyMs": 5, "capacity": 2}');
    }
    const f = files({
      'models.config': `model_config_list {\n  config { name: "people" base_path: "${path.join(dir, 'people')}" model_platform: "synthetic" }\n  config { name: "vehicles" base_path: "${path.join(dir, 'vehicles')}" model_platform: "synthetic" }\n}\n`,
      'batching.config': 'max_batch_size { value: 4 }\nbatch_timeout_micros { value: 1000 }\nnum_batch_threads { value: 2 }\n',
      'monitoring.config': 'prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }\n',
    });
    const c = startCli(['model-server', '--port=0', '--rest_api_port=0', '--host=127.0.0.1',
      `--model_config_file=${f['models.config']}`, '--model_config_file_poll_wait_seconds=60', '--file_system_poll_wait_seconds=1',
      '--enable_batching=true', `--batching_parameters_file=${f['batching.config']}`, `--monitoring_config_file=${f['monitoring.config']}`]);
    running.push(c);
    const [, port] = await c.waitFor(/gRPC listening on 127\.0\.0\.1:(\d+), models people, vehicles from/);
    const [, restPort] = await c.waitFor(/REST listening on 127\.0\.0\.1:(\d+)/);
    const frame = { kind: 'rgb' as const, width: 2, height: 2, data: new Uint8Array(12) };
    for (const [model, version] of [['people', 3], ['vehicles', 1]] as const) {
      const client = new TfServingClient({ address: `127.0.0.1:${port}`, modelName: model });
      try {
        await client.waitUntilReady(10_000);
        expect((await client.detect([frame])).modelVersion).toBe(version);
      } finally {
        client.close();
      }
    }
    const metrics = await (await fetch(`http://127.0.0.1:${restPort}/monitoring/prometheus/metrics`)).text();
    expect(metrics).toContain(':tensorflow:serving:request_count{model_name="people",status="OK"} 1');
    expect(metrics).toContain(':tensorflow:serving:request_count{model_name="vehicles",status="OK"} 1');
    expect(await c.stop('SIGTERM')).toBe(0);
  });
});
