// The MQTT sink as Home Assistant and a user's scripts see it, on a real
// mosquitto (docs/notify.md): each notice on its topic with its payload,
// retained state for whoever subscribes later (zeros for the catalog's
// combos), discovery configs that point at those topics, one snapshot per new
// snapshot file, passwords and TLS, and the last will when lookout dies.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MqttSink } from '../../src/notify/mqtt-sink.js';
import type { Notice, NoticeEvent, NotifyCatalog } from '../../src/notify/notice.js';
import { packageRoot } from '../../src/util/paths.js';
import { onCleanup } from '../helpers/cleanup.js';
import { memoryLog, mqttConfig, skipMosquitto, startMosquitto, subscribe, type Mosquitto, type Received, type Subscriber } from '../helpers/mosquitto.js';
import { sleep, until } from '../helpers/wait.js';

const T = 1_700_000_000_000;
const text = (m: Received): string => m.payload.toString();
const is = (value: string) => (m: Received): boolean => text(m) === value;

function ev(over: Partial<NoticeEvent> = {}): NoticeEvent {
  return {
    id: 'e1', camera: 'front', label: 'person', trackId: 7, start: T, end: null, score: 0.9, box: [0.1, 0.2, 0.5, 0.6],
    zones: [], loitering: [], snapshot: null, snapshotUrl: null, clipUrl: null, ...over,
  };
}

const catalog: NotifyCatalog = {
  cameras: () => [
    { id: 'front', labels: ['person', 'traffic light'], zones: [{ name: 'yard', labels: ['person'] }], lines: [{ name: 'gate', labels: ['person'] }] },
    { id: 'back', labels: ['car'], zones: [], lines: [] },
  ],
};

/** A sink closed by onCleanup. */
function sinkFor(url: string, over: Parameters<typeof mqttConfig>[1] = {}, snapshot?: (e: NoticeEvent) => Promise<Buffer | undefined>) {
  const log = memoryLog();
  const sink = new MqttSink({ config: mqttConfig(url, over), catalog, snapshot, log });
  onCleanup(() => sink.close());
  return { sink, log };
}

const skip = skipMosquitto();

