// The delays between attempts to replace a dead inference worker: the shared
// backoff with the pool's options must give exactly 1 s doubling to 30 s, with
// no jitter whatever the random source says.
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/util/backoff.js';
import { WORKER_RESPAWN_BACKOFF } from '../../src/modelserver/inference-pool.js';

describe('worker respawn delays', () => {
  it('are 1 s doubling to 30 s, never jittered', () => {
    const expected = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000];
    for (const random of [() => 0, () => 0.5, () => 0.999]) {
      expect(expected.map((_, i) => backoffDelay(i + 1, WORKER_RESPAWN_BACKOFF, random))).toEqual(expected);
    }
  });
});
