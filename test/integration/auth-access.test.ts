// Who may do what: every HTTP route and the WebSocket, walked as anonymous,
// a viewer and an admin (logged in through the login page's route), a
// viewer's API token and the shared access token. The route list is checked
// against the routes the source declares, so a route added later without a
// row here fails this test until someone decides who may use it.
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningLookout } from '../../src/app.js';
import { packageRoot } from '../../src/util/paths.js';
import { browser, login, usersFile } from '../helpers/auth.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

type Need = 'open' | 'viewer' | 'self' | 'account' | 'admin';
/** method, route as declared, who may use it, the path asked, a body. */
type Row = [string, string, Need, string, unknown?];

const ROUTES: Row[] = [
  ['GET', '/healthz', 'open', '/healthz'],
  ['GET', '/readyz', 'open', '/readyz'],
  ['POST', '/login', 'open', '/login', {}],
  ['GET', '/login', 'open', '/login'],
  ['POST', '/logout', 'open', '/logout'],
  ['GET', '/metrics', 'viewer', '/metrics'],
  ['GET', '/api/model', 'viewer', '/api/model'],
  ['POST', '/api/detect', 'admin', '/api/detect'],
  ['GET', '/api/cameras', 'viewer', '/api/cameras'],
  ['GET', '/api/cameras/:id', 'viewer', '/api/cameras/cam'],
  ['GET', '/api/cameras/:id/snapshot.jpg', 'viewer', '/api/cameras/cam/snapshot.jpg'],
  ['GET', '/api/cameras/:id/stream.mjpeg', 'viewer', '/api/cameras/cam/stream.mjpeg'],
  ['GET', '/api/cameras/:id/stream.mp4', 'viewer', '/api/cameras/cam/stream.mp4'],
  ['POST', '/api/cameras', 'admin', '/api/cameras', { id: 'bad id!' }],
  ['PATCH', '/api/cameras/:id', 'admin', '/api/cameras/nope', { minScore: 0.5 }],
  ['DELETE', '/api/cameras/:id', 'admin', '/api/cameras/nope'],
  ['GET', '/api/store', 'viewer', '/api/store'],
  ['GET', '/api/detections', 'viewer', '/api/detections?limit=1'],
  ['GET', '/api/events', 'viewer', '/api/events?limit=1'],
  ['GET', '/api/events/:id', 'viewer', '/api/events/999999'],
  ['GET', '/api/events/:id/snapshot.jpg', 'viewer', '/api/events/999999/snapshot.jpg'],
  ['GET', '/api/events/:id/clip.mp4', 'viewer', '/api/events/999999/clip.mp4'],
  ['GET', '/api/counts', 'viewer', '/api/counts?camera=cam'],
  ['GET', '/api/recordings', 'viewer', '/api/recordings?camera=cam'],
  ['GET', '/api/recordings/:camera/clip.mp4', 'viewer', '/api/recordings/cam/clip.mp4?start=2000-01-01T00:00:00Z&end=2000-01-01T00:00:10Z'],
  ['GET', '/api/recordings/:camera/segments/:id.mp4', 'viewer', '/api/recordings/cam/segments/999999.mp4'],
  ['GET', '/api/me', 'self', '/api/me'],
  ['POST', '/api/me/password', 'account', '/api/me/password', {}],
  ['GET', '/api/me/tokens', 'self', '/api/me/tokens'],
  ['POST', '/api/me/tokens', 'account', '/api/me/tokens', {}],
  ['DELETE', '/api/me/tokens/:id', 'account', '/api/me/tokens/0000000000000000'],
  ['GET', '/api/users', 'admin', '/api/users'],
  ['POST', '/api/users', 'admin', '/api/users', { name: 'x' }],
  ['PATCH', '/api/users/:name', 'admin', '/api/users/nobody', { role: 'viewer' }],
  ['DELETE', '/api/users/:name', 'admin', '/api/users/nobody'],
  ['GET', '/api/users/:name/tokens', 'admin', '/api/users/nobody/tokens'],
  ['DELETE', '/api/users/:name/tokens/:id', 'admin', '/api/users/nobody/tokens/0000000000000000'],
  // The router matches paths whatever their case and decodes them: so does the policy.
  ['GET', '(spelling) /api/Users', 'admin', '/api/Users'],
  ['GET', '(spelling) /API/USERS/ada/tokens', 'admin', '/API/USERS/ada/tokens'],
  ['GET', '(spelling) /api/%75sers', 'admin', '/api/%75sers'],
  ['POST', '(spelling) /api/ME/TOKENS', 'account', '/api/ME/TOKENS', {}],
  // The page.
  ['GET', '(static) index', 'viewer', '/'],
  ['GET', '(static) users page', 'viewer', '/users.html'],
  ['GET', '(static) a module', 'viewer', '/app.js'],
  ['GET', '(static) login page', 'open', '/login.html'],
  ['GET', '(static) stylesheet', 'open', '/style.css'],
];

