// npm run bench:auth — does checking the access token leak it through timing?
//
// A timing attack guesses the token one character at a time: if a wrong guess
// that gets the first k characters right takes longer to refuse than one that
// gets none right, the attacker learns k. So every measure here compares wrong
// guesses that share none, half, or all but the last character of the secret
// (all of the secret's length, differing from it in exactly one character).
//
// Measured side by side in one run, all cases interleaved in random order:
//   (a) function level: sameSecret (src/http/auth.ts: sha256 of both sides,
//       then crypto.timingSafeEqual) against two deliberately naive
//       comparators — `given === expected` and a loop that stops at the first
//       different character — at a realistic token length (48 characters, what
//       `openssl rand -hex 24` gives), 8 KiB and 64 KiB (long enough that a
//       naive compare's leak stands far above the noise); median ns per call,
//       and for each comparator the median over batches of all-but-last ÷ none,
//       timed back to back in one batch (1.00: no leak);
//   (b) end to end: GET /api/cameras with a wrong `Authorization: Bearer`
//       guess sharing none vs all but the last character, against a real
//       lookout (startLookout, synthetic embedded model, no cameras) with a
//       48-character and with an 8 KiB token; as the control, a bare node:http
//       server that checks the same tokens with the naive loop. All eight
//       request streams interleaved in random order, each over its own
//       keep-alive connection; median and p90, the median difference with a
//       bootstrap 95% interval, Mann–Whitney's z and P(slower) (the chance that
//       an all-but-last request is slower than a none request; 0.5: no
//       difference).
// The baselines are the naive comparators: what a timing attack exploits.
// Ends with one line of JSON holding the same figures.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLookout, type RunningLookout } from '../src/app.js';
import { parseConfig } from '../src/config/parse.js';
import { sameSecret } from '../src/http/auth.js';
import { credentials } from './auth-credentials.js';
import { silentLogger } from '../src/util/logger.js';
import { bootstrapMedianDiff, earlyExit, guessSharing, makeSecret, mannWhitney, median, quantile, shuffle, sorted, type Comparator } from './timing.js';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 101);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3000);
/** Each function-level batch times enough calls to last about this long, so the clock's own cost is small. */
const BATCH_TARGET_NS = 200_000;
const FN_LENGTHS = [48, 8 * 1024, 64 * 1024];
const HTTP_LENGTHS = [48, 8 * 1024];

const COMPARATORS: { name: string; compare: Comparator }[] = [
  { name: 'sameSecret (sha256 + timingSafeEqual)', compare: sameSecret },
  { name: 'naive given === expected', compare: (given, expected) => given === expected },
  { name: 'naive early-exit loop', compare: earlyExit },
];
const SHARED = ['none', 'half', 'all-but-last'] as const;
type Shared = (typeof SHARED)[number];

function sharedCount(shared: Shared, length: number): number {
  return shared === 'none' ? 0 : shared === 'half' ? Math.floor(length / 2) : length - 1;
}

// ---- (a) function level ----

interface FnCase {
  comparator: string;
  compare: Comparator;
  length: number;
  shared: Shared;
  expected: string;
  guess: string;
  calls: number;
  nsPerCall: number[];
}

let accepted = 0;

/** ns per call over `calls` calls; a wrong guess accepted is counted (and fails the bench), which also keeps the calls from being optimised away. */
function timeCalls(c: FnCase, calls: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) if (c.compare(c.guess, c.expected)) accepted++;
  return Number(process.hrtime.bigint() - t0) / calls;
}

/** Calls per batch so one batch lasts about BATCH_TARGET_NS; run twice over all cases, the first pass also warms the JIT up on every input. */
function calibrate(cases: FnCase[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const c of shuffle([...cases])) {
      let calls = 1;
      while (calls < 1 << 22 && timeCalls(c, calls) * calls < BATCH_TARGET_NS) calls *= 2;
      c.calls = calls;
    }
  }
}

