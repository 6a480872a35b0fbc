// Login attempts, limited per client address and per user name with delays
// that double with each failure, so guessing a password is slow while a
// person who mistypes is barely held up.
//
// - An address gets FREE_PER_ADDRESS failures, then must wait 1 s, 2 s, 4 s …
//   (at most MAX_DELAY_MS) after its newest failure before trying again; an
//   attempt while it waits is refused (429, Retry-After) and counts too, so
//   each one doubles the wait: hammering only makes it longer.
// - A user name gets FREE_PER_USER failures from all addresses together;
//   past that, the same doubling applies to the name, but only for addresses
//   that have failed on it. An attacker cannot lock the real user out: the
//   right password from an address that has not failed still works.
// An attempt counts as a failure from when it begins (so parallel attempts
// cannot all slip through while scrypt runs); a success takes it back and
// clears the address. IPv6 addresses count by their /64.
// Entries are forgotten FORGET_MS after their last failure, and at most
// MAX_ENTRIES of each are kept (oldest dropped, counted).

import { isIPv6 } from 'node:net';

const FREE_PER_ADDRESS = 5;
const FREE_PER_USER = 10;
const MAX_DELAY_MS = 15 * 60_000;
const FORGET_MS = 60 * 60_000;
const MAX_ENTRIES = 10_000;

interface Entry { failures: number; last: number }
interface UserEntry extends Entry { addresses: Map<string, number> }

export interface LoginLimiterStats {
  attempts: { ok: number; wrong: number; throttled: number };
  /** Addresses and user names that must wait now. */
  lockedAddresses: number;
  lockedUsers: number;
  /** Entries dropped to stay within MAX_ENTRIES. */
  evicted: number;
}

/** The wait after the newest of `failures`: none for the first `free` − 1, then 1 s, doubling. */
/**
 * What an address is counted as: IPv4 as it is, IPv6 by its /64, which one
 * client usually holds whole (a home or a cloud machine gets a /64 or more,
 * and would otherwise have 2^64 fresh addresses to guess from).
 */
export function addressKey(address: string): string {
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/64`;
}

const delayFor = (failures: number, free: number): number => (failures < free ? 0 : Math.min(MAX_DELAY_MS, 1000 * 2 ** Math.min(30, failures - free)));
/** How much longer an entry must wait, ms (≤ 0: none). */
const waitOf = (e: Entry | undefined, free: number, now: number): number => (e ? e.last + delayFor(e.failures, free) - now : 0);

export class LoginLimiter {
  private readonly addresses = new Map<string, Entry>();
  private readonly users = new Map<string, UserEntry>();
  private readonly counts = { ok: 0, wrong: 0, throttled: 0 };
  private evicted = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Seconds to wait before this address may try this name, or 0: the attempt
   * may go ahead, and counts as a failure from now on, until succeeded() says
   * otherwise. So attempts sent in parallel (their passwords still being
   * checked) use up the free failures as they start, not as they end. A
   * refusal counts as a failure of the address too.
   */
  attempt(address: string, user: string): number {
    const now = this.now();
    this.forgetOld(now);
    const key = addressKey(address);
    const wait = this.retryAfter(key, user, now);
    if (wait > 0) {
      this.counts.throttled++;
      this.bump(this.addresses, key, now, () => ({ failures: 0, last: now }));
      return Math.ceil(this.retryAfter(key, user, now) / 1000);
    }
    this.bump(this.addresses, key, now, () => ({ failures: 0, last: now }));
    const u = this.bump(this.users, user, now, () => ({ failures: 0, last: now, addresses: new Map() }));
    if (u.addresses.size < 1000 || u.addresses.has(key)) u.addresses.set(key, (u.addresses.get(key) ?? 0) + 1);
    return 0;
  }

  /** The attempt's password was wrong (it was counted when it began). */
  failed(): void {
    this.counts.wrong++;
  }

  /** The attempt's password was right: the address starts afresh, and the name's count loses this attempt. */
  succeeded(address: string, user: string): void {
    const key = addressKey(address);
    this.counts.ok++;
    this.addresses.delete(key);
    const u = this.users.get(user);
    if (!u) return;
    u.addresses.delete(key);
    u.failures = Math.max(0, u.failures - 1);
  }

  /** Seconds the address must now wait for the name (after a failure, to tell the client at once). */
  retryAfterS(address: string, user: string): number {
    return Math.ceil(this.retryAfter(addressKey(address), user, this.now()) / 1000);
  }

  stats(): LoginLimiterStats {
    const now = this.now();
    let lockedAddresses = 0;
    for (const a of this.addresses.values()) if (waitOf(a, FREE_PER_ADDRESS, now) > 0) lockedAddresses++;
    let lockedUsers = 0;
    for (const u of this.users.values()) if (waitOf(u, FREE_PER_USER, now) > 0) lockedUsers++;
    return { attempts: { ...this.counts }, lockedAddresses, lockedUsers, evicted: this.evicted };
  }

  /** `address`: its key (addressKey). */
  private retryAfter(address: string, user: string, now: number): number {
    const a = this.addresses.get(address);
    const u = this.users.get(user);
    // A name's wait holds only for addresses that have failed on it.
    const waitU = u && (u.addresses.get(address) ?? 0) > 0 ? waitOf(u, FREE_PER_USER, now) : 0;
    return Math.max(0, waitOf(a, FREE_PER_ADDRESS, now), waitU);
  }

  private bump<E extends Entry>(map: Map<string, E>, key: string, now: number, fresh: () => E): E {
    let e = map.get(key);
    if (!e) {
      if (map.size >= MAX_ENTRIES) {
        const oldest = map.keys().next().value;
        if (oldest !== undefined) map.delete(oldest);
        this.evicted++;
      }
      e = fresh();
    }
    // Re-inserted: the map's order stays oldest failure first, for eviction and forgetting.
    map.delete(key);
    e.failures++;
    e.last = now;
    map.set(key, e);
    return e;
  }

  private forgetOld(now: number): void {
    for (const map of [this.addresses, this.users] as Map<string, Entry>[]) {
      for (const [key, e] of map) {
        if (now - e.last < FORGET_MS) break;
        map.delete(key);
      }
    }
  }
}
