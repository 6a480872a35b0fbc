// Authentication as `lookout serve` runs it: the users file opened (created
// if absent, readable by its owner only), the exposure rule checked before
// anything else starts, and open connections swept whenever users, sessions
// or tokens change. The WebSocket's upgrades go through the same rules as
// every route, and each open socket is tracked by who opened it.
import type { IncomingMessage, Server } from 'node:http';
import type { WebSocket } from 'ws';
import { existsSync } from 'node:fs';
import { ConfigError, type LookoutConfig } from '../config/schema.js';
import { Accounts, type Principal } from '../auth/accounts.js';
import { checkExposure, isLoopbackHost } from '../auth/exposure.js';
import { LoginLimiter } from '../auth/login-limiter.js';
import { OpenConnections } from '../auth/open-connections.js';
import { UserDb } from '../auth/user-db.js';
import type { LiveHub } from '../live/hub.js';
import type { Logger } from '../util/logger.js';
import { Auth, originAllowed } from './auth.js';

/** WebSocket close code for "your session, token or user is gone": the page goes to its login. */
export const WS_SESSION_ENDED = 4401;

export interface RunningAuth {
  auth: Auth;
  close(): void;
}

export function startAuth(config: LookoutConfig, log: Logger): RunningAuth {
  let db: UserDb | undefined;
  const file = config.auth.usersFile;
  try {
    db = UserDb.open(file, { create: true });
  } catch (err) {
    // A users file that is there but unusable (owned by root after a sudo, damaged) holds users who
    // must log in: starting without them would open lookout to everyone. Only a file that could not
    // be made (a read-only data folder) is left out: then nobody has ever been a user here.
    if (existsSync(file)) throw new ConfigError('auth.usersFile', `${(err as Error).message}; fix its owner or permissions (lookout runs as uid ${process.getuid?.() ?? '?'}), or point auth.usersFile elsewhere`);
    log.warn(`${(err as Error).message}; users, sessions and API tokens are unavailable (the shared token and a trusted proxy still work)`);
  }
  const accounts = new Accounts(db, { sessionHours: config.auth.sessionHours, ...(config.auth.token ? { sharedToken: config.auth.token } : {}), onPollError: (m) => log.warn(`auth: ${m}`) });
  try {
    checkExposure(config, accounts.hasUsers, log);
  } catch (err) {
    accounts.close();
    db?.close();
    throw err;
  }
  const connections = new OpenConnections();
  const loopbackOnly = config.http.host === undefined || isLoopbackHost(config.http.host);
  const auth = new Auth({ config: config.auth, loopbackOnly, accounts, limiter: new LoginLimiter(), connections, log });
  const unsubscribe = accounts.onChange(() => {
    // "local" (no login) stands only while no login is needed: a user added on loopback ends those connections too.
    const ended = connections.sweep((p) => (p.via === 'open' ? !auth.enabled : accounts.stillValid(p)));
    if (ended > 0) log.info(`auth: ended ${ended} open connection(s) whose session, token or user went`);
  });
  if (auth.enabled) log.info(`auth: on (${[accounts.hasUsers ? 'users' : '', config.auth.token ? 'access token' : '', config.auth.trustedProxy ? 'trusted proxy' : ''].filter(Boolean).join(', ')})`);
  return {
    auth,
    close: () => {
      unsubscribe();
      accounts.close();
      db?.close();
    },
  };
}

/** The live view's WebSocket on each server, behind the origin rule and the access policy; each socket tracked by its principal. */
export function attachWebSocket(live: LiveHub, servers: readonly Server[], auth: Auth, allowedOrigins: readonly string[]): void {
  const principals = new WeakMap<IncomingMessage, Principal>();
  const refuse = (req: IncomingMessage) => {
    if (!originAllowed(req, allowedOrigins)) {
      auth.noteRefusal(req, 403, `foreign origin ${String(req.headers.origin).slice(0, 100)}`, undefined, 'GET /ws');
      return { status: 403, reason: `origin ${req.headers.origin ?? ''} may not open lookout's WebSocket` };
    }
    const answer = auth.upgrade(req);
    if ('refused' in answer) return answer.refused;
    principals.set(req, answer.principal);
    return undefined;
  };
  const opened = (req: IncomingMessage, ws: WebSocket): void => {
    const principal = principals.get(req);
    if (!principal) return;
    const forget = auth.deps.connections.track(principal, () => {
      ws.close(WS_SESSION_ENDED, 'session ended: log in again');
      // A client that does not answer the close is cut off anyway.
      setTimeout(() => ws.terminate(), 1_000).unref();
    });
    ws.once('close', forget);
  };
  for (const server of servers) live.attach(server, refuse, opened);
}
