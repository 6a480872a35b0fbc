// The users file: readable by its owner only; a session is made only with
// the password just checked (a change by `lookout user passwd` in another
// process meanwhile wins); removing a user takes their sessions and tokens;
// a file that is there but unusable is an error naming it.
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Accounts, MAX_TOKENS_PER_USER } from '../../src/auth/accounts.js';
import { UserDb } from '../../src/auth/user-db.js';
import { tempDir } from '../helpers/cleanup.js';

const fileIn = () => path.join(tempDir('lookout-userdb-'), 'users.db');

describe('the users file', () => {
  it('is created readable and writable by its owner only', () => {
    const file = fileIn();
    UserDb.open(file, { create: true }).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('makes a session only while the password checked is still the user\'s', () => {
    const file = fileIn();
    const server = UserDb.open(file, { create: true });
    const cli = UserDb.open(file, { create: false });
    try {
      server.addUser('vera', 'viewer', 'scrypt$old');
      // The server checked "old"; meanwhile the command line set a new password (ending sessions).
      cli.setPassword('vera', 'scrypt$new');
      expect(server.addSession({ id: 's1', user: 'vera', created: 1, expires: Date.now() + 60_000 }, 'scrypt$old')).toBe(false);
      expect(server.addSession({ id: 's2', user: 'vera', created: 1, expires: Date.now() + 60_000 }, 'scrypt$new')).toBe(true);
      expect(server.sessions().map((s) => s.id)).toEqual(['s2']);
      server.addToken({ id: 't1', user: 'vera', name: 'ha', hash: 'x', created: 1 });
      cli.removeUser('vera');
      expect(server.sessions()).toEqual([]);
      expect(server.tokens()).toEqual([]);
    } finally {
      server.close();
      cli.close();
    }
  });

  it('names the file when it is there but not a users file', () => {
    const file = fileIn();
    writeFileSync(file, 'this is not a database, and not empty either: '.repeat(200));
    expect(() => UserDb.open(file, { create: true })).toThrow(new RegExp(`cannot use the users file ${file.replace(/[/.]/g, '\\$&')}`));
  });

  it('keeps at most 100 sessions per user, ending the oldest first', () => {
    const db = UserDb.open(fileIn(), { create: true });
    db.addUser('vera', 'viewer', 'scrypt$stored');
    const accounts = new Accounts(db, { sessionHours: 1 });
    try {
      const user = accounts.user('vera');
      if (!user) throw new Error('vera was not loaded');
      const cookies = Array.from({ length: 101 }, () => accounts.startSession(user)?.cookie ?? '');
      expect(accounts.session(cookies[0])).toBeUndefined();
      expect(accounts.session(cookies[1])).toBeDefined();
      expect(accounts.session(cookies[100])).toBeDefined();
      expect(db.sessions()).toHaveLength(100);
    } finally {
      accounts.close();
      db.close();
    }
  });

  it('lets a user hold at most 100 API tokens, saying so', () => {
    const db = UserDb.open(fileIn(), { create: true });
    db.addUser('vera', 'viewer', 'scrypt$stored');
    const accounts = new Accounts(db, { sessionHours: 1 });
    try {
      for (let i = 0; i < MAX_TOKENS_PER_USER; i++) accounts.createToken('vera', `script ${i}`);
      expect(() => accounts.createToken('vera', 'one more')).toThrow(/vera has 100 API tokens, the most one may hold; revoke one first/);
      const [first] = accounts.tokensOf('vera');
      accounts.revokeToken('vera', first.id);
      expect(accounts.createToken('vera', 'one more').token).toMatch(/^lk_/);
    } finally {
      accounts.close();
      db.close();
    }
  });
});
