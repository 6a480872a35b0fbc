// Spreading calls over several TF Serving replicas.
import { afterEach, describe, expect, it } from 'vitest';
import { TfServingClient } from '../../src/tfserving/client.js';
import { AddressError, parseTargets } from '../../src/tfserving/channels.js';
import { startModelServer, synthetic, type StartedServer } from '../helpers/servers.js';

const frame = { kind: 'rgb' as const, width: 4, height: 2, data: new Uint8Array(24) };
const open: StartedServer[] = [];
const clients: TfServingClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of open.splice(0)) await s.server.close();
});

async function replica(host = '127.0.0.1'): Promise<StartedServer> {
  const s = await startModelServer(synthetic({ latencyMs: 1 }), host);
  open.push(s);
  return s;
}

describe('replicas', () => {
  it('checks addresses and explains what is wrong', () => {
    expect(parseTargets('a:8500, b:8500')).toEqual(['a:8500', 'b:8500']);
    expect(parseTargets('ipv4:127.0.0.1:1,127.0.0.2:1')).toEqual(['ipv4:127.0.0.1:1,127.0.0.2:1']);
    expect(parseTargets(['dns:tfs.default.svc:8500'])).toEqual(['dns:tfs.default.svc:8500']);
    expect(() => parseTargets('')).toThrow(AddressError);
    expect(() => parseTargets('http://tfs:8501')).toThrow(/use host:port or dns:NAME:PORT for gRPC/);
    expect(() => parseTargets('tfs')).toThrow(/"tfs" is not host:port/);
    expect(() => parseTargets(['dns:tfs:8500', 'b:8500'])).toThrow(/give one alone/);
  });

  it('takes turns over a list of addresses', async () => {
    const a = await replica();
    const b = await replica();
    const c = new TfServingClient({ address: [a.address, b.address], modelName: 'detector' });
    clients.push(c);
    const targets = [];
    for (let i = 0; i < 10; i++) targets.push((await c.detect([frame])).target);
    expect(new Set(targets)).toEqual(new Set([a.address, b.address]));
    expect(a.server.stats().completed).toBe(5);
    expect(b.server.stats().completed).toBe(5);
  });

  it('keeps detecting when one replica of the list goes away', async () => {
    const a = await replica();
    const b = await replica();
    const c = new TfServingClient({ address: `${a.address},${b.address}`, modelName: 'detector', deadlineMs: 2_000 });
    clients.push(c);
    await c.detect([frame]);
    await c.detect([frame]);
    await b.server.close();
    open.splice(open.indexOf(b), 1);
    let failures = 0;
    for (let i = 0; i < 10; i++) {
      try {
        await c.detect([frame]);
      } catch {
        failures++;
      }
    }
    // At most the call that discovers the dead replica fails; after that its channel is skipped.
    expect(failures).toBeLessThanOrEqual(1);
    expect(a.server.stats().completed).toBeGreaterThanOrEqual(1 + 10 - failures);
  });

  it('balances one resolved name over every address with round_robin', async () => {
    // Two replicas on two loopback addresses; gRPC's ipv4: resolver hands the
    // channel both, as a dns: name of a headless Service would.
    const a = await replica('127.0.0.1');
    const b = await replica('127.0.0.2');
    const c = new TfServingClient({ address: `ipv4:${a.address},${b.address}`, modelName: 'detector' });
    clients.push(c);
    for (let i = 0; i < 12; i++) await c.detect([frame]);
    // pick_first, gRPC's default, would send all 12 to one of them.
    expect(a.server.stats().completed).toBeGreaterThanOrEqual(3);
    expect(b.server.stats().completed).toBeGreaterThanOrEqual(3);
  });

  it('resolves dns: names', async () => {
    const a = await replica('127.0.0.1');
    const c = new TfServingClient({ address: `dns:localhost:${a.port}`, modelName: 'detector' });
    clients.push(c);
    expect(await c.ready()).toBe(true);
    expect((await c.detect([frame])).detections[0].length).toBe(3);
  });
});