/** Every route src/http declares, as "METHOD /path" (routers other than login's are mounted under /api). */
function declaredRoutes(): string[] {
  const dir = path.join(packageRoot, 'src/http');
  const out: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/\b(app|router)\.(get|post|patch|put|delete)\('([^']+)'/g)) {
      const prefix = m[1] === 'router' && file !== 'login-routes.ts' ? '/api' : '';
      out.push(`${m[2].toUpperCase()} ${prefix}${m[3]}`);
    }
  }
  return out.sort();
}

type Who = 'anonymous' | 'viewer' | 'admin' | 'viewer token' | 'shared token';
/** account: a session logged in with a password (a token may not change passwords or mint tokens). */
const allowed = (who: Who, need: Need): boolean => {
  if (need === 'open') return true;
  if (who === 'anonymous') return false;
  if (need === 'account') return who === 'viewer' || who === 'admin';
  return need !== 'admin' || who === 'admin' || who === 'shared token';
};

let lookout: RunningLookout;
let base: string;
const headersOf = new Map<Who, Record<string, string>>();
const TOKEN = 'shared-token-0123456789abcdef';

beforeAll(async () => {
  const file = await usersFile({ vera: 'viewer', ada: 'admin' });
  lookout = await startTestLookout({ auth: { usersFile: file, token: TOKEN }, cameras: [{ id: 'cam', url: BOTTLE_CLIP, loop: true }] });
  base = lookout.url;
  headersOf.set('anonymous', {});
  headersOf.set('viewer', browser(base, await login(base, 'vera')));
  headersOf.set('admin', browser(base, await login(base, 'ada')));
  const created = await fetch(`${base}/api/me/tokens`, { method: 'POST', headers: { ...headersOf.get('viewer'), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'script' }) });
  expect(created.status).toBe(201);
  headersOf.set('viewer token', { authorization: `Bearer ${((await created.json()) as { token: string }).token}` });
  headersOf.set('shared token', { authorization: `Bearer ${TOKEN}` });
  // The camera has a frame to show before snapshots are asked for.
  await until(async () => (await fetch(`${base}/api/cameras/cam/snapshot.jpg`, { headers: headersOf.get('admin') })).status === 200, 30_000);
}, 60_000);
afterAll(async () => {
  await lookout?.close();
});

