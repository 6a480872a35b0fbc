// The users file: a small SQLite database (auth.usersFile, beside the
// detection log by default) holding users, their sessions and their API
// tokens. `lookout user …` and the running server open it at the same time;
// WAL mode lets both, and the server notices the command line's changes
// through PRAGMA data_version (accounts.ts polls it).
//
// Nothing here is a usable secret: passwords are scrypt hashes, and sessions
// and tokens are stored as SHA-256 digests of random values (256 bits of
// entropy need no slow hash). The file is created readable by its owner only.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LookoutError } from '../util/errors.js';

export type Role = 'admin' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'viewer'];
export const isRole = (v: unknown): v is Role => v === 'admin' || v === 'viewer';

/** A user name: what a person types and headers carry; no spaces or control characters. */
export const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export class UserError extends LookoutError {
  readonly code: 'USER_INVALID' | 'USER_NOT_FOUND' | 'USER_EXISTS' | 'USERS_FILE';
  constructor(code: UserError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface UserRow { name: string; role: Role; password: string; created: number; changed: number }
export interface SessionRow { id: string; user: string; created: number; expires: number }
export interface TokenRow { id: string; user: string; name: string; hash: string; created: number; lastUsed: number | null }

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  password TEXT NOT NULL, created INTEGER NOT NULL, changed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  created INTEGER NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  name TEXT NOT NULL, hash TEXT NOT NULL, created INTEGER NOT NULL, last_used INTEGER,
  UNIQUE (user, name));
PRAGMA user_version = 1;
`;

export class UserDb {
  private constructor(private readonly db: Database.Database, readonly file: string) {}

  /** Opens (creating when asked) the users file. */
  static open(file: string, options: { create: boolean }): UserDb {
    const absent = !existsSync(file);
    if (absent && !options.create) throw new UserError('USERS_FILE', `no users file at ${file}`);
    let db: Database.Database;
    try {
      if (absent) mkdirSync(path.dirname(file), { recursive: true });
      db = new Database(file);
    } catch (err) {
      throw new UserError('USERS_FILE', `cannot open the users file ${file}: ${(err as Error).message}`);
    }
    try {
      if (absent) chmodSync(file, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > 1) throw new Error(`it was written by a newer lookout (users schema ${version})`);
      if (version < 1) db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw new UserError('USERS_FILE', `cannot use the users file ${file}: ${(err as Error).message}`);
    }
    return new UserDb(db, file);
  }

  /** Changes by other connections (the command line) since the last call show as a new number. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  users(): UserRow[] {
    return this.db.prepare('SELECT name, role, password, created, changed FROM users ORDER BY name').all() as UserRow[];
  }

  user(name: string): UserRow | undefined {
    return this.db.prepare('SELECT name, role, password, created, changed FROM users WHERE name = ?').get(name) as UserRow | undefined;
  }

  addUser(name: string, role: Role, passwordHash: string, now = Date.now()): void {
    if (!USER_NAME.test(name)) throw new UserError('USER_INVALID', `user name ${JSON.stringify(name)}: use 1–64 letters, digits, ".", "_", "@" or "-"`);
    try {
      this.db.prepare('INSERT INTO users (name, role, password, created, changed) VALUES (?, ?, ?, ?, ?)').run(name, role, passwordHash, now, now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new UserError('USER_EXISTS', `user ${JSON.stringify(name)} already exists`);
      throw err;
    }
  }

  /** Removes the user, their sessions and tokens (cascade). */
  removeUser(name: string): void {
    if (this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes === 0) throw notFound(name);
  }

  /** A new password ends every session of the user. */
  setPassword(name: string, passwordHash: string, now = Date.now()): void {
    this.db.transaction(() => {
      if (this.db.prepare('UPDATE users SET password = ?, changed = ? WHERE name = ?').run(passwordHash, now, name).changes === 0) throw notFound(name);
      this.db.prepare('DELETE FROM sessions WHERE user = ?').run(name);
    })();
  }

  /** A new role ends every session of the user (the page they have open was built for the old one). */
  setRole(name: string, role: Role, now = Date.now()): void {
    this.db.transaction(() => {
      if (this.db.prepare('UPDATE users SET role = ?, changed = ? WHERE name = ?').run(role, now, name).changes === 0) throw notFound(name);
      this.db.prepare('DELETE FROM sessions WHERE user = ?').run(name);
    })();
  }

  sessions(): SessionRow[] {
    return this.db.prepare('SELECT id, user, created, expires FROM sessions ORDER BY created').all() as SessionRow[];
  }

  /**
   * A session for the user, only while their password is still `passwordHash`
   * (the one just checked): one statement, so a password changed meanwhile by
   * another process (which ended the user's sessions) is never outlived by a
   * session made with the old one. False when not made.
   */
  addSession(row: SessionRow, passwordHash: string): boolean {
    return this.db.prepare('INSERT INTO sessions (id, user, created, expires) SELECT ?, name, ?, ? FROM users WHERE name = ? AND password = ?')
      .run(row.id, row.created, row.expires, row.user, passwordHash).changes === 1;
  }

  extendSession(id: string, expires: number): void {
    this.db.prepare('UPDATE sessions SET expires = ? WHERE id = ?').run(expires, id);
  }

  removeSession(id: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
  }

  removeExpiredSessions(now = Date.now()): number {
    return this.db.prepare('DELETE FROM sessions WHERE expires <= ?').run(now).changes;
  }

  tokens(user?: string): TokenRow[] {
    const sql = 'SELECT id, user, name, hash, created, last_used AS lastUsed FROM tokens';
    return (user === undefined ? this.db.prepare(`${sql} ORDER BY created`).all() : this.db.prepare(`${sql} WHERE user = ? ORDER BY created`).all(user)) as TokenRow[];
  }

  addToken(row: Omit<TokenRow, 'lastUsed'>): void {
    try {
      this.db.prepare('INSERT INTO tokens (id, user, name, hash, created) VALUES (?, ?, ?, ?, ?)').run(row.id, row.user, row.name, row.hash, row.created);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UserError('USER_EXISTS', `${row.user} already has a token named ${JSON.stringify(row.name)}`);
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw notFound(row.user);
      throw err;
    }
  }

  /** Removes one of the user's tokens; false when they have none of that id. */
  removeToken(user: string, id: string): boolean {
    return this.db.prepare('DELETE FROM tokens WHERE id = ? AND user = ?').run(id, user).changes > 0;
  }

  touchToken(id: string, when: number): void {
    this.db.prepare('UPDATE tokens SET last_used = ? WHERE id = ?').run(when, id);
  }

  close(): void {
    this.db.close();
  }
}

const notFound = (name: string) => new UserError('USER_NOT_FOUND', `no user ${JSON.stringify(name)}`);
