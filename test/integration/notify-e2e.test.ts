// The whole way, as a user sets it up: `lookout serve` (a real child process)
// with a zone on a camera, Debian's mosquitto, a Home Assistant-style
// subscriber and a webhook receiver. The subscriber sees lookout come online,
// the discovery configs, the zone's occupancy go to 1 and back to 0 and an
// event carrying the zone's name; the receiver gets signed events; lookout
// killed with SIGKILL leaves "offline" behind (its last will).
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/child.js';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { skipMosquitto, startMosquitto, subscribe } from '../helpers/mosquitto.js';
import { until } from '../helpers/wait.js';

const SECRET = 'a webhook secret of some length';

interface Delivery {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  body: { type: string; phase: string; zone?: string; event?: { zones: string[]; label: string } };
}

async function receiver(): Promise<{ url: string; got: Delivery[] }> {
  const got: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      got.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) as Delivery['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

describe.skipIf(skipMosquitto())('notifications end to end', () => {
  it('tells MQTT (with Home Assistant discovery) and a signed webhook about a zone, and leaves "offline" when killed', async () => {
    const broker = await startMosquitto();
    const hook = await receiver();
    const sub = await subscribe(broker.url, ['lookout/#', 'homeassistant/#']);
    const dir = tempDir('lookout-notify-e2e-');
    const config = path.join(dir, 'lookout.yaml');
    writeFileSync(config, JSON.stringify({
      http: { host: '127.0.0.1', port: 0 },
      modelServer: { embedded: { model: 'synthetic', latencyMs: 5, capacity: 2 } },
      store: { path: path.join(dir, 'lookout.db') },
      notify: {
        mqtt: { url: broker.url },
        webhooks: [{ url: hook.url, secret: SECRET, phases: ['start', 'update', 'end', 'enter', 'exit'] }],
      },
      cameras: [{
        id: 'shop',
        url: BOTTLE_CLIP,
        loop: true,
        detectFps: 5,
        // Around the synthetic model's bottle, whose bottom centre is (0.625, 0.85).
        zones: [{ name: 'shelf', points: [[0.55, 0.7], [0.7, 0.7], [0.7, 0.95], [0.55, 0.95]], labels: ['bottle'] }],
      }],
    }));
    const lookout = startCli(['serve', '--config', config], { LOOKOUT_LOG_FORMAT: 'json' }, dir);
    onCleanup(() => lookout.stop());
    const [, port] = await lookout.waitFor(/listening on http:\/\/[^:]+:(\d+)/, 30_000);
    const base = `http://127.0.0.1:${port}`;

    expect((await sub.waitFor('lookout/available', (m) => m.payload.toString() === 'online', 20_000)).retain).toBe(true);
    const occupancyConfig = await sub.waitFor('homeassistant/binary_sensor/lookout_shop/shop_zone_shelf_bottle_occupancy/config', undefined, 20_000);
    const cfg = JSON.parse(occupancyConfig.payload.toString()) as { state_topic: string; device_class: string; availability_topic: string };
    expect(cfg).toMatchObject({ state_topic: 'lookout/shop/shelf/bottle', device_class: 'occupancy', availability_topic: 'lookout/available' });

    await sub.waitFor('lookout/shop/shelf/bottle', (m) => m.payload.toString() === '1', 30_000);
    const withZone = await sub.waitFor('lookout/events', (m) => {
      const e = JSON.parse(m.payload.toString()) as { event: { label: string; zones: string[] } };
      return e.event.label === 'bottle' && e.event.zones.includes('shelf');
    }, 30_000);
    const event = (JSON.parse(withZone.payload.toString()) as { event: { snapshotUrl: string | null; clipUrl: string } }).event;
    expect(event.clipUrl.startsWith(`${base}/api/events/`)).toBe(true);

    // The receiver: signed bodies, the zone's entry among them.
    await until(() => hook.got.some((d) => d.body.type === 'zone' && d.body.phase === 'enter' && d.body.zone === 'shelf'), 20_000, 100);
    for (const d of hook.got) {
      expect(d.headers['x-lookout-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(d.raw).digest('hex')}`);
    }
    expect(hook.got.some((d) => d.body.type === 'event' && d.body.phase === 'start' && d.body.event?.label === 'bottle')).toBe(true);

    // The camera goes: its objects leave, the zone empties, on MQTT and to the receiver.
    expect((await fetch(`${base}/api/cameras/shop`, { method: 'DELETE' })).status).toBe(204);
    await sub.waitFor('lookout/shop/shelf/bottle', (m) => m.payload.toString() === '0', 20_000);
    await until(() => hook.got.some((d) => d.body.type === 'zone' && d.body.phase === 'exit'), 20_000, 100);
    // Deleted, not changed: Home Assistant's entities for it go (their configs emptied), and so does its retained state.
    await sub.waitFor('homeassistant/binary_sensor/lookout_shop/shop_zone_shelf_bottle_occupancy/config', (m) => m.payload.length === 0, 20_000);
    await sub.waitFor('lookout/shop/shelf/bottle', (m) => m.payload.length === 0, 20_000);

    // Killed without a goodbye: the broker publishes the last will.
    lookout.child.kill('SIGKILL');
    await lookout.exited;
    await sub.waitFor('lookout/available', (m) => m.payload.toString() === 'offline' && sub.messages.indexOf(m) > sub.messages.findIndex((x) => x.topic === 'lookout/shop/shelf/bottle' && x.payload.toString() === '0'), 60_000);
  }, 120_000);
});
