// The login limiter's rules, on a clock the test moves: doubling waits per
// address, the per-name rule that slows a spread-out attack without locking
// the real user out, success clearing, forgetting, and its bound.
import { describe, expect, it } from 'vitest';
import { LoginLimiter } from '../../src/auth/login-limiter.js';

function limiter() {
  let now = 1_000_000;
  const l = new LoginLimiter(() => now);
  return { l, advance: (ms: number) => { now += ms; } };
}

describe('the login limiter', () => {
  it('lets an address fail 5 times, then makes it wait 1 s, 2 s, 4 s … after each failure, up to 15 minutes', () => {
    const { l, advance } = limiter();
    for (let i = 0; i < 4; i++) {
      expect(l.check('10.0.0.1', 'vera')).toBe(0);
      l.failed('10.0.0.1', 'vera');
    }
    expect(l.check('10.0.0.1', 'vera')).toBe(0);
    l.failed('10.0.0.1', 'vera');
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      // What the failed attempt's answer tells the client (Retry-After).
      const wait = l.retryAfterS('10.0.0.1', 'vera');
      waits.push(wait);
      // Waiting it out, then failing again.
      advance(wait * 1000 - 1);
      expect(l.retryAfterS('10.0.0.1', 'vera')).toBe(1);
      advance(1);
      expect(l.check('10.0.0.1', 'vera')).toBe(0);
      l.failed('10.0.0.1', 'vera');
    }
    expect(waits.slice(0, 5)).toEqual([1, 2, 4, 8, 16]);
    expect(Math.max(...waits)).toBe(15 * 60);
  });

  it('makes hammering while locked only lengthen the wait: each refused attempt doubles it', () => {
    const { l } = limiter();
    for (let i = 0; i < 5; i++) l.failed('10.0.0.1', 'vera');
    expect(l.retryAfterS('10.0.0.1', 'vera')).toBe(1);
    const first = l.check('10.0.0.1', 'vera');
    const second = l.check('10.0.0.1', 'vera');
    const third = l.check('10.0.0.1', 'vera');
    expect([first, second, third]).toEqual([2, 4, 8]);
    expect(l.stats().attempts.throttled).toBe(3);
  });

  it('slows every address that failed on a name tried more than 10 times, but not one that never failed on it', () => {
    const { l } = limiter();
    // Twelve addresses, one wrong guess each: no address is over its own limit.
    for (let i = 0; i < 12; i++) l.failed(`10.0.1.${i}`, 'vera');
    expect(l.check('10.0.1.0', 'vera')).toBeGreaterThan(0);
    expect(l.check('10.0.1.0', 'ada')).toBe(0);
    expect(l.check('192.168.1.5', 'vera')).toBe(0);
    expect(l.stats().lockedUsers).toBe(1);
  });

  it('clears an address on success, and forgets failures an hour old', () => {
    const { l, advance } = limiter();
    for (let i = 0; i < 5; i++) l.failed('10.0.0.1', 'vera');
    l.succeeded('10.0.0.1', 'vera');
    expect(l.check('10.0.0.1', 'vera')).toBe(0);
    for (let i = 0; i < 5; i++) l.failed('10.0.0.2', 'vera');
    expect(l.check('10.0.0.2', 'vera')).toBeGreaterThan(0);
    advance(61 * 60_000);
    expect(l.check('10.0.0.2', 'vera')).toBe(0);
    expect(l.stats().lockedAddresses).toBe(0);
  });

  it('keeps at most 10 000 addresses, dropping the oldest (counted)', () => {
    const { l } = limiter();
    for (let i = 0; i < 10_005; i++) l.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `user${i % 7}`);
    expect(l.stats().evicted).toBe(5);
  });
});
