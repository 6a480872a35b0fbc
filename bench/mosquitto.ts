// Debian's mosquitto as a child process on a free port of 127.0.0.1: the
// config every broker of the bench and the tests starts from, and the launch
// that waits until it listens. bench:analytics (analytics-broker.ts) and the
// tests (test/helpers/mosquitto.ts, which may import bench/; the bench may not
// import test/) each own the brokers they start and stop them.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';

export const MOSQUITTO = process.env.BENCH_MOSQUITTO ?? '/usr/sbin/mosquitto';

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

export const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** The config's lines for a broker on 127.0.0.1:port, persistence off, logging what launch() waits for. */
export function mosquittoConfig(port: number, anonymous = true): string[] {
  return [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${anonymous}`,
    'persistence false',
    'log_dest stderr',
    // "… running" (information) is the line that says every listener is open.
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    // Started as root, mosquitto would switch to its own user, who cannot read a temporary folder.
    `user ${os.userInfo().username}`,
  ];
}

export interface Launched {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Starts mosquitto on a config file; resolves once every listener is open, else kills it and rejects with its output. */
export function launchMosquitto(config: string, readyMs = 10_000): Promise<Launched> {
  const child = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  return new Promise<Launched>((resolve, reject) => {
    const fail = (why: string): void => {
      cleanup();
      if (running(child)) child.kill('SIGKILL');
      reject(new Error(`mosquitto ${why}; output:\n${out.trim()}`));
    };
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (!/mosquitto version \S+ running/.test(out)) return;
      cleanup();
      // Keep reading so a chatty broker never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      resolve({ child, exited });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited (${code ?? signal}) before it was running`);
    const onError = (e: Error): void => fail(`could not start ${MOSQUITTO}: ${e.message} (install Debian's mosquitto package, or set BENCH_MOSQUITTO)`);
    const timer = setTimeout(() => fail(`not running within ${readyMs} ms`), readyMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}
