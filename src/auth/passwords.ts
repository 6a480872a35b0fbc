// Password hashing: scrypt from node:crypto, run on libuv's thread pool so a
// login never blocks the event loop that carries video.
//
// Parameters (stored with each hash, so they can be raised later without
// invalidating old ones): N = 2^15, r = 8, p = 1, a 16-byte random salt and a
// 32-byte key. That costs 32 MiB of memory and about 175 ms of one core per
// check on the 2-core test machine (bench:auth measures it), which makes each
// guess 60 000 times dearer than a SHA-256 while a login stays quick; the login limiter (login-limiter.ts) bounds how many
// guesses anyone gets to make. Stored form: scrypt$N$r$p$salt$key (base64url).
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT = { N: 1 << 15, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;
export const MIN_PASSWORD_LENGTH = 8;
/** Longer passwords are refused rather than hashed: scrypt's cost does not grow with length, but nobody types 1 KB. */
export const MAX_PASSWORD_LENGTH = 1024;

const derive = (password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    // maxmem above 128·N·r (32 MiB at the defaults), which node's 32 MiB default does not leave room for.
    const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });

/** Why a new password is not acceptable, or undefined. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'expected a string';
  if (password.length < MIN_PASSWORD_LENGTH) return `is ${password.length} characters long; use at least ${MIN_PASSWORD_LENGTH}`;
  if (password.length > MAX_PASSWORD_LENGTH) return `is longer than ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await derive(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keyLength);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * Whether `password` matches `stored`. A missing user is checked against a
 * hash of the same cost (DUMMY), so the answer takes as long whether the
 * name exists or not.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parts = (stored ?? (await dummyHash())).split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64url');
  const expected = Buffer.from(parts[5], 'base64url');
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || expected.length === 0) return false;
  const key = await derive(password.slice(0, MAX_PASSWORD_LENGTH), salt, N, r, p, expected.length);
  return timingSafeEqual(key, expected) && stored !== undefined;
}

let dummy: Promise<string> | undefined;
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}
