// Webhooks as a receiver sees them (docs/notify.md): a real HTTP server gets
// signed JSON it can verify from the raw bytes, with the headers the contract
// names, a body per kind of notice, only the notices its filters ask for, and
// a camera's notices in the order they happened.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { NOTIFY_PHASES, type WebhookConfig } from '../../src/config/schema.js';
import type { EventPhase, Notice, NoticeEvent, ZonePhase } from '../../src/notify/notice.js';
import { WebhookSink } from '../../src/notify/webhook-sink.js';
import { silentLogger } from '../../src/util/logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { sleep, until } from '../helpers/wait.js';

interface Hit { method: string; path: string; headers: http.IncomingHttpHeaders; raw: Buffer; body: Record<string, unknown> }

/** A receiver on a free port that answers 200 (after `delayMs`), keeping what it got and how many requests overlapped. */
async function receiver(delayMs: () => number = () => 0): Promise<{ base: string; hits: Hit[]; maxConcurrent: () => number }> {
  const hits: Hit[] = [];
  let open = 0;
  let max = 0;
  const server = http.createServer((req, res) => {
    open += 1;
    max = Math.max(max, open);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      hits.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown> });
      setTimeout(() => {
        open -= 1;
        res.writeHead(204).end();
      }, delayMs());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, maxConcurrent: () => max };
}

function webhook(url: string, over: Partial<WebhookConfig> = {}): WebhookConfig {
  return { url, secret: undefined, phases: [...NOTIFY_PHASES], cameras: [], labels: [], zones: [], lines: [], timeoutMs: 2_000, retries: 0, maxQueue: 100, ...over };
}

function sink(config: WebhookConfig, index = 0): WebhookSink {
  const s = new WebhookSink({ config, index, log: silentLogger, version: '9.8.7-test' });
  onCleanup(() => s.close());
  return s;
}

const T = 1_700_000_000_000;

function event(phase: EventPhase, over: Partial<NoticeEvent> = {}): Notice {
  const e: NoticeEvent = {
    id: 'ev-1', camera: 'front', label: 'person', trackId: 7, start: T - 5_000, end: phase === 'end' ? T : null, score: 0.91,
    box: [0.1, 0.2, 0.5, 0.6], zones: ['porch'], loitering: [], snapshot: 'ev-1.jpg',
    snapshotUrl: 'http://lookout.test/api/events/ev-1/snapshot.jpg', clipUrl: 'http://lookout.test/api/events/ev-1/clip.mp4', ...over,
  };
  return { kind: 'event', phase, time: T, event: e };
}

function zone(phase: ZonePhase, over: { camera?: string; zone?: string; label?: string } = {}): Notice {
  return { kind: 'zone', phase, time: T, camera: 'front', zone: 'porch', label: 'person', trackId: 7, eventId: 'ev-1', occupancy: 1, ...over };
}

function crossing(over: { camera?: string; line?: string; label?: string } = {}): Notice {
  return { kind: 'crossing', phase: 'crossing', time: T, camera: 'front', line: 'gate', label: 'person', direction: 'in', trackId: 7, eventId: 'ev-1', totals: { in: 3, out: 1 }, ...over };
}