function functionLevel(): FnCase[] {
  const cases: FnCase[] = [];
  for (const length of FN_LENGTHS) {
    const expected = makeSecret(length);
    const guesses = new Map(SHARED.map((s) => [s, guessSharing(expected, sharedCount(s, length))]));
    for (const { name, compare } of COMPARATORS) {
      for (const shared of SHARED) cases.push({ comparator: name, compare, length, shared, expected, guess: guesses.get(shared) ?? '', calls: 1, nsPerCall: [] });
    }
  }
  calibrate(cases);
  // Each batch visits the (comparator, length) groups in a random order and
  // times a group's three guesses back to back, also in a random order: the
  // three are then measured within a millisecond of each other, so a slow
  // spell of this shared machine lands on all three alike (and the per-batch
  // ratio cancels it), while no guess is always first or last.
  const groups = [...new Set(cases.map((c) => `${c.comparator}/${c.length}`))].map((key) => cases.filter((c) => `${c.comparator}/${c.length}` === key));
  for (let b = 0; b < BATCHES; b++) {
    for (const group of shuffle([...groups])) for (const c of shuffle([...group])) c.nsPerCall.push(timeCalls(c, c.calls));
  }
  if (accepted > 0) throw new Error(`a wrong guess was accepted ${accepted} times: the inputs are broken`);
  return cases;
}

// ---- (b) end to end over HTTP ----

interface Target {
  server: string;
  length: number;
  url: string;
  agent: http.Agent;
  guesses: Record<'none' | 'all-but-last', string>;
  us: Record<'none' | 'all-but-last', number[]>;
}

/** The control: a bare HTTP server that refuses wrong bearer tokens after the naive early-exit loop. */
async function naiveServer(token: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const header = req.headers.authorization ?? '';
    const ok = header.startsWith('Bearer ') && earlyExit(header.slice(7), token);
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(ok ? '[]' : '{"error":"this server needs its access token"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** One request's round trip, µs, from sending to the last byte of a 401. */
function timedRequest(target: Target, guess: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(`${target.url}/api/cameras`, { agent: target.agent, headers: { authorization: `Bearer ${guess}` } }, (res) => {
      res.resume();
      res.once('end', () => {
        const us = Number(process.hrtime.bigint() - t0) / 1000;
        if (res.statusCode !== 401) reject(new Error(`${target.server}: a wrong token got ${res.statusCode}`));
        else resolve(us);
      });
    });
    req.once('error', reject);
  });
}

async function endToEnd(): Promise<Target[]> {
  const lookouts: RunningLookout[] = [];
  const controls: { close(): Promise<void> }[] = [];
  const dirs: string[] = [];
  const targets: Target[] = [];
  const target = (server: string, length: number, url: string, token: string): Target => ({
    server, length, url,
    // One socket each, kept alive: every request reuses a warm connection, so
    // what differs between requests is the server's work, not TCP set-up.
    agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    guesses: { 'none': guessSharing(token, 0), 'all-but-last': guessSharing(token, token.length - 1) },
    us: { 'none': [], 'all-but-last': [] },
  });
  try {
    for (const length of HTTP_LENGTHS) {
      const token = makeSecret(length);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-auth-'));
      dirs.push(dir);
      const lookout = await startLookout(parseConfig({
        http: { host: '127.0.0.1', port: 0 },
        auth: { token },
        // No store (nothing to record), but a path of its own: cameras.json lives beside it.
        store: { enabled: false, path: path.join(dir, 'lookout.db') },
        modelServer: { embedded: { model: 'synthetic', latencyMs: 0, capacity: 1 } },
      }), silentLogger);
      lookouts.push(lookout);
      targets.push(target('lookout', length, lookout.url, token));
      const control = await naiveServer(token);
      controls.push(control);
      targets.push(target('control: naive loop', length, control.url, token));
    }
    const jobs = targets.flatMap((t) => (['none', 'all-but-last'] as const).map((shared) => ({ t, shared })));
    // Warm-up, unmeasured: connections open, JIT settled on every path.
    for (let i = 0; i < 200; i++) for (const j of shuffle([...jobs])) await timedRequest(j.t, j.t.guesses[j.shared]);
    for (let r = 0; r < ROUNDS; r++) {
      for (const j of shuffle([...jobs])) j.t.us[j.shared].push(await timedRequest(j.t, j.t.guesses[j.shared]));
    }
  } finally {
    for (const t of targets) t.agent.destroy();
    for (const c of controls) await c.close();
    for (const l of lookouts) await l.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  return targets;
}

// ---- run and report ----

const size = (n: number): string => (n >= 1024 ? `${n / 1024} KiB` : `${n} chars`);
const fmt = (x: number, digits = 1): string => x.toFixed(digits);

function printTable(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(head.map((h, i) => h.padEnd(w[i])).join(' | '));
  console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join(' | '));
}

