// Sessions end when they should, and take their open streams with them:
// removing a user (over the API or with `lookout user remove` while lookout
// runs), logging out, a new password, a revoked token. And logins are
// rate-limited: 50 wrong passwords from one address end in 429 with growing
// delays, while the right password from another address still works.
import http, { type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningLookout } from '../../src/app.js';
import { browser, login, passwordOf, usersFile } from '../helpers/auth.js';
import { startCli } from '../helpers/child.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';

let lookout: RunningLookout | undefined;
afterEach(async () => {
  await lookout?.close();
  lookout = undefined;
});

const TOKEN = 'sessions-test-shared-token-0123';

async function start(users: Parameters<typeof usersFile>[0]) {
  const file = await usersFile(users);
  lookout = await startTestLookout({ auth: { usersFile: file, token: TOKEN }, cameras: [{ id: 'cam', url: BOTTLE_CLIP, loop: true }] });
  return { base: lookout.url, file };
}

/** An open WebSocket and MJPEG stream of camera cam with these headers, and when each ended. */
async function watch(base: string, headers: Record<string, string>) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=cam&video=native`, { headers });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const wsClosed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() })));
  const mjpeg = await new Promise<IncomingMessage>((resolve, reject) => {
    http.get(`${base}/api/cameras/cam/stream.mjpeg`, { headers }, resolve).once('error', reject);
  });
  expect(mjpeg.statusCode).toBe(200);
  mjpeg.resume();
  const mjpegEnded = new Promise<number>((resolve) => mjpeg.once('close', () => resolve(Date.now())));
  return { ws, wsClosed, mjpegEnded };
}

/** `fromDone`: timed from when act is done (a command line that changed the file), not from when it began. */
async function endsWithinASecond(w: Awaited<ReturnType<typeof watch>>, act: () => Promise<unknown>, fromDone = false) {
  let t0 = Date.now();
  await act();
  if (fromDone) t0 = Date.now();
  const [ws, mjpegAt] = await Promise.all([w.wsClosed, w.mjpegEnded]);
  expect(ws.at - t0).toBeLessThan(1_000);
  expect(mjpegAt - t0).toBeLessThan(1_000);
  return ws.code;
}

const json = (headers: Record<string, string>, method: string, body?: unknown): RequestInit => ({
  method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

describe('ending sessions', () => {
  it('ends a removed user\'s WebSocket and MJPEG stream within a second (the API), and their session with them', async () => {
    const { base } = await start({ vera: 'viewer', ada: 'admin' });
    const vera = browser(base, await login(base, 'vera'));
    const ada = browser(base, await login(base, 'ada'));
    const w = await watch(base, vera);
    const code = await endsWithinASecond(w, async () => expect((await fetch(`${base}/api/users/vera`, json(ada, 'DELETE'))).status).toBe(204));
    expect(code).toBe(4401);
    expect((await fetch(`${base}/api/cameras`, { headers: vera })).status).toBe(401);
    // The admin's own streams go on.
    expect((await fetch(`${base}/api/cameras`, { headers: ada })).status).toBe(200);
  }, 60_000);

  it('ends them within a second when `lookout user remove` runs beside the server', async () => {
    const { base, file } = await start({ vera: 'viewer' });
    const vera = browser(base, await login(base, 'vera'));
    const w = await watch(base, vera);
    const cli = startCli(['user', 'remove', 'vera'], { LOOKOUT_USERS_FILE: file });
    // Timed from when the command has changed the file.
    await endsWithinASecond(w, async () => expect(await cli.exited).toBe(0), true);
    expect(cli.stdout()).toMatch(/removed vera/);
    expect((await fetch(`${base}/api/cameras`, { headers: vera })).status).toBe(401);
  }, 60_000);

  it('ends the session\'s streams on logout, and every session of a user whose password an admin changes', async () => {
    const { base } = await start({ vera: 'viewer', ada: 'admin' });
    const first = browser(base, await login(base, 'vera'));
    const second = browser(base, await login(base, 'vera'));
    const w = await watch(base, first);
    await endsWithinASecond(w, async () => expect((await fetch(`${base}/logout`, json(first, 'POST'))).status).toBe(204));
    // Logging out one browser leaves the other.
    expect((await fetch(`${base}/api/cameras`, { headers: second })).status).toBe(200);
    const w2 = await watch(base, second);
    const ada = browser(base, await login(base, 'ada'));
    await endsWithinASecond(w2, async () => expect((await fetch(`${base}/api/users/vera`, json(ada, 'PATCH', { password: 'a-new-password' }))).status).toBe(200));
    await login(base, 'vera', 'a-new-password');
    await expect(login(base, 'vera')).rejects.toThrow(/401/);
  }, 60_000);

  it('ends a revoked API token\'s stream; the token is shown once and stored only as a digest', async () => {
    const { base, file } = await start({ vera: 'viewer' });
    const vera = browser(base, await login(base, 'vera'));
    const created = (await (await fetch(`${base}/api/me/tokens`, json(vera, 'POST', { name: 'home-assistant' }))).json()) as { id: string; token: string };
    expect(created.token).toMatch(/^lk_[0-9a-f]{16}_/);
    const listed = (await (await fetch(`${base}/api/me/tokens`, { headers: vera })).json()) as { tokens: Record<string, unknown>[] };
    expect(listed.tokens).toEqual([expect.objectContaining({ id: created.id, name: 'home-assistant' })]);
    expect(JSON.stringify(listed)).not.toContain(created.token.slice(20));
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(file).includes(Buffer.from(created.token.slice(20)))).toBe(false);
    const w = await watch(base, { authorization: `Bearer ${created.token}` });
    await endsWithinASecond(w, async () => expect((await fetch(`${base}/api/me/tokens/${created.id}`, json(vera, 'DELETE'))).status).toBe(204));
    expect((await fetch(`${base}/api/cameras`, { headers: { authorization: `Bearer ${created.token}` } })).status).toBe(401);
  }, 60_000);
});

/** POST /login from a given local address (127.0.0.2 is another client to lookout, on the same loopback). */
function loginFrom(base: string, localAddress: string, user: string, password: string): Promise<{ status: number; retryAfter: number | undefined }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ user, password });
    const req = http.request(`${base}/login`, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      const ra = res.headers['retry-after'];
      res.once('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: ra === undefined ? undefined : Number(ra) }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

describe('guessing passwords', () => {
  it('answers 50 wrong passwords from one address with 429 and growing delays, while the right one works from another address', async () => {
    const { base } = await start({ vera: 'viewer', ada: 'admin' });
    const answers: { status: number; retryAfter: number | undefined }[] = [];
    for (let i = 0; i < 50; i++) answers.push(await loginFrom(base, '127.0.0.1', 'vera', `guess-${i}`));
    // Five are checked; after that, every attempt must wait, and each one that does not makes the wait longer.
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    const throttled = answers.filter((a) => a.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(44);
    const waits = throttled.map((a) => a.retryAfter ?? 0);
    expect(waits.every((w, i) => i === 0 || w >= waits[i - 1])).toBe(true);
    expect(waits[waits.length - 1]).toBeGreaterThan(waits[0] * 8);
    expect(waits[waits.length - 1]).toBeLessThanOrEqual(15 * 60);
    // The locked address cannot try even the right password; another address can.
    expect((await loginFrom(base, '127.0.0.1', 'vera', passwordOf('vera'))).status).toBe(429);
    expect((await loginFrom(base, '127.0.0.2', 'vera', passwordOf('vera'))).status).toBe(200);
    // What /metrics shows (read as the admin, logged in from yet another address).
    expect((await loginFrom(base, '127.0.0.3', 'ada', passwordOf('ada'))).status).toBe(200);
    const ada = { authorization: `Bearer ${TOKEN}` };
    const metrics = await (await fetch(`${base}/metrics`, { headers: ada })).text();
    expect(Number(/lookout_login_attempts_total\{result="throttled"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(45);
    expect(Number(/lookout_login_attempts_total\{result="wrong"\} (\d+)/.exec(metrics)?.[1])).toBe(5);
    expect(Number(/lookout_login_locked\{kind="address"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