/** The body a notice makes, but its delivery id. */
function expectedBody(n: Notice): Record<string, unknown> {
  if (n.kind === 'event') return { type: 'event', phase: n.phase, time: n.time, camera: n.event.camera, label: n.event.label, event: n.event };
  const { kind, ...fields } = n;
  return { type: kind, ...fields };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const hmac = (secret: string, raw: Buffer): Buffer => createHmac('sha256', secret).update(raw).digest();

describe('webhook deliveries', () => {
  it('signs the exact bytes sent: the receiver recomputes the HMAC with the secret, and another secret does not verify', async () => {
    const r = await receiver();
    const s = sink(webhook(`${r.base}/hook`, { secret: 's3cret-ünïcode' }));
    s.send(event('start'));
    s.send(zone('enter'));
    await until(() => s.stats().published === 2, 5_000);
    expect(r.hits).toHaveLength(2);
    for (const hit of r.hits) {
      const header = String(hit.headers['x-lookout-signature']);
      expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
      const claimed = Buffer.from(header.slice('sha256='.length), 'hex');
      // As a receiver should: over the raw bytes, before any JSON parsing, in constant time.
      expect(timingSafeEqual(claimed, hmac('s3cret-ünïcode', hit.raw))).toBe(true);
      expect(timingSafeEqual(claimed, hmac('s3cret-ünïcodf', hit.raw))).toBe(false);
      // A body re-serialized by the receiver is not what was signed, when it differs by a byte.
      expect(timingSafeEqual(claimed, hmac('s3cret-ünïcode', Buffer.concat([hit.raw, Buffer.from(' ')])))).toBe(false);
    }
    expect(s.stats()).toMatchObject({ published: 2, failed: 0, dropped: 0, retried: 0, queued: 0, connected: true, lastError: null });
  });

  it('sends no signature header without a secret', async () => {
    const r = await receiver();
    const s = sink(webhook(`${r.base}/hook`));
    s.send(event('start'));
    await until(() => r.hits.length === 1, 5_000);
    expect(r.hits[0].headers['x-lookout-signature']).toBeUndefined();
    expect(r.hits[0].body.delivery).toMatch(UUID);
  });

  it('POSTs to the url with its path and query, with the contract headers, named without the query or userinfo', async () => {
    const r = await receiver();
    const url = `${r.base.replace('//', '//hook%20user:p%40ss@')}/hooks/lookout?token=t0ps3cret`;
    const s = sink(webhook(url, { secret: 'k' }), 3);
    expect(s.name).toBe(`webhook:3:${r.base.slice('http://'.length)}`);
    expect(s.stats().sink).toBe(s.name);
    s.send(event('start'));
    s.send(zone('enter'));
    s.send(crossing());
    await until(() => r.hits.length === 3, 5_000);
    expect(r.hits.map((h) => h.headers['x-lookout-event'])).toEqual(['event.start', 'zone.enter', 'crossing.crossing']);
    for (const hit of r.hits) {
      expect(hit.method).toBe('POST');
      expect(hit.path).toBe('/hooks/lookout?token=t0ps3cret');
      expect(hit.headers['content-type']).toBe('application/json');
      expect(hit.headers['content-length']).toBe(String(hit.raw.length));
      expect(hit.headers['user-agent']).toBe('lookout/9.8.7-test');
      expect(hit.headers['x-lookout-delivery']).toMatch(UUID);
      expect(hit.headers['x-lookout-delivery']).toBe(hit.body.delivery);
      // The url's userinfo is Basic auth, decoded once.
      expect(hit.headers.authorization).toBe(`Basic ${Buffer.from('hook user:p@ss').toString('base64')}`);
    }
    expect(new Set(r.hits.map((h) => h.body.delivery)).size).toBe(3);
    expect(JSON.stringify(s.stats())).not.toMatch(/t0ps3cret|p%40ss|p@ss/);
  });

  it("says lookout's own version in User-Agent when none is given", async () => {
    const r = await receiver();
    const s = new WebhookSink({ config: webhook(`${r.base}/hook`), index: 0, log: silentLogger });
    onCleanup(() => s.close());
    s.send(event('end'));
    await until(() => r.hits.length === 1, 5_000);
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(r.hits[0].headers['user-agent']).toBe(`lookout/${version}`);
  });

  it('sends each kind as its body: the event with its camera and label, zone and crossing notices field by field', async () => {
    const r = await receiver();
    const s = sink(webhook(`${r.base}/hook`));
    const [ev, zn, cr] = [event('update', { zones: ['porch', 'drive'], loitering: ['porch'] }), zone('loiter', { zone: 'drive' }), crossing({ line: 'fence' })];
    s.send(ev);
    s.send(zn);
    s.send(cr);
    await until(() => r.hits.length === 3, 5_000);
    const [a, b, c] = r.hits.map((h) => h.body);
    const e = (ev as Extract<Notice, { kind: 'event' }>).event;
    expect(a).toStrictEqual({ type: 'event', phase: 'update', time: T, camera: 'front', label: 'person', event: e, delivery: a.delivery });
    expect(Object.keys(a)).toEqual(['type', 'phase', 'time', 'camera', 'label', 'event', 'delivery']);
    expect(b).toStrictEqual({
      type: 'zone', phase: 'loiter', time: T, camera: 'front', label: 'person', zone: 'drive', trackId: 7, eventId: 'ev-1', occupancy: 1, delivery: b.delivery,
    });
    expect(c).toStrictEqual({
      type: 'crossing', phase: 'crossing', time: T, camera: 'front', label: 'person', line: 'fence', direction: 'in', trackId: 7, eventId: 'ev-1',
      totals: { in: 3, out: 1 }, delivery: c.delivery,
    });
    for (const body of [a, b, c]) {
      expect(Object.keys(body).slice(0, 5)).toEqual(['type', 'phase', 'time', 'camera', 'label']);
      expect(body.kind).toBeUndefined();
    }
  });

  it('never sends counts or occupancy, and does not count them', async () => {
    const r = await receiver();
    const s = sink(webhook(`${r.base}/hook`));
    s.send({ kind: 'count', camera: 'front', label: 'person', count: 2 });
    s.send({ kind: 'occupancy', camera: 'front', zone: 'porch', label: 'person', count: 1 });
    expect(s.stats()).toMatchObject({ queued: 0, published: 0, dropped: 0, failed: 0 });
    s.send(event('start'));
    await until(() => s.stats().published === 1, 5_000);
    await sleep(50);
    expect(r.hits.map((h) => h.headers['x-lookout-event'])).toEqual(['event.start']);
  });
});

describe('webhook filters', () => {
  // Each row: a filter, what passes it and what it leaves out (every kind where it applies).
  const rows: { filter: string; config: Partial<WebhookConfig>; pass: [string, Notice][]; out: [string, Notice][] }[] = [
    {
      filter: 'phases',
      config: { phases: ['end', 'enter', 'crossing'] },
      pass: [['event end', event('end')], ['zone enter', zone('enter')], ['crossing', crossing()]],
      out: [['event start', event('start')], ['event update', event('update')], ['zone exit', zone('exit')], ['zone loiter', zone('loiter')]],
    },
    {
      filter: 'cameras',
      config: { cameras: ['front', 'side'] },
      pass: [['event front', event('start')], ['zone side', zone('enter', { camera: 'side' })], ['crossing front', crossing()]],
      out: [['event back', event('start', { camera: 'back' })], ['zone back', zone('enter', { camera: 'back' })], ['crossing back', crossing({ camera: 'back' })]],
    },
    {
      filter: 'labels',
      config: { labels: ['car'] },
      pass: [['event car', event('start', { label: 'car' })], ['zone car', zone('exit', { label: 'car' })], ['crossing car', crossing({ label: 'car' })]],
      out: [['event person', event('start')], ['zone person', zone('exit')], ['crossing person', crossing()]],
    },
    {
      filter: 'zones',
      config: { zones: ['porch'] },
      pass: [['event in drive and porch', event('update', { zones: ['drive', 'porch'] })], ['zone porch', zone('enter')]],
      out: [['event in no zone', event('start', { zones: [] })], ['event in drive', event('start', { zones: ['drive'] })], ['zone drive', zone('enter', { zone: 'drive' })], ['crossing', crossing()]],
    },
    {
      filter: 'lines',
      config: { lines: ['gate'] },
      pass: [['crossing gate', crossing()]],
      out: [['crossing fence', crossing({ line: 'fence' })], ['event', event('start')], ['zone', zone('enter')]],
    },
  ];

  it.each(rows)('$filter: sends what passes, ignores (and does not count) what does not', async ({ config, pass, out }) => {
    const r = await receiver();
    const s = sink(webhook(`${r.base}/hook`, config));
    // Interleaved, so an excluded notice between two passing ones would show in the order the receiver sees.
    const all = [...pass.map((p) => ({ p, ok: true })), ...out.map((p) => ({ p, ok: false }))].sort((x, y) => x.p[0].localeCompare(y.p[0]));
    for (const { p } of all) s.send(p[1]);
    expect(s.stats().queued).toBe(pass.length);
    await until(() => s.stats().published === pass.length, 5_000);
    await sleep(50);
    const want = all.filter((x) => x.ok).map((x) => x.p[1]);
    expect(r.hits.map((h) => h.headers['x-lookout-event'])).toEqual(want.map((n) => (n.kind === 'event' || n.kind === 'zone' || n.kind === 'crossing' ? `${n.kind}.${n.phase}` : '')));
    expect(r.hits.map(({ body: { delivery, ...rest } }) => rest)).toEqual(want.map(expectedBody));
    expect(s.stats()).toMatchObject({ published: pass.length, dropped: 0, failed: 0, queued: 0 });
  });
});

describe('webhook order', () => {
  it('delivers a sequence of 20 notices one at a time, in the order they were sent', async () => {
    // Answers take 0–15 ms at random: overlapping deliveries would reorder them.
    const r = await receiver(() => Math.floor(Math.random() * 15));
    const s = sink(webhook(`${r.base}/hook`, { secret: 'order' }));
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = `ev-${i}`;
      sent.push(id);
      s.send(i % 2 === 0 ? event(i === 0 ? 'start' : 'update', { id }) : { ...(zone('enter') as Extract<Notice, { kind: 'zone' }>), eventId: id });
    }
    expect(s.stats().queued).toBe(20);
    await until(() => s.stats().published === 20, 10_000);
    const got = r.hits.map((h) => (h.body.type === 'event' ? (h.body.event as NoticeEvent).id : String(h.body.eventId)));
    expect(got).toEqual(sent);
    expect(r.maxConcurrent()).toBe(1);
    expect(s.stats()).toMatchObject({ published: 20, queued: 0, dropped: 0, failed: 0, retried: 0, connected: true });
  });
});
