// The optional access token. With one set, every route but the probes
// (/healthz, /readyz) and the login page wants it, as
//   - `Authorization: Bearer TOKEN` (scripts, Prometheus, other services),
//   - the `lookout_session` cookie the login page sets (browsers), or
//   - `?access_token=TOKEN` on snapshot.jpg, stream.mjpeg, stream.mp4 and the
//     recordings' .mp4 files only (clip.mp4, segments), for players that take
//     nothing but a URL (VLC, an <img>, Home Assistant).
// Tokens are compared in constant time: both sides are hashed to 32 bytes
// first, so neither the length nor the first wrong byte shows in the timing.
// The cookie holds an HMAC of the token, never the token itself.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { requestUrl } from '../util/request-url.js';

export const SESSION_COOKIE = 'lookout_session';
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/login', '/login.html', '/style.css']);

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The values of the cookies of one name (a browser may send two, set for
 * different paths). Other cookies are not decoded.
 */
function cookieValues(header: string | undefined, name: string): string[] {
  const out: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    // A malformed escape (another app's cookie on the same host, or a client
    // probing us) must not throw: on the WebSocket upgrade that would be an
    // uncaught exception from a request nobody has authenticated.
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      out.push(raw);
    }
  }
  return out;
}

export class Auth {
  private readonly session: string | undefined;

  constructor(private readonly token: string | undefined) {
    this.session = token ? createHmac('sha256', token).update('lookout session v1').digest('base64url') : undefined;
  }

  get enabled(): boolean {
    return this.token !== undefined;
  }

  /** Whether the request carries the token (any of the three ways that suit its path). */
  allows(req: IncomingMessage): boolean {
    if (!this.token || !this.session) return true;
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ') && sameSecret(header.slice(7).trim(), this.token)) return true;
    for (const session of cookieValues(req.headers.cookie, SESSION_COOKIE)) if (sameSecret(session, this.session)) return true;
    const url = requestUrl(req);
    const query = url?.searchParams.get('access_token');
    if (url && query != null && /\/(snapshot\.jpg|stream\.mjpeg|stream\.mp4|clip\.mp4)$|^\/api\/recordings\/[^/]+\/segments\/\d+\.mp4$/.test(url.pathname) && sameSecret(query, this.token)) return true;
    return false;
  }

  /** Guards everything after it; browsers asking for a page are sent to the login page. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (this.allows(req) || OPEN_PATHS.has(req.path)) return next();
      const page = req.method === 'GET' && (req.path === '/' || req.path.endsWith('.html')) && (req.headers.accept ?? '').includes('text/html');
      if (page) {
        res.redirect(302, 'login');
        return;
      }
      res.setHeader('www-authenticate', 'Bearer realm="lookout"');
      res.status(401).json({ error: 'this lookout needs its access token: send "Authorization: Bearer TOKEN", or log in on /login' });
    };
  }

  /** GET /login (the form) and POST /login (checks the token, sets the session cookie). */
  routes(): express.Router {
    const router = express.Router();
    router.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
      const given = typeof req.body?.token === 'string' ? req.body.token : '';
      if (!this.token || !this.session || !sameSecret(given, this.token)) {
        res.status(401).type('html').send(loginPage('That token is not right.'));
        return;
      }
      const secure = req.secure || req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
      res.setHeader('set-cookie', `${SESSION_COOKIE}=${this.session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${secure}`);
      res.redirect(303, './');
    });
    router.get('/login', (_req, res) => {
      res.type('html').send(loginPage(''));
    });
    return router;
  }
}

function loginPage(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>lookout · log in</title><link rel="stylesheet" href="style.css"></head>
<body><main class="login"><form method="post" action="login" class="panel">
<h1>lookout</h1><label>Access token <input name="token" type="password" autocomplete="current-password" autofocus required></label>
<button type="submit">Log in</button>${message ? `<p class="error">${message}</p>` : ''}</form></main></body></html>`;
}

/**
 * Browsers send Origin on WebSocket upgrades and any page may open one, with
 * the user's cookies: only the page's own origin (or one configured) may
 * connect. Clients that send no Origin (scripts) are not browsers.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
