// What the token-timing benchmark (auth-timing.ts) and its unit test
// (test/unit/auth-timing.test.ts) share: the naive comparator they use as the
// control, the secrets and wrong guesses, and the statistics.
import { randomBytes } from 'node:crypto';

export type Comparator = (given: string, expected: string) => boolean;

/** The classic mistake: a loop that returns at the first character that differs (and on length). */
export function earlyExit(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  for (let i = 0; i < given.length; i++) if (given.charCodeAt(i) !== expected.charCodeAt(i)) return false;
  return true;
}

// ---- inputs ----

/**
 * A flat one-byte string: built from a Buffer rather than by concatenation,
 * which would make a rope that V8 flattens on first use (a one-off cost that
 * would land on whichever case ran first).
 */
const flat = (bytes: Buffer): string => bytes.toString('latin1');

/** A random token of `length` URL-safe characters (what a header or query string carries). */
export function makeSecret(length: number): string {
  return flat(Buffer.from(randomBytes(Math.ceil((length * 3) / 4) + 3).toString('base64url').slice(0, length), 'latin1'));
}

/** The secret with one character changed: a wrong guess sharing exactly `shared` leading characters. */
export function guessSharing(secret: string, shared: number): string {
  const bytes = Buffer.from(secret, 'latin1');
  bytes[shared] = bytes[shared] === 0x41 ? 0x42 : 0x41; // 'A' or 'B': still a valid token character
  return flat(bytes);
}

// ---- statistics ----

export function sorted(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs).sort();
}
export function quantile(s: Float64Array, q: number): number {
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
export const median = (xs: ArrayLike<number>): number => quantile(sorted(xs), 0.5);

export function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * Mann–Whitney U of `a` against `b` (average ranks for ties, tie-corrected
 * variance): z > 0 means `a` tends to be larger. P(slower) is U / (n·m), the
 * chance that a random value of `a` beats a random value of `b` (0.5: neither).
 * Rank-based, so a few requests stalled by the scheduler cannot swing it.
 */
export function mannWhitney(a: number[], b: number[]): { z: number; pSlower: number } {
  const all = [...a.map((v) => ({ v, inA: true })), ...b.map((v) => ({ v, inA: false }))].sort((x, y) => x.v - y.v);
  const n = all.length;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1].v === all[i].v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k].inA) rankSumA += rank;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  const u = rankSumA - (a.length * (a.length + 1)) / 2;
  const mean = (a.length * b.length) / 2;
  const sd = Math.sqrt(((a.length * b.length) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  return { z: (u - mean) / sd, pSlower: u / (a.length * b.length) };
}

/** 95% bootstrap interval of median(a) − median(b), resampling each side on its own. */
export function bootstrapMedianDiff(a: number[], b: number[], resamples = 1000): [number, number] {
  const diffs = new Float64Array(resamples);
  const ra = new Float64Array(a.length);
  const rb = new Float64Array(b.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < a.length; i++) ra[i] = a[Math.floor(Math.random() * a.length)];
    for (let i = 0; i < b.length; i++) rb[i] = b[Math.floor(Math.random() * b.length)];
    diffs[r] = quantile(ra.sort(), 0.5) - quantile(rb.sort(), 0.5);
  }
  diffs.sort();
  return [quantile(diffs, 0.025), quantile(diffs, 0.975)];
}
