// Webhook receivers that fail (docs/notify.md): real HTTP servers that answer
// 5xx, 4xx or 429, hang, refuse connections or come back. Transient failures
// are retried with the same delivery and bytes; the sink counts what it gave
// up on and what it left out, never blocks its caller, logs a failure once
// and its recovery once, and closes within its bound leaving nothing open.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { NOTIFY_PHASES, type WebhookConfig } from '../../src/config/schema.js';
import type { Notice } from '../../src/notify/notice.js';
import { WebhookSink } from '../../src/notify/webhook-sink.js';
import { silentLogger, type Logger } from '../../src/util/logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { sleep, until } from '../helpers/wait.js';

/** How the receiver answers its n-th request (1-based): a status (with headers), or never. */
type Answer = { status: number; headers?: Record<string, string> } | 'hang';
interface Hit { delivery: string; raw: Buffer; signature: string | undefined; at: number }

interface Receiver {
  url: string;
  port: number;
  hits: Hit[];
  /** Connections the receiver has seen open and closed. */
  sockets: { opened: number; closed: number };
  stop(): Promise<void>;
}

async function receiver(answer: (n: number) => Answer, port = 0): Promise<Receiver> {
  const hits: Hit[] = [];
  const sockets = { opened: 0, closed: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signature = req.headers['x-lookout-signature'];
      hits.push({ delivery: String(req.headers['x-lookout-delivery']), raw: Buffer.concat(chunks), signature: typeof signature === 'string' ? signature : undefined, at: Date.now() });
      const a = answer(hits.length);
      if (a !== 'hang') res.writeHead(a.status, a.headers).end(a.status >= 400 ? 'no' : '');
    });
  });
  server.on('connection', (socket) => {
    sockets.opened += 1;
    socket.on('close', () => { sockets.closed += 1; });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  onCleanup(stop);
  return { url: `http://127.0.0.1:${bound}/hook?token=q53cret`, port: bound, hits, sockets, stop };
}

function webhook(url: string, over: Partial<WebhookConfig> = {}): WebhookConfig {
  return { url, secret: 'sig-s3cret', phases: [...NOTIFY_PHASES], cameras: [], labels: [], zones: [], lines: [], timeoutMs: 2_000, retries: 0, maxQueue: 100, ...over };
}

/** Log lines as they were logged, to count them and look for secrets in them. */
function capture(): { log: Logger; lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => { lines.push({ level, message, fields }); };
  return { log: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function sink(config: WebhookConfig, log: Logger = silentLogger): WebhookSink {
  const s = new WebhookSink({ config, index: 0, log });
  onCleanup(() => s.close());
  return s;
}

let seq = 0;
function notice(): Notice {
  seq += 1;
  return { kind: 'zone', phase: 'enter', time: Date.now(), camera: 'front', zone: 'porch', label: 'person', trackId: seq, eventId: `ev-${seq}`, occupancy: 1 };
}

/** A port nothing listens on: one a server had and gave back. */
async function closedPort(): Promise<number> {
  const r = await receiver(() => ({ status: 200 }));
  await r.stop();
  return r.port;
}

/** Timers that keep the process alive (setTimeout and setInterval, ref'd). */
const timers = (): number => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
const gaps = (hits: Hit[]): number[] => hits.slice(1).map((h, i) => h.at - hits[i].at);

describe('webhook receivers that fail', () => {
  it('retries a receiver that answers 500 twice, with backoff, the same delivery id and the same bytes, then delivers once', async () => {
    const r = await receiver((n) => (n <= 2 ? { status: 500 } : { status: 200 }));
    const s = sink(webhook(r.url, { retries: 3 }));
    s.send(notice());
    await until(() => s.stats().published === 1, 10_000);
    expect(r.hits).toHaveLength(3);
    expect(new Set(r.hits.map((h) => h.delivery)).size).toBe(1);
    expect(r.hits.every((h) => h.raw.equals(r.hits[0].raw) && h.signature === r.hits[0].signature)).toBe(true);
    expect((JSON.parse(r.hits[0].raw.toString('utf8')) as { delivery: string }).delivery).toBe(r.hits[0].delivery);
    // backoffDelay: 1 s then 2 s, ±20 % (lower bounds only: a loaded machine fires timers late, never early).
    const [first, second] = gaps(r.hits);
    expect(first).toBeGreaterThanOrEqual(750);
    expect(second).toBeGreaterThanOrEqual(1_550);
    expect(s.stats()).toMatchObject({ published: 1, retried: 2, failed: 0, dropped: 0, queued: 0, connected: true, lastError: 'HTTP 500' });
  });

  it('counts a message failed after its retries when the receiver always answers 500, and logs that once', async () => {
    const r = await receiver(() => ({ status: 500 }));
    const { log, lines } = capture();
    const s = sink(webhook(r.url, { retries: 2 }), log);
    s.send(notice());
    await until(() => s.stats().failed === 1, 10_000);
    expect(r.hits).toHaveLength(3);
    expect(s.stats()).toMatchObject({ published: 0, retried: 2, failed: 1, queued: 0, connected: false, lastError: 'HTTP 500' });
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });

  it('fails a 4xx at once, without retrying it', async () => {
    const r = await receiver(() => ({ status: 400 }));
    const s = sink(webhook(r.url, { retries: 3 }));
    s.send(notice());
    await until(() => s.stats().failed === 1, 5_000);
    await sleep(100);
    expect(r.hits).toHaveLength(1);
    expect(s.stats()).toMatchObject({ retried: 0, failed: 1, connected: false, lastError: 'HTTP 400' });
  });

  it('times out each attempt to a receiver that hangs, and never blocks send(): 1000 notices queue, the oldest are dropped', async () => {
    // Warm: the first request of a process loads and compiles node:http's client; the bound is about send(), not that.
    const warm = sink(webhook((await receiver(() => ({ status: 200 }))).url));
    for (let i = 0; i < 20; i++) warm.send(notice());
    await until(() => warm.stats().published === 20, 5_000);
    await warm.close();
    const r = await receiver(() => 'hang');
    const maxQueue = 5;
    const s = sink(webhook(r.url, { timeoutMs: 500, retries: 1, maxQueue }));
    // The first message on the wire before the bursts, so that its attempts reach the receiver whatever the bursts cost.
    s.send(notice());
    await until(() => r.hits.length === 1, 5_000);
    // Three bursts of 1000, each accounted for the moment the calls return, while the receiver hangs: send() hands
    // over and returns (one in flight, maxQueue waiting, the rest dropped oldest first); it never waits for an answer.
    // (How long the calls take is the benchmark's business: npm run bench:analytics.)
    for (let burst = 1; burst <= 3; burst++) {
      for (let i = 0; i < 1_000; i++) s.send(notice());
      expect(s.stats()).toMatchObject({ queued: maxQueue + 1, dropped: 1 + burst * 1_000 - maxQueue - 1, published: 0, failed: 0 });
    }
    expect(r.hits).toHaveLength(1);
    await until(() => s.stats().failed === 1, 5_000);
    // The first message: tried twice with the same delivery id, each cut off at 500 ms, the second after the backoff.
    expect(r.hits.slice(0, 2).map((h) => h.delivery)).toEqual([r.hits[0].delivery, r.hits[0].delivery]);
    expect(r.hits[1].at - r.hits[0].at).toBeGreaterThanOrEqual(500 + 750);
    expect(s.stats()).toMatchObject({ retried: 1, connected: false, lastError: 'no answer within 500 ms' });
    // What was kept is the newest: the next message delivered is the oldest of the last maxQueue sent.
    await until(() => r.hits.length >= 3, 5_000);
    expect((JSON.parse(r.hits[2].raw.toString('utf8')) as { eventId: string }).eventId).toBe(`ev-${seq - maxQueue + 1}`);
    await s.close();
    const st = s.stats();
    expect(st.published + st.failed + st.dropped).toBe(3_001);
    expect(st.queued).toBe(0);
  });

  it('counts a message failed when the connection is refused', async () => {
    const s = sink(webhook(`http://127.0.0.1:${await closedPort()}/hook`, { retries: 1 }));
    s.send(notice());
    await until(() => s.stats().failed === 1, 5_000);
    expect(s.stats()).toMatchObject({ retried: 1, failed: 1, published: 0, connected: false });
    expect(s.stats().lastError).toMatch(/ECONNREFUSED/);
  });

  it('delivers again to a receiver that comes back, logging the failure and the recovery once each, without secrets', async () => {
    let r = await receiver(() => ({ status: 200 }));
    const { log, lines } = capture();
    const s = sink(webhook(r.url.replace('//', '//user:pa55word@'), { retries: 0 }), log);
    s.send(notice());
    await until(() => s.stats().published === 1, 5_000);
    // Gone: the keep-alive socket closes and nothing listens.
    await r.stop();
    await sleep(100);
    for (let i = 0; i < 3; i++) s.send(notice());
    await until(() => s.stats().failed === 3, 5_000);
    expect(s.stats()).toMatchObject({ connected: false, published: 1 });
    expect(s.stats().lastError).toMatch(/ECONNREFUSED/);
    // Back on the same port.
    r = await receiver(() => ({ status: 200 }), r.port);
    s.send(notice());
    s.send(notice());
    await until(() => s.stats().published === 3, 5_000);
    expect(r.hits).toHaveLength(2);
    expect(s.stats()).toMatchObject({ connected: true, failed: 3, retried: 0, queued: 0 });
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    const logged = JSON.stringify(lines) + JSON.stringify(s.stats());
    for (const secret of ['q53cret', 'pa55word', 'sig-s3cret', 'token=']) expect(logged).not.toContain(secret);
  });

  it("honours a 429's Retry-After of 3 s instead of the backoff", async () => {
    const r = await receiver((n) => (n <= 2 ? { status: 429, headers: { 'Retry-After': '3' } } : { status: 200 }));
    const s = sink(webhook(r.url, { retries: 3 }));
    s.send(notice());
    await until(() => s.stats().published === 1, 15_000);
    expect(r.hits).toHaveLength(3);
    // The backoff would wait at most 1.2 s and then 2.4 s: both gaps at 3 s or more are the receiver's.
    for (const gap of gaps(r.hits)) expect(gap).toBeGreaterThanOrEqual(2_950);
    expect(s.stats()).toMatchObject({ published: 1, retried: 2, failed: 0, connected: true, lastError: 'HTTP 429' });
  });

  it('closes within about 3 s while a receiver hangs, aborting the delivery and closing its socket', async () => {
    const sockets = (): number => process.getActiveResourcesInfo().filter((t) => t === 'TCPSocketWrap').length;
    // The sockets of the tests before this one close soon after their cleanups; nothing else here holds one.
    await until(() => sockets() === 0, 2_000);
    const r = await receiver(() => 'hang');
    // vitest holds a timer for a moment after a test starts: the count is taken once it is gone.
    await sleep(200);
    const timersBefore = timers();
    const s = sink(webhook(r.url, { timeoutMs: 30_000, retries: 3, maxQueue: 10 }));
    for (let i = 0; i < 3; i++) s.send(notice());
    await until(() => r.hits.length === 1, 5_000);
    expect(r.sockets).toEqual({ opened: 1, closed: 0 });
    const t0 = Date.now();
    await s.close();
    const took = Date.now() - t0;
    // The one in flight gets its 2 s, then is cut off.
    expect(took).toBeGreaterThanOrEqual(1_900);
    // Well under the 30 s the attempt's own timeout would take (a loaded machine fires the grace timer late).
    expect(took).toBeLessThan(6_000);
    await until(() => r.sockets.closed === 1, 1_000);
    // Neither the receiver's end nor ours (the agent's keep-alive pool included) is left.
    await until(() => sockets() === 0, 1_000);
    expect(timers(), 'the attempt timeout and the grace timer are cleared').toBe(timersBefore);
    // Two waiting and one cut off: left out, not failed (the receiver was not given its chance).
    expect(s.stats()).toMatchObject({ queued: 0, dropped: 3, failed: 0, published: 0, retried: 0 });
    // Closed is closed: again at once, and nothing more is taken.
    const t1 = Date.now();
    await s.close();
    expect(Date.now() - t1).toBeLessThan(1_000);
    s.send(notice());
    expect(s.stats()).toMatchObject({ queued: 0, dropped: 3 });
    await sleep(100);
    expect(r.hits).toHaveLength(1);
  });

  it('closes at once while a message waits for its retry, counting it dropped, leaving no timer or socket', async () => {
    const r = await receiver(() => ({ status: 503 }));
    await sleep(200);
    const before = timers();
    const s = sink(webhook(r.url, { retries: 5 }));
    s.send(notice());
    await until(() => s.stats().retried === 1, 5_000);
    const t0 = Date.now();
    await s.close();
    // Not the 2 s grace: nothing is in flight (and the retry itself would be seconds away).
    expect(Date.now() - t0).toBeLessThan(1_500);
    // No retry timer left behind, and the keep-alive socket the 503 came on is closed by us (the receiver would wait 5 s).
    expect(timers()).toBe(before);
    await until(() => r.sockets.closed === r.sockets.opened, 1_000);
    expect(s.stats()).toMatchObject({ queued: 0, dropped: 1, failed: 0, retried: 1 });
    await sleep(1_500);
    expect(r.hits).toHaveLength(1);
  });

  it('delivers what was waiting when it closes (the last events\' ends), one attempt each, within the grace', async () => {
    // A receiver that takes 200 ms per answer: three messages take 0.6 s, inside the 2 s grace.
    const got: string[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => {
        got.push(String(req.headers['x-lookout-delivery']));
        res.writeHead(204).end();
      }, 200));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const s = sink(webhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`));
    for (let i = 0; i < 3; i++) s.send(notice());
    await s.close();
    expect(got).toHaveLength(3);
    expect(s.stats()).toMatchObject({ published: 3, dropped: 0, failed: 0, queued: 0 });
  });
});
