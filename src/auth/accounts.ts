// Who is asking: the users file's users, sessions and API tokens held in
// memory for a lookup per request, and the shared auth.token. Changes made
// here (the API) are written through to the file; changes the command line
// makes to the file are noticed within POLL_MS (PRAGMA data_version) and
// reloaded. After either, listeners run, so that connections of a session
// or token that no longer exists are ended (open-connections.ts).
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { apiTokenId, apiTokenMatches, digestText, newApiToken, newSessionSecret, sameSecret } from './secrets.js';
import { isRole, UserError, type Role, type TokenRow, type UserDb, type UserRow } from './user-db.js';

export type Via = 'session' | 'token' | 'shared-token' | 'proxy' | 'open';

export interface Principal {
  user: string;
  role: Role;
  via: Via;
  /** The session's digest (via session). */
  sessionId?: string;
  /** The API token's id (via token). */
  tokenId?: string;
}

/** The shared auth.token's principal: an admin named for what it is. */
export const SHARED_TOKEN_USER = 'token';
const POLL_MS = 500;
/** Sessions that expired end their open connections within this long (listeners run even with no change). */
const EXPIRY_SWEEP_MS = 60_000;
/** Sessions kept per user (the oldest ends first) and shared-token sessions in all: a scripted login loop cannot grow them without bound. */
const MAX_SESSIONS_PER_USER = 100;
const MAX_SHARED_SESSIONS = 1_000;
/** API tokens a user may hold at once: enough for every script and service, and a bound on what the file keeps. */
export const MAX_TOKENS_PER_USER = 100;
/** A session is extended (and its cookie sent again) when used this long after its last extension. */
const EXTEND_AFTER_MS = 10 * 60_000;
/** A token's last use is written at most this often. */
const TOUCH_EVERY_MS = 60_000;


interface Session { user: string; expires: number; extended: number }
interface Token { user: string; name: string; hash: string; created: number; lastUsed: number | null }

export interface UserView { name: string; role: Role; created: string; sessions: number; tokens: number }
export interface TokenView { id: string; name: string; created: string; lastUsed: string | null }

export class Accounts {
  private users = new Map<string, UserRow>();
  private sessions = new Map<string, Session>();
  /** The shared token's browser sessions, by digest (in memory only). */
  private readonly sharedSessions = new Map<string, Session>();
  private tokens = new Map<string, Token>();
  private version = -1;
  private lastSweep = Date.now();
  private readonly listeners = new Set<() => void>();
  private readonly timer: NodeJS.Timeout | undefined;

  private pollFailing = false;

  constructor(private readonly db: UserDb | undefined, private readonly options: { sessionHours: number; sharedToken?: string; onPollError?: (message: string) => void }) {
    this.reload();
    if (db) {
      this.timer = setInterval(() => this.poll(), POLL_MS);
      this.timer.unref();
    }
  }

  get hasUsers(): boolean {
    return this.users.size > 0;
  }

  get sessionMs(): number {
    return this.options.sessionHours * 3_600_000;
  }

  /** Runs after every change of users, sessions or tokens (here or from the command line). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The user for a password, or undefined (as slow for a name that does not exist). */
  async checkPassword(name: string, password: string): Promise<UserRow | undefined> {
    const user = this.users.get(name);
    const ok = await verifyPassword(password, user?.password);
    // The user may have gone, or their password changed, while scrypt ran.
    return ok && user && this.users.get(name)?.password === user.password ? user : undefined;
  }

  /**
   * A new session for the user whose password was just checked: the cookie's
   * value (shown to the browser only) and its principal; undefined when that
   * password is no longer theirs (changed meanwhile, from the command line).
   */
  startSession(user: UserRow): { cookie: string; principal: Principal; maxAgeS: number } | undefined {
    const cookie = newSessionSecret();
    const id = digestText(cookie);
    const now = Date.now();
    const expires = now + this.sessionMs;
    if (this.db && !this.db.addSession({ id, user: user.name, created: now, expires }, user.password)) return undefined;
    this.sessions.set(id, { user: user.name, expires, extended: now });
    // Map order is creation order: the user's oldest sessions end first past the bound.
    const own = [...this.sessions].filter(([, x]) => x.user === user.name);
    const dropped = own.slice(0, Math.max(0, own.length - MAX_SESSIONS_PER_USER));
    for (const [old] of dropped) {
      this.sessions.delete(old);
      this.db?.removeSession(old);
    }
    if (dropped.length > 0) this.changed();
    return { cookie, principal: { user: user.name, role: user.role, via: 'session', sessionId: id }, maxAgeS: Math.floor(this.sessionMs / 1000) };
  }

