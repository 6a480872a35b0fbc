// The MQTT broker crashing under a steady flow of notices (docs/notify.md):
// the sink never throws, holds a bounded queue while the broker is gone and
// counts every message it drops, reconnects by itself within its backoff
// when the broker is back on the same port (with an empty retained store),
// and puts back availability, the state and the held messages, in order.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { MqttSink } from '../../src/notify/mqtt-sink.js';
import type { Notice, NoticeEvent, NotifyCatalog } from '../../src/notify/notice.js';
import { onCleanup } from '../helpers/cleanup.js';
import { memoryLog, mqttConfig, skipMosquitto, startMosquitto, subscribe, type Received } from '../helpers/mosquitto.js';
import { sleep, until } from '../helpers/wait.js';

const MAX_QUEUE = 100;
const EVERY_MS = 20; // 50 notices a second

const base: NoticeEvent = {
  id: 'e1', camera: 'cam', label: 'person', trackId: 1, start: 1_700_000_000_000, end: null, score: 0.8, box: [0, 0, 0.5, 0.5],
  zones: [], loitering: [], snapshot: null, snapshotUrl: null, clipUrl: null,
};
/** The seq-th event notice: its time is its sequence number, so order can be read back. */
const eventNotice = (seq: number): Notice => ({ kind: 'event', phase: 'update', time: seq, event: { ...base, trackId: seq } });
const seqOf = (m: Received): number => (JSON.parse(m.payload.toString()) as { time: number }).time;
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

const catalog: NotifyCatalog = {
  cameras: () => [{ id: 'cam', labels: ['person', 'car'], zones: [{ name: 'door', labels: ['person'] }], lines: [{ name: 'gate', labels: ['person'] }] }],
};

const skip = skipMosquitto();

