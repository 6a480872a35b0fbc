// `lookout user add|remove|passwd|list`: users of the users file, from the
// command line, while lookout runs or not (it notices within a second, and
// ends the sessions a removal or a new password ends). The file is the one
// the config names (auth.usersFile, beside the detection log by default), so
// give the same --config (or environment) as `lookout serve`.
//
// Passwords are never arguments (they would show in `ps` and shell history):
// on a terminal they are asked for twice without echo; otherwise the first
// line of standard input is the password (`… | lookout user add alice`).
import { createInterface } from 'node:readline';
import { demoConfig, loadConfig } from '../config/load.js';
import { parseCommand, stringFlag, UsageError } from '../cli-args.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { isRole, UserDb, UserError } from './user-db.js';

export const USER_HELP = `  lookout user add NAME --role admin|viewer [--config FILE]
  lookout user passwd NAME [--config FILE]
  lookout user remove NAME [--config FILE]
  lookout user list [--config FILE]
      Users of the page and the API (auth.usersFile: data/users.db by default,
      beside the detection log). The password is asked for on a terminal, or
      read from the first line of standard input. A running lookout picks the
      change up within a second; removing a user or changing their password
      ends their sessions and open streams.
`;

type Out = { log: (line: string) => void };

export async function userCommand(argv: string[], out: Out = { log: (l) => console.log(l) }): Promise<void> {
  const [verb, ...rest] = argv;
  const { flags, positionals } = parseCommand(rest, { config: { type: 'string' }, role: { type: 'string' } }, 1);
  const configFile = stringFlag(flags, 'config');
  const config = configFile ? loadConfig(configFile, process.env, { shard: false }) : demoConfig(process.env, { shard: false });
  const file = config.auth.usersFile;
  const name = positionals[0];
  const needName = (): string => {
    if (!name) throw new UsageError(`lookout user ${verb}: name the user`);
    return name;
  };
  if (verb === 'list') {
    if (positionals.length > 0) throw new UsageError(`lookout user list takes no name, got ${JSON.stringify(name)}`);
    const db = UserDb.open(file, { create: true });
    try {
      const users = db.users();
      const sessions = db.sessions();
      const tokens = db.tokens();
      if (users.length === 0) out.log(`no users in ${file}`);
      for (const u of users) {
        const live = sessions.filter((s) => s.user === u.name && s.expires > Date.now()).length;
        out.log(`${u.name}\t${u.role}\tcreated ${new Date(u.created).toISOString()}\t${live} session(s)\t${tokens.filter((t) => t.user === u.name).length} API token(s)`);
      }
    } finally {
      db.close();
    }
    return;
  }
  if (verb === 'add') {
    const role = stringFlag(flags, 'role');
    if (!isRole(role)) throw new UsageError(`--role: expected admin or viewer, got ${JSON.stringify(role ?? '')}`);
    const user = needName();
    const db = UserDb.open(file, { create: true });
    try {
      if (db.user(user)) throw new UserError('USER_EXISTS', `user ${JSON.stringify(user)} already exists in ${file}; use lookout user passwd to change the password`);
      db.addUser(user, role, await hashPassword(await readPassword(`Password for ${user}: `)));
    } finally {
      db.close();
    }
    out.log(`added ${user} (${role}) to ${file}`);
    return;
  }
  if (verb === 'passwd' || verb === 'remove') {
    const user = needName();
    const db = UserDb.open(file, { create: false });
    try {
      if (!db.user(user)) throw new UserError('USER_NOT_FOUND', `no user ${JSON.stringify(user)} in ${file}`);
      if (verb === 'remove') db.removeUser(user);
      else db.setPassword(user, await hashPassword(await readPassword(`New password for ${user}: `)));
    } finally {
      db.close();
    }
    out.log(verb === 'remove' ? `removed ${user}; their sessions and API tokens are gone` : `changed ${user}'s password; their sessions ended`);
    return;
  }
  throw new UsageError(`lookout user: expected add, passwd, remove or list, got ${JSON.stringify(verb ?? '')}`);
}

/** The password: asked twice on a terminal (no echo), else the first line of stdin; checked for length. */
async function readPassword(prompt: string): Promise<string> {
  const tty = process.stdin.isTTY === true;
  const password = tty ? await ask(prompt) : await firstLine();
  const problem = passwordProblem(password);
  if (problem) throw new UserError('USER_INVALID', `password: ${problem}`);
  if (tty && (await ask('Again: ')) !== password) throw new UserError('USER_INVALID', 'password: the two did not match');
  return password;
}

function ask(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // Echo nothing but the prompt.
    const writer = rl as unknown as { _writeToOutput: (s: string) => void };
    writer._writeToOutput = (s: string) => {
      if (s.includes(prompt)) process.stderr.write(prompt);
    };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

async function firstLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line.replace(/\r$/, '');
  }
  throw new UserError('USER_INVALID', 'password: standard input was empty (pipe the password in, or run on a terminal to be asked)');
}
