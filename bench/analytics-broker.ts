// bench:analytics's MQTT broker: Debian's mosquitto as a child process on a
// free port of 127.0.0.1, persistence off, in a temporary folder, stopped
// at the end (and killed if the bench exits without stopping it). The tests
// have their own (test/helpers/mosquitto.ts), which bench/ cannot import: the
// bench's tsconfig compiles src/ and bench/ only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const MOSQUITTO = process.env.BENCH_MOSQUITTO ?? '/usr/sbin/mosquitto';
const READY_MS = 10_000;
const STOP_GRACE_MS = 3_000;

export interface Broker {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A port nobody listens on now (mosquitto cannot be given port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

export async function startBroker(): Promise<Broker> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-mosquitto-'));
  const port = await freePort();
  const config = path.join(dir, 'mosquitto.conf');
  writeFileSync(config, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    // "… running" (information) is the line that says every listener is open.
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    // Started as root, mosquitto would switch to its own user, who cannot read this folder.
    `user ${os.userInfo().username}`,
    '',
  ].join('\n'));
  const child = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => { if (running(child)) child.kill('SIGKILL'); };
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`not running within ${READY_MS} ms`), READY_MS);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!/mosquitto version \S+ running/.test(out)) return;
      done();
      // Keep reading so a chatty broker never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      resolve();
    };
    const onExit = (code: number | null) => fail(`exited (${code}) before it was running`);
    const onError = (e: Error) => fail(`could not start ${MOSQUITTO}: ${e.message} (install Debian's mosquitto package, or set BENCH_MOSQUITTO)`);
    function done() {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    function fail(why: string) {
      done();
      kill();
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`mosquitto ${why}; output:\n${out.trim()}`));
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    async stop() {
      if (running(child)) {
        child.kill('SIGTERM');
        const timer = setTimeout(kill, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
