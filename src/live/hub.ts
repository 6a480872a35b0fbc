// The live view's server side over WebSockets at /ws: each camera's own
// video (the copied fMP4, native.ts) or annotated JPEG frames (one
// CameraFeed per camera encodes each frame once), detection JSON with each
// detection frame's pts, status; plus stream.mp4, MJPEG and snapshots. Raw
// live frames are asked of a camera only while a JPEG viewer (or a recent
// snapshot) needs them.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { requestUrl } from '../util/request-url.js';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { CameraRegistry } from '../cameras/registry.js';
import type { StreamFragment, StreamInit } from '../ingest/stream-cache.js';
import type { CameraDetections } from '../types.js';
import { detectionsJson, type ShownDetection } from './messages.js';
import { CameraFeeds } from './camera-feeds.js';
import type { AnnotatedFrame, Viewer } from './feed.js';
import { fragmentMessage, initMessage, type NativeSink } from './native.js';

/**
 * A client whose send buffer holds more than this skips frames until it
 * drains: about ten 640×360 frames, so a slow viewer is at most a fraction of
 * a second behind once it catches up, and costs a bounded amount of memory.
 */
export const MAX_CLIENT_BUFFER = 512 * 1024;
/** Largest message a client may send (subscribe messages are tiny). */
const MAX_CLIENT_MESSAGE = 64 * 1024;
const HEARTBEAT_MS = 15_000;
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden' };
const STATUS_MS = 1_000;

export type VideoChoice = 'jpeg' | 'native' | 'none';

interface Subscription {
  video: VideoChoice;
  jpeg?: Viewer;
  native?: NativeSink;
}

interface Client {
  socket: WebSocket;
  alive: boolean;
  cameras: Map<string, Subscription>;
}