  /**
   * A browser session of the shared token (login with no user name): random
   * like a user's, revocable by logging out, held in memory only (the token
   * has no row in the users file; a restart logs these out).
   */
  startSharedTokenSession(): { cookie: string; maxAgeS: number } {
    const cookie = newSessionSecret();
    const now = Date.now();
    if (this.sharedSessions.size >= MAX_SHARED_SESSIONS) {
      const oldest = this.sharedSessions.keys().next().value;
      if (oldest !== undefined) this.sharedSessions.delete(oldest);
    }
    this.sharedSessions.set(digestText(cookie), { user: SHARED_TOKEN_USER, expires: now + this.sessionMs, extended: now });
    return { cookie, maxAgeS: Math.floor(this.sessionMs / 1000) };
  }

  /** The principal of a session cookie; `extended` says the session's expiry moved (send the cookie again). */
  session(cookie: string): { principal: Principal; extended: boolean } | undefined {
    const id = digestText(cookie);
    const now = Date.now();
    const shared = this.sharedSessions.get(id);
    if (shared) return shared.expires > now ? { principal: { user: SHARED_TOKEN_USER, role: 'admin', via: 'shared-token', sessionId: id }, extended: false } : undefined;
    const s = this.sessions.get(id);
    if (!s || s.expires <= now) return undefined;
    const user = this.users.get(s.user);
    if (!user) return undefined;
    let extended = false;
    if (now - s.extended > EXTEND_AFTER_MS) {
      s.extended = now;
      s.expires = now + this.sessionMs;
      extended = true;
      // Best effort: a full or failing disk must not fail the request (or throw inside a WebSocket upgrade).
      try {
        this.db?.extendSession(id, s.expires);
      } catch {
        // The file keeps the older expiry; memory holds the newer until the next reload.
      }
    }
    return { principal: { user: user.name, role: user.role, via: 'session', sessionId: id }, extended };
  }

  /** Ends the session a cookie holds (logging out). */
  endSessionByCookie(cookie: string): void {
    const id = digestText(cookie);
    if (this.sharedSessions.delete(id)) this.changed();
    else this.endSession(id);
  }

  endSession(id: string): void {
    if (!this.sessions.delete(id)) return;
    this.db?.removeSession(id);
    this.changed();
  }

  /** The principal of a bearer token: the shared auth.token, or a user's lk_ token. */
  token(given: string): Principal | undefined {
    const shared = this.options.sharedToken;
    if (shared !== undefined && sameSecret(given, shared)) return { user: SHARED_TOKEN_USER, role: 'admin', via: 'shared-token' };
    const id = apiTokenId(given);
    const t = id === undefined ? undefined : this.tokens.get(id);
    if (id === undefined || !t || !apiTokenMatches(given, t.hash)) return undefined;
    const user = this.users.get(t.user);
    if (!user) return undefined;
    const now = Date.now();
    if (t.lastUsed === null || now - t.lastUsed > TOUCH_EVERY_MS) {
      t.lastUsed = now;
      try {
        this.db?.touchToken(id, now);
      } catch {
        // Best effort, as a session's extension.
      }
    }
    return { user: user.name, role: user.role, via: 'token', tokenId: id };
  }

  /** Whether what the principal stood on (its session, token, user) still stands. */
  stillValid(p: Principal): boolean {
    if (p.via === 'session') {
      const s = p.sessionId === undefined ? undefined : this.sessions.get(p.sessionId);
      return s !== undefined && s.expires > Date.now() && this.users.get(p.user)?.role === p.role;
    }
    if (p.via === 'shared-token') {
      const s = p.sessionId === undefined ? undefined : this.sharedSessions.get(p.sessionId);
      return p.sessionId === undefined || (s !== undefined && s.expires > Date.now());
    }
    if (p.via === 'token') {
      const t = p.tokenId === undefined ? undefined : this.tokens.get(p.tokenId);
      return t !== undefined && this.users.get(p.user)?.role === p.role;
    }
    return true;
  }

  // ——— Users and tokens, for the API (the command line writes the file directly). ———

  listUsers(): UserView[] {
    return [...this.users.values()].map((u) => this.view(u));
  }

  view(u: UserRow): UserView {
    let sessions = 0;
    for (const s of this.sessions.values()) if (s.user === u.name && s.expires > Date.now()) sessions++;
    let tokens = 0;
    for (const t of this.tokens.values()) if (t.user === u.name) tokens++;
    return { name: u.name, role: u.role, created: new Date(u.created).toISOString(), sessions, tokens };
  }

  user(name: string): UserRow | undefined {
    return this.users.get(name);
  }

