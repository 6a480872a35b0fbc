// The live view's server side: annotated frames and detection JSON over
// WebSockets at /ws, MJPEG streams and snapshots. One CameraFeed per camera
// encodes each frame once; every client gets the newest frame it can take.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { requestUrl } from '../util/request-url.js';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { CameraRegistry } from '../cameras/registry.js';
import type { CameraDetections } from '../types.js';
import { CameraFeed, type AnnotatedFrame, type FeedStats, type Viewer } from './feed.js';

/**
 * A client whose send buffer holds more than this skips frames until it
 * drains: about ten 640×360 frames, so a slow viewer is at most a fraction of
 * a second behind once it catches up, and costs a bounded amount of memory.
 */
export const MAX_CLIENT_BUFFER = 512 * 1024;
/** Largest message a client may send (subscribe messages are tiny). */
const MAX_CLIENT_MESSAGE = 64 * 1024;
const HEARTBEAT_MS = 15_000;
const STATUS_MS = 1_000;

interface Client {
  socket: WebSocket;
  alive: boolean;
  cameras: Map<string, Viewer>;
}

export class LiveHub {
  private readonly feeds = new Map<string, CameraFeed>();
  private readonly clients = new Set<Client>();
  private readonly mjpeg = new Set<ServerResponse>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE, perMessageDeflate: false });
  private readonly heartbeat: NodeJS.Timeout;
  private readonly statusTimer: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;

  constructor(private readonly registry: CameraRegistry) {
    this.unsubscribe.push(
      registry.onLiveFrame((frame) => this.feed(frame.cameraId)?.push(frame)),
      registry.onCameraRemoved((cameraId) => {
        if (!this.feeds.get(cameraId)?.watched) this.feeds.delete(cameraId);
      }),
      registry.onDetections((camera, detections) => this.broadcastDetections(camera, detections)),
    );
    // Dead clients (no pong since the last ping) are dropped.
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) {
        if (!c.alive) {
          c.socket.terminate();
          continue;
        }
        c.alive = false;
        c.socket.ping();
      }
    }, HEARTBEAT_MS);
    this.statusTimer = setInterval(() => this.broadcastStatus(), STATUS_MS);
  }

  /**
   * The camera's feed, made on first use for a camera the registry has. A
   * feed outlives its camera while anyone watches it: a camera changed over
   * the API is removed and added again under the same id, and its viewers go
   * on with the new camera's frames instead of being left on a feed no frame
   * reaches. A feed nobody watches goes with its camera (see release()).
   */
  private feed(cameraId: string): CameraFeed | undefined {
    let feed = this.feeds.get(cameraId);
    if (!feed) {
      if (!this.registry.has(cameraId)) return undefined;
      feed = new CameraFeed(cameraId, () => this.registry.latestDetections(cameraId));
      this.feeds.set(cameraId, feed);
    }
    return feed;
  }

  /** Takes a viewer off a camera's feed, and forgets the feed if it is unwatched and its camera gone. */
  private release(cameraId: string, viewer: Viewer): void {
    const feed = this.feeds.get(cameraId);
    if (!feed) return;
    feed.remove(viewer);
    if (!feed.watched && !this.registry.has(cameraId)) this.feeds.delete(cameraId);
  }

  feedStats(cameraId: string): FeedStats | undefined {
    return this.feeds.get(cameraId)?.snapshotStats();
  }

  /**
   * Takes over /ws upgrades of the HTTP server. `refuse` may turn one away
   * (auth, origin) with an HTTP status and reason, before any WebSocket exists.
   */
  attach(server: Server, refuse: (req: IncomingMessage) => { status: number; reason: string } | undefined = () => undefined): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = requestUrl(req);
      if (!url) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        return;
      }
      if (url.pathname !== '/ws' || this.closed) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      const refused = refuse(req);
      if (refused) {
        const body = JSON.stringify({ error: refused.reason });
        socket.end(`HTTP/1.1 ${refused.status} ${refused.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, url.searchParams.getAll('camera')));
    });
  }

  private connected(socket: WebSocket, cameras: string[]): void {
    const client: Client = { socket, alive: true, cameras: new Map() };
    this.clients.add(client);
    socket.on('pong', () => { client.alive = true; });
    socket.on('message', (data: RawData, isBinary: boolean) => this.onMessage(client, data, isBinary));
    socket.on('close', () => this.disconnect(client));
    socket.on('error', () => this.disconnect(client));
    this.subscribe(client, cameras);
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    const reply = (message: string) => this.sendText(client, { type: 'error', message });
    if (isBinary) return reply('binary messages are not understood; send JSON text');
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return reply('not JSON: send {"type":"subscribe","cameras":["id", …]}');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return reply('expected a JSON object');
    const { type, cameras } = msg as { type?: unknown; cameras?: unknown };
    if (type !== 'subscribe') return reply(`unknown message type ${JSON.stringify(type)}; expected "subscribe"`);
    if (!Array.isArray(cameras) || !cameras.every((c) => typeof c === 'string') || cameras.length > 256) {
      return reply('"cameras" must be a list of camera ids (strings)');
    }
    this.subscribe(client, cameras as string[]);
  }

  private subscribe(client: Client, wanted: string[]): void {
    const known = wanted.filter((id) => this.registry.has(id));
    const unknown = wanted.filter((id) => !known.includes(id));
    for (const [id, viewer] of client.cameras) {
      if (!known.includes(id)) {
        this.release(id, viewer);
        client.cameras.delete(id);
      }
    }
    for (const id of known) {
      if (client.cameras.has(id)) continue;
      const viewer: Viewer = {
        offer: (frame: AnnotatedFrame) => {
          if (client.socket.readyState !== WebSocket.OPEN || client.socket.bufferedAmount > MAX_CLIENT_BUFFER) return 'skipped';
          client.socket.send(frame.message, { binary: true });
          return 'sent';
        },
      };
      client.cameras.set(id, viewer);
      this.feed(id)?.add(viewer);
      const latest = this.registry.latestDetections(id);
      if (latest) this.sendText(client, detectionsJson(id, latest));
    }
    this.sendText(client, { type: 'subscribed', cameras: known, ...(unknown.length ? { unknown } : {}) });
    if (unknown.length) this.sendText(client, { type: 'error', message: `unknown camera(s): ${unknown.join(', ')}` });
  }

  private disconnect(client: Client): void {
    if (!this.clients.delete(client)) return;
    for (const [id, viewer] of client.cameras) this.release(id, viewer);
    client.cameras.clear();
  }

  private sendText(client: Client, message: object | string): void {
    // Text is small, but a client that reads nothing must not grow our memory either.
    if (client.socket.readyState !== WebSocket.OPEN || client.socket.bufferedAmount > 4 * MAX_CLIENT_BUFFER) return;
    client.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  private broadcastDetections(camera: string, detections: CameraDetections): void {
    this.broadcast(camera, detectionsJson(camera, detections));
  }

  /** Sends a JSON message (e.g. an event's start or end) to every client subscribed to the camera, serialized once. */
  broadcast(camera: string, message: object): void {
    let text: string | undefined;
    for (const c of this.clients) {
      if (c.cameras.has(camera)) this.sendText(c, (text ??= JSON.stringify(message)));
    }
  }

  private broadcastStatus(): void {
    if (this.clients.size === 0) return;
    const model = this.registry.modelState();
    const statuses = new Map<string, object>();
    for (const c of this.clients) {
      for (const id of c.cameras.keys()) {
        if (!statuses.has(id)) {
          const view = this.registry.view(id);
          if (!view) continue;
          statuses.set(id, {
            type: 'status',
            camera: id,
            state: view.status.state,
            lastError: view.status.lastError ?? null,
            fps: { decoded: round(view.decodedFps), live: round(view.liveFps), detect: round(view.schedule?.detectFps ?? 0) },
            dropped: view.schedule?.dropped ?? {},
            latencyMs: view.schedule?.latencyMs ?? {},
            restarts: view.status.restarts,
            viewers: this.feeds.get(id)?.snapshotStats().viewers ?? 0,
            model: { state: model.state, lastError: model.lastError ?? null },
          });
        }
        const status = statuses.get(id);
        if (status) this.sendText(c, status);
      }
    }
  }

  /** The newest annotated frame of a camera, encoding one now if nobody streams it. */
  async snapshot(cameraId: string): Promise<AnnotatedFrame | undefined> {
    // A camera that is gone has no snapshot, even while its feed waits for its viewers to leave.
    const feed = this.registry.has(cameraId) ? this.feed(cameraId) : undefined;
    if (!feed) return undefined;
    return feed.latestOr(this.registry.latestLiveFrame(cameraId));
  }

  /** multipart/x-mixed-replace for VLC, an <img> tag or Home Assistant. */
  streamMjpeg(cameraId: string, res: ServerResponse): boolean {
    const feed = this.registry.has(cameraId) ? this.feed(cameraId) : undefined;
    if (!feed) return false;
    const boundary = 'lookoutframe';
    res.writeHead(200, {
      'content-type': `multipart/x-mixed-replace; boundary=${boundary}`,
      'cache-control': 'no-cache, no-store',
      connection: 'close',
      pragma: 'no-cache',
    });
    const viewer: Viewer = {
      offer: (frame) => {
        // Same rule as WebSocket clients: a reader that is behind skips frames.
        if (res.writableNeedDrain || res.writableLength > MAX_CLIENT_BUFFER) return 'skipped';
        res.write(`--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.jpeg.length}\r\n\r\n`);
        res.write(frame.jpeg);
        res.write('\r\n');
        return 'sent';
      },
    };
    this.mjpeg.add(res);
    feed.add(viewer);
    res.on('close', () => {
      this.release(cameraId, viewer);
      this.mjpeg.delete(res);
    });
    return true;
  }

  /** Closes every client (WebSocket code 1001, going away) and stops the timers. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.statusTimer);
    for (const u of this.unsubscribe) u();
    for (const c of this.clients) c.socket.close(1001, 'lookout is shutting down');
    for (const res of this.mjpeg) res.end();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const c of this.clients) c.socket.terminate();
    this.clients.clear();
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

export function detectionsJson(camera: string, d: CameraDetections) {
  return {
    type: 'detections',
    camera,
    frameId: d.frameId,
    timestamp: d.capturedAt,
    width: d.width,
    height: d.height,
    latencyMs: d.latencyMs,
    detections: d.detections.map(({ label, classId, score, box }) => ({ label, classId, score, box })),
  };
}
