// A real MQTT broker for tests: Debian's mosquitto as a child process on a
// free port, with a generated config (and, on request, a password file and a
// CA-signed TLS certificate), which tests can kill (a broker crash) and
// restart on the same port; and a subscriber that records what the broker
// delivers, retained flag included.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../../src/config/schema.js';
import type { Logger } from '../../src/util/logger.js';
import { onCleanup, tempDir } from './cleanup.js';
import { relaunch } from './wait.js';
import { requireOrSkip } from './skip.js';
import { freePort, launchMosquitto, MOSQUITTO, mosquittoConfig, running, type Launched } from '../../bench/mosquitto.js';

export { freePort, MOSQUITTO };
const STOP_GRACE_MS = 3_000;
// A port just freed by a killed broker binds again at once (SO_REUSEADDR); this is the safety net.
const REBIND_TIMEOUT_MS = 10_000;

/** Whether to skip the MQTT tests (mosquitto missing); under CI=true that fails instead. */
export function skipMosquitto(): boolean {
  const missing = ['mosquitto', 'mosquitto_passwd', 'openssl'].filter((tool) => spawnSync(tool === 'mosquitto' ? MOSQUITTO : tool, ['-h'], { timeout: 5_000 }).error);
  return requireOrSkip('the MQTT tests', missing.length === 0 ? undefined : `${missing.join(', ')} not found; install the mosquitto package (broker and mosquitto_passwd) and openssl`);
}

export interface Mosquitto {
  /** mqtt://127.0.0.1:PORT, or mqtts:// with tls. */
  readonly url: string;
  readonly port: number;
  /** With tls: the CA that signed the broker's certificate (PEM file). */
  readonly caFile: string | undefined;
  /** SIGTERM, then SIGKILL after 3 s; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash; resolves once it has exited. */
  kill(): Promise<void>;
  /** Stops it if running, then starts it again on the same port (an empty retained store: persistence is off). */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing is answered, as a hung broker. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

// Every broker still running, killed if the test process exits without stopping them.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.error?.message}`);
}

/** A CA and a certificate it signed for 127.0.0.1 and localhost, in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=lookout test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  run('openssl', ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  run('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
    '-days', '2', '-extfile', 'server.ext'], dir);
  return { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
}

/** Starts a broker on `config`, remembered until it exits (killed if the test process exits first). */
async function launch(config: string): Promise<Launched> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => { for (const c of live) c.kill('SIGKILL'); });
  }
  const launched = await launchMosquitto(config);
  live.add(launched.child);
  void launched.exited.then(() => live.delete(launched.child));
  return launched;
}

/**
 * A mosquitto on 127.0.0.1, persistence off, stopped by onCleanup. `users`
 * (name → password) turns anonymous access off; `tls` serves mqtts with a
 * certificate signed by a fresh CA (caFile).
 */
export async function startMosquitto(options: { tls?: boolean; users?: Record<string, string> } = {}): Promise<Mosquitto> {
  const dir = tempDir('lookout-mosquitto-');
  const port = await freePort();
  const users = Object.entries(options.users ?? {});
  const lines = mosquittoConfig(port, users.length === 0);
  if (users.length > 0) {
    const file = path.join(dir, 'passwd');
    for (const [name, password] of users) run('mosquitto_passwd', ['-b', ...(existsSync(file) ? [] : ['-c']), file, name, password], dir);
    lines.push(`password_file ${file}`);
  }
  let caFile: string | undefined;
  if (options.tls) {
    const certs = makeCertificates(dir);
    caFile = certs.ca;
    lines.push(`certfile ${certs.cert}`, `keyfile ${certs.key}`);
  }
  const config = path.join(dir, 'mosquitto.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);

  let current = await launch(config);
  const halt = async (graceful: boolean): Promise<void> => {
    const { child, exited } = current;
    if (!running(child)) return exited;
    // A paused broker would hold a SIGTERM until it runs again.
    child.kill('SIGCONT');
    child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    const timer = graceful ? setTimeout(() => { if (running(child)) child.kill('SIGKILL'); }, STOP_GRACE_MS) : undefined;
    await exited;
    clearTimeout(timer);
  };
  const broker: Mosquitto = {
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    caFile,
    pause: () => { if (running(current.child)) current.child.kill('SIGSTOP'); },
    resume: () => { if (running(current.child)) current.child.kill('SIGCONT'); },
    stop: () => halt(true),
    kill: () => halt(false),
    async restart() {
      await halt(true);
      current = await relaunch(() => launch(config), /Address already in use/i, REBIND_TIMEOUT_MS);
    },
  };
  onCleanup(() => broker.stop());
  return broker;
}

export interface Received {
  topic: string;
  payload: Buffer;
  /** As published (the subscription asks for "retain as published"), or retained from before the subscription. */
  retain: boolean;
}

export interface Subscriber {
  client: MqttClient;
  /** Everything received, in order. */
  readonly messages: Received[];
  on(topic: string): Received[];
  /** The first message on `topic` (already received or to come) that `predicate` accepts. */
  waitFor(topic: string, predicate?: (m: Received) => boolean, timeoutMs?: number): Promise<Received>;
  close(): Promise<void>;
}

/** An MQTT 5 client subscribed to `filters` at QoS 1, closed by onCleanup. */
export async function subscribe(url: string, filters: string[] = ['#'], options: IClientOptions = {}): Promise<Subscriber> {
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain });
    for (const w of [...waiters]) w();
  });
  const close = (): Promise<void> => client.endAsync(true).catch(() => undefined);
  onCleanup(close);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.on('error', () => undefined);
  await client.subscribeAsync(filters, { qos: 1, rap: true });
  return {
    client,
    messages,
    on: (topic) => messages.filter((m) => m.topic === topic),
    waitFor(topic, predicate = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = messages.find((m) => m.topic === topic && predicate(m));
          if (!found) return false;
          done();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          done();
          const seen = messages.filter((m) => m.topic === topic).map((m) => m.payload.toString().slice(0, 80));
          reject(new Error(`nothing matching on ${topic} within ${timeoutMs} ms; seen there: ${JSON.stringify(seen)}`));
        }, timeoutMs);
        const waiter = (): void => { check(); };
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
        check();
      });
    },
    close,
  };
}

/** The sink's config for a broker, with lookout's defaults. */
export function mqttConfig(url: string, over: Partial<MqttConfig> = {}): MqttConfig {
  return {
    url, username: undefined, password: undefined, topicPrefix: 'lookout', clientId: `lookout-test-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    discovery: true, discoveryPrefix: 'homeassistant', maxQueue: 1000, rejectUnauthorized: true, caFile: undefined, ...over,
  };
}

/** A logger that keeps its lines, to check what was said (and what never was). */
export function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, fields?: Record<string, unknown>): void => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}
