// Users, logins and requests as the auth tests need them: a users file made
// before lookout starts (as `lookout user add` makes it), a login through
// POST /login as the page does it, and requests carrying the session cookie
// and the page's Origin.
import path from 'node:path';
import { hashPassword } from '../../src/auth/passwords.js';
import { UserDb, type Role } from '../../src/auth/user-db.js';
import { tempDir } from './cleanup.js';

/** A users file holding these users (name → role; each one's password is `${name}-password`). */
export async function usersFile(users: Record<string, Role>): Promise<string> {
  const file = path.join(tempDir('lookout-users-'), 'users.db');
  const db = UserDb.open(file, { create: true });
  try {
    for (const [name, role] of Object.entries(users)) db.addUser(name, role, await hashPassword(passwordOf(name)));
  } finally {
    db.close();
  }
  return file;
}

export const passwordOf = (name: string): string => `${name}-password`;

/** Logs in through POST /login (JSON, as login.js does); the session cookie's value. */
export async function login(base: string, user: string, password = passwordOf(user), headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ user, password }) });
  if (res.status !== 200) throw new Error(`login as ${user}: ${res.status} ${await res.text()}`);
  const cookie = /lookout_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (!cookie) throw new Error(`login as ${user}: no session cookie`);
  return cookie;
}

/** Headers of a logged-in browser on the page: its cookie and its own Origin. */
export const browser = (base: string, cookie: string): Record<string, string> => ({ cookie: `lookout_session=${cookie}`, origin: base });
