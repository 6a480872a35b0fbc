// The `auth` section: who may use lookout, and how it is exposed. Defaults
// keep a fresh start safe: with nothing configured lookout listens on
// loopback only (http.host absent) and needs no login there; exposing it
// needs a user, the shared token or a trusted proxy (app.ts refuses to start
// otherwise), or an explicit `enabled: false`.
import path from 'node:path';
import { describe, type Reader } from './reader.js';
import { parseNetwork } from './source-networks.js';
import type { AuthConfig, TrustedProxyConfig } from './schema.js';

function list(r: Reader, value: unknown, key: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) r.fail(key, `expected a list, got ${describe(value)}`);
  return value;
}

function parseTrustedProxy(r: Reader, value: unknown): TrustedProxyConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const p = r.object(value, 'auth.trustedProxy', ['addresses', 'userHeader', 'roleHeader', 'adminValues']);
  const addresses = list(r, p.addresses, 'auth.trustedProxy.addresses').map((a, i) => parseNetwork(r, a, `auth.trustedProxy.addresses[${i}]`));
  if (addresses.length === 0) r.fail('auth.trustedProxy.addresses', 'name the proxy\'s addresses: only requests from them may say who the user is');
  const header = (v: unknown, key: string, fallback: string): string => {
    const h = r.string(v, key, fallback);
    if (!/^[A-Za-z0-9-]{1,64}$/.test(h)) r.fail(key, `expected an HTTP header name, got ${JSON.stringify(h)}`);
    return h.toLowerCase();
  };
  const adminValues = list(r, p.adminValues ?? ['admin'], 'auth.trustedProxy.adminValues').map((v, i) => r.string(v, `auth.trustedProxy.adminValues[${i}]`, ''));
  return { addresses, userHeader: header(p.userHeader, 'auth.trustedProxy.userHeader', 'Remote-User'), roleHeader: header(p.roleHeader, 'auth.trustedProxy.roleHeader', 'Remote-Groups'), adminValues };
}

/** storePath: the detection log's file; the users file sits beside it unless auth.usersFile says otherwise. */
export function parseAuth(r: Reader, value: unknown, storePath: string): AuthConfig {
  const auth = r.object(value, 'auth', ['enabled', 'token', 'usersFile', 'sessionHours', 'allowedOrigins', 'trustedProxy']);
  const enabled = auth.enabled === undefined || auth.enabled === null ? undefined : r.boolean(auth.enabled, 'auth.enabled', true);
  const token = auth.token === undefined || auth.token === null ? undefined : r.string(auth.token, 'auth.token', '');
  if (token !== undefined && token.length < 16) r.fail('auth.token', `is ${token.length} characters long; use at least 16 (e.g. openssl rand -hex 24)`);
  const allowedOrigins = list(r, auth.allowedOrigins, 'auth.allowedOrigins').map((o, i) => {
    const origin = r.string(o, `auth.allowedOrigins[${i}]`, '');
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) r.fail(`auth.allowedOrigins[${i}]`, `expected an origin like https://dash.example.com, got ${JSON.stringify(origin)}`);
    return origin;
  });
  const usersFile = auth.usersFile === undefined || auth.usersFile === null
    ? path.join(path.dirname(storePath), 'users.db')
    : path.resolve(r.string(auth.usersFile, 'auth.usersFile', ''));
  return {
    enabled,
    token,
    usersFile,
    // A week, extended while used: a page kept open all day stays logged in.
    sessionHours: r.number(auth.sessionHours, 'auth.sessionHours', 168, 1, 24 * 365),
    allowedOrigins,
    trustedProxy: parseTrustedProxy(r, auth.trustedProxy),
  };
}