export class LiveHub {
  private readonly feeds: CameraFeeds;
  /** The last detections message per camera, sent to whoever subscribes. */
  private readonly lastDetections = new Map<string, object>();
  private readonly clients = new Set<Client>();
  private readonly mjpeg = new Set<ServerResponse>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE, perMessageDeflate: false });
  private readonly heartbeat: NodeJS.Timeout;
  private readonly statusTimer: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;

  constructor(private readonly registry: CameraRegistry) {
    this.feeds = new CameraFeeds(registry);
    this.unsubscribe.push(registry.onCameraRemoved((cameraId) => this.lastDetections.delete(cameraId)));
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
   * Takes over /ws upgrades of the HTTP server. `refuse` may turn one away
   * (auth, origin) with an HTTP status and reason, before any WebSocket exists.
   */
  attach(
    server: Server,
    refuse: (req: IncomingMessage) => { status: number; reason: string } | undefined = () => undefined,
    /** Told of each WebSocket opened (auth tracks it, to close it when its session ends). */
    opened: (req: IncomingMessage, ws: WebSocket) => void = () => undefined,
  ): void {
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
      const asked = url.searchParams.get('video') ?? 'jpeg';
      const video = isChoice(asked) ? asked : undefined;
      const refused = refuse(req) ?? (video ? undefined : { status: 400, reason: `video must be "jpeg", "native" or "none", got ${JSON.stringify(asked)}` });
      if (refused || !video) {
        const status = refused?.status ?? 400;
        const body = JSON.stringify({ error: refused?.reason });
        socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Forbidden'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.connected(ws, url.searchParams.getAll('camera'), video);
        opened(req, ws);
      });
    });
  }

  private connected(socket: WebSocket, cameras: string[], video: VideoChoice): void {
    const client: Client = { socket, alive: true, cameras: new Map() };
    this.clients.add(client);
    socket.on('pong', () => { client.alive = true; });
    socket.on('message', (data: RawData, isBinary: boolean) => this.onMessage(client, data, isBinary));
    socket.on('close', () => this.disconnect(client));
    socket.on('error', () => this.disconnect(client));
    this.subscribe(client, cameras, () => video);
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
    const { type, cameras, video } = msg as { type?: unknown; cameras?: unknown; video?: unknown };
    if (type !== 'subscribe') return reply(`unknown message type ${JSON.stringify(type)}; expected "subscribe"`);
    if (!Array.isArray(cameras) || !cameras.every((c) => typeof c === 'string') || cameras.length > 256) {
      return reply('"cameras" must be a list of camera ids (strings)');
    }
    const choice = videoChoice(video);
    if (typeof choice === 'string') return reply(choice);
    this.subscribe(client, cameras as string[], choice);
  }

  private subscribe(client: Client, wanted: string[], videoOf: (id: string) => VideoChoice): void {
    const known = wanted.filter((id) => this.registry.has(id));
    const unknown = wanted.filter((id) => !known.includes(id));
    for (const [id, sub] of client.cameras) {
      if (!known.includes(id) || sub.video !== videoOf(id)) {
        this.unsubscribe1(id, sub);
        client.cameras.delete(id);
      }
    }
    for (const id of known) {
      if (client.cameras.has(id)) continue;
      const sub: Subscription = { video: videoOf(id) };
      client.cameras.set(id, sub);
      if (sub.video === 'jpeg') {
        sub.jpeg = {
          offer: (frame: AnnotatedFrame) => {
            if (client.socket.readyState !== WebSocket.OPEN || client.socket.bufferedAmount > MAX_CLIENT_BUFFER) return 'skipped';
            client.socket.send(frame.message, { binary: true });
            return 'sent';
          },
        };
        this.feeds.watch(id, sub.jpeg);
      } else if (sub.video === 'native') {
        sub.native = {
          kind: 'ws',
          backlog: () => (client.socket.readyState === WebSocket.OPEN ? client.socket.bufferedAmount : Infinity),
          sendInit: (init: StreamInit) => client.socket.send(initMessage(init), { binary: true }),
          sendFragment: (fragment: StreamFragment, skipped: number) => client.socket.send(fragmentMessage(fragment, skipped), { binary: true }),
          end: () => undefined,
        };
        this.feeds.native(id).add(sub.native, this.registry.stream(id));
      }
      // The newest detections with their track ids; before any came through the hub, the registry's.
      const fallback = this.registry.latestDetections(id);
      const latest = this.lastDetections.get(id) ?? (fallback ? detectionsJson(id, fallback) : undefined);
      if (latest) this.sendText(client, latest);
    }
    this.sendText(client, { type: 'subscribed', cameras: known, ...(unknown.length ? { unknown } : {}) });
    if (unknown.length) this.sendText(client, { type: 'error', message: `unknown camera(s): ${unknown.join(', ')}` });
  }

  private unsubscribe1(id: string, sub: Subscription): void {
    if (sub.jpeg) this.feeds.release(id, sub.jpeg);
    if (sub.native) this.feeds.releaseNative(id, sub.native);
  }

  private disconnect(client: Client): void {
    if (!this.clients.delete(client)) return;
    for (const [id, sub] of client.cameras) this.unsubscribe1(id, sub);
    client.cameras.clear();
  }

  private sendText(client: Client, message: object | string): void {
    // Text is small, but a client that reads nothing must not grow our memory either.
    if (client.socket.readyState !== WebSocket.OPEN || client.socket.bufferedAmount > 4 * MAX_CLIENT_BUFFER) return;
    client.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** A camera's new detections, with the tracker's ids and the filters' marks when tracking ran: to its subscribers, and kept for new ones. */
  detections(camera: string, detections: CameraDetections, shown?: readonly ShownDetection[]): void {
    const message = detectionsJson(camera, detections, shown);
    if (this.registry.has(camera)) this.lastDetections.set(camera, message);
    this.broadcast(camera, message);
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
            viewers: this.feeds.viewers(id),
            video: view.status.video ? { codec: view.status.video.codec, transcoded: view.status.video.transcoded, from: view.status.video.from } : null,
            // The breaker of the model this camera's frames go to.
            model: modelStatus(this.registry.modelState(id)),
          });
        }
        const status = statuses.get(id);
        if (status) this.sendText(c, status);
      }
    }
  }

  /** The newest annotated frame of a camera (see CameraFeeds.snapshot). */
  snapshot(cameraId: string): Promise<AnnotatedFrame | undefined> {
    return this.feeds.snapshot(cameraId);
  }

  feedStats(cameraId: string): ReturnType<CameraFeeds['stats']> {
    return this.feeds.stats(cameraId);
  }

  /**
   * The camera's own video as one fragmented MP4 over HTTP, from the newest
   * keyframe on, for VLC, ffplay, a <video> tag or Home Assistant. It ends
   * when the camera's ffmpeg restarts (the new stream has a new timeline:
   * players reconnect) or the camera goes.
   */
  streamMp4(cameraId: string, res: ServerResponse): boolean {
    if (!this.registry.has(cameraId)) return false;
    res.writeHead(200, {
      'content-type': 'video/mp4',
      'cache-control': 'no-cache, no-store',
      connection: 'close',
    });
    const sink: NativeSink = {
      kind: 'http',
      backlog: () => (res.destroyed ? Infinity : res.writableLength),
      sendInit: (init) => { res.write(init.data); },
      sendFragment: (fragment) => { res.write(fragment.data); },
      end: () => { res.end(); },
    };
    this.mjpeg.add(res);
    this.feeds.native(cameraId).add(sink, this.registry.stream(cameraId));
    res.on('close', () => {
      this.feeds.releaseNative(cameraId, sink);
      this.mjpeg.delete(res);
    });
    return true;
  }

  /** multipart/x-mixed-replace for VLC, an <img> tag or Home Assistant. */
  streamMjpeg(cameraId: string, res: ServerResponse): boolean {
    if (!this.registry.has(cameraId)) return false;
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
    this.feeds.watch(cameraId, viewer);
    res.on('close', () => {
      this.feeds.release(cameraId, viewer);
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
    this.feeds.close();
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

/** A subscribe message's `video`: one choice for every camera, or one per camera; else the reason it is wrong. */
function videoChoice(video: unknown): ((id: string) => VideoChoice) | string {
  if (video === undefined) return () => 'jpeg';
  if (isChoice(video)) return () => video;
  if (typeof video === 'object' && video !== null && !Array.isArray(video)) {
    const per = video as Record<string, unknown>;
    const bad = Object.entries(per).find(([, v]) => !isChoice(v));
    if (bad) return `"video" for camera ${JSON.stringify(bad[0])} must be "jpeg", "native" or "none", got ${JSON.stringify(bad[1])}`;
    return (id) => (per[id] as VideoChoice | undefined) ?? 'jpeg';
  }
  return `"video" must be "jpeg", "native", "none", or an object of those per camera; got ${JSON.stringify(video)}`;
}

function isChoice(v: unknown): v is VideoChoice {
  return v === 'jpeg' || v === 'native' || v === 'none';
}

function modelStatus(m: { state: string; lastError?: string }): { state: string; lastError: string | null } {
  return { state: m.state, lastError: m.lastError ?? null };
}
