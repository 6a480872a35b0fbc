// Server-side batching on lookout's model server, over real gRPC, with the
// synthetic model (a call of N frames takes a + b·N ms, one call at a time,
// as a GPU would): requests of different clients are merged into one model
// call and answered each with its own frames; TF Serving's refusals (a
// request larger than a batch, a full queue) and padding to allowed sizes.
import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { TfServingClient } from '../../src/tfserving/client.js';
import { TfServingError } from '../../src/tfserving/errors.js';
import type { BatchingOptions } from '../../src/modelserver/batching.js';
import { decodeFrame, BOTTLE_CLIP } from '../helpers/media.js';
import { startModelServer, synthetic, type StartedServer } from '../helpers/servers.js';

const frame = decodeFrame(BOTTLE_CLIP, 0);
const started: { s: StartedServer; clients: TfServingClient[] }[] = [];

async function serverWith(batching: BatchingOptions | undefined, clients: number) {
  const s = await startModelServer(synthetic({ latencyMs: 60, perFrameMs: 5, capacity: 1, maxQueue: 64, ...(batching ? { batching } : {}) }));
  const list = Array.from({ length: clients }, () => new TfServingClient({ address: s.address, modelName: 'detector' }));
  await Promise.all(list.map((c) => c.signature()));
  started.push({ s, clients: list });
  return { s, clients: list };
}

afterEach(async () => {
  for (const { s, clients } of started.splice(0)) {
    for (const c of clients) c.close();
    await s.server.close();
  }
});

const batching = (over: Partial<BatchingOptions> = {}): BatchingOptions => ({ maxBatchSize: 8, batchTimeoutMicros: 20_000, maxEnqueuedBatches: 10, numBatchThreads: 1, allowedBatchSizes: [], ...over });

describe('server-side batching', () => {
  it('merges 8 clients\' single frames into few model calls, each client answered with its own', async () => {
    const { s, clients } = await serverWith(batching(), 8);
    const answers = await Promise.all(clients.map((c, i) => c.detect(i === 0 ? [frame, frame] : [frame])));
    expect(answers.map((a) => a.detections.length)).toEqual([2, 1, 1, 1, 1, 1, 1, 1]);
    expect(answers.every((a) => a.detections.every((d) => d.some((x) => x.label === 'person')))).toBe(true);
    const stats = s.server.batchingStats();
    expect(stats?.tasks).toBe(8);
    expect(stats?.frames).toBe(9);
    // Nine frames in batches of at most 8: two calls, or a few more when clients' requests trickle in.
    expect(stats?.batches).toBeGreaterThanOrEqual(2);
    expect(stats?.batches).toBeLessThanOrEqual(4);
  });

  it('refuses a request larger than a batch with INVALID_ARGUMENT, as TF Serving does', async () => {
    const { clients } = await serverWith(batching({ maxBatchSize: 2 }), 1);
    const err = await clients[0].detect([frame, frame, frame]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TfServingError);
    expect((err as TfServingError).code).toBe(status.INVALID_ARGUMENT);
    expect((err as TfServingError).details).toBe('Task size 3 is larger than maximum input batch size 2');
  });

  it('answers UNAVAILABLE at once when max_enqueued_batches batches wait, and serves the rest', async () => {
    const { clients } = await serverWith(batching({ maxBatchSize: 1, maxEnqueuedBatches: 1, batchTimeoutMicros: 0 }), 3);
    const first = clients[0].detect([frame]);
    await new Promise((r) => setTimeout(r, 15));
    const second = clients[1].detect([frame]);
    await new Promise((r) => setTimeout(r, 15));
    const t0 = Date.now();
    const err = await clients[2].detect([frame]).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(60);
    expect((err as TfServingError).code).toBe(status.UNAVAILABLE);
    expect((err as TfServingError).details).toBe('The batch scheduling queue to which this task was submitted is full; currently 1 batches enqueued and max_enqueued_batches is 1');
    expect((await first).detections).toHaveLength(1);
    expect((await second).detections).toHaveLength(1);
  });

  it('refuses at once what does not fit even when the requests come together (queue bound checked when they join)', async () => {
    const { s, clients } = await serverWith(batching({ maxBatchSize: 1, maxEnqueuedBatches: 1, batchTimeoutMicros: 0 }), 6);
    const results = await Promise.allSettled(clients.map((c) => c.detect([frame])));
    const refused = results.filter((r) => r.status === 'rejected');
    // One runs, one waits in the one batch allowed; the rest are refused.
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused.every((r) => r.status === 'rejected' && (r.reason as TfServingError).code === status.UNAVAILABLE)).toBe(true);
    expect(s.server.batchingStats()?.refused).toBe(refused.length);
  });

  it('pads a batch up to the next allowed size and drops the padding\'s answers', async () => {
    const { s, clients } = await serverWith(batching({ maxBatchSize: 8, allowedBatchSizes: [4, 8] }), 3);
    const answers = await Promise.all(clients.map((c) => c.detect([frame])));
    expect(answers.map((a) => a.detections.length)).toEqual([1, 1, 1]);
    const stats = s.server.batchingStats();
    expect(stats?.frames).toBe(3);
    // Every batch went to the model at an allowed size: 3 frames in one batch are padded to 4, in two or three to 4 each.
    expect((stats?.frames ?? 0) + (stats?.padded ?? 0)).toBe(4 * (stats?.batches ?? 0));
  });

  it('runs a whole batch on the real CenterNet, whose pool counts frames: 12 clients in a batch of up to 32', async () => {
    const real = await startModelServer({ model: 'centernet', workers: 2, batching: batching({ maxBatchSize: 32, batchTimeoutMicros: 5_000, numBatchThreads: 2 }) });
    const clients = Array.from({ length: 12 }, () => new TfServingClient({ address: real.address, modelName: 'detector', minScore: 0.3 }));
    started.push({ s: real, clients });
    await Promise.all(clients.map((c) => c.signature()));
    const answers = await Promise.all(clients.map((c) => c.detect([frame])));
    expect(answers.every((a) => a.detections[0].some((d) => d.label === 'bottle'))).toBe(true);
    expect(real.server.batchingStats()?.tasks).toBe(12);
  }, 90_000);
});
