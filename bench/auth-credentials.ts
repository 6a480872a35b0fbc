// bench:auth, parts (c) and (d): users' credentials.
//
// (c) passwords: what one check costs (scrypt, N=2^15 r=8 p=1) for the right
//     password, a wrong one and a user name that does not exist, interleaved;
//     the ratios say whether the answer's timing tells an attacker which
//     names exist (1.00: it does not). Beside it, the baseline an attacker
//     with a stolen users file would love: one SHA-256 of the password, and
//     what each costs per guess on one core. Then logins over HTTP (POST
//     /login against a real lookout, each from its own forwarded address so
//     the limiter stays out of it): right, wrong, unknown user.
// (d) API tokens (lk_<id>_<secret>): a guess with the right id whose secret
//     shares none vs all but the last character with the real one, through
//     Accounts.token (the digest compared with timingSafeEqual), beside the
//     control: a naive early-exit compare, which must show its leak, on a
//     secret 200 times as long, since at 43 characters a naive compare's
//     leak is below the clock); and what identifying a request
//     costs by API token, by the shared token and by session cookie.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startLookout } from '../src/app.js';
import { parseConfig } from '../src/config/parse.js';
import { Accounts } from '../src/auth/accounts.js';
import { sameSecret } from '../src/auth/secrets.js';
import { hashPassword, SCRYPT, verifyPassword } from '../src/auth/passwords.js';
import { UserDb } from '../src/auth/user-db.js';
import { silentLogger } from '../src/util/logger.js';
import { earlyExit, guessSharing, median, shuffle } from './timing.js';

const PASSWORD_ROUNDS = Number(process.env.BENCH_PASSWORD_ROUNDS ?? 21);
const TOKEN_BATCHES = Number(process.env.BENCH_BATCHES ?? 101);

const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export interface CredentialsResult {
  scrypt: { N: number; r: number; p: number };
  passwordMs: { right: number; wrong: number; unknownUser: number; wrongOverRight: number; unknownOverRight: number; sha256Us: number; guessesPerCoreScrypt: number; guessesPerCoreSha256: number };
  loginMs: { right: number; wrong: number; unknownUser: number };
  token: { nsNone: number; nsAllButLast: number; ratio: number; naiveRatio: number; identifyNs: { apiToken: number; sharedToken: number; session: number } };
}

async function passwords(): Promise<CredentialsResult['passwordMs']> {
  const stored = await hashPassword('the-right-password');
  const cases = { right: [] as number[], wrong: [] as number[], unknownUser: [] as number[] };
  const run = { right: () => verifyPassword('the-right-password', stored), wrong: () => verifyPassword('the-wrong-password', stored), unknownUser: () => verifyPassword('the-right-password', undefined) };
  await run.unknownUser();
  for (let i = 0; i < PASSWORD_ROUNDS; i++) {
    for (const k of shuffle(['right', 'wrong', 'unknownUser'] as const)) {
      const t0 = process.hrtime.bigint();
      await run[k]();
      cases[k].push(msSince(t0));
    }
  }
  const n = 200_000;
  const t0 = process.hrtime.bigint();
  let x = 0;
  for (let i = 0; i < n; i++) x += createHash('sha256').update(`guess-${i}`).digest()[0];
  const sha256Us = (msSince(t0) * 1000) / n + (x < 0 ? 1 : 0);
  const right = median(cases.right);
  return {
    right, wrong: median(cases.wrong), unknownUser: median(cases.unknownUser),
    wrongOverRight: median(cases.wrong.map((w, i) => w / cases.right[i])), unknownOverRight: median(cases.unknownUser.map((u, i) => u / cases.right[i])),
    sha256Us, guessesPerCoreScrypt: 1000 / right, guessesPerCoreSha256: 1e6 / sha256Us,
  };
}