describe.skipIf(skip)('the MQTT sink on mosquitto', () => {
  describe('topics, retained state and discovery', () => {
    let broker: Mosquitto;
    let sub: Subscriber;
    let later: Subscriber;
    let sink: MqttSink;
    const reads: (string | null)[] = [];

    beforeAll(async () => {
      broker = await startMosquitto();
      sub = await subscribe(broker.url);
      ({ sink } = sinkFor(broker.url, {}, async (e) => {
        reads.push(e.snapshot);
        return e.snapshot === 'gone.jpg' ? undefined : Buffer.from(`jpeg:${e.snapshot}`);
      }));
      await until(() => sink.stats().connected, 10_000);
    });

    it('publishes each notice on its topic, state retained and the rest not, with zeros for the catalog', async () => {
      expect(sink.name).toBe('mqtt');
      expect((await sub.waitFor('lookout/available', is('online'))).retain).toBe(true);
      // Zeros for every camera×label and zone×label of the catalog; none for line counters (totals from the log).
      for (const t of ['lookout/front/person', 'lookout/front/traffic_light', 'lookout/front/yard/person', 'lookout/back/car']) {
        const zero = await sub.waitFor(t);
        expect([text(zero), zero.retain], t).toEqual(['0', true]);
      }
      expect(sub.on('lookout/front/gate/person/in')).toEqual([]);

      const notices: Notice[] = [
        { kind: 'event', phase: 'start', time: T, event: ev() },
        { kind: 'count', camera: 'front', label: 'person', count: 1 },
        { kind: 'zone', phase: 'enter', time: T + 1, camera: 'front', zone: 'yard', label: 'person', trackId: 7, eventId: 'e1', occupancy: 1 },
        { kind: 'occupancy', camera: 'front', zone: 'yard', label: 'person', count: 1 },
        { kind: 'crossing', phase: 'crossing', time: T + 2, camera: 'front', line: 'gate', label: 'person', direction: 'in', trackId: 7, eventId: 'e1', totals: { in: 3, out: 1 } },
        { kind: 'count', camera: 'front', label: 'traffic light', count: 2 },
      ];
      for (const n of notices) sink.send(n);

      const started = await sub.waitFor('lookout/events');
      expect(started.retain).toBe(false);
      expect(JSON.parse(text(started))).toEqual({ phase: 'start', time: T, event: ev() });
      expect((await sub.waitFor('lookout/front/person', is('1'))).retain).toBe(true);
      const zone = await sub.waitFor('lookout/zones');
      expect(zone.retain).toBe(false);
      expect(JSON.parse(text(zone))).toEqual({ phase: 'enter', camera: 'front', zone: 'yard', label: 'person', time: T + 1, trackId: 7, eventId: 'e1', occupancy: 1 });
      expect((await sub.waitFor('lookout/front/yard/person', is('1'))).retain).toBe(true);
      expect((await sub.waitFor('lookout/front/gate/person/in', is('3'))).retain).toBe(true);
      expect((await sub.waitFor('lookout/front/gate/person/out', is('1'))).retain).toBe(true);
      const crossing = await sub.waitFor('lookout/crossings');
      expect(crossing.retain).toBe(false);
      expect(JSON.parse(text(crossing))).toEqual({
        camera: 'front', line: 'gate', label: 'person', direction: 'in', time: T + 2, trackId: 7, eventId: 'e1', totals: { in: 3, out: 1 },
      });
      expect((await sub.waitFor('lookout/front/traffic_light', is('2'))).retain).toBe(true);

      // A combo the catalog does not name is announced before its first state.
      sink.send({ kind: 'count', camera: 'side', label: 'dog', count: 1 });
      const state = await sub.waitFor('lookout/side/dog', is('1'));
      const config = await sub.waitFor('homeassistant/sensor/lookout_side/side_dog_count/config');
      expect(sub.messages.indexOf(config)).toBeLessThan(sub.messages.indexOf(state));
      await sub.waitFor('homeassistant/camera/lookout_side/side_snapshot/config');
      // Each config once, however the catalog and the notices named its combo.
      const configs = sub.messages.filter((m) => m.topic.startsWith('homeassistant/')).map((m) => m.topic);
      expect(configs.length).toBe(new Set(configs).size);
    });

    it('publishes an event snapshot once per new snapshot file, retained', async () => {
      const update = (snapshot: string | null, phase: 'update' | 'end' = 'update'): void =>
        sink.send({ kind: 'event', phase, time: T + 10, event: ev({ snapshot, end: phase === 'end' ? T + 10 : null }) });
      update('a.jpg');
      const a = await sub.waitFor('lookout/front/snapshot', is('jpeg:a.jpg'));
      expect(a.retain).toBe(true);
      update('a.jpg');
      update('b.jpg');
      await sub.waitFor('lookout/front/snapshot', is('jpeg:b.jpg'));
      // The callback finds nothing: nothing is published, and the same name is not asked for again.
      update('gone.jpg');
      update('gone.jpg', 'end');
      await sub.waitFor('lookout/events', (m) => JSON.parse(text(m)).phase === 'end');
      await sleep(300);
      expect(reads).toEqual(['a.jpg', 'b.jpg', 'gone.jpg']);
      expect(sub.on('lookout/front/snapshot').map(text)).toEqual(['jpeg:a.jpg', 'jpeg:b.jpg']);
      // 6 events, a zone and a crossing: every one acknowledged.
      await until(() => sink.stats().published === 8, 5_000);
      expect(sink.stats()).toEqual({ sink: 'mqtt', connected: true, published: 8, queued: 0, dropped: 0, failed: 0, retried: 0, lastError: null });
    });

    it('leaves the latest state retained for a subscriber that comes later, and no events', async () => {
      later = await subscribe(broker.url);
      const expected: Record<string, string> = {
        'lookout/available': 'online',
        'lookout/front/person': '1',
        'lookout/front/traffic_light': '2',
        'lookout/front/yard/person': '1',
        'lookout/front/gate/person/in': '3',
        'lookout/front/gate/person/out': '1',
        'lookout/back/car': '0',
        'lookout/side/dog': '1',
        'lookout/front/snapshot': 'jpeg:b.jpg',
      };
      for (const [t, value] of Object.entries(expected)) {
        const m = await later.waitFor(t);
        expect([text(m), m.retain], t).toEqual([value, true]);
      }
      for (const t of ['lookout/events', 'lookout/zones', 'lookout/crossings']) expect(later.on(t), t).toEqual([]);
    });

    it('announces valid Home Assistant discovery configs that point at the state topics', async () => {
      const entities: [string, string, string][] = [
        ['camera', 'front', 'front_snapshot'], ['camera', 'back', 'back_snapshot'], ['camera', 'side', 'side_snapshot'],
        ['sensor', 'front', 'front_person_count'], ['sensor', 'front', 'front_traffic_light_count'], ['sensor', 'back', 'back_car_count'],
        ['sensor', 'side', 'side_dog_count'], ['binary_sensor', 'front', 'front_zone_yard_person_occupancy'],
        ['sensor', 'front', 'front_zone_yard_person_count'], ['sensor', 'front', 'front_line_gate_person_in'], ['sensor', 'front', 'front_line_gate_person_out'],
      ];
      const configs = new Map<string, Record<string, unknown>>();
      for (const [component, camera, id] of entities) {
        const m = await later.waitFor(`homeassistant/${component}/lookout_${camera}/${id}/config`);
        expect(m.retain).toBe(true);
        const config = JSON.parse(text(m)) as Record<string, unknown>;
        configs.set(id, config);
        expect(config).toMatchObject({
          object_id: id, default_entity_id: `${component}.${id}`, unique_id: `lookout_${id}`,
          availability_topic: 'lookout/available', payload_available: 'online', payload_not_available: 'offline',
          device: { identifiers: [`lookout_${camera}`], name: camera, manufacturer: 'lookout', model: 'camera' },
        });
        expect(id).toMatch(/^[a-zA-Z0-9_-]+$/);
      }
      // Nothing announced but these.
      expect(new Set(later.messages.filter((m) => m.topic.startsWith('homeassistant/')).map((m) => m.topic)).size).toBe(entities.length);
      expect(configs.get('front_snapshot')).toMatchObject({ name: 'snapshot', topic: 'lookout/front/snapshot' });
      expect(configs.get('front_traffic_light_count')).toMatchObject({ name: 'traffic light count', state_topic: 'lookout/front/traffic_light', state_class: 'measurement' });
      expect(configs.get('front_zone_yard_person_occupancy')).toMatchObject({
        name: 'yard person occupancy', state_topic: 'lookout/front/yard/person', device_class: 'occupancy', payload_on: 'ON', payload_off: 'OFF',
      });
      expect(configs.get('front_zone_yard_person_occupancy')?.value_template).toMatch(/'ON' if \(value \| int\(0\)\) > 0 else 'OFF'/);
      expect(configs.get('front_zone_yard_person_count')).toMatchObject({ state_topic: 'lookout/front/yard/person', state_class: 'measurement' });
      expect(configs.get('front_line_gate_person_in')).toMatchObject({ name: 'gate person in', state_topic: 'lookout/front/gate/person/in', state_class: 'total_increasing' });
      expect(configs.get('front_line_gate_person_out')).toMatchObject({ state_topic: 'lookout/front/gate/person/out', state_class: 'total_increasing' });
      // Every sensor's state topic holds a retained value (Home Assistant shows it at once).
      for (const c of configs.values()) {
        if (typeof c.state_topic === 'string') expect(later.on(c.state_topic).length, c.state_topic).toBeGreaterThan(0);
      }
      expect(new Set([...configs.values()].map((c) => c.unique_id)).size).toBe(entities.length);
    });

    it('forgets a deleted camera: its retained state and discovery configs are cleared from the broker', async () => {
      const side = (t: string) => t.startsWith('lookout/side/') || t.includes('/lookout_side/');
      expect(sub.messages.some((m) => side(m.topic) && m.topic.startsWith('homeassistant/'))).toBe(true);
      sink.forget('side');
      // An empty retained message deletes what the broker kept; Home Assistant removes an entity whose config is empty.
      await sub.waitFor('lookout/side/dog', (m) => m.payload.length === 0);
      const fresh = await subscribe(broker.url);
      await fresh.waitFor('lookout/front/person');
      await sleep(300);
      expect(fresh.messages.filter((m) => side(m.topic)).map((m) => m.topic)).toEqual([]);
      expect(fresh.messages.some((m) => m.topic.includes('/lookout_front/'))).toBe(true);
    });

    it('says offline (retained) when closed, within the bound, and drops what comes after', async () => {
      const t0 = Date.now();
      await sink.close();
      // The sink's bound is about 2 s; a loaded machine may add to it, a hung close would not end at all.
      expect(Date.now() - t0).toBeLessThan(5_000);
      const offline = await sub.waitFor('lookout/available', is('offline'));
      expect(offline.retain).toBe(true);
      await sink.close();
      expect(() => sink.send({ kind: 'event', phase: 'start', time: T, event: ev({ id: 'late' }) })).not.toThrow();
      expect(sink.stats()).toMatchObject({ connected: false, published: 8, dropped: 1, queued: 0 });
    });
  });

  it('logs in with a username and password, and says why a wrong password is refused', async () => {
    const broker = await startMosquitto({ users: { lookout: 'right-pass-42' } });
    const wrong = sinkFor(broker.url, { username: 'lookout', password: 'wrong-pass-17' });
    await until(() => wrong.sink.stats().lastError !== null, 10_000);
    // Attempts go on with backoff (0.5 s, then 1 s): the refusal is logged once, never the password.
    await sleep(2_000);
    expect(wrong.sink.stats()).toMatchObject({ connected: false, published: 0 });
    expect(wrong.sink.stats().lastError).toMatch(/not authori[sz]ed|bad user ?name or password/i);
    expect(wrong.log.lines.filter((l) => /not authori[sz]ed|bad user/i.test(l))).toHaveLength(1);
    expect(wrong.log.lines.join('\n')).not.toMatch(/pass-(17|42)/);
    await wrong.sink.close();

    const right = sinkFor(broker.url, { username: 'lookout', password: 'right-pass-42' });
    const sub = await subscribe(broker.url, ['lookout/#'], { username: 'lookout', password: 'right-pass-42' });
    await until(() => right.sink.stats().connected, 10_000);
    await sub.waitFor('lookout/available', is('online'));
    expect(right.log.lines.join('\n')).not.toMatch(/right-pass/);
  });

  it('connects over mqtts to a broker its CA file vouches for, and refuses one it cannot verify', async () => {
    const broker = await startMosquitto({ tls: true });
    expect(broker.url).toMatch(/^mqtts:/);
    const trusted = sinkFor(broker.url, { caFile: broker.caFile });
    await until(() => trusted.sink.stats().connected, 10_000);
    const sub = await subscribe(broker.url, ['lookout/#'], { ca: readFileSync(broker.caFile ?? '') });
    await sub.waitFor('lookout/available', is('online'));

    const untrusted = sinkFor(broker.url, { clientId: 'untrusted' });
    await until(() => untrusted.sink.stats().lastError !== null, 10_000);
    expect(untrusted.sink.stats().connected).toBe(false);
    expect(untrusted.sink.stats().lastError).toMatch(/certificate|self.signed|unable to (get|verify)/i);

    const unchecked = sinkFor(broker.url, { clientId: 'unchecked', rejectUnauthorized: false });
    await until(() => unchecked.sink.stats().connected, 10_000);
    expect(untrusted.sink.stats().connected).toBe(false);
  });

  it('leaves a last will: a lookout killed outright is offline (retained) at once', async () => {
    const dist = path.join(packageRoot, 'dist/src/notify/mqtt-sink.js');
    if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (npx tsc -p tsconfig.json)`);
    const broker = await startMosquitto();
    const sub = await subscribe(broker.url, ['willtest/#']);
    const config = mqttConfig(broker.url, { topicPrefix: 'willtest', discovery: false });
    const script = `
      import { MqttSink } from ${JSON.stringify(pathToFileURL(dist).href)};
      const say = (m) => console.log(m);
      new MqttSink({ config: JSON.parse(process.env.SINK_CONFIG), catalog: { cameras: () => [] }, log: { info: say, warn: say, error: say } });
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, SINK_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    onCleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout.resume();
    await sub.waitFor('willtest/available', is('online'), 15_000).catch((e: unknown) => { throw new Error(`${String(e)}; child stderr: ${err}`); });
    child.kill('SIGKILL');
    await exited;
    const offline = await sub.waitFor('willtest/available', is('offline'), 5_000);
    expect(offline.retain).toBe(true);
  });
});