/** The status of one request (streams are cut off once their headers are in). */
async function statusOf(who: Who, row: Row): Promise<number> {
  const [method, , , asked, body] = row;
  let headers = headersOf.get(who) ?? {};
  // Logging out would end the session the other rows use: a throwaway one logs out.
  if (asked === '/logout' && (who === 'viewer' || who === 'admin')) headers = browser(base, await login(base, who === 'viewer' ? 'vera' : 'ada'));
  const controller = new AbortController();
  const res = await fetch(`${base}${asked}`, {
    method,
    redirect: 'manual',
    signal: controller.signal,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  controller.abort();
  return res.status;
}

describe('who may use which route', () => {
  it('has a row for every route the server declares', () => {
    const rows = ROUTES.filter((r) => !r[1].startsWith('(')).map((r) => `${r[0]} ${r[1]}`).sort();
    expect(rows).toEqual(declaredRoutes());
  });

  for (const who of ['anonymous', 'viewer', 'admin', 'viewer token', 'shared token'] as Who[]) {
    it(`answers ${who} as the policy says (401 logged out, 403 not allowed, the route's own answer otherwise)`, async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const row of ROUTES) {
        const status = await statusOf(who, row);
        const expected = allowed(who, row[2]) ? 'allowed' : who === 'anonymous' ? '401' : '403';
        const verdict = status === 401 ? '401' : status === 403 ? '403' : 'allowed';
        got.push(`${row[0]} ${row[3]} → ${verdict} (${status})`);
        want.push(`${row[0]} ${row[3]} → ${expected} (${verdict === expected ? status : '?'})`);
      }
      expect(got).toEqual(want);
    }, 60_000);
  }

  it('answers the reads a viewer makes with 200, and an admin\'s changes with the route\'s own result', async () => {
    for (const p of ['/api/cameras', '/api/cameras/cam', '/api/cameras/cam/snapshot.jpg', '/api/events?limit=1', '/api/detections?limit=1', '/metrics', '/', '/users.html']) {
      expect((await fetch(`${base}${p}`, { headers: headersOf.get('viewer') })).status, p).toBe(200);
    }
    const me = (await (await fetch(`${base}/api/me`, { headers: headersOf.get('viewer') })).json()) as Record<string, unknown>;
    expect(me).toEqual({ user: 'vera', role: 'viewer', via: 'session', auth: true });
    // The admin's bad camera is the camera API's 400 naming the field, past the policy.
    const bad = await fetch(`${base}/api/cameras`, { method: 'POST', headers: { ...headersOf.get('admin'), 'content-type': 'application/json' }, body: '{"id":"bad id!"}' });
    expect(bad.status).toBe(400);
    // A browser asking for the page while logged out is sent to the login page.
    const page = await fetch(`${base}/`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('login.html');
  });

  it('refuses a logged-in browser\'s change from another origin, or with no origin at all', async () => {
    const cookie = headersOf.get('admin')?.cookie ?? '';
    const body = JSON.stringify({ name: 'from-elsewhere' });
    for (const origin of ['https://evil.example', undefined]) {
      const res = await fetch(`${base}/api/me/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...(origin ? { origin } : {}) }, body });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/own page/);
    }
    // A script with a token sends no Origin and needs none: no cookie, no forged request.
    const scripted = await fetch(`${base}/api/me/tokens`, { headers: headersOf.get('viewer token') });
    expect(scripted.status).toBe(200);
  });

  for (const who of ['anonymous', 'viewer', 'admin', 'viewer token', 'shared token'] as Who[]) {
    it(`opens the WebSocket for ${who} as the policy says`, async () => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=cam&video=none`, { headers: headersOf.get(who) });
      const outcome = await new Promise<string>((resolve) => {
        ws.once('open', () => resolve('open'));
        ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.once('error', (err) => resolve(err.message));
      });
      ws.terminate();
      expect(outcome).toBe(who === 'anonymous' ? '401' : 'open');
    });
  }

  it('takes ?access_token= (an API token or the shared one) on the media routes only', async () => {
    const token = (headersOf.get('viewer token')?.authorization ?? '').slice(7);
    expect((await fetch(`${base}/api/cameras/cam/snapshot.jpg?access_token=${token}`)).status).toBe(200);
    expect((await fetch(`${base}/api/cameras/cam/snapshot.jpg?access_token=${TOKEN}`)).status).toBe(200);
    expect((await fetch(`${base}/api/cameras?access_token=${token}`)).status).toBe(401);
  });
});

/** GET from a given local address (127.0.0.2 is another peer to lookout, on the same loopback). */
function getFrom(url: string, localAddress: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { localAddress, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).once('error', reject);
  });
}

