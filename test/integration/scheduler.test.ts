// The scheduler against the synthetic model server, over real gRPC.
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler, type SchedulerModel, type DetectionResult, type SchedulerOptions } from '../../src/schedule/scheduler.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import type { Frame, ImageInput } from '../../src/types.js';
import { BOTTLE_CLIP, PERSON_CLIP, decodeFrame } from '../helpers/media.js';
import { startModelServer, synthetic, type StartedServer } from '../helpers/servers.js';
import type { ModelServerOptions } from '../../src/modelserver/server.js';
import { sleep, until } from '../helpers/wait.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** lookout's client, counting the Predict calls it has in flight at once. */
class CountingModel implements SchedulerModel {
  inFlight = 0;
  peak = 0;
  calls = 0;
  constructor(readonly client: TfServingClient) {}
  async detect(images: readonly ImageInput[], options?: { signal?: AbortSignal }) {
    this.inFlight++;
    this.calls++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      return await this.client.detect(images, options);
    } finally {
      this.inFlight--;
    }
  }
  ready() {
    return this.client.ready();
  }
}

async function setup(server: Partial<ModelServerOptions>, options: Partial<SchedulerOptions>) {
  const s = await startModelServer(synthetic(server));
  const client = new TfServingClient({ address: s.address, modelName: 'detector', deadlineMs: 2_000 });
  const backend = new CountingModel(client);
  const results: DetectionResult[] = [];
  const states: string[] = [];
  const scheduler = new Scheduler(backend, (r) => results.push(r), options, (st) => states.push(st.state));
  cleanup.push(() => client.close(), () => s.server.close(), () => scheduler.close());
  return { s, client, backend, scheduler, results, states };
}

const pixels = new Uint8Array(8 * 6 * 3);
function frame(cameraId: string, seq: number, capturedAt = Date.now()): Frame {
  return { cameraId, seq, run: 1, width: 8, height: 6, data: Buffer.from(pixels), ptsMs: seq * 40, capturedAt };
}

/** Feeds `cameras` cameras at `fps` each for `ms`. */
async function feed(scheduler: Scheduler, cameras: string[], fps: number, ms: number): Promise<void> {
  const seq = new Map(cameras.map((c) => [c, 0]));
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const c of cameras) {
      const n = seq.get(c) as number;
      scheduler.submit(frame(c, n));
      seq.set(c, n + 1);
    }
    await sleep(1000 / fps);
  }
}

