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
// A success clears the address, and the address's failures on that name.
// Entries are forgotten FORGET_MS after their last failure, and at most
// MAX_ENTRIES of each are kept (oldest dropped, counted).

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
const delayFor = (failures: number, free: number): number => (failures < free ? 0 : Math.min(MAX_DELAY_MS, 1000 * 2 ** Math.min(30, failures - free)));

export class LoginLimiter {
  private readonly addresses = new Map<string, Entry>();
  private readonly users = new Map<string, UserEntry>();
  private readonly counts = { ok: 0, wrong: 0, throttled: 0 };
  private evicted = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds to wait before this address may try this name again, or 0. A refusal counts as a failure of the address. */
  check(address: string, user: string): number {
    const now = this.now();
    this.forgetOld(now);
    const a = this.addresses.get(address);
    const u = this.users.get(user);
    const waitA = a ? a.last + delayFor(a.failures, FREE_PER_ADDRESS) - now : 0;
    const waitU = u && (u.addresses.get(address) ?? 0) > 0 ? u.last + delayFor(u.failures, FREE_PER_USER) - now : 0;
    const wait = Math.max(waitA, waitU);
    if (wait <= 0) return 0;
    this.counts.throttled++;
    this.bump(this.addresses, address, now, () => ({ failures: 0, last: now }));
    return Math.ceil(this.retryAfter(address, user, now) / 1000);
  }

  failed(address: string, user: string): void {
    const now = this.now();
    this.counts.wrong++;
    this.bump(this.addresses, address, now, () => ({ failures: 0, last: now }));
    const u = this.bump(this.users, user, now, () => ({ failures: 0, last: now, addresses: new Map() }));
    if (u.addresses.size < 1000 || u.addresses.has(address)) u.addresses.set(address, (u.addresses.get(address) ?? 0) + 1);
  }

  succeeded(address: string, user: string): void {
    this.counts.ok++;
    this.addresses.delete(address);
    this.users.get(user)?.addresses.delete(address);
  }

  /** Seconds the address must now wait for the name (after a failure, to tell the client at once). */
  retryAfterS(address: string, user: string): number {
    return Math.ceil(this.retryAfter(address, user, this.now()) / 1000);
  }

  stats(): LoginLimiterStats {
    const now = this.now();
    let lockedAddresses = 0;
    for (const a of this.addresses.values()) if (a.last + delayFor(a.failures, FREE_PER_ADDRESS) > now) lockedAddresses++;
    let lockedUsers = 0;
    for (const u of this.users.values()) if (u.last + delayFor(u.failures, FREE_PER_USER) > now) lockedUsers++;
    return { attempts: { ...this.counts }, lockedAddresses, lockedUsers, evicted: this.evicted };
  }

  private retryAfter(address: string, user: string, now: number): number {
    const a = this.addresses.get(address);
    const u = this.users.get(user);
    const waitA = a ? a.last + delayFor(a.failures, FREE_PER_ADDRESS) - now : 0;
    const waitU = u && (u.addresses.get(address) ?? 0) > 0 ? u.last + delayFor(u.failures, FREE_PER_USER) - now : 0;
    return Math.max(0, waitA, waitU);
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
