// The account API: /api/me (anyone logged in: who they are, their password,
// their API tokens) and /api/users (admins: users, roles, passwords, tokens).
// The access policy (auth/access-policy.ts) has already let only the right
// role through; these routes answer for the principal res.locals holds.
import express, { type Request, type Response } from 'express';
import type { Principal } from '../auth/accounts.js';
import { passwordProblem } from '../auth/passwords.js';
import { isRole, type UserRow } from '../auth/user-db.js';
import { sessionCookie, type Auth } from './auth.js';
import { sendError } from './errors.js';

const who = (res: Response): Principal => res.locals.principal as Principal;

type Handler = (req: Request, res: Response) => Promise<void> | void;
/** Answers lookout's errors (400 naming the field, 404, 409) as JSON; anything else is a bug. */
const answering = (handler: Handler): Handler => async (req, res) => {
  try {
    await handler(req, res);
  } catch (err) {
    if (!sendError(res, err)) throw err;
  }
};

export function accountRoutes(auth: Auth): express.Router {
  const router = express.Router();
  const { accounts, limiter } = auth.deps;
  const json = express.json({ limit: '8kb' });
  /** Only users of the users file have passwords and tokens (not the shared token, a proxy's user or "local"). */
  const ownUser = (res: Response): UserRow | undefined => {
    const p = who(res);
    const user = p.via === 'session' || p.via === 'token' ? accounts.user(p.user) : undefined;
    if (!user) res.status(400).json({ error: `${p.user} (${p.via}) is not a user of this lookout's users file: it has no password or API tokens here` });
    return user;
  };

  router.get('/me', (_req, res) => {
    const p = who(res);
    res.json({ user: p.user, role: p.role, via: p.via, auth: auth.enabled });
  });

  router.post('/me/password', json, answering(async (req, res) => {
    const user = ownUser(res);
    if (!user) return;
    const body = (req.body ?? {}) as { current?: unknown; password?: unknown };
    if (typeof body.current !== 'string' || body.current === '') {
      res.status(400).json({ error: 'current: give your current password' });
      return;
    }
    const problem = passwordProblem(body.password);
    if (problem) {
      res.status(400).json({ error: `password: ${problem}` });
      return;
    }
    // Checking the current password is a login attempt: limited the same way.
    const address = auth.client.address(req);
    const wait = limiter.attempt(address, user.name);
    if (wait > 0) {
      res.setHeader('retry-after', String(wait));
      res.status(429).json({ error: `too many wrong passwords; try again in ${wait} s`, retryAfterS: wait });
      return;
    }
    if (!(await accounts.checkPassword(user.name, body.current))) {
      limiter.failed();
      res.status(403).json({ error: 'current: that is not your current password' });
      return;
    }
    limiter.succeeded(address, user.name);
    res.locals.revoking = true;
    await accounts.setPassword(user.name, body.password);
    // Every session of the user ended (this one too); this browser carries on in a new one.
    const fresh = accounts.user(user.name);
    const session = fresh ? accounts.startSession(fresh) : undefined;
    if (session) res.setHeader('set-cookie', sessionCookie(req, session.cookie, session.maxAgeS));
    res.status(204).end();
  }));

  router.get('/me/tokens', (_req, res) => {
    const user = ownUser(res);
    if (user) res.json({ tokens: accounts.tokensOf(user.name) });
  });

  router.post('/me/tokens', json, answering((req, res) => {
    const user = ownUser(res);
    if (!user) return;
    res.status(201).json(accounts.createToken(user.name, (req.body as { name?: unknown } | undefined)?.name));
  }));

  router.delete('/me/tokens/:id', (req, res) => {
    const user = ownUser(res);
    if (!user) return;
    res.locals.revoking = true;
    if (accounts.revokeToken(user.name, req.params.id)) res.status(204).end();
    else res.status(404).json({ error: `you have no token ${JSON.stringify(req.params.id)}` });
  });

  // ——— Admins ———

  // Also checked here, not only by the access policy in front: whatever spelling of the path got this far.
  router.use('/users', (_req, res, next) => {
    if (who(res)?.role === 'admin') next();
    else res.status(403).json({ error: '/api/users needs the admin role' });
  });

  /** An admin may not remove or demote the last admin over the API: nobody could manage users then (the command line still can). */
  const lastAdmin = (name: string, res: Response): boolean => {
    const admins = accounts.listUsers().filter((u) => u.role === 'admin');
    if (admins.length !== 1 || admins[0].name !== name) return false;
    res.status(409).json({ error: `${name} is the last admin; make another user an admin first (or use lookout user on the server)` });
    return true;
  };

  router.get('/users', (_req, res) => {
    res.json({ users: accounts.listUsers() });
  });

  router.post('/users', json, answering(async (req, res) => {
    const body = (req.body ?? {}) as { name?: unknown; role?: unknown; password?: unknown };
    const user = await accounts.addUser(body.name, body.role, body.password);
    res.status(201).location(`api/users/${encodeURIComponent(user.name)}`).json(accounts.view(user));
  }));

  router.patch('/users/:name', json, answering(async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const unknownKey = Object.keys(body).find((k) => k !== 'role' && k !== 'password');
    if (unknownKey) {
      res.status(400).json({ error: `${unknownKey}: unknown field (expected role, password)` });
      return;
    }
    const name = String(req.params.name);
    if (!accounts.user(name)) {
      res.status(404).json({ error: `no user ${JSON.stringify(name)}` });
      return;
    }
    // Everything checked before anything changes: a refused request changes nothing.
    if (body.role !== undefined && !isRole(body.role)) {
      res.status(400).json({ error: `role: expected "admin" or "viewer", got ${JSON.stringify(body.role)}` });
      return;
    }
    const problem = body.password === undefined ? undefined : passwordProblem(body.password);
    if (problem) {
      res.status(400).json({ error: `password: ${problem}` });
      return;
    }
    if (body.role === 'viewer' && lastAdmin(name, res)) return;
    res.locals.revoking = true;
    if (body.role !== undefined) accounts.setRole(name, body.role);
    if (body.password !== undefined) await accounts.setPassword(name, body.password);
    res.json(accounts.view(accounts.user(name) as UserRow));
  }));

  router.delete('/users/:name', answering((req, res) => {
    if (lastAdmin(String(req.params.name), res)) return;
    res.locals.revoking = true;
    accounts.removeUser(String(req.params.name));
    res.status(204).end();
  }));

  router.get('/users/:name/tokens', (req, res) => {
    if (!accounts.user(req.params.name)) {
      res.status(404).json({ error: `no user ${JSON.stringify(req.params.name)}` });
      return;
    }
    res.json({ tokens: accounts.tokensOf(req.params.name) });
  });

  router.delete('/users/:name/tokens/:id', (req, res) => {
    if (accounts.revokeToken(req.params.name, req.params.id)) res.status(204).end();
    else res.status(404).json({ error: `${req.params.name} has no token ${JSON.stringify(req.params.id)}` });
  });

  return router;
}
