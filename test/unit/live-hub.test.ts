// The live hub's WebSocket protocol, with a fake camera registry the test
// drives and real WebSocket clients on a real HTTP server: what each client
// is told, in what order, and what it is not sent. Only the hub's timers are
// fake (its status and heartbeat intervals), so sockets run as they do.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { CameraRegistry, CameraView, DetectionsListener } from '../../src/cameras/registry.js';
import { LiveHub } from '../../src/live/hub.js';
import type { BreakerStatus } from '../../src/schedule/breaker.js';
import type { CameraDetections, Frame } from '../../src/types.js';
import { solidFrame } from '../helpers/frames.js';

type StatusView = Pick<CameraView, 'decodedFps' | 'liveFps' | 'schedule'> & { status: Pick<CameraView['status'], 'state' | 'lastError' | 'restarts'> };

/** The registry as the hub sees it: cameras that exist, their newest detections and live frames, and their state. */
class FakeRegistry {
  readonly views = new Map<string, StatusView>();
  readonly latest = new Map<string, CameraDetections>();
  readonly liveListeners = new Set<(frame: Frame) => void>();
  readonly detectionListeners = new Set<DetectionsListener>();
  readonly removedListeners = new Set<(id: string) => void>();
  model: BreakerStatus = { state: 'closed', lastError: undefined, since: 0, opens: 0, retryInMs: undefined };
  /** Calls of view() and modelState(): what a status round costs the registry. */
  asked = 0;

  onLiveFrame(l: (frame: Frame) => void): () => void {
    this.liveListeners.add(l);
    return () => this.liveListeners.delete(l);
  }
  onDetections(l: DetectionsListener): () => void {
    this.detectionListeners.add(l);
    return () => this.detectionListeners.delete(l);
  }
  onStream(): () => void {
    return () => undefined;
  }
  stream(): undefined {
    return undefined;
  }
  /** Leases of raw live frames the hub holds (JPEG viewers and snapshots). */
  leases = 0;
  watchLive(): () => void {
    this.leases++;
    let released = false;
    return () => {
      if (!released) this.leases--;
      released = true;
    };
  }
  onCameraRemoved(l: (id: string) => void): () => void {
    this.removedListeners.add(l);
    return () => this.removedListeners.delete(l);
  }
  /** The camera goes (and may come back under its id, as a PATCH does). */
  remove(id: string): void {
    this.views.delete(id);
    for (const l of this.removedListeners) l(id);
  }
  has(id: string): boolean {
    return this.views.has(id);
  }
  latestDetections(id: string): CameraDetections | undefined {
    return this.latest.get(id);
  }
  latestLiveFrame(): Frame | undefined {
    return undefined;
  }
  modelState(): BreakerStatus {
    this.asked++;
    return this.model;
  }
  view(id: string): StatusView | undefined {
    this.asked++;
    return this.views.get(id);
  }
  /** A camera's new detections, as the registry hands them on. */
  detect(id: string, d: CameraDetections): void {
    this.latest.set(id, d);
    for (const l of this.detectionListeners) l(id, d, solidFrame(id, d.frameSeq));
  }
  liveFrame(frame: Frame): void {
    for (const l of this.liveListeners) l(frame);
  }
}

const streaming = (restarts = 0): StatusView => ({
  status: { state: 'streaming', lastError: undefined, restarts },
  decodedFps: 5.04,
  liveFps: 14.96,
  schedule: { detectFps: 4.95, submittedFps: 5, inFlight: 1, detected: 40, images: 40, dropped: { superseded: 3, stale: 1, error: 0, busy: 0, modelDown: 0 }, latencyMs: { p50: 20, p95: 31 }, queueWaitMs: { p50: 2, p95: 5 } },
});

const detections = (seq: number): CameraDetections => ({
  frameId: `1:${seq * 200}`, frameSeq: seq, run: 1, pts: seq / 5, capturedAt: 1_700_000_000_000 + seq * 200, width: 640, height: 360, latencyMs: 21, queueWaitMs: 4, regions: null,
  detections: [{ classId: 1, label: 'person', score: 0.91, box: [0.1, 0.2, 0.5, 0.6] }],
});