  async addUser(name: unknown, role: unknown, password: unknown): Promise<UserRow> {
    if (typeof name !== 'string') throw new UserError('USER_INVALID', 'name: expected a user name');
    if (!isRole(role)) throw new UserError('USER_INVALID', `role: expected "admin" or "viewer", got ${JSON.stringify(role)}`);
    const problem = passwordProblem(password);
    if (problem) throw new UserError('USER_INVALID', `password: ${problem}`);
    const db = this.writable();
    db.addUser(name, role, await hashPassword(password as string));
    this.reloadAndNotify();
    return this.users.get(name) as UserRow;
  }

  removeUser(name: string): void {
    this.writable().removeUser(name);
    this.reloadAndNotify();
  }

  async setPassword(name: string, password: unknown): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new UserError('USER_INVALID', `password: ${problem}`);
    const hash = await hashPassword(password as string);
    this.writable().setPassword(name, hash);
    this.reloadAndNotify();
  }

  setRole(name: string, role: unknown): void {
    if (!isRole(role)) throw new UserError('USER_INVALID', `role: expected "admin" or "viewer", got ${JSON.stringify(role)}`);
    if (this.users.get(name)?.role === role) return;
    this.writable().setRole(name, role);
    this.reloadAndNotify();
  }

  tokensOf(user: string): TokenView[] {
    const out: TokenView[] = [];
    for (const [id, t] of this.tokens) {
      if (t.user === user) out.push({ id, name: t.name, created: new Date(t.created).toISOString(), lastUsed: t.lastUsed === null ? null : new Date(t.lastUsed).toISOString() });
    }
    return out.sort((a, b) => a.created.localeCompare(b.created));
  }

  /** A new API token: its full value is returned here once and stored only as a digest. */
  createToken(user: string, name: unknown): TokenView & { token: string } {
    if (typeof name !== 'string' || !/^[^\u0000-\u001f]{1,64}$/.test(name.trim())) throw new UserError('USER_INVALID', 'name: expected 1–64 characters naming what the token is for (e.g. "home-assistant")');
    if (!this.users.has(user)) throw new UserError('USER_NOT_FOUND', `no user ${JSON.stringify(user)}`);
    if (this.tokensOf(user).length >= MAX_TOKENS_PER_USER) throw new UserError('USER_INVALID', `${user} has ${MAX_TOKENS_PER_USER} API tokens, the most one may hold; revoke one first`);
    const { id, token, hash } = newApiToken();
    const created = Date.now();
    this.writable().addToken({ id, user, name: name.trim(), hash, created });
    this.reloadAndNotify();
    return { id, name: name.trim(), created: new Date(created).toISOString(), lastUsed: null, token };
  }

  revokeToken(user: string, id: string): boolean {
    const gone = this.writable().removeToken(user, id);
    if (gone) this.reloadAndNotify();
    return gone;
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  private writable(): UserDb {
    if (!this.db) throw new UserError('USERS_FILE', 'this lookout has no users file');
    return this.db;
  }

  private poll(): void {
    try {
      if (this.db && this.db.dataVersion() !== this.version) this.reloadAndNotify();
      else if (Date.now() - this.lastSweep > EXPIRY_SWEEP_MS) this.forgetExpired();
      this.pollFailing = false;
    } catch (err) {
      // A locked or briefly unreadable file: the next poll tries again; what is in memory stands. Said once per spell.
      if (!this.pollFailing) this.options.onPollError?.(`cannot read the users file ${this.db?.file ?? ''} (changes made by lookout user are not seen until it can): ${(err as Error).message}`);
      this.pollFailing = true;
    }
  }

  /** Drops expired sessions (memory and file), then lets listeners end their connections. */
  private forgetExpired(): void {
    const now = Date.now();
    for (const map of [this.sessions, this.sharedSessions]) for (const [id, s] of map) if (s.expires <= now) map.delete(id);
    this.db?.removeExpiredSessions(now);
    this.changed();
  }

  private reloadAndNotify(): void {
    this.reload();
    this.changed();
  }

  private changed(): void {
    this.lastSweep = Date.now();
    for (const l of this.listeners) l();
  }

  /** Reads the whole file (a handful of rows); sessions keep their in-memory extension time. */
  private reload(): void {
    if (!this.db) return;
    this.db.removeExpiredSessions();
    this.version = this.db.dataVersion();
    this.users = new Map(this.db.users().map((u) => [u.name, u]));
    const sessions = new Map<string, Session>();
    for (const s of this.db.sessions()) sessions.set(s.id, { user: s.user, expires: s.expires, extended: this.sessions.get(s.id)?.extended ?? s.created });
    this.sessions = sessions;
    this.tokens = new Map(this.db.tokens().map((t: TokenRow) => [t.id, { user: t.user, name: t.name, hash: t.hash, created: t.created, lastUsed: t.lastUsed }]));
  }
}
