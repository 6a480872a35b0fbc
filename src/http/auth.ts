// Who may do what over HTTP and the WebSocket. Every request is identified
// (auth/accounts.ts, auth/client.ts), in this order:
//   - auth off (auth.enabled false, or nothing configured on loopback): everyone is the admin "local";
//   - a trusted proxy's headers, from the proxy's own addresses;
//   - `Authorization: Bearer TOKEN`: a user's API token (lk_…) or the shared auth.token;
//   - the `lookout_session` cookie the login page sets;
//   - `?access_token=TOKEN` on snapshot.jpg, stream.mjpeg, stream.mp4 and the
//     recordings' .mp4 files only, for players that take nothing but a URL.
// then held against what the route needs (auth/access-policy.ts). A logged-in
// browser's state-changing requests must come from the page's own origin.
// Every request and WebSocket is tracked by its principal, so that ending a
// session or removing a user closes its streams at once. Refusals are
// logged (reason, client address, user; never a secret or a query string).
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { AuthConfig } from '../config/schema.js';
import { changesState, meets, need, type Need } from '../auth/access-policy.js';
import type { Accounts, Principal } from '../auth/accounts.js';
import { ClientIdentity } from '../auth/client.js';
import { isLoopbackHost } from '../auth/exposure.js';
import type { LoginLimiter } from '../auth/login-limiter.js';
import type { OpenConnections } from '../auth/open-connections.js';
import { RefusalLog } from '../auth/refusal-log.js';
import type { Logger } from '../util/logger.js';
import { requestUrl } from '../util/request-url.js';

export { sameSecret } from '../auth/secrets.js';
export const SESSION_COOKIE = 'lookout_session';
const MEDIA_PATH = /\/(snapshot\.jpg|stream\.mjpeg|stream\.mp4|clip\.mp4)$|^\/api\/recordings\/[^/]+\/segments\/\d+\.mp4$/;
const LOCAL: Principal = { user: 'local', role: 'admin', via: 'open' };

/** Who a request is from; `cookie`: said by a browser's cookie (its changes must come from the page); `extended`: send the session cookie again. */
export interface Identified {
  principal?: Principal;
  cookie?: boolean;
  /** Said by an Authorization header: a script's, which no other site's page can make a browser send. */
  bearer?: boolean;
  extended?: { cookie: string; maxAgeS: number };
}

export interface AuthDeps {
  config: AuthConfig;
  /** lookout listens on loopback only: without a login it answers only requests addressed to this machine by name (DNS rebinding). */
  loopbackOnly: boolean;
  accounts: Accounts;
  limiter: LoginLimiter;
  connections: OpenConnections;
  log: Logger;
}

/** The values of the cookies of one name (a browser may send two, set for different paths); others are not decoded. */
export function cookieValues(header: string | undefined, name: string): string[] {
  const out: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    // A malformed escape must not throw: on the WebSocket upgrade that would be an uncaught exception.
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      out.push(raw);
    }
  }
  return out;
}

export class Auth {
  readonly client: ClientIdentity;
  private readonly refusals: RefusalLog;
  private latched = false;

  constructor(readonly deps: AuthDeps) {
    this.client = new ClientIdentity(deps.config.trustedProxy);
    this.refusals = new RefusalLog(deps.log);
  }

  /** Whether requests must say who they are: explicitly, or because a user, the token or a proxy is (or was, since start) configured; a user added while running counts. */
  get enabled(): boolean {
    const c = this.deps.config;
    if (c.enabled !== undefined) return c.enabled;
    // Once on, it stays on until restart: removing the last user must not open the server to everyone.
    this.latched ||= c.token !== undefined || c.trustedProxy !== undefined || this.deps.accounts.hasUsers;
    return this.latched;
  }

