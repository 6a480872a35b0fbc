// Safe without configuration: a default start listens on loopback only;
// asking for any other address without authentication stops start-up with
// exit code 2 and a message that says how to fix it; a user added with
// `lookout user add` (or auth.token, or an explicit auth.enabled: false)
// lets it start. All through the real command line, as a new user runs it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, startCli, type RunningChild } from '../helpers/child.js';
import { tempDir } from '../helpers/cleanup.js';

const running: RunningChild[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop('SIGKILL');
});

/** A folder with a config for a quick start (synthetic model, no cameras), as a user's own folder. */
function folder(extra = ''): { cwd: string; config: string } {
  const cwd = tempDir('lookout-expose-');
  const config = path.join(cwd, 'lookout.yaml');
  writeFileSync(config, `modelServer:\n  embedded:\n    model: synthetic\n${extra}`);
  return { cwd, config };
}

function serve(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningChild {
  const c = startCli(['serve', '--config', path.join(cwd, 'lookout.yaml'), '--port', '0', ...args], env, cwd);
  running.push(c);
  return c;
}

/** `lookout user …` with the password on standard input. */
const user = (cwd: string, args: string[], input = '') => spawnSync(process.execPath, [CLI, 'user', ...args, '--config', path.join(cwd, 'lookout.yaml')], { cwd, input, encoding: 'utf8' });

/** An address of this machine that is not loopback (what another machine would connect to). */
function externalAddress(): string {
  const found = Object.values(os.networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4');
  if (!found) throw new Error('this machine has no non-loopback IPv4 address to test with');
  return found.address;
}

const connects = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host, port }, () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });

const hasIpv6Loopback = (): boolean => Object.values(os.networkInterfaces()).flat().some((i) => i?.internal && i.address === '::1');

describe('where lookout listens', () => {
  it('listens on loopback only by default (127.0.0.1 and ::1) and needs no login there', async () => {
    const { cwd } = folder();
    const c = serve(cwd, []);
    const [, port] = await c.waitFor(/lookout listening on http:\/\/(?:localhost|127\.0\.0\.1):(\d+)/);
    expect(await connects('127.0.0.1', Number(port))).toBe(true);
    if (hasIpv6Loopback()) expect(await connects('::1', Number(port))).toBe(true);
    expect(await connects(externalAddress(), Number(port))).toBe(false);
    expect((await fetch(`http://127.0.0.1:${port}/api/cameras`)).status).toBe(200);
  }, 60_000);

  it('refuses --host 0.0.0.0 (and LOOKOUT_HTTP_HOST) without authentication, exit 2, naming the keys and the command that fixes it', async () => {
    const { cwd } = folder();
    for (const [args, env] of [[['--host', '0.0.0.0'], {}], [[], { LOOKOUT_HTTP_HOST: '0.0.0.0' }]] as const) {
      const c = serve(cwd, [...args], env);
      expect(await c.exited).toBe(2);
      const said = c.stderr();
      expect(said).toMatch(/http\.host/);
      expect(said).toMatch(/lookout user add NAME --role admin/);
      expect(said).toMatch(/auth\.token/);
      expect(said).toMatch(/auth\.enabled: false/);
    }
  }, 60_000);

  it('starts on 0.0.0.0 once a user exists, and the user logs in from the network', async () => {
    const { cwd } = folder();
    const added = user(cwd, ['add', 'alice', '--role', 'viewer'], 'alice-secret-1\n');
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/added alice \(viewer\)/);
    const c = serve(cwd, ['--host', '0.0.0.0']);
    const [, port] = await c.waitFor(/lookout listening on http:\/\/localhost:(\d+)/);
    const base = `http://${externalAddress()}:${port}`;
    expect((await fetch(`${base}/api/cameras`)).status).toBe(401);
    const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: 'alice-secret-1' }) });
    expect(res.status).toBe(200);
    const cookie = /lookout_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? '';
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict; Max-Age=\d+/);
    expect((await fetch(`${base}/api/cameras`, { headers: { cookie } })).status).toBe(200);
    const change = await fetch(`${base}/api/cameras`, { method: 'POST', headers: { cookie, origin: base, 'content-type': 'application/json' }, body: '{"id":"x","url":"rtsp://10.1.2.3/x"}' });
    expect(change.status).toBe(403);
  }, 60_000);

  it('starts on 0.0.0.0 with auth.token, or with auth.enabled: false and a warning', async () => {
    const withToken = folder('auth:\n  token: a-token-of-enough-length\n');
    const t = serve(withToken.cwd, ['--host', '0.0.0.0']);
    const [, port] = await t.waitFor(/lookout listening on http:\/\/localhost:(\d+)/);
    expect((await fetch(`http://127.0.0.1:${port}/api/cameras`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/api/cameras`, { headers: { authorization: 'Bearer a-token-of-enough-length' } })).status).toBe(200);
    const open = folder('auth:\n  enabled: false\n');
    const o = serve(open.cwd, ['--host', '0.0.0.0']);
    await o.waitFor(/lookout listening on/);
    expect(o.stderr()).toMatch(/auth\.enabled is false: anyone who can reach 0\.0\.0\.0/);
    const on = folder('auth:\n  enabled: true\n');
    const nobody = serve(on.cwd, []);
    expect(await nobody.exited).toBe(2);
    expect(nobody.stderr()).toMatch(/auth\.enabled: is true, but nobody could log in/);
  }, 60_000);
});

describe('a users file it cannot use', () => {
  it('stops start-up (exit 2) naming the file, rather than start without its users', async () => {
    const { cwd } = folder();
    mkdirSync(path.join(cwd, 'data'));
    writeFileSync(path.join(cwd, 'data', 'users.db'), 'not a database: '.repeat(500));
    const c = serve(cwd, []);
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toMatch(/auth\.usersFile: cannot use the users file .*users\.db/);
  }, 60_000);
});

describe('lookout user', () => {
  it('adds, lists, changes and removes users, reading the password from standard input and never from the arguments', () => {
    const { cwd } = folder();
    expect(user(cwd, ['add', 'bob', '--role', 'admin'], 'bob-password-1\n').status).toBe(0);
    const dup = user(cwd, ['add', 'bob', '--role', 'viewer'], 'another-pass\n');
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/user "bob" already exists/);
    const short = user(cwd, ['add', 'carol', '--role', 'viewer'], 'short\n');
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/password: is 5 characters long; use at least 8/);
    const role = user(cwd, ['add', 'carol', '--role', 'owner'], 'long-enough\n');
    expect(role.status).toBe(2);
    expect(role.stderr).toMatch(/--role: expected admin or viewer, got "owner"/);
    const list = user(cwd, ['list']);
    expect(list.stdout).toMatch(/^bob\tadmin\tcreated \S+\t0 session\(s\)\t0 API token\(s\)$/m);
    expect(user(cwd, ['passwd', 'bob'], 'bob-password-2\n').status).toBe(0);
    expect(user(cwd, ['remove', 'bob']).status).toBe(0);
    const gone = user(cwd, ['remove', 'bob']);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/no user "bob"/);
    expect(user(cwd, ['list']).stdout).toMatch(/no users in .*users\.db/);
  });
});
