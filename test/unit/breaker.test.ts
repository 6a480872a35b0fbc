// The circuit breaker on a fake clock, with a probe the test answers: when
// it stops calls, when it probes, when it lets calls through again, and that
// close() leaves nothing running.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, type BreakerState, type BreakerStatus } from '../../src/schedule/breaker.js';
import type { BackoffOptions } from '../../src/util/backoff.js';

const BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 400, factor: 2, jitter: 0 };

/** A readiness probe whose answers the test sets; a pending answer is settled by the test. */
class Probe {
  calls = 0;
  answer: boolean | Error = false;
  private pending: ((ok: boolean) => void) | undefined;
  hold = false;

  readonly fn = (): Promise<boolean> => {
    this.calls++;
    if (this.hold) return new Promise((resolve) => { this.pending = resolve; });
    return this.answer instanceof Error ? Promise.reject(this.answer) : Promise.resolve(this.answer);
  };

  release(ok: boolean): void {
    this.pending?.(ok);
    this.pending = undefined;
  }
}

let probe: Probe;
let changes: BreakerStatus[];
let breaker: CircuitBreaker;
const states = (): BreakerState[] => changes.map((c) => c.state);

beforeEach(() => {
  vi.useFakeTimers();
  probe = new Probe();
  changes = [];
  breaker = new CircuitBreaker(probe.fn, (s) => changes.push(s), BACKOFF);
});

afterEach(() => {
  breaker.close();
  vi.useRealTimers();
});

describe('circuit breaker', () => {
  it('lets calls through until tripped, then stops them and says why and when it will look again', () => {
    expect(breaker.allows).toBe(true);
    expect(breaker.status()).toMatchObject({ state: 'closed', opens: 0, lastError: undefined, retryInMs: undefined });
    breaker.tripped('Predict: UNAVAILABLE: connection refused');
    expect(breaker.allows).toBe(false);
    expect(breaker.status()).toMatchObject({ state: 'open', opens: 1, lastError: 'Predict: UNAVAILABLE: connection refused', retryInMs: 100, since: Date.now() });
    expect(states()).toEqual(['open']);
    vi.advanceTimersByTime(40);
    expect(breaker.status().retryInMs).toBe(60);
  });

  it('probes with backoff while the model is not ready, up to maxMs', async () => {
    breaker.tripped('down');
    const probedAt: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 5; i++) {
      const before = probe.calls;
      while (probe.calls === before) await vi.advanceTimersByTimeAsync(1);
      probedAt.push(Date.now() - start);
    }
    // 100, then 200, 400 and 400 (capped) after each failed probe.
    expect(probedAt).toEqual([100, 300, 700, 1_100, 1_500]);
    expect(breaker.allows).toBe(false);
    expect(breaker.status()).toMatchObject({ state: 'open', opens: 1, lastError: 'model not AVAILABLE' });
    expect(states()).toEqual(['open', 'probing', 'open', 'probing', 'open', 'probing', 'open', 'probing', 'open', 'probing', 'open']);
  });

  it('keeps a failing probe\'s error as the reason', async () => {
    probe.answer = new Error('GetModelStatus: UNAVAILABLE: no connection');
    breaker.tripped('down');
    await vi.advanceTimersByTimeAsync(100);
    expect(breaker.status()).toMatchObject({ state: 'open', lastError: 'GetModelStatus: UNAVAILABLE: no connection', retryInMs: 200 });
  });

  it('closes when a probe finds the model ready, and starts its backoff over on the next trip', async () => {
    breaker.tripped('down');
    await vi.advanceTimersByTimeAsync(100 + 200);
    expect(probe.calls).toBe(2);
    probe.answer = true;
    await vi.advanceTimersByTimeAsync(400);
    expect(probe.calls).toBe(3);
    expect(breaker.allows).toBe(true);
    expect(states().slice(-2)).toEqual(['probing', 'closed']);
    expect(vi.getTimerCount()).toBe(0);
    breaker.tripped('down again');
    expect(breaker.status()).toMatchObject({ state: 'open', opens: 2, retryInMs: 100 });
  });

  it('sends nothing while the probe is out, and does not open twice for failures meanwhile', async () => {
    probe.hold = true;
    breaker.tripped('first');
    await vi.advanceTimersByTimeAsync(100);
    expect(breaker.status().state).toBe('probing');
    expect(breaker.allows).toBe(false);
    breaker.tripped('a late failure');
    expect(breaker.status()).toMatchObject({ state: 'probing', opens: 1, lastError: 'a late failure' });
    probe.release(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(breaker.allows).toBe(true);
  });

  it('takes a late success while open as proof of nothing: still open, same backoff, same reason', async () => {
    breaker.tripped('down');
    await vi.advanceTimersByTimeAsync(100);
    expect(breaker.status()).toMatchObject({ state: 'open', retryInMs: 200 });
    breaker.succeeded();
    expect(breaker.allows).toBe(false);
    expect(breaker.status()).toMatchObject({ state: 'open', retryInMs: 200, lastError: 'model not AVAILABLE' });
    // The next probe still comes 200 ms later, not at the first delay.
    await vi.advanceTimersByTimeAsync(199);
    expect(probe.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(probe.calls).toBe(2);
  });

  it('forgets the last error on a success once closed', async () => {
    breaker.tripped('down');
    probe.answer = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(breaker.status()).toMatchObject({ state: 'closed', lastError: 'down' });
    breaker.succeeded();
    expect(breaker.status().lastError).toBeUndefined();
  });

  it('close() stops probing: no timer left, no probe later, no state change after', async () => {
    breaker.tripped('down');
    expect(vi.getTimerCount()).toBe(1);
    breaker.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probe.calls).toBe(0);
    expect(states()).toEqual(['open']);
  });

  it('close() while a probe is out ignores its answer', async () => {
    probe.hold = true;
    breaker.tripped('down');
    await vi.advanceTimersByTimeAsync(100);
    breaker.close();
    probe.release(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probe.calls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(states()).toEqual(['open', 'probing']);
  });
});
