// TF Serving's Prometheus endpoint on lookout's model server: after real gRPC
// and REST calls (some failing), a scrape parsed as Prometheus text has TF
// Serving's metric names, labels, types and format (PARITY.md §4): a TYPE
// line per metric and no HELP, counts by status code name, latency
// histograms in µs with TF's bounds, recorded only for successes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfServingClient } from '../../src/tfserving/client.js';
import { RestTfServingClient } from '../../src/tfserving/rest-client.js';
import { formatBound, LATENCY_BOUNDS_US } from '../../src/modelserver/tf-metrics.js';
import { decodeFrame, BOTTLE_CLIP } from '../helpers/media.js';
import { startModelServer, synthetic, type StartedServer } from '../helpers/servers.js';

const PATH = '/monitoring/prometheus/metrics';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Prometheus' text format, as a scraper reads it: TYPE and HELP comments, samples with labels. */
function parsePrometheus(text: string): { types: Map<string, string>; help: string[]; samples: Sample[] } {
  const types = new Map<string, string>();
  const help: string[] = [];
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) { types.set(type[1], type[2]); continue; }
    if (line.startsWith('# HELP')) { help.push(line); continue; }
    const m = /^([^{\s]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { types, help, samples };
}

describe('TF Serving\'s Prometheus metrics', () => {
  let s: StartedServer;
  let rest: string;

  beforeAll(async () => {
    s = await startModelServer(synthetic({ monitoringPath: PATH }));
    rest = `http://127.0.0.1:${await s.server.listenRest(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await s?.server.close();
  });

  it('prints bounds as TF does, six significant digits', () => {
    expect(LATENCY_BOUNDS_US.slice(0, 4).map(formatBound)).toEqual(['10', '18', '32.4', '58.32']);
    expect(formatBound(10 * 1.8 ** 20)).toBe('1.27482e+06');
    expect(LATENCY_BOUNDS_US).toHaveLength(33);
  });

  it('counts gRPC and REST requests by model and status, and times the successful ones', async () => {
    const frame = decodeFrame(BOTTLE_CLIP, 0);
    const grpcClient = new TfServingClient({ address: s.address, modelName: 'detector' });
    const wrong = new TfServingClient({ address: s.address, modelName: 'nosuch' });
    const restClient = new RestTfServingClient({ baseUrl: rest, modelName: 'detector' });
    try {
      for (let i = 0; i < 3; i++) await grpcClient.detect([frame]);
      await expect(wrong.detect([frame])).rejects.toThrow();
      await restClient.detect([frame]);
      expect((await fetch(`${rest}/v1/models/detector`)).status).toBe(200);
      expect((await fetch(`${rest}/v1/models/nosuch`)).status).toBe(404);
    } finally {
      grpcClient.close();
      wrong.close();
      restClient.close();
    }
    const res = await fetch(`${rest}${PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    const { types, help, samples } = parsePrometheus(text);
    expect(help).toEqual([]);
    expect(Object.fromEntries(types)).toEqual({
      ':tensorflow:serving:request_count': 'counter',
      ':tensorflow:serving:request_latency': 'histogram',
      ':tensorflow:serving:runtime_latency': 'histogram',
    });
    const value = (name: string, labels: Record<string, string>) => samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
    // gRPC: 3 Predicts (the clients' GetModelMetadata is not counted, as in TF Serving, so the unknown model's
    // failure there is not either); REST: every request, the client's metadata GET, its predict, a status GET, a 404.
    expect(value(':tensorflow:serving:request_count', { model_name: 'detector', status: 'OK' })).toBe(6);
    expect(value(':tensorflow:serving:request_count', { model_name: 'nosuch', status: 'NOT_FOUND' })).toBe(1);
    const latency = (labels: Record<string, string>) => samples.filter((x) => x.name === ':tensorflow:serving:request_latency_bucket' && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    const grpcBuckets = latency({ model_name: 'detector', API: 'Predict', entrypoint: 'GRPC' });
    expect(grpcBuckets.map((b) => b.labels.le)).toEqual([...LATENCY_BOUNDS_US.map(formatBound), '+Inf']);
    // Cumulative, ending at the count; µs, so the synthetic model's 5 ms land above 5000.
    expect(grpcBuckets.map((b) => b.value)).toEqual([...grpcBuckets.map((b) => b.value)].sort((a, b) => a - b));
    expect(grpcBuckets.at(-1)?.value).toBe(3);
    expect(grpcBuckets.find((b) => b.labels.le === '3570.47')?.value).toBe(0);
    expect(value(':tensorflow:serving:request_latency_count', { model_name: 'detector', API: 'Predict', entrypoint: 'GRPC' })).toBe(3);
    expect(value(':tensorflow:serving:request_latency_sum', { model_name: 'detector', API: 'Predict', entrypoint: 'GRPC' })).toBeGreaterThan(3 * 5_000);
    expect(value(':tensorflow:serving:request_latency_count', { model_name: 'detector', API: 'predict', entrypoint: 'REST' })).toBe(1);
    expect(value(':tensorflow:serving:request_latency_count', { model_name: 'detector', API: '', entrypoint: 'REST' })).toBe(2);
    expect(value(':tensorflow:serving:runtime_latency_count', { model_name: 'detector', API: 'Predict', runtime: 'TF1' })).toBe(4);
  });
});