describe('scheduler', () => {
  it('never has more Predict calls in flight than maxInFlight, nor more than one per camera', async () => {
    const { scheduler, backend, results } = await setup({ latencyMs: 30, capacity: 8 }, { maxInFlight: 2 });
    const cams = ['a', 'b', 'c', 'd', 'e', 'f'];
    let perCameraPeak = 0;
    const sampler = setInterval(() => {
      for (const id of cams) perCameraPeak = Math.max(perCameraPeak, scheduler.stats(id)?.inFlight ?? 0);
    }, 2);
    await feed(scheduler, cams, 50, 1_500);
    await until(() => backend.inFlight === 0);
    clearInterval(sampler);
    expect(perCameraPeak).toBe(1);
    expect(backend.peak).toBe(2);
    expect(scheduler.peak).toBe(2);
    expect(results.length).toBeGreaterThan(20);
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) expect(scheduler.stats(id)?.dropped.superseded).toBeGreaterThan(0);
  });

  it('sends the newest frame when the camera\'s turn comes; older ones are counted as superseded', async () => {
    const { scheduler, results } = await setup({ latencyMs: 200, capacity: 1 }, { maxInFlight: 1 });
    // Frame 0 goes at once; 1–9 arrive while it is in flight, each replacing the one before.
    for (let i = 0; i < 10; i++) scheduler.submit(frame('a', i));
    await until(() => results.length === 2);
    expect(results.map((r) => r.frame.seq)).toEqual([0, 9]);
    expect(scheduler.stats('a')?.dropped.superseded).toBe(8);
  });

  it('drops frames that grew older than maxFrameAge while waiting', async () => {
    const { scheduler, results } = await setup({ latencyMs: 300, capacity: 1 }, { maxInFlight: 1, maxFrameAgeMs: 100 });
    scheduler.submit(frame('a', 0));
    await sleep(20);
    scheduler.submit(frame('a', 1)); // waits ~280 ms for the slot: stale by then
    await until(() => results.length === 1);
    await sleep(50);
    expect(scheduler.stats('a')?.dropped.stale).toBe(1);
    scheduler.submit(frame('a', 2));
    await until(() => results.length === 2);
    expect(results.map((r) => r.frame.seq)).toEqual([0, 2]);
  });

  it('gives every camera a fair share when the model is the bottleneck', async () => {
    const cams = ['a', 'b', 'c', 'd'];
    // 80 ms per call against a frame every 10 ms per camera: every camera always has a frame
    // waiting, even when a loaded machine stretches the feeder's sleeps several times over.
    const { scheduler, results } = await setup({ latencyMs: 80, capacity: 1 }, { maxInFlight: 1 });
    await feed(scheduler, cams, 100, 3_000);
    await sleep(300);
    const counts = cams.map((c) => results.filter((r) => r.frame.cameraId === c).length);
    expect(Math.min(...counts)).toBeGreaterThan(5);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('batches frames of several cameras into one call', async () => {
    const cams = ['a', 'b', 'c', 'd'];
    const { scheduler, results, backend } = await setup({ latencyMs: 50, capacity: 1 }, { maxInFlight: 1, maxBatch: 4, batchTimeoutMs: 30 });
    await feed(scheduler, cams, 30, 1_000);
    await until(() => backend.inFlight === 0);
    const full = results.filter((r) => r.batchSize === 4).length;
    expect(full / results.length).toBeGreaterThan(0.8);
    expect(backend.calls).toBeLessThan(results.length / 2);
    for (const r of results) expect(r.detections.map((d) => d.label)).toEqual(['person', 'bottle', 'chair']);
  });

  it('opens the breaker when the model server goes away, and recovers when it comes back', async () => {
    const { s, scheduler, results, states } = await setup({ latencyMs: 5, capacity: 2 }, { maxInFlight: 2 });
    const port = s.port;
    // Frames keep coming, as from cameras, for as long as the test needs.
    let feeding = true;
    const feeder = (async () => {
      for (let seq = 0; feeding; seq++) {
        scheduler.submit(frame('a', seq));
        scheduler.submit(frame('b', seq));
        await sleep(50);
      }
    })();
    await until(() => results.length > 5);
    await s.server.close();
    await until(() => scheduler.modelState().state !== 'closed');
    const before = results.length;
    expect(scheduler.modelState().lastError).toMatch(/UNAVAILABLE/);
    await sleep(500);
    // While open, frames keep arriving and are counted, not sent.
    expect(scheduler.stats('a')?.dropped.modelDown).toBeGreaterThan(0);
    const again = await startModelServer(synthetic({ latencyMs: 5, capacity: 2 }), '127.0.0.1', port);
    cleanup.push(() => again.server.close());
    await until(() => results.length > before + 5, 30_000);
    expect(scheduler.modelState().state).toBe('closed');
    expect(states).toContain('open');
    feeding = false;
    await feeder;
  });

  it('keeps its counts right when a camera is removed while its call is in flight', async () => {
    const { scheduler, results, backend } = await setup({ latencyMs: 200, capacity: 2 }, { maxInFlight: 2 });
    scheduler.submit(frame('gone', 0));
    await until(() => backend.inFlight === 1);
    scheduler.removeCamera('gone');
    expect(scheduler.stats('gone')).toBeUndefined();
    // The same id comes back as a new camera while the old call is still out.
    scheduler.submit(frame('gone', 100));
    await until(() => backend.inFlight === 0);
    await sleep(50);
    const stats = scheduler.stats('gone');
    expect(stats?.inFlight).toBe(0);
    // Only the new camera's frame is reported; the removed one's answer is not.
    expect(results.map((r) => r.frame.seq)).toEqual([100]);
  });
});

describe('scheduler with the real detector', () => {
  it('splits a batch back to the right cameras', async () => {
    const real: StartedServer = await startModelServer({ workers: 2 });
    const client = new TfServingClient({ address: real.address, modelName: 'detector', minScore: 0.3 });
    const results: DetectionResult[] = [];
    const scheduler = new Scheduler(client, (r) => results.push(r), { maxInFlight: 1, maxBatch: 2, batchTimeoutMs: 500 });
    cleanup.push(() => client.close(), () => real.server.close(), () => scheduler.close());
    const bottle = decodeFrame(BOTTLE_CLIP, 0);
    const person = decodeFrame(PERSON_CLIP, 100); // 768×432: resized into the batch's 640×360
    scheduler.addCamera('kitchen');
    scheduler.addCamera('hall');
    const now = Date.now();
    scheduler.submit({ cameraId: 'kitchen', seq: 0, run: 1, width: bottle.width, height: bottle.height, data: Buffer.from(bottle.data), ptsMs: 0, capturedAt: now });
    scheduler.submit({ cameraId: 'hall', seq: 0, run: 1, width: person.width, height: person.height, data: Buffer.from(person.data), ptsMs: 0, capturedAt: now });
    await until(() => results.length === 2, 30_000);
    const by = Object.fromEntries(results.map((r) => [r.frame.cameraId, r]));
    expect(by.kitchen.batchSize).toBe(2);
    expect(by.kitchen.detections.filter((d) => d.label === 'bottle').length).toBeGreaterThanOrEqual(2);
    expect(by.kitchen.detections.some((d) => d.label === 'person')).toBe(false);
    expect(by.hall.detections.some((d) => d.label === 'person')).toBe(true);
  });
});
