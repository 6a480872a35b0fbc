// The secrets lookout hands out and how it keeps and checks them. Session
// cookies and API tokens are 256 random bits: a SHA-256 digest is all the
// users file keeps of them (no slow hash is needed at that entropy), and a
// cookie is found by its digest, so there is no compare to time. An API
// token reads lk_<id>_<secret>: the id (public, 16 hex digits) finds its
// row, and the secret's digest is compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The digest as stored and looked up (base64url). */
export const digestText = (s: string): string => digest(s).toString('base64url');

/** Compares secrets in constant time: both sides hashed to 32 bytes first, so neither length nor first wrong byte shows. */
export const sameSecret = (given: string, expected: string): boolean => timingSafeEqual(digest(given), digest(expected));

/** A new session cookie's value. */
export const newSessionSecret = (): string => randomBytes(32).toString('base64url');

/** A new API token: its id, the whole token (shown once), and the digest of its secret (kept). */
export function newApiToken(): { id: string; token: string; hash: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `lk_${id}_${secret}`, hash: digestText(secret) };
}

/** The id an API token names; undefined for what is not one. */
export function apiTokenId(given: string): string | undefined {
  return /^lk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/.exec(given)?.[1];
}

/** Whether a token apiTokenId accepted holds the secret whose digest is `storedHash`. */
export function apiTokenMatches(given: string, storedHash: string): boolean {
  // After "lk_", the 16-digit id and "_" (the secret's base64url may hold "_" itself).
  const secret = given.slice(20);
  return timingSafeEqual(digest(secret), Buffer.from(storedHash, 'base64url'));
}
