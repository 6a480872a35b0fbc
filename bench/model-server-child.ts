// `lookout model-server` as a child process of a benchmark, as it is deployed.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../src/util/paths.js';

/** Every child still running, killed if the benchmark ends early (an error, Ctrl+C). */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export interface ModelServerChild {
  address: string;
  stop(): Promise<void>;
}

/** Starts it on a free loopback port with the given flags; resolves once it listens. */
export async function startModelServerChild(args: string[]): Promise<ModelServerChild> {
  const child = spawn(process.execPath, [path.join(packageRoot, 'dist/src/cli.js'), 'model-server', '--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`model-server exited with ${code}`)));
  });
  return {
    address: `127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
