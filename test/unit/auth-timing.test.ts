// Timing does not leak the access token (src/http/auth.ts).
//
// The project's rule is that speed targets are never timed assertions in
// tests: absolute times on this shared 2-core machine drift, so speed lives in
// the benchmarks (npm run bench:auth measures this same property in detail,
// over HTTP too). This file is the exception on purpose. "Refusing a guess
// takes no longer when more of it is right" is a security property, and its
// only direct evidence is a timing measurement. What keeps it honest and
// stable:
//   - it asserts no speed, only that two wrong guesses cost the same as each
//     other, measured back to back, in random order, many times, compared by
//     the median of the per-batch ratios (so a slow spell of the machine,
//     which hits either side alike, cannot bias it), with a generous band;
//   - every such assertion has a built-in control: the very same procedure,
//     on the very same inputs, run against deliberately naive comparators, must
//     report a leak many times larger than the band. Without that, a band that
//     always passes would prove nothing;
//   - the secrets are long (256 KiB), so a naive compare's leak is hundreds of
//     microseconds, far above the noise, while the whole file takes well under
//     a second of measuring.
// Alongside, structural checks: every way a request may carry the shared
// token (Auth.identify) reaches crypto.timingSafeEqual on two 32-byte digests,
// whatever the guess's length; a user's API token is found by its public id
// and its secret compared the same way.
import { createHash } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { Auth, SESSION_COOKIE, sameSecret } from '../../src/http/auth.js';
import { Accounts } from '../../src/auth/accounts.js';
import { LoginLimiter } from '../../src/auth/login-limiter.js';
import { OpenConnections } from '../../src/auth/open-connections.js';
import { silentLogger } from '../../src/util/logger.js';
import { earlyExit, guessSharing, makeSecret, median, type Comparator } from '../../bench/timing.js';

// Records what reaches crypto.timingSafeEqual, only while a test asks
// (recording is off during the timings, where the wrapper costs one branch,
// alike for every input).
const seen = vi.hoisted(() => ({ recording: false, calls: [] as { a: Buffer; b: Buffer }[] }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  // A copy: the buffers are the caller's, and may be reused after the call.
  const copy = (v: NodeJS.ArrayBufferView): Buffer => Buffer.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean => {
      if (seen.recording) seen.calls.push({ a: copy(a), b: copy(b) });
      return real.timingSafeEqual(a, b);
    },
  };
});

const strictEquals: Comparator = (given, expected) => given === expected;

const LONG = 256 * 1024;
const BATCHES = 41;
const CALLS = 2;


/**
 * The measurement procedure, the same for every comparator: `run(x)` is timed
 * for the suspect input and the baseline input back to back, in random order,
 * CALLS calls each, BATCHES times (after a warm-up, so the JIT has settled on
 * both). Returns the median over batches of suspect time ÷ baseline time:
 * 1 means they cost the same; a leak shows as a ratio well above 1.
 */
function leakRatio<T>(run: (x: T) => boolean, suspect: T, baseline: T): number {
  let accepted = 0;
  const time = (x: T): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) if (run(x)) accepted++;
    return Number(process.hrtime.bigint() - t0);
  };
  for (let i = 0; i < 5; i++) time(Math.random() < 0.5 ? suspect : baseline);
  const ratios: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    if (Math.random() < 0.5) {
      const s = time(suspect);
      ratios.push(s / time(baseline));
    } else {
      const base = time(baseline);
      ratios.push(time(suspect) / base);
    }
  }
  // Every input here is a wrong guess; one accepted means the inputs, not the timing, are broken.
  expect(accepted).toBe(0);
  return median(ratios);
}

/** A leak the procedure must see in the naive controls: far above the band sameSecret must stay in. */
const DETECTS = 3;
/** Generous, for a busy shared machine: sameSecret's two sides do identical work, so they land near 1.00. */
const BAND: [number, number] = [0.75, 1.33];

describe('access token timing', () => {
  const secret = makeSecret(LONG);
  const noneRight = guessSharing(secret, 0);
  const allButLast = guessSharing(secret, LONG - 1);
  // Longer by one character, but with the whole secret as its prefix: the
  // guess a length check would turn away early (the control checks length first).
  const wrongLength = `${secret}A`;

  it('guesses with more of the token right take no longer to refuse (controls: === and an early-exit loop do)', () => {
    const compareWith = (compare: Comparator) => (guess: string): boolean => compare(guess, secret);
    for (const naive of [strictEquals, earlyExit]) {
      const control = leakRatio(compareWith(naive), allButLast, noneRight);
      expect(control, `${naive === earlyExit ? 'early-exit loop' : '==='}: the procedure must see a naive compare's leak`).toBeGreaterThan(DETECTS);
    }
    const ratio = leakRatio(compareWith(sameSecret), allButLast, noneRight);
    expect(ratio, 'sameSecret: all but the last right ÷ none right').toBeGreaterThan(BAND[0]);
    expect(ratio, 'sameSecret: all but the last right ÷ none right').toBeLessThan(BAND[1]);
  });

  it('a guess of the right length takes no longer to refuse than one of a wrong length (controls: the same)', () => {
    const compareWith = (compare: Comparator) => (guess: string): boolean => compare(guess, secret);
    for (const naive of [strictEquals, earlyExit]) {
      const control = leakRatio(compareWith(naive), allButLast, wrongLength);
      expect(control, `${naive === earlyExit ? 'early-exit loop' : '==='}: the procedure must see a length check's leak`).toBeGreaterThan(DETECTS);
    }
    const ratio = leakRatio(compareWith(sameSecret), allButLast, wrongLength);
    expect(ratio, 'sameSecret: right length ÷ one too long').toBeGreaterThan(BAND[0]);
    expect(ratio, 'sameSecret: right length ÷ one too long').toBeLessThan(BAND[1]);
  });

  it('Auth.identify refuses a bearer guess in the same time however much of it is right (control: the same guard with ===)', () => {
    const auth = authWith(secret);
    const bearer = (guess: string): IncomingMessage => request({ authorization: `Bearer ${guess}` });
    const suspect = bearer(allButLast);
    const baseline = bearer(noneRight);
    // The control parses the header as Auth.allows does, then compares
    // naively: what a regression that bypassed sameSecret would look like.
    const naiveGuard = (req: IncomingMessage): boolean => {
      const header = req.headers.authorization;
      return header !== undefined && header.startsWith('Bearer ') && header.slice(7).trim() === secret;
    };
    expect(leakRatio(naiveGuard, suspect, baseline), 'naive guard: the procedure must see its leak').toBeGreaterThan(DETECTS);
    const ratio = leakRatio((req: IncomingMessage) => allows(auth, req), suspect, baseline);
    expect(ratio, 'Auth.identify: all but the last right ÷ none right').toBeGreaterThan(BAND[0]);
    expect(ratio, 'Auth.identify: all but the last right ÷ none right').toBeLessThan(BAND[1]);
  });
});