  /** Who the request is from; `extended`: its session was extended (send the cookie again). */
  identify(req: IncomingMessage): Identified {
    if (!this.enabled) return { principal: LOCAL };
    const proxied = this.client.proxied(req);
    if (proxied) return { principal: proxied };
    const { accounts } = this.deps;
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const p = accounts.token(header.slice(7).trim());
      // A wrong bearer token is not quietly replaced by a cookie: the caller meant that token.
      return p ? { principal: p, bearer: true } : {};
    }
    for (const cookie of cookieValues(req.headers.cookie, SESSION_COOKIE)) {
      // Looked up by its SHA-256 digest: nothing to compare, so nothing for a timing attack to measure.
      const s = accounts.session(cookie);
      if (s) return { principal: s.principal, cookie: true, ...(s.extended ? { extended: { cookie, maxAgeS: Math.floor(accounts.sessionMs / 1000) } } : {}) };
    }
    const url = requestUrl(req);
    const query = url?.searchParams.get('access_token');
    if (url && query !== null && query !== undefined && MEDIA_PATH.test(url.pathname)) {
      const p = accounts.token(query);
      if (p) return { principal: p };
    }
    return {};
  }

  /** Refuses (and logs) what the principal may not do; undefined when allowed. */
  check(req: IncomingMessage, method: string, path: string, who: Identified, needed: Need): { status: number; reason: string } | undefined {
    const { principal } = who;
    if (needed === 'open') return undefined;
    let refusal: { status: number; reason: string; short: string } | undefined;
    if (!principal) {
      refusal = { status: 401, short: 'not logged in', reason: 'log in first: this lookout needs a session (log in on login.html), an API token or the access token ("Authorization: Bearer TOKEN")' };
    } else if (!meets(principal, needed)) {
      refusal = needed === 'account'
        ? { status: 403, short: `needs a password session, is ${principal.via}`, reason: `${method} ${path}: passwords and API tokens are managed from a session logged in with the password, not with ${principal.via === 'token' ? 'an API token' : `the ${principal.via} login`}` }
        : { status: 403, short: `needs admin, is ${principal.role}`, reason: `${method} ${path} needs the admin role; you are ${principal.role} ${principal.user}` };
    } else if (principal.via === 'open' && this.deps.loopbackOnly && !isLoopbackHost(hostName(req.headers.host))) {
      // Without a login only this machine may use lookout; a page of another site whose name was made to resolve here (DNS rebinding) is not it.
      const host = String(req.headers.host ?? 'missing').slice(0, 100);
      refusal = { status: 403, short: `host ${host} without a login`, reason: `Host ${host} is not this machine's name: without a login lookout answers only requests to localhost, 127.0.0.1 or [::1] (add a user to use it under another name)` };
    } else if (changesState(method) && !who.bearer && !sameOrigin(req, this.deps.config.allowedOrigins, who.cookie === true)) {
      // A browser sends Origin with every cross-site change: another site's page may not change anything here, with a cookie or without a login.
      const origin = req.headers.origin ?? 'missing';
      refusal = { status: 403, short: `foreign origin ${origin.slice(0, 100)}`, reason: `a browser's ${method} must come from this lookout's own page (Origin ${origin})` };
    }
    if (!refusal) return undefined;
    this.refusals.note(refusal.status, refusal.short, `${method} ${path}`, this.client.address(req), principal?.user);
    return { status: refusal.status, reason: refusal.reason };
  }

  /** Guards every route after it; a browser asking for a page while logged out is sent to the login page. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const who = this.identify(req);
      const { principal, extended } = who;
      res.locals.principal = principal;
      res.locals.user = principal?.user;
      const refused = this.check(req, req.method, req.path, who, need(req.method, req.path));
      if (refused) {
        const page = refused.status === 401 && req.method === 'GET' && (req.path === '/' || req.path.endsWith('.html')) && (req.headers.accept ?? '').includes('text/html');
        if (page) {
          res.redirect(302, 'login.html');
          return;
        }
        if (refused.status === 401) res.setHeader('www-authenticate', 'Bearer realm="lookout"');
        res.status(refused.status).json({ error: refused.reason });
        return;
      }
      if (extended) res.append('set-cookie', sessionCookie(req, extended.cookie, extended.maxAgeS));
      if (principal) {
        // MJPEG, stream.mp4 and clips run for as long as they are watched: they end with the session
        // (or, for the open "local", when a login is turned on). The request that ended the session
        // (logout, a new password, a removal: res.locals.revoking) gets its answer first.
        const forget = this.deps.connections.track(principal, () => {
          if (res.headersSent || res.locals.revoking !== true) req.socket.destroy();
          else res.once('finish', () => req.socket.destroy());
        });
        res.on('close', forget);
      }
      next();
    };
  }

  /** The WebSocket's upgrade: a refusal, or the principal to track the socket under. */
  upgrade(req: IncomingMessage): { refused: { status: number; reason: string } } | { principal: Principal } {
    const who = this.identify(req);
    const { principal } = who;
    const refused = this.check(req, 'GET', '/ws', who, 'viewer');
    return refused || !principal ? { refused: refused ?? { status: 401, reason: 'log in first' } } : { principal };
  }

  /** Refusals so far by HTTP status. */
  refusalCounts(): ReadonlyMap<number, number> {
    return this.refusals.counts;
  }

  /** A refusal decided elsewhere (the login route, the WebSocket's origin), logged as the others are. */
  noteRefusal(req: IncomingMessage, status: number, reason: string, user: string | undefined, what = `${req.method} /login`): void {
    this.refusals.note(status, reason, what, this.client.address(req), user);
  }
}

/** Set-Cookie for a session: HttpOnly, SameSite=Strict, Secure when the page came over HTTPS. */
export function sessionCookie(req: IncomingMessage & { secure?: boolean }, value: string, maxAgeS: number): string {
  const secure = req.secure || req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/**
 * A browser's change must come from the page: its Origin (or, for an old
 * browser, Referer) is this host or one of auth.allowedOrigins. A cookie's
 * request with neither is refused (every browser that sends cookies sends
 * one); a request with no cookie and neither is a script's (curl).
 */
function sameOrigin(req: IncomingMessage, allowed: readonly string[], cookie: boolean): boolean {
  const origin = req.headers.origin ?? originOf(req.headers.referer);
  if (!origin) return !cookie;
  return originAllowed({ headers: { ...req.headers, origin } } as IncomingMessage, allowed);
}

/** The name in a Host header, without its port ("[::1]:8080" → "::1"). */
function hostName(header: string | undefined): string {
  const h = (header ?? '').trim();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'));
  return h.replace(/:\d*$/, '');
}

const originOf = (url: string | undefined): string | undefined => {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
};

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
