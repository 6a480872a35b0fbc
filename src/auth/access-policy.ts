// Which requests need which role. One table for the HTTP routes and the
// WebSocket, so that a route added later is admin-only unless it is a read:
//   open    the probes, the login page and what it loads, logging in and out;
//   self    any logged-in user: their own account (/api/me…);
//   viewer  every read (GET, HEAD): live and recorded video, events, the
//           log, counts, metrics, the page, the WebSocket;
//   admin   everything else: every write (cameras, /api/detect, users) and
//           reading the users.
import type { Role } from './user-db.js';

export type Need = 'open' | 'self' | 'viewer' | 'admin';

/** Served to anyone: the probes and the login page with what it loads. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/login', '/logout', '/login.html', '/login.js', '/style.css', '/favicon.ico']);

export function need(method: string, path: string): Need {
  if (OPEN_PATHS.has(path)) return 'open';
  if (path === '/api/me' || path.startsWith('/api/me/')) return 'self';
  if (path === '/api/users' || path.startsWith('/api/users/')) return 'admin';
  if (method === 'GET' || method === 'HEAD') return 'viewer';
  return 'admin';
}

/** Whether a role meets a need (open needs no role at all). */
export function meets(role: Role, needed: Need): boolean {
  return needed !== 'admin' || role === 'admin';
}

/** Reads change nothing; the Origin check applies to everything else. */
export const changesState = (method: string): boolean => method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
