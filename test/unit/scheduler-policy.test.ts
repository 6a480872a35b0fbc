// The scheduler's policy against a fake model and a fake clock: which frame
// reaches the model and when, what is dropped and counted as what, whose turn
// comes next, and what the breaker does to sending. The real-gRPC version
// (test/integration/scheduler.test.ts) shows the same end to end, with sleeps.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { status } from '@grpc/grpc-js';
import { Scheduler, type DetectionResult, type SchedulerModel, type SchedulerOptions } from '../../src/schedule/scheduler.js';
import type { BreakerState } from '../../src/schedule/breaker.js';
import type { CallOptions, DetectResult } from '../../src/model/client.js';
import { errorForStatus } from '../../src/tfserving/errors.js';
import type { Frame, ImageInput } from '../../src/types.js';
import { solidFrame } from '../helpers/frames.js';

/** One Predict call the fake model has received and not yet answered. */
interface Call {
  /** The frames in the call, by name (`a0`: camera a, seq 0), or `resized WxH` for a resized image. */
  frames: string[];
  images: readonly ImageInput[];
  signal: AbortSignal | undefined;
  answer(): void;
  fail(err: Error): void;
}

/** A model server whose calls the test answers one by one; each detection is labelled with the frame's name. */
class FakeModel implements SchedulerModel {
  readonly calls: Call[] = [];
  readonly names = new Map<Uint8Array, string>();
  available = true;
  probes = 0;
  private waiting: { n: number; resolve: () => void }[] = [];

  frame(cameraId: string, seq: number, spec: Parameters<typeof solidFrame>[2] = {}): Frame {
    const f = solidFrame(cameraId, seq, spec);
    this.names.set(f.data, `${cameraId}${seq}`);
    return f;
  }

  detect(images: readonly ImageInput[], options?: CallOptions): Promise<DetectResult> {
    return new Promise<DetectResult>((resolve, reject) => {
      const frames = images.map((img) => (img.kind === 'rgb' ? (this.names.get(img.data) ?? `resized ${img.width}x${img.height}`) : 'jpeg'));
      const answer = () => resolve({ detections: frames.map((label) => [{ classId: 1, label, score: 0.9, box: [0, 0, 1, 1] }]), modelVersion: 1, target: 'fake' });
      this.calls.push({ frames, images, signal: options?.signal, answer, fail: reject });
      for (const w of this.waiting.filter((w) => this.calls.length >= w.n)) w.resolve();
      this.waiting = this.waiting.filter((w) => this.calls.length < w.n);
    });
  }

  ready(): Promise<boolean> {
    this.probes++;
    return Promise.resolve(this.available);
  }

  /** Resolves once `n` calls have arrived (for work the fake clock does not drive: resizing). */
  whenCalls(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ n, resolve }));
  }

  /** The frames of every call so far, in order. */
  sent = (): string[][] => this.calls.map((c) => c.frames);
}

/** Lets the scheduler's promise chains run (same-size batches need no real work). */
const settle = () => vi.advanceTimersByTimeAsync(0);

let model: FakeModel;
let results: DetectionResult[];
let states: BreakerState[];
let scheduler: Scheduler;

function start(options: Partial<SchedulerOptions>): Scheduler {
  scheduler = new Scheduler(model, (r) => results.push(r), options, (s) => states.push(s.state));
  return scheduler;
}

beforeEach(() => {
  vi.useFakeTimers();
  // The breaker's backoff jitter at its middle: the first probe comes 500 ms after it opens, the second 1 s after that.
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
  model = new FakeModel();
  results = [];
  states = [];
});

