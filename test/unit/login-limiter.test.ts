// The login limiter's rules, on a clock the test moves: doubling waits per
// address, attempts counted as they begin (parallel ones cannot slip
// through), the per-name rule that slows a spread-out attack without
// locking the real user out, IPv6 counted by /64, success clearing,
// forgetting, and its bound.
import { describe, expect, it } from 'vitest';
import { addressKey, LoginLimiter } from '../../src/auth/login-limiter.js';

function limiter() {
  let now = 1_000_000;
  const l = new LoginLimiter(() => now);
  /** One wrong password: the attempt allowed, then its failure. */
  const fail = (address: string, user: string) => {
    expect(l.attempt(address, user)).toBe(0);
    l.failed();
  };
  return { l, fail, advance: (ms: number) => { now += ms; } };
}

describe('the login limiter', () => {
  it('lets an address fail 5 times, then makes it wait 1 s, 2 s, 4 s … after each failure, up to 15 minutes', () => {
    const { l, fail, advance } = limiter();
    for (let i = 0; i < 5; i++) fail('10.0.0.1', 'vera');
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      // What the failed attempt's answer tells the client (Retry-After).
      const wait = l.retryAfterS('10.0.0.1', 'vera');
      waits.push(wait);
      // Waiting it out, then failing again.
      advance(wait * 1000 - 1);
      expect(l.retryAfterS('10.0.0.1', 'vera')).toBe(1);
      advance(1);
      fail('10.0.0.1', 'vera');
    }
    expect(waits.slice(0, 5)).toEqual([1, 2, 4, 8, 16]);
    expect(Math.max(...waits)).toBe(15 * 60);
  });

  it('counts attempts as they begin: five sent at once use up the free ones, the sixth waits', () => {
    const { l } = limiter();
    const started = Array.from({ length: 6 }, () => l.attempt('10.0.0.1', 'vera'));
    expect(started).toEqual([0, 0, 0, 0, 0, 2]);
  });

  it('makes hammering while locked only lengthen the wait: each refused attempt doubles it', () => {
    const { l, fail } = limiter();
    for (let i = 0; i < 5; i++) fail('10.0.0.1', 'vera');
    expect(l.retryAfterS('10.0.0.1', 'vera')).toBe(1);
    expect([l.attempt('10.0.0.1', 'vera'), l.attempt('10.0.0.1', 'vera'), l.attempt('10.0.0.1', 'vera')]).toEqual([2, 4, 8]);
    expect(l.stats().attempts.throttled).toBe(3);
  });

  it('slows every address that failed on a name tried more than 10 times, but not one that never failed on it', () => {
    const { l, fail } = limiter();
    // Twelve addresses, one wrong guess each: no address is over its own limit.
    for (let i = 0; i < 12; i++) fail(`10.0.1.${i}`, 'vera');
    expect(l.attempt('10.0.1.0', 'vera')).toBeGreaterThan(0);
    expect(l.attempt('10.0.1.1', 'ada')).toBe(0);
    expect(l.attempt('192.168.1.5', 'vera')).toBe(0);
    expect(l.stats().lockedUsers).toBe(1);
  });

  it('counts an IPv6 client by its /64', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('10.1.2.3')).toBe('10.1.2.3');
    const { l, fail } = limiter();
    for (let i = 0; i < 5; i++) fail(`2001:db8:1:2::${i + 1}`, 'vera');
    expect(l.attempt('2001:db8:1:2:ffff::9', 'ada')).toBeGreaterThan(0);
    expect(l.attempt('2001:db8:1:3::1', 'ada')).toBe(0);
  });

  it('clears an address on success, and forgets failures an hour old', () => {
    const { l, fail, advance } = limiter();
    for (let i = 0; i < 4; i++) fail('10.0.0.1', 'vera');
    expect(l.attempt('10.0.0.1', 'vera')).toBe(0);
    l.succeeded('10.0.0.1', 'vera');
    expect(l.attempt('10.0.0.1', 'vera')).toBe(0);
    for (let i = 0; i < 5; i++) fail('10.0.0.2', 'vera');
    expect(l.attempt('10.0.0.2', 'vera')).toBeGreaterThan(0);
    advance(61 * 60_000);
    expect(l.attempt('10.0.0.2', 'vera')).toBe(0);
  });

  it('keeps at most 10 000 addresses, dropping the oldest (counted)', () => {
    const { l } = limiter();
    for (let i = 0; i < 10_005; i++) l.attempt(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `user${i % 7}`);
    expect(l.stats().evicted).toBe(5);
  });
});