describe.skipIf(skip)('the MQTT sink when its broker crashes', () => {
  it('holds a bounded queue, counts every drop, and comes back by itself with its state and the held messages in order', async () => {
    const broker = await startMosquitto();
    const before = await subscribe(broker.url, ['lookout/#']);
    const log = memoryLog();
    const sink = new MqttSink({ config: mqttConfig(broker.url, { maxQueue: MAX_QUEUE }), catalog, log });
    onCleanup(() => sink.close());
    await until(() => sink.stats().connected, 10_000);

    // The flow: every message accounted for at once (queued counts what awaits its PUBACK), and no send throws.
    // `sent` counts stream messages (events, zones, crossings); retained state is not counted, the latest value wins.
    let sent = 0;
    let seq = 0;
    let threw = 0;
    const unaccounted: string[] = [];
    const send = (n: Notice): void => {
      try {
        sink.send(n);
      } catch (e) {
        threw += 1;
        throw e;
      }
    };
    const tick = (): void => {
      send(eventNotice(seq));
      seq += 1;
      sent += 1;
      const s = sink.stats();
      if (s.published + s.dropped + s.queued + s.failed !== sent) unaccounted.push(`${sent} sent: ${JSON.stringify(s)}`);
    };
    let flow: NodeJS.Timeout | undefined = setInterval(tick, EVERY_MS);
    const stopFlow = (): void => {
      clearInterval(flow);
      flow = undefined;
    };
    onCleanup(stopFlow);

    send({ kind: 'count', camera: 'cam', label: 'person', count: 2 });
    send({ kind: 'occupancy', camera: 'cam', zone: 'door', label: 'person', count: 1 });
    send({ kind: 'crossing', phase: 'crossing', time: 1, camera: 'cam', line: 'gate', label: 'person', direction: 'in', trackId: 1, eventId: 'e1', totals: { in: 5, out: 2 } });
    sent += 1;
    await before.waitFor('lookout/cam/gate/person/out', (m) => m.payload.toString() === '2');
    await until(() => sink.stats().published >= 25, 10_000);

    // The crash. From here on nothing is acknowledged.
    await broker.kill();
    await until(() => !sink.stats().connected, 5_000);
    const publishedAtCrash = sink.stats().published;
    // While it is down, a listener on its port sees (and refuses) each reconnection attempt.
    const attempts: number[] = [];
    const watcher = net.createServer((socket) => {
      attempts.push(Date.now());
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => watcher.once('error', reject).listen(broker.port, '127.0.0.1', () => resolve()));
    onCleanup(() => new Promise((resolve) => watcher.close(resolve)));

    // State changes while the broker is away: the latest value wins when it is back.
    send({ kind: 'count', camera: 'cam', label: 'person', count: 3 });
    send({ kind: 'count', camera: 'cam', label: 'car', count: 1 });

    // The queue fills to its bound and then drops its oldest, counted.
    await until(() => sink.stats().dropped >= 30, 20_000, 10);
    stopFlow();
    expect(sink.stats()).toMatchObject({ connected: false, queued: MAX_QUEUE, failed: 0 });
    expect(sink.stats().dropped).toBe(sent - publishedAtCrash - MAX_QUEUE);
    const held = range(seq - MAX_QUEUE, seq);

    // Right after an attempt (the third or later: 3.2 s at least to the next), the broker comes back on the same port
    // (its retained store empty), and a subscriber is there before the sink.
    const seen = Math.max(attempts.length, 2);
    await until(() => attempts.length > seen, 35_000, 5);
    const lastAttempt = attempts[attempts.length - 1];
    // The next delay is backoffDelay(attempt number) with the 500 ms × 2ⁿ schedule, ±20 %, at most 30 s.
    const nextDelay = Math.min(30_000, 500 * 2 ** attempts.length * 1.2);
    await new Promise((resolve) => watcher.close(resolve));
    await broker.restart();
    const after = await subscribe(broker.url, ['lookout/#', 'homeassistant/#']);
    expect(sink.stats().connected, 'the sink reconnected before the subscriber was there').toBe(false);
    await until(() => sink.stats().connected, nextDelay + 3_000, 10);
    expect(Date.now() - lastAttempt).toBeLessThan(nextDelay + 3_000);

    // The held messages, in order, once each; then what comes after.
    await until(() => after.on('lookout/events').length >= held.length, 10_000);
    for (let i = 0; i < 10; i++) tick();
    await until(() => after.on('lookout/events').length >= held.length + 10, 10_000);
    await sleep(200);
    const events = after.on('lookout/events');
    expect(events.map(seqOf)).toEqual([...held, ...range(seq - 10, seq)]);
    expect(events.every((m) => !m.retain)).toBe(true);

    // Availability, then the state, then the queue.
    const index = (topic: string): number => after.messages.findIndex((m) => m.topic === topic);
    expect(after.messages[index('lookout/available')]?.payload.toString()).toBe('online');
    expect(index('lookout/available')).toBeLessThan(index('lookout/cam/person'));
    expect(index('homeassistant/sensor/lookout_cam/cam_person_count/config')).toBeLessThan(index('lookout/cam/person'));
    expect(index('lookout/cam/person')).toBeLessThan(index('lookout/events'));

    // A subscriber that comes now finds the state as it was last set, retained again on the new broker.
    const latest = await subscribe(broker.url, ['lookout/#']);
    const expected: Record<string, string> = {
      'lookout/available': 'online',
      'lookout/cam/person': '3',
      'lookout/cam/car': '1',
      'lookout/cam/door/person': '1',
      'lookout/cam/gate/person/in': '5',
      'lookout/cam/gate/person/out': '2',
    };
    for (const [topic, value] of Object.entries(expected)) {
      const m = await latest.waitFor(topic);
      expect([m.payload.toString(), m.retain], topic).toEqual([value, true]);
    }
    expect(latest.on('lookout/events')).toEqual([]);

    // Every message accounted for, exactly.
    await until(() => sink.stats().queued === 0, 5_000);
    const s = sink.stats();
    expect(s).toMatchObject({ connected: true, failed: 0, queued: 0, retried: 0, published: publishedAtCrash + MAX_QUEUE + 10 });
    expect(s.published + s.dropped).toBe(sent);
    expect(unaccounted).toEqual([]);
    expect(threw).toBe(0);
    // One line each way, however many attempts failed in between.
    expect(log.lines.filter((l) => l.includes('mqtt: disconnected'))).toHaveLength(1);
    expect(log.lines.filter((l) => l.includes('mqtt: connected'))).toHaveLength(2);
    expect(log.lines.filter((l) => l.startsWith('warn')).length).toBeLessThanOrEqual(3);
  }, 90_000);

  it('never lets the client buffer without bound when the broker hangs: awaiting PUBACK and queued are both bounded', async () => {
    const broker = await startMosquitto();
    const sub = await subscribe(broker.url, ['lookout/events']);
    const sink = new MqttSink({ config: mqttConfig(broker.url, { maxQueue: 50 }), catalog, log: memoryLog() });
    onCleanup(() => sink.close());
    await until(() => sink.stats().connected, 10_000);

    broker.pause();
    onCleanup(() => broker.resume());
    for (let i = 0; i < 200; i++) sink.send(eventNotice(i));
    // 50 written and awaiting their PUBACK, 50 queued behind them: the oldest of the queue went, counted.
    expect(sink.stats()).toMatchObject({ connected: true, published: 0, queued: 100, dropped: 100, failed: 0 });
    await sleep(500);
    expect(sink.stats()).toMatchObject({ connected: true, published: 0, queued: 100, dropped: 100 });

    broker.resume();
    await until(() => sink.stats().published === 100, 10_000);
    expect(sink.stats()).toMatchObject({ connected: true, queued: 0, dropped: 100, failed: 0 });
    await until(() => sub.on('lookout/events').length >= 100, 10_000);
    expect(sub.on('lookout/events').map(seqOf)).toEqual([...range(0, 50), ...range(150, 200)]);
  });
});
