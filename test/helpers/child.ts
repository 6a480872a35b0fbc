// lookout's CLI as a real child process, as a user or a script runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { tempDir } from './cleanup.js';

export const CLI = path.join(packageRoot, 'dist/src/cli.js');

export interface RunningChild {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout match of `pattern`, or rejects when the process exits or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs `lookout ARGS` in `cwd`: by default a fresh temporary folder, as a
 * user's own folder would be, so what lookout writes there by default (the
 * detection log in ./data) is the test's own. That folder is removed by
 * onCleanup: the test stops the child before (in afterEach, or in the test).
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = tempDir('lookout-cwd-')): RunningChild {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = out.match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          }
          return Boolean(m);
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${pattern}; stderr: ${err}`)); }, timeoutMs);
        const onData = (): void => { check(); };
        const onExit = (): void => { if (!check()) { cleanup(); reject(new Error(`exited before ${pattern}; stderr: ${err}`)); } };
        const cleanup = (): void => {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.off('exit', onExit);
        };
        child.stdout?.on('data', onData);
        child.on('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