afterEach(() => {
  scheduler.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('scheduler policy', () => {
  it('sends the newest frame when the slot frees; the ones it replaced are counted as superseded', async () => {
    start({ maxInFlight: 1 });
    for (let i = 0; i < 6; i++) scheduler.submit(model.frame('a', i));
    await settle();
    expect(model.sent()).toEqual([['a0']]);
    model.calls[0].answer();
    await settle();
    expect(model.sent()).toEqual([['a0'], ['a5']]);
    model.calls[1].answer();
    await settle();
    expect(results.map((r) => [r.frame.seq, r.detections[0].label])).toEqual([[0, 'a0'], [5, 'a5']]);
    expect(scheduler.stats('a')).toMatchObject({ detected: 2, inFlight: 0, dropped: { superseded: 4, stale: 0, error: 0, busy: 0, modelDown: 0 } });
  });

  it('holds the global bound and the per-camera bound on calls in flight', async () => {
    start({ maxInFlight: 2, perCameraInFlight: 1 });
    scheduler.submit(model.frame('a', 0));
    scheduler.submit(model.frame('a', 1));
    await settle();
    // Room overall, but camera a has its one call out: a1 waits.
    expect(model.sent()).toEqual([['a0']]);
    scheduler.submit(model.frame('b', 0));
    scheduler.submit(model.frame('c', 0));
    await settle();
    expect(model.sent()).toEqual([['a0'], ['b0']]);
    expect(scheduler.peak).toBe(2);
    model.calls[0].answer();
    await settle();
    // a's slot freed: the turn goes round to c before a comes again.
    expect(model.sent().slice(2)).toEqual([['c0']]);
    model.calls[1].answer();
    await settle();
    expect(model.sent().slice(3)).toEqual([['a1']]);
    expect(scheduler.peak).toBe(2);
  });

  it('lets one camera have several calls out when perCameraInFlight allows', async () => {
    start({ maxInFlight: 4, perCameraInFlight: 2 });
    for (let i = 0; i < 3; i++) scheduler.submit(model.frame('a', i));
    await settle();
    expect(model.sent()).toEqual([['a0'], ['a1']]);
    expect(scheduler.stats('a')?.inFlight).toBe(2);
  });

  it('gives a quiet camera its turn while a busy one always has a frame waiting', async () => {
    start({ maxInFlight: 1 });
    let seq = 0;
    scheduler.submit(model.frame('busy', seq++));
    scheduler.submit(model.frame('other', 0));
    scheduler.submit(model.frame('quiet', 0));
    await settle();
    for (let i = 0; i < 5; i++) {
      // The busy camera offers a new frame before every answer.
      scheduler.submit(model.frame('busy', seq++));
      model.calls[model.calls.length - 1].answer();
      await settle();
    }
    expect(model.sent().map(([f]) => f)).toEqual(['busy0', 'other0', 'quiet0', 'busy3', 'busy4', 'busy5']);
  });

  it('drops a frame that waited past maxFrameAgeMs, counts it stale, and sends the next fresh one', async () => {
    start({ maxInFlight: 1, maxFrameAgeMs: 100 });
    scheduler.submit(model.frame('a', 0));
    scheduler.submit(model.frame('b', 0));
    await vi.advanceTimersByTimeAsync(101);
    model.calls[0].answer();
    await settle();
    expect(model.sent()).toEqual([['a0']]);
    expect(scheduler.stats('b')?.dropped.stale).toBe(1);
    // The slot is free: a1 goes at once; b1 waits exactly maxFrameAgeMs for it, which is not too old.
    scheduler.submit(model.frame('a', 1));
    scheduler.submit(model.frame('b', 1));
    await vi.advanceTimersByTimeAsync(100);
    model.calls[1].answer();
    await settle();
    expect(model.sent()).toEqual([['a0'], ['a1'], ['b1']]);
    model.calls[2].answer();
    await settle();
    // Each result says how long its frame waited and how long the model took.
    expect(results.map((r) => [r.frame.cameraId, r.queueWaitMs, r.latencyMs])).toEqual([['a', 0, 101], ['a', 0, 100], ['b', 100, 0]]);
    expect(scheduler.stats('b')?.dropped.stale).toBe(1);
  });
});

describe('batching', () => {
  it('waits up to batchTimeoutMs for active cameras, not for quiet ones, and sends as soon as all are in', async () => {
    start({ maxInFlight: 1, maxBatch: 4, batchTimeoutMs: 30 });
    scheduler.addCamera('gone');
    await vi.advanceTimersByTimeAsync(2_500); // 'gone' has sent nothing since: quiet
    for (const id of ['a', 'b', 'c']) scheduler.addCamera(id);
    scheduler.submit(model.frame('a', 0));
    await vi.advanceTimersByTimeAsync(10);
    scheduler.submit(model.frame('b', 0));
    await vi.advanceTimersByTimeAsync(10);
    expect(model.calls).toHaveLength(0);
    scheduler.submit(model.frame('c', 0));
    await settle();
    expect(model.sent()).toEqual([['a0', 'b0', 'c0']]);
    model.calls[0].answer();
    await settle();
    // Each camera gets the answer to its own frame.
    expect(results.map((r) => [r.frame.cameraId, r.detections[0].label, r.batchSize])).toEqual([['a', 'a0', 3], ['b', 'b0', 3], ['c', 'c0', 3]]);
  });

  it('sends what it has when batchTimeoutMs runs out', async () => {
    start({ maxInFlight: 1, maxBatch: 4, batchTimeoutMs: 30 });
    for (const id of ['a', 'b', 'c']) scheduler.addCamera(id);
    scheduler.submit(model.frame('a', 0));
    await vi.advanceTimersByTimeAsync(15);
    scheduler.submit(model.frame('b', 0));
    await vi.advanceTimersByTimeAsync(14);
    expect(model.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(model.sent()).toEqual([['a0', 'b0']]);
  });
});

describe('failures', () => {
  it('counts RESOURCE_EXHAUSTED as busy and other errors as error, and goes on sending', async () => {
    start({ maxInFlight: 1 });
    scheduler.submit(model.frame('a', 0));
    await settle();
    model.calls[0].fail(errorForStatus(status.RESOURCE_EXHAUSTED, 'queue full', 'Predict'));
    await settle();
    scheduler.submit(model.frame('a', 1));
    await settle();
    model.calls[1].fail(errorForStatus(status.INTERNAL, 'boom', 'Predict'));
    await settle();
    scheduler.submit(model.frame('a', 2));
    await settle();
    model.calls[2].fail(new Error('not a status at all'));
    await settle();
    expect(model.calls).toHaveLength(3);
    expect(scheduler.stats('a')?.dropped).toMatchObject({ busy: 1, error: 2, modelDown: 0 });
    expect(scheduler.modelState().state).toBe('closed');
    expect(states).toEqual([]);
  });

  it.each(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'NOT_FOUND'] as const)('stops sending on %s, probes readiness, and resumes when the model is ready', async (code) => {
    start({ maxInFlight: 2 });
    scheduler.submit(model.frame('a', 0));
    scheduler.submit(model.frame('b', 0));
    await settle();
    model.available = false;
    model.calls[0].fail(errorForStatus(status[code], 'down', 'Predict'));
    await settle();
    expect(scheduler.modelState()).toMatchObject({ state: 'open', opens: 1, retryInMs: 500 });
    expect(scheduler.modelState().lastError).toContain(code);
    expect(scheduler.stats('a')?.dropped.error).toBe(1);
    // b's call was already out: its late answer is delivered, but proves nothing.
    model.calls[1].answer();
    await settle();
    expect(results.map((r) => r.frame.cameraId)).toEqual(['b']);
    expect(scheduler.modelState().state).toBe('open');
    // While open, frames are kept (newest only) and not sent; replaced ones count as modelDown.
    for (let i = 1; i <= 3; i++) scheduler.submit(model.frame('a', i));
    await vi.advanceTimersByTimeAsync(499);
    expect(model.calls).toHaveLength(2);
    expect(model.probes).toBe(0);
    expect(scheduler.stats('a')?.dropped.modelDown).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(model.probes).toBe(1); // not ready: the next probe waits twice as long
    expect(scheduler.modelState()).toMatchObject({ state: 'open', retryInMs: 1_000, lastError: 'model not AVAILABLE' });
    model.available = true;
    scheduler.submit(model.frame('a', 4));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(model.probes).toBe(2);
    expect(states).toEqual(['open', 'probing', 'open', 'probing', 'closed']);
    expect(model.sent().slice(2)).toEqual([['a4']]);
  });
});

describe('shutdown', () => {
  it('drain() delivers the results in flight and sends nothing new', async () => {
    start({ maxInFlight: 1 });
    scheduler.submit(model.frame('a', 0));
    scheduler.submit(model.frame('b', 0));
    await settle();
    let drained = false;
    const draining = scheduler.drain(1_000).then(() => { drained = true; });
    scheduler.submit(model.frame('c', 0));
    await vi.advanceTimersByTimeAsync(50);
    expect(drained).toBe(false);
    model.calls[0].answer();
    await vi.advanceTimersByTimeAsync(10);
    await draining;
    expect(results.map((r) => r.frame.cameraId)).toEqual(['a']);
    expect(model.sent()).toEqual([['a0']]);
  });

  it('drain() gives up after its timeout', async () => {
    start({ maxInFlight: 1 });
    scheduler.submit(model.frame('a', 0));
    await settle();
    let drained = false;
    const draining = scheduler.drain(200).then(() => { drained = true; });
    await vi.advanceTimersByTimeAsync(190);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    await draining;
    expect(drained).toBe(true);
  });

  it('close() aborts the calls in flight, delivers nothing after, and leaves no timer', async () => {
    start({ maxInFlight: 2, perCameraInFlight: 2, maxBatch: 2, batchTimeoutMs: 50 });
    for (const id of ['a', 'b', 'c']) scheduler.addCamera(id);
    scheduler.submit(model.frame('a', 0));
    scheduler.submit(model.frame('b', 0));
    await settle();
    scheduler.submit(model.frame('c', 0)); // waits for a batch partner: a timer runs
    expect(model.calls[0].signal?.aborted).toBe(false);
    scheduler.close();
    expect(model.calls[0].signal?.aborted).toBe(true);
    model.calls[0].answer(); // an answer that arrives anyway is not delivered
    scheduler.submit(model.frame('a', 1));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(results).toEqual([]);
    expect(model.sent()).toEqual([['a0', 'b0']]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() while the breaker is open stops the probing', async () => {
    start({ maxInFlight: 1 });
    scheduler.submit(model.frame('a', 0));
    await settle();
    model.calls[0].fail(errorForStatus(status.UNAVAILABLE, 'gone'));
    await settle();
    expect(vi.getTimerCount()).toBe(1);
    scheduler.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(model.probes).toBe(0);
  });
});
