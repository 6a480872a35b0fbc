// `lookout serve` as a child process for the benchmarks, as it is deployed:
// the config written to a temporary folder (the detection log beside it),
// the URL read from the line serve prints, SIGTERM to stop. A bench that
// dies leaves no lookout behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/util/paths.js';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export interface ServeChild {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** `config` is lookout's config document; http and store are filled in unless given. */
export async function startServeChild(config: Record<string, unknown>): Promise<ServeChild> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-'));
  const file = path.join(dir, 'lookout.yaml');
  writeFileSync(file, JSON.stringify({ http: { host: '127.0.0.1', port: 0 }, store: { path: path.join(dir, 'lookout.db') }, ...config }));
  const child = spawn(process.execPath, [path.join(packageRoot, 'dist/src/cli.js'), 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.add(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`lookout exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid as number,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      children.delete(child);
    },
  };
}
