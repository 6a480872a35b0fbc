// bench:analytics's MQTT broker: Debian's mosquitto (bench/mosquitto.ts) on a
// free port of 127.0.0.1, persistence off, in a temporary folder, stopped at
// the end (and killed if the bench exits without stopping it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, launchMosquitto, mosquittoConfig, running } from './mosquitto.js';

export { MOSQUITTO } from './mosquitto.js';

const STOP_GRACE_MS = 3_000;

export interface Broker {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startBroker(): Promise<Broker> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-mosquitto-'));
  const port = await freePort();
  const config = path.join(dir, 'mosquitto.conf');
  writeFileSync(config, `${mosquittoConfig(port).join('\n')}\n`);
  let launched;
  try {
    launched = await launchMosquitto(config);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const { child, exited } = launched;
  const kill = (): void => { if (running(child)) child.kill('SIGKILL'); };
  process.once('exit', kill);
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
