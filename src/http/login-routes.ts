// POST /login and POST /logout. A login names a user and their password, or
// leaves the name empty and gives the shared auth.token. Attempts go through
// the login limiter first: a client that must wait gets 429 with Retry-After
// and its password is not even checked.
import express, { type Request, type Response } from 'express';
import type { UserRow } from '../auth/user-db.js';
import { SHARED_TOKEN_USER } from '../auth/accounts.js';
import { sameSecret } from '../auth/secrets.js';
import { cookieValues, originAllowed, SESSION_COOKIE, sessionCookie, type Auth } from './auth.js';

/** The limiter's name for logins with the shared token (no user name). */
const TOKEN_LOGIN = '(access token)';

const wantsJson = (req: Request): boolean => (req.headers['content-type'] ?? '').includes('json') || (req.headers.accept ?? '').includes('application/json');

export function loginRoutes(auth: Auth): express.Router {
  const router = express.Router();
  const { accounts, limiter, config } = auth.deps;
  const body = [express.json({ limit: '4kb' }), express.urlencoded({ extended: false, limit: '4kb' })];

  router.post('/login', ...body, async (req: Request, res: Response) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof form.user === 'string' ? form.user.trim() : '';
    // The old login form sent the token as "token".
    const password = typeof form.password === 'string' ? form.password : typeof form.token === 'string' ? form.token : '';
    const address = auth.client.address(req);
    const key = name || TOKEN_LOGIN;
    const fail = (status: number, error: string, retryAfterS?: number): void => {
      // The name is logged only when it is a user's: a password typed into the name field must not reach the log.
      const known = name && accounts.user(name) ? name : name ? '(unknown name)' : '(access token)';
      const reason = status === 429 ? 'too many failed logins' : status === 400 ? 'no password given' : status === 403 ? 'login from a foreign origin' : 'wrong user name or password';
      auth.noteRefusal(req, status, reason, known);
      if (retryAfterS) res.setHeader('retry-after', String(retryAfterS));
      if (wantsJson(req)) {
        res.status(status).json({ error, ...(retryAfterS ? { retryAfterS } : {}) });
      } else {
        res.redirect(303, `login.html?error=${status}${retryAfterS ? `&retry=${retryAfterS}` : ''}`);
      }
    };
    // Another site's page may not log the browser in (into an account of the attacker's choosing).
    if (req.headers.origin && !originAllowed(req, config.allowedOrigins)) return fail(403, `a login must come from this lookout's own page (Origin ${req.headers.origin.slice(0, 100)})`);
    if (!password) return fail(400, 'give a user name and password (or leave the name empty and give the access token)');
    const wait = limiter.attempt(address, key);
    if (wait > 0) return fail(429, `too many failed logins; try again in ${wait} s`, wait);

    let cookie: string;
    let maxAgeS: number;
    let who: { user: string; role: string };
    if (!name) {
      const shared = config.token;
      if (!shared || !sameSecret(password, shared)) {
        limiter.failed();
        return fail(401, 'wrong user name or password', limiter.retryAfterS(address, key) || undefined);
      }
      const session = accounts.startSharedTokenSession();
      cookie = session.cookie;
      maxAgeS = session.maxAgeS;
      who = { user: SHARED_TOKEN_USER, role: 'admin' };
    } else {
      const user: UserRow | undefined = await accounts.checkPassword(name, password);
      // The session is made only if the password checked is still the user's (not changed meanwhile by `lookout user passwd`).
      const session = user ? accounts.startSession(user) : undefined;
      if (!user || !session) {
        limiter.failed();
        return fail(401, 'wrong user name or password', limiter.retryAfterS(address, key) || undefined);
      }
      cookie = session.cookie;
      maxAgeS = session.maxAgeS;
      who = { user: user.name, role: user.role };
    }
    limiter.succeeded(address, key);
    res.setHeader('set-cookie', sessionCookie(req, cookie, maxAgeS));
    if (wantsJson(req)) res.json(who);
    else res.redirect(303, './');
  });

  router.post('/logout', (req: Request, res: Response) => {
    const principal = auth.identify(req).principal;
    // This answer goes out before the session's other connections (and this one) are cut.
    res.locals.revoking = true;
    // Only the cookie's own session ends (a token's caller has nothing to log out of).
    for (const value of cookieValues(req.headers.cookie, SESSION_COOKIE)) accounts.endSessionByCookie(value);
    res.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    res.locals.user = principal?.user;
    // A form (no JavaScript) goes back to the login page; fetch() and scripts get 204.
    if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) res.redirect(303, 'login.html');
    else res.status(204).end();
  });

  // Old links to the login form.
  router.get('/login', (_req, res) => res.redirect(302, 'login.html'));
  return router;
}