/** The guard as lookout serve builds it, with the shared token and no users file. */
function authWith(token: string): Auth {
  const config = { enabled: undefined, token, usersFile: '', sessionHours: 1, allowedOrigins: [], trustedProxy: undefined };
  return new Auth({ config, loopbackOnly: false, accounts: new Accounts(undefined, { sessionHours: 1, sharedToken: token }), limiter: new LoginLimiter(), connections: new OpenConnections(), log: silentLogger });
}

/** Whether the request is let in as someone. */
const allows = (auth: Auth, req: IncomingMessage): boolean => auth.identify(req).principal !== undefined;

/** A bare request as Auth.identify sees it: headers and a URL, no socket traffic. */
function request(headers: Record<string, string>, url = '/api/cameras'): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  req.url = url;
  return req;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** What reaches timingSafeEqual while `fn` runs. */
function recorded<T>(fn: () => T): { result: T; calls: { a: Buffer; b: Buffer }[] } {
  seen.calls = [];
  seen.recording = true;
  try {
    return { result: fn(), calls: seen.calls };
  } finally {
    seen.recording = false;
  }
}

describe('access token comparison path', () => {
  const TOKEN = 'correct-horse-battery-staple-42';
  const auth = authWith(TOKEN);
  // Wrong guesses of every kind of length: empty, one character, one short,
  // one long, the right length, and far longer than the token.
  const wrongs = ['', 'x', TOKEN.slice(0, -1), `${TOKEN}x`, guessSharing(TOKEN, TOKEN.length - 1), 'y'.repeat(10_000)];
  const ways: [string, (guess: string) => IncomingMessage][] = [
    ['bearer header', (g) => request({ authorization: `Bearer ${g}` })],
    ['access_token on a snapshot', (g) => request({}, `/api/cameras/shelf/snapshot.jpg?access_token=${encodeURIComponent(g)}`)],
  ];

  it('sameSecret compares secrets of any two lengths without throwing or a length check first', () => {
    // crypto.timingSafeEqual throws on buffers of different lengths: these
    // return false only because both sides are hashed to 32 bytes first, so
    // the compare that runs is the same whatever the lengths.
    const short = 'a';
    const long = 'a'.repeat(10_000);
    for (const [given, expected] of [[short, long], [long, short], ['', long]]) {
      const { result, calls } = recorded(() => sameSecret(given, expected));
      expect(result).toBe(false);
      expect(calls).toHaveLength(1);
      expect(calls[0].a).toEqual(sha256(given));
      expect(calls[0].b).toEqual(sha256(expected));
    }
    expect(sameSecret(long, `${'a'.repeat(9_999)}a`)).toBe(true);
  });

  for (const [way, make] of ways) {
    it(`Auth.identify by ${way}: any wrong guess, whatever its length, is refused through one 32-byte constant-time compare`, () => {
      for (const wrong of wrongs) {
        const { result, calls } = recorded(() => allows(auth, make(wrong)));
        expect(result, `${way} with a wrong guess of ${wrong.length} characters`).toBe(false);
        expect(calls, `${way}: one timingSafeEqual, on the guess's digest`).toHaveLength(1);
        expect(calls[0].a).toEqual(sha256(wrong));
        expect(calls[0].b).toHaveLength(32);
      }
    });
  }

  it('Auth.identify takes the right token as a bearer header or a snapshot access_token, and not as a cookie (cookies are sessions, looked up by digest)', () => {
    expect(allows(auth, request({ authorization: `Bearer ${TOKEN}` }))).toBe(true);
    expect(allows(auth, request({}, `/api/cameras/shelf/snapshot.jpg?access_token=${TOKEN}`))).toBe(true);
    expect(allows(auth, request({}, `/api/cameras?access_token=${TOKEN}`))).toBe(false);
    const { result, calls } = recorded(() => allows(auth, request({ cookie: `${SESSION_COOKIE}=${TOKEN}` })));
    expect(result).toBe(false);
    expect(calls).toHaveLength(0);
  });
});