console.log(`lookout bench:auth — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}`);
console.log(`(a) ${BATCHES} interleaved batches per case, ~${BATCH_TARGET_NS / 1000} µs each; (b) ${ROUNDS} interleaved requests per case, in-process lookout and control over loopback keep-alive\n`);

const fn = functionLevel();
const fnRows = COMPARATORS.flatMap(({ name }) => FN_LENGTHS.map((length) => {
  const caseOf = (s: Shared): number[] => fn.find((c) => c.comparator === name && c.length === length && c.shared === s)?.nsPerCall ?? [];
  const ns = Object.fromEntries(SHARED.map((s) => [s, median(caseOf(s))])) as Record<Shared, number>;
  const none = caseOf('none');
  const ratio = median(caseOf('all-but-last').map((x, b) => x / none[b]));
  return { comparator: name, length, ns, ratio, deltaNs: ns['all-but-last'] - ns.none };
}));
console.log('(a) function level: median ns per call of a wrong guess sharing none / half / all but the last character;');
console.log('    ratio: median over batches of all-but-last ÷ none, the two timed back to back (1.00: no leak)');
printTable(
  ['comparator', 'secret', 'none', 'half', 'all-but-last', 'ratio', 'Δ ns'],
  fnRows.map((r) => [r.comparator, size(r.length), fmt(r.ns.none), fmt(r.ns.half), fmt(r.ns['all-but-last']), fmt(r.ratio, 2), fmt(r.deltaNs)]),
);

const targets = await endToEnd();
/** What the naive loop's leak is worth at function level, for the same length: the size of signal (b) would need to see. */
const naiveDelta = (length: number): number => fnRows.find((r) => r.comparator === 'naive early-exit loop' && r.length === length)?.deltaNs ?? NaN;
const httpRows = targets.map((t) => {
  const none = sorted(t.us.none);
  const full = sorted(t.us['all-but-last']);
  const [lo, hi] = bootstrapMedianDiff(t.us['all-but-last'], t.us.none);
  const { z, pSlower } = mannWhitney(t.us['all-but-last'], t.us.none);
  const detected = Math.abs(z) >= 3 && (lo > 0 || hi < 0);
  return {
    server: t.server, length: t.length,
    noneMedianUs: quantile(none, 0.5), noneP90Us: quantile(none, 0.9),
    fullMedianUs: quantile(full, 0.5), fullP90Us: quantile(full, 0.9),
    deltaMedianUs: quantile(full, 0.5) - quantile(none, 0.5), ci95Us: [lo, hi] as [number, number],
    z, pSlower, detected, naiveLoopFnDeltaNs: naiveDelta(t.length),
  };
});
console.log(`\n(b) end to end: GET /api/cameras with a wrong bearer token, µs per request (${ROUNDS} each)`);
printTable(
  ['server', 'token', 'none p50', 'none p90', 'all-but-last p50', 'all-but-last p90', 'Δ p50 (95% CI)', 'MW z', 'P(slower)', 'verdict', 'naive loop Δ, fn level'],
  httpRows.map((r) => [
    r.server, size(r.length), fmt(r.noneMedianUs), fmt(r.noneP90Us), fmt(r.fullMedianUs), fmt(r.fullP90Us),
    `${r.deltaMedianUs >= 0 ? '+' : ''}${fmt(r.deltaMedianUs, 2)} (${fmt(r.ci95Us[0], 2)} … ${fmt(r.ci95Us[1], 2)})`, fmt(r.z, 2), fmt(r.pSlower, 3),
    r.detected ? 'DIFFERENCE' : 'no detectable difference', `${fmt(r.naiveLoopFnDeltaNs / 1000, 3)} µs`,
  ]),
);
console.log('verdict: DIFFERENCE when |z| ≥ 3 and the 95% interval excludes 0. The last column is the leak a naive check would add at that length');
console.log('(function level, (a)): smaller than the interval\'s half-width is more than one run of (b) can resolve; (a) is the fine-grained evidence.');

