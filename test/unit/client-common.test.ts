// What the gRPC and REST clients share (tfserving/client-common.ts): the
// signature cache, detect()'s batch split, and the RGB batch checks. Both
// clients' own tests cover these through a server; these pin the rules
// themselves, without one.
import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { detectInBatches, ImageBatchError, rgbBatch, SignatureCache, type DetectResult } from '../../src/tfserving/client-common.js';
import { CancelledError, InvalidRequestError, ModelNotFoundError, ServerUnavailableError } from '../../src/tfserving/errors.js';
import type { DetectionSignature } from '../../src/tfserving/signature.js';
import type { ImageInput } from '../../src/types.js';

function signature(maxBatch: number): DetectionSignature {
  return {
    signatureName: 'serving_default',
    modelVersion: 3,
    inputAlias: 'input_tensor',
    inputDtype: 'DT_UINT8',
    encoding: 'uint8',
    inputShape: [Number.isFinite(maxBatch) ? maxBatch : -1, -1, -1, 3],
    maxBatch,
    outputs: { boxes: 'detection_boxes', scores: 'detection_scores', classes: 'detection_classes', numDetections: undefined },
    allOutputs: ['detection_boxes', 'detection_scores', 'detection_classes'],
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const rgb = (width: number, height: number, bytes = width * height * 3): ImageInput => ({ kind: 'rgb', width, height, data: new Uint8Array(bytes) });

describe('SignatureCache', () => {
  it('discovers once for concurrent callers, then answers from the cache', async () => {
    const found = deferred<DetectionSignature>();
    let calls = 0;
    const cache = new SignatureCache(() => {
      calls++;
      return found.promise;
    });
    const waits = [cache.get(), cache.get()];
    found.resolve(signature(1));
    await expect(Promise.all(waits)).resolves.toEqual([signature(1), signature(1)]);
    await cache.get();
    expect(calls).toBe(1);
  });

  it('forgets a failed discovery, so the next call tries again', async () => {
    let calls = 0;
    const cache = new SignatureCache(async () => {
      calls++;
      if (calls === 1) throw new ServerUnavailableError(status.UNAVAILABLE, 'down');
      return signature(1);
    });
    await expect(cache.get()).rejects.toBeInstanceOf(ServerUnavailableError);
    await expect(cache.get()).resolves.toEqual(signature(1));
    expect(calls).toBe(2);
  });

  it("one caller's abort ends only its own wait, as CANCELLED; the discovery goes on for the others", async () => {
    const found = deferred<DetectionSignature>();
    let calls = 0;
    const cache = new SignatureCache(() => {
      calls++;
      return found.promise;
    });
    const controller = new AbortController();
    const aborted = cache.get(controller.signal);
    const other = cache.get();
    controller.abort();
    const err = await aborted.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).details).toBe('aborted while waiting');
    found.resolve(signature(1));
    await expect(other).resolves.toEqual(signature(1));
    await expect(cache.get()).resolves.toEqual(signature(1));
    expect(calls).toBe(1);
  });

  it('refuses a caller already aborted, at once', async () => {
    const cache = new SignatureCache(() => new Promise<DetectionSignature>(() => undefined));
    const controller = new AbortController();
    controller.abort();
    const err = await cache.get(controller.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).details).toBe('aborted before the call');
  });

  it('forgets the signature after NOT_FOUND or an invalid request, not after other failures', async () => {
    let calls = 0;
    const cache = new SignatureCache(async () => {
      calls++;
      return signature(1);
    });
    await cache.get();
    cache.forgetIfStale(new ServerUnavailableError(status.UNAVAILABLE, 'down'));
    await cache.get();
    expect(calls).toBe(1);
    cache.forgetIfStale(new ModelNotFoundError(status.NOT_FOUND, 'gone'));
    await cache.get();
    expect(calls).toBe(2);
    cache.forgetIfStale(new InvalidRequestError(status.INVALID_ARGUMENT, 'changed'));
    await cache.get();
    expect(calls).toBe(3);
  });
});

describe('detectInBatches', () => {
  const images = Array.from({ length: 5 }, (_, i) => rgb(i + 1, 1));
  const answer = (batch: readonly ImageInput[], target: string): DetectResult => ({
    detections: batch.map((img) => [{ classId: img.kind === 'rgb' ? img.width : 0, label: '', score: 1, box: [0, 0, 1, 1] }]),
    modelVersion: 3,
    target,
  });

  it('makes no call for no images', async () => {
    const result = await detectInBatches([], undefined, () => Promise.reject(new Error('no call expected')), () => Promise.reject(new Error('no call expected')));
    expect(result).toEqual({ detections: [], modelVersion: 0, target: '' });
  });

  it('sends a batch the signature takes in one call', async () => {
    const batches: number[] = [];
    const result = await detectInBatches(images, undefined, async () => signature(Number.POSITIVE_INFINITY), async (batch) => {
      batches.push(batch.length);
      return answer(batch, 'a');
    });
    expect(batches).toEqual([5]);
    expect(result.detections.map((d) => d[0].classId)).toEqual([1, 2, 3, 4, 5]);
  });

  it('splits a batch over maxBatch into parts, answers in order', async () => {
    const batches: number[] = [];
    const result = await detectInBatches(images, undefined, async () => signature(2), async (batch, _signature, options) => {
      batches.push(batch.length);
      expect(options?.signal).toBeInstanceOf(AbortSignal);
      // The later parts answer first: the result must still be in the images' order.
      const first = batch[0].kind === 'rgb' ? batch[0].width : 0;
      await new Promise((r) => setTimeout(r, 10 * (6 - first)));
      return answer(batch, `part of ${batch.length}`);
    });
    expect(batches.sort()).toEqual([1, 2, 2]);
    expect(result.detections.map((d) => d[0].classId)).toEqual([1, 2, 3, 4, 5]);
    expect(result.target).toBe('part of 1');
  });

  it('cancels the parts still running when one fails', async () => {
    const seen: AbortSignal[] = [];
    const failure = detectInBatches(images, undefined, async () => signature(1), (batch, _signature, options) => {
      if (options?.signal) seen.push(options.signal);
      if (batch[0].kind === 'rgb' && batch[0].width === 1) return Promise.reject(new ServerUnavailableError(status.UNAVAILABLE, 'down'));
      return new Promise<DetectResult>(() => undefined);
    });
    await expect(failure).rejects.toBeInstanceOf(ServerUnavailableError);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((s) => s.aborted)).toBe(true);
  });
});

describe('rgbBatch', () => {
  it('takes images of one size', async () => {
    await expect(rgbBatch([rgb(4, 2), rgb(4, 2)])).resolves.toHaveLength(2);
  });

  it('refuses mixed sizes and wrong byte lengths with ImageBatchError', async () => {
    const mixed = await rgbBatch([rgb(4, 2), rgb(2, 4)]).catch((e: unknown) => e);
    expect(mixed).toBeInstanceOf(ImageBatchError);
    expect((mixed as ImageBatchError).code).toBe('IMAGE_BATCH_MIXED_SIZES');
    expect((mixed as Error).message).toBe('a batch must hold images of one size: got 4x2 and 2x4');
    const short = await rgbBatch([rgb(4, 2, 23)]).catch((e: unknown) => e);
    expect(short).toBeInstanceOf(ImageBatchError);
    expect((short as Error).message).toBe('an RGB image of 4x2 needs 24 bytes, got 23');
  });
});