describe('a reverse proxy that authenticates (trusted-proxy mode)', () => {
  it('takes the user and role from the configured headers, only from the proxy\'s own address', async () => {
    const proxied = await startTestLookout({ auth: { trustedProxy: { addresses: ['127.0.0.2'], userHeader: 'Remote-User', roleHeader: 'Remote-Groups', adminValues: ['admins'] } } });
    try {
      const me = `${proxied.url}/api/me`;
      const admin = { 'remote-user': 'pat', 'remote-groups': 'family,admins' };
      const viewer = { 'remote-user': 'kim', 'remote-groups': 'family' };
      expect(await getFrom(me, '127.0.0.2', admin)).toBe(200);
      expect(await getFrom(`${proxied.url}/api/users`, '127.0.0.2', admin)).toBe(200);
      expect(await getFrom(`${proxied.url}/api/users`, '127.0.0.2', viewer)).toBe(403);
      expect(await getFrom(`${proxied.url}/api/cameras`, '127.0.0.2', viewer)).toBe(200);
      // The same headers from anyone else say nothing.
      expect(await getFrom(me, '127.0.0.1', admin)).toBe(401);
      expect(await getFrom(me, '127.0.0.2', {})).toBe(401);
    } finally {
      await proxied.close();
    }
  });

  it('logs in a browser with the shared token (no user name), as the admin it has always been, in a session that logging out ends', async () => {
    const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=&password=${TOKEN}`, redirect: 'manual' });
    expect(res.status).toBe(303);
    const cookie = /lookout_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? '';
    expect(cookie).not.toContain(TOKEN);
    const me = (await (await fetch(`${base}/api/me`, { headers: { cookie } })).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ user: 'token', role: 'admin', via: 'shared-token' });
    // Two browsers get two sessions; logging one out leaves the other.
    const other = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: '', password: TOKEN }) });
    const otherCookie = /lookout_session=[^;]+/.exec(other.headers.get('set-cookie') ?? '')?.[0] ?? '';
    expect(otherCookie).not.toBe(cookie);
    expect((await fetch(`${base}/logout`, { method: 'POST', headers: { cookie, origin: base } })).status).toBe(204);
    // Another site's page may not log a browser in.
    const foreign = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ user: '', password: TOKEN }) });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('set-cookie')).toBeNull();
    expect((await fetch(`${base}/api/me`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${base}/api/me`, { headers: { cookie: otherCookie } })).status).toBe(200);
  });
});

describe('without a login (loopback, no users): only this machine, only its own pages', () => {
  it('refuses another site\'s page (a text/plain POST needs no preflight) and a name rebound to 127.0.0.1, and still takes curl', async () => {
    const open = await startTestLookout({});
    try {
      const camera = JSON.stringify({ id: 'lan', url: 'rtsp://192.168.1.50/stream' });
      const cross = await fetch(`${open.url}/api/cameras`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, body: camera });
      expect(cross.status).toBe(403);
      expect(((await cross.json()) as { error: string }).error).toMatch(/own page \(Origin https:\/\/evil\.example\)/);
      const port = new URL(open.url).port;
      expect(await getFrom(`${open.url}/api/cameras`, '127.0.0.1', { host: `rebound.example:${port}` })).toBe(403);
      expect(await getFrom(`${open.url}/api/cameras`, '127.0.0.1', { host: `localhost:${port}` })).toBe(200);
      // A script on this machine sends no Origin: curl -X POST … works as the README shows.
      const curl = await fetch(`${open.url}/api/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"bad id!"}' });
      expect(curl.status).toBe(400);
      // The page's own changes carry its own Origin.
      const own = await fetch(`${open.url}/api/cameras`, { method: 'POST', headers: { 'content-type': 'application/json', origin: open.url }, body: '{"id":"bad id!"}' });
      expect(own.status).toBe(400);
    } finally {
      await open.close();
    }
  });
});
