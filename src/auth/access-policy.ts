// Which requests need which role. One table for the HTTP routes and the
// WebSocket, so that a route added later is admin-only unless it is a read:
//   open    the probes, the login page and what it loads, logging in and out;
//   self    any logged-in user: who they are, their API tokens' list (/api/me…);
//   account a user logged in with their password (a session): changing that
//           password, creating and revoking API tokens (a leaked token must
//           not mint new ones or guess its user's password);
//   viewer  every read (GET, HEAD): live and recorded video, events, the
//           log, counts, metrics, the page, the WebSocket;
//   admin   everything else: every write (cameras, /api/detect, users) and
//           reading the users.
import type { Principal } from './accounts.js';

export type Need = 'open' | 'self' | 'account' | 'viewer' | 'admin';

/** Served to anyone: the probes and the login page with what it loads. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/login', '/logout', '/login.html', '/login.js', '/style.css', '/favicon.ico']);

/**
 * The path as the router matches it: express matches case-insensitively and
 * on the decoded path, so "/API/Users" or "/api/%75sers" must not be read as
 * something other than /api/users.
 */
function canonical(path: string): string {
  let p = path;
  try {
    p = decodeURIComponent(path);
  } catch {
    // Left as it is: the router cannot match a malformed escape to a route either.
  }
  return p.toLowerCase().replace(/\/{2,}/g, '/');
}

export function need(method: string, path: string): Need {
  const p = canonical(path);
  if (OPEN_PATHS.has(p)) return 'open';
  if (p === '/api/me' || p.startsWith('/api/me/')) return method === 'GET' || method === 'HEAD' ? 'self' : p === '/api/me/password' || p.startsWith('/api/me/tokens') ? 'account' : 'self';
  if (p === '/api/users' || p.startsWith('/api/users/')) return 'admin';
  if (method === 'GET' || method === 'HEAD') return 'viewer';
  return 'admin';
}

/** Whether a principal meets a need (open needs none at all). */
export function meets(p: Principal, needed: Need): boolean {
  if (needed === 'admin') return p.role === 'admin';
  if (needed === 'account') return p.via === 'session';
  return true;
}

/** Reads change nothing; the Origin check applies to everything else. */
export const changesState = (method: string): boolean => method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