const cred = await credentials();
const p = cred.passwordMs;
console.log(`\n(c) passwords: scrypt N=${cred.scrypt.N} r=${cred.scrypt.r} p=${cred.scrypt.p}, median ms per check (interleaved); ratios per round`);
printTable(
  ['check', 'right', 'wrong', 'unknown user', 'wrong ÷ right', 'unknown ÷ right', 'guesses/s per core'],
  [
    ['scrypt (lookout)', fmt(p.right, 1), fmt(p.wrong, 1), fmt(p.unknownUser, 1), fmt(p.wrongOverRight, 2), fmt(p.unknownOverRight, 2), fmt(p.guessesPerCoreScrypt, 1)],
    ['baseline: one sha256', fmt(p.sha256Us / 1000, 4), '', '', '', '', fmt(p.guessesPerCoreSha256, 0)],
    ['POST /login over HTTP', fmt(cred.loginMs.right, 1), fmt(cred.loginMs.wrong, 1), fmt(cred.loginMs.unknownUser, 1), fmt(cred.loginMs.wrong / cred.loginMs.right, 2), fmt(cred.loginMs.unknownUser / cred.loginMs.right, 2), ''],
  ],
);
console.log(`scrypt makes each guess ${fmt(p.guessesPerCoreSha256 / p.guessesPerCoreScrypt, 0)}× dearer than a bare sha256; an unknown name costs as much as a known one (no user enumeration by timing).`);
const t = cred.token;
console.log('\n(d) API tokens: a guess with the right id, secret sharing none / all but the last character, ns per Accounts.token call');
printTable(
  ['path', 'none', 'all-but-last', 'ratio (1.00: no leak)', 'control: naive compare ratio (8.6 KB secret)'],
  [['Accounts.token (sha256 + timingSafeEqual)', fmt(t.nsNone), fmt(t.nsAllButLast), fmt(t.ratio, 2), fmt(t.naiveRatio, 2)]],
);
console.log(`identifying a request: API token ${fmt(t.identifyNs.apiToken)} ns, shared token ${fmt(t.identifyNs.sharedToken)} ns, session cookie ${fmt(t.identifyNs.session)} ns`);

console.log(JSON.stringify({
  bench: 'auth-timing',
  credentials: cred,
  batches: BATCHES, rounds: ROUNDS,
  functionLevel: fnRows.map((r) => ({ comparator: r.comparator, length: r.length, nsNone: +fmt(r.ns.none), nsHalf: +fmt(r.ns.half), nsAllButLast: +fmt(r.ns['all-but-last']), ratio: +fmt(r.ratio, 3), deltaNs: +fmt(r.deltaNs) })),
  http: httpRows.map((r) => ({
    server: r.server, length: r.length,
    noneMedianUs: +fmt(r.noneMedianUs, 2), noneP90Us: +fmt(r.noneP90Us, 2), allButLastMedianUs: +fmt(r.fullMedianUs, 2), allButLastP90Us: +fmt(r.fullP90Us, 2),
    deltaMedianUs: +fmt(r.deltaMedianUs, 3), ci95Us: r.ci95Us.map((x) => +fmt(x, 3)), z: +fmt(r.z, 3), pSlower: +fmt(r.pSlower, 4), detected: r.detected,
    naiveLoopFnDeltaNs: +fmt(r.naiveLoopFnDeltaNs),
  })),
}));