async function logins(): Promise<CredentialsResult['loginMs']> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-login-'));
  const usersFile = path.join(dir, 'users.db');
  const db = UserDb.open(usersFile, { create: true });
  db.addUser('alice', 'viewer', await hashPassword('alice-password'));
  db.close();
  const lookout = await startLookout(parseConfig({
    // Loopback as a trusted proxy, so each login's X-Forwarded-For is its client address.
    http: { host: '127.0.0.1', port: 0 }, auth: { usersFile, trustedProxy: { addresses: ['127.0.0.1'] } },
    store: { enabled: false, path: path.join(dir, 'lookout.db') },
    modelServer: { embedded: { model: 'synthetic', latencyMs: 0, capacity: 1 } },
  }), silentLogger);
  const cases = { right: [] as number[], wrong: [] as number[], unknownUser: [] as number[] };
  const bodies = { right: { user: 'alice', password: 'alice-password' }, wrong: { user: 'alice', password: 'not-her-password' }, unknownUser: { user: 'mallory', password: 'alice-password' } };
  let address = 0;
  try {
    for (let i = 0; i < PASSWORD_ROUNDS; i++) {
      for (const k of shuffle(['right', 'wrong', 'unknownUser'] as const)) {
        // A new forwarded address each time: the limiter never holds these back.
        address++;
        const t0 = process.hrtime.bigint();
        const res = await fetch(`${lookout.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}` }, body: JSON.stringify(bodies[k]) });
        await res.arrayBuffer();
        cases[k].push(msSince(t0));
        if (res.status !== (k === 'right' ? 200 : 401)) throw new Error(`login (${k}) answered ${res.status}`);
      }
    }
  } finally {
    await lookout.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { right: median(cases.right), wrong: median(cases.wrong), unknownUser: median(cases.unknownUser) };
}

function tokens(): CredentialsResult['token'] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-tokens-'));
  const db = UserDb.open(path.join(dir, 'users.db'), { create: true });
  db.addUser('alice', 'viewer', 'scrypt$1$1$1$AA$AA');
  const shared = 'shared-token-for-the-benchmark-0123';
  const accounts = new Accounts(db, { sessionHours: 1, sharedToken: shared });
  try {
    const { token } = accounts.createToken('alice', 'bench');
    const [, id, secret] = /^lk_([0-9a-f]{16})_(.+)$/.exec(token) ?? [];
    const guess = (sharedChars: number): string => `lk_${id}_${guessSharing(secret, sharedChars)}`;
    const none = guess(0);
    const allButLast = guess(secret.length - 1);
    const alice = accounts.user('alice');
    const session = alice ? accounts.startSession(alice)?.cookie : undefined;
    if (!session) throw new Error('no session for alice');
    const calls = 20_000;
    const time = (fn: () => unknown): number => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) fn();
      return Number(process.hrtime.bigint() - t0) / calls;
    };
    const rows = { none: [] as number[], allButLast: [] as number[], naiveNone: [] as number[], naiveAll: [] as number[] };
    for (let b = 0; b < TOKEN_BATCHES; b++) {
      for (const k of shuffle(['ours', 'naive'] as const)) {
        if (k === 'ours') {
          for (const s of shuffle(['none', 'allButLast'] as const)) rows[s].push(time(() => accounts.token(s === 'none' ? none : allButLast)));
        } else {
          // A 1-character secret difference is below the clock at 43 characters: the control compares a long secret the naive way.
          const long = guessSharing(secret.repeat(200), 0);
          const longAll = `${secret.repeat(200).slice(0, -1)}#`;
          rows.naiveNone.push(time(() => earlyExit(long, secret.repeat(200))));
          rows.naiveAll.push(time(() => earlyExit(longAll, secret.repeat(200))));
        }
      }
    }
    const identifyNs = { apiToken: time(() => accounts.token(token)), sharedToken: time(() => sameSecret(shared, shared)), session: time(() => accounts.session(session)) };
    return {
      nsNone: median(rows.none), nsAllButLast: median(rows.allButLast),
      ratio: median(rows.allButLast.map((x, i) => x / rows.none[i])), naiveRatio: median(rows.naiveAll.map((x, i) => x / rows.naiveNone[i])),
      identifyNs,
    };
  } finally {
    accounts.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function credentials(): Promise<CredentialsResult> {
  return { scrypt: { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, passwordMs: await passwords(), loginMs: await logins(), token: tokens() };
}