/** A WebSocket client that keeps what it receives. */
class Client {
  readonly texts: Record<string, unknown>[] = [];
  readonly frames: Record<string, unknown>[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private wake: (() => void) | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) this.frames.push(JSON.parse(data.subarray(4, 4 + data.readUInt32BE(0)).toString()) as Record<string, unknown>);
      else this.texts.push(JSON.parse(data.toString()) as Record<string, unknown>);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => { resolve({ code, reason: reason.toString() }); this.wake?.(); }));
  }

  /** Waits until `check` holds, looking again at each message; fails after `ms` of real time. */
  async until(check: () => boolean, ms = 3_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`not within ${ms} ms; got ${JSON.stringify(this.texts)}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  types(): unknown[] {
    return this.texts.map((t) => t.type);
  }
}

/** `promise`, or a failure after `ms` of real time. */
function within<T>(promise: Promise<T>, ms = 3_000): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms).unref())]);
}

let registry: FakeRegistry;
let hub: LiveHub;
let server: http.Server;
let base: string;
const clients: Client[] = [];

async function connect(query = '', options: WebSocket.ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(`${base}/ws${query}`, options);
  const client = new Client(ws);
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return client;
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  registry = new FakeRegistry();
  registry.views.set('porch', streaming(2));
  registry.views.set('gate', streaming());
  // The one place the fake stands in for the real registry: the hub reads only what FakeRegistry has.
  hub = new LiveHub(registry as unknown as CameraRegistry);
  // As app.ts wires it (there with the tracker's ids).
  registry.onDetections((id, d) => hub.detections(id, d));
  server = http.createServer((_req, res) => res.writeHead(404).end());
  hub.attach(server, (req) => (req.headers.authorization === 'Bearer wrong' ? { status: 401, reason: 'bad token' } : undefined));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await hub.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  vi.useRealTimers();
});

describe('live hub', () => {
  it('answers a subscription with the newest detections, the cameras taken and the unknown ones named', async () => {
    registry.latest.set('porch', detections(3));
    const c = await connect('?camera=porch&camera=nope');
    await c.until(() => c.texts.length === 3);
    expect(c.texts).toEqual([
      { type: 'detections', camera: 'porch', frameId: '1:600', run: 1, pts: 0.6, timestamp: 1_700_000_000_600, width: 640, height: 360, latencyMs: 21, regions: null, detections: [{ label: 'person', classId: 1, score: 0.91, box: [0.1, 0.2, 0.5, 0.6], trackId: null, filtered: null }] },
      { type: 'subscribed', cameras: ['porch'], unknown: ['nope'] },
      { type: 'error', message: 'unknown camera(s): nope' },
    ]);
  });

  it('answers every message in order, and a bad one never drops the client', async () => {
    const c = await connect();
    await c.until(() => c.texts.length === 1);
    c.ws.send('not json');
    c.ws.send(JSON.stringify({ type: 'subscribe', cameras: 'porch' }));
    c.ws.send(JSON.stringify({ type: 'dance' }));
    c.ws.send(Buffer.from([1, 2, 3]));
    c.ws.send(JSON.stringify({ type: 'subscribe', cameras: ['gate'] }));
    c.ws.send('[1, 2]');
    c.ws.send(JSON.stringify({ type: 'subscribe', cameras: Array(257).fill('gate') }));
    c.ws.send(JSON.stringify({ type: 'subscribe', cameras: [] }));
    await c.until(() => c.texts.length === 9);
    expect(c.texts.map((t) => (t.type === 'error' ? String(t.message).split(/[;:]/)[0] : t))).toEqual([
      { type: 'subscribed', cameras: [] },
      'not JSON',
      '"cameras" must be a list of camera ids (strings)',
      'unknown message type "dance"',
      'binary messages are not understood',
      { type: 'subscribed', cameras: ['gate'] },
      'expected a JSON object',
      '"cameras" must be a list of camera ids (strings)',
      { type: 'subscribed', cameras: [] },
    ]);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('sends a camera\'s detections, events and frames to its subscribers only', async () => {
    const porch = await connect('?camera=porch');
    const gate = await connect('?camera=gate');
    await porch.until(() => porch.texts.length === 1);
    await gate.until(() => gate.texts.length === 1);
    registry.detect('porch', detections(1));
    hub.broadcast('porch', { type: 'event', phase: 'start', id: 'porch-1-1' });
    registry.liveFrame(solidFrame('porch', 5, { width: 32, height: 24, ptsMs: 1_000 }));
    registry.detect('gate', detections(2));
    await porch.until(() => porch.texts.length === 3 && porch.frames.length === 1);
    await gate.until(() => gate.texts.length === 2);
    expect(porch.types()).toEqual(['subscribed', 'detections', 'event']);
    expect(porch.texts[1]).toMatchObject({ camera: 'porch', frameId: '1:200' });
    expect(porch.frames).toEqual([expect.objectContaining({ camera: 'porch', frameId: '1:1000', width: 32, height: 24 })]);
    // The gate client's first message after subscribing is the gate's: nothing of the porch's came before it.
    expect(gate.texts[1]).toMatchObject({ type: 'detections', camera: 'gate', frameId: '1:400' });
    expect(gate.frames).toEqual([]);
    expect(hub.feedStats('porch')).toMatchObject({ viewers: 1, encoded: 1, sent: 1 });
    expect(hub.feedStats('gate')).toMatchObject({ viewers: 1, encoded: 0 });
    // Unsubscribed: no longer a viewer, so no longer encoded for.
    porch.ws.send(JSON.stringify({ type: 'subscribe', cameras: [] }));
    await porch.until(() => porch.texts.length === 4);
    expect(hub.feedStats('porch')?.viewers).toBe(0);
  });

  it('sends each subscriber its cameras\' status every second, and asks nothing while nobody is connected', async () => {
    registry.model = { state: 'open', lastError: 'Predict: UNAVAILABLE: down', since: 0, opens: 1, retryInMs: 400 };
    vi.advanceTimersByTime(3_000);
    expect(registry.asked).toBe(0);
    const c = await connect('?camera=porch&camera=gate');
    await c.until(() => c.texts.length === 1);
    registry.views.delete('gate'); // removed meanwhile: no status for it
    vi.advanceTimersByTime(999);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.types()).toEqual(['subscribed']);
    vi.advanceTimersByTime(1);
    await c.until(() => c.texts.length === 2);
    expect(c.texts[1]).toEqual({
      type: 'status', camera: 'porch', state: 'streaming', lastError: null,
      fps: { decoded: 5, live: 15, detect: 5 },
      dropped: { superseded: 3, stale: 1, error: 0, busy: 0, modelDown: 0 },
      latencyMs: { p50: 20, p95: 31 },
      restarts: 2, viewers: 1, video: null,
      model: { state: 'open', lastError: 'Predict: UNAVAILABLE: down' },
    });
    vi.advanceTimersByTime(2_000);
    await c.until(() => c.texts.length === 4);
    expect(c.types()).toEqual(['subscribed', 'status', 'status', 'status']);
  });

  it('drops a client that answers no ping, and keeps one that does', async () => {
    const dead = await connect('?camera=porch', { autoPong: false });
    const alive = await connect('?camera=porch');
    const pinged = new Promise((resolve) => alive.ws.once('ping', resolve));
    vi.advanceTimersByTime(15_000); // ping
    await within(pinged);
    // The pong went out before this message on the same connection: once it is answered, the hub has the pong.
    alive.ws.send(JSON.stringify({ type: 'subscribe', cameras: ['porch'] }));
    await alive.until(() => alive.texts.at(-1)?.type === 'subscribed' && alive.texts.length > 1);
    vi.advanceTimersByTime(15_000); // no pong from `dead` since the last ping
    expect((await within(dead.closed)).code).toBe(1006);
    await new Promise((r) => setTimeout(r, 50));
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect(hub.feedStats('porch')?.viewers).toBe(1);
  });

  it('refuses upgrades refuse() turns away, and anything but /ws', async () => {
    const status = (path: string, headers: Record<string, string> = {}) => new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base}${path}`, { headers });
      ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
      ws.on('error', () => undefined);
    });
    expect(await status('/ws', { authorization: 'Bearer wrong' })).toBe(401);
    expect(await status('/other')).toBe(404);
  });

  it('close() tells every client 1001, stops its timers, leaves the registry and takes no new client', async () => {
    const a = await connect('?camera=porch');
    const b = await connect('?camera=gate');
    expect(vi.getTimerCount()).toBe(2);
    await hub.close();
    expect(await within(a.closed)).toEqual({ code: 1001, reason: 'lookout is shutting down' });
    expect((await within(b.closed)).code).toBe(1001);
    expect(vi.getTimerCount()).toBe(0);
    // The one detections listener left is the test's own (app.ts's wiring); the hub holds no lease of live frames.
    expect(registry.liveListeners.size + registry.removedListeners.size + registry.leases).toBe(0);
    await expect(connect('?camera=porch')).rejects.toThrow(/404/);
  });

  it('keeps a viewer on a camera that is changed (removed and added again), frames from before and after alike', async () => {
    const c = await connect('?camera=porch');
    await c.until(() => c.texts.length === 1);
    registry.liveFrame(solidFrame('porch', 1, { width: 32, height: 24, ptsMs: 100 }));
    await c.until(() => c.frames.length === 1);
    // A PATCH: the camera is removed while its ffmpeg's last frames still come, then added again.
    registry.remove('porch');
    registry.liveFrame(solidFrame('porch', 2, { width: 32, height: 24, ptsMs: 200 }));
    registry.views.set('porch', streaming());
    for (let seq = 3; seq <= 5; seq++) registry.liveFrame(solidFrame('porch', seq, { width: 32, height: 24, ptsMs: seq * 100 }));
    await c.until(() => c.frames.some((f) => f.frameId === '1:500'));
    expect(hub.feedStats('porch')?.viewers).toBe(1);
  });

  it('forgets the feed of a camera that is gone once nobody watches it', async () => {
    const c = await connect('?camera=gate');
    await c.until(() => c.texts.length === 1);
    registry.liveFrame(solidFrame('gate', 1, { width: 32, height: 24, ptsMs: 100 }));
    await c.until(() => c.frames.length === 1);
    registry.remove('gate');
    expect(hub.feedStats('gate')?.viewers).toBe(1);
    c.ws.send(JSON.stringify({ type: 'subscribe', cameras: [] }));
    await c.until(() => c.texts.length === 2);
    expect(hub.feedStats('gate')).toBeUndefined();
  });

  it('asks a camera for raw live frames only while someone watches it as JPEG, and says what a bad video choice is', async () => {
    const native = await connect('?camera=porch&video=native');
    await native.until(() => native.texts.length === 1);
    expect(registry.leases).toBe(0);
    const jpeg = await connect('?camera=porch');
    await jpeg.until(() => jpeg.texts.length === 1);
    expect(registry.leases).toBe(1);
    jpeg.ws.send(JSON.stringify({ type: 'subscribe', cameras: ['porch'], video: { porch: 'none' } }));
    await jpeg.until(() => jpeg.texts.length === 2);
    expect(registry.leases).toBe(0);
    jpeg.ws.send(JSON.stringify({ type: 'subscribe', cameras: ['porch'], video: 'h265' }));
    await jpeg.until(() => jpeg.texts.length === 3);
    expect(jpeg.texts[2]).toEqual({ type: 'error', message: '"video" must be "jpeg", "native", "none", or an object of those per camera; got "h265"' });
    await expect(connect('?camera=porch&video=h265')).rejects.toThrow(/400/);
  });
});
