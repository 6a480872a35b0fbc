// The HTTP side of `lookout serve`: health, model status, a one-shot detect
// endpoint, and the web page.
import express, { type NextFunction, type Request, type Response } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelClient } from '../model/client.js';
import { webDir } from '../util/paths.js';
import type { LiveHub } from '../live/hub.js';
import { decodeImage, ImageDecodeError } from '../tfserving/image-codec.js';
import { recordingRoutes, type RecordingRouteDeps } from './recording-routes.js';
import { storeRoutes, type StoreRouteDeps } from './store-routes.js';
import { countRoutes } from './count-routes.js';
import type { AnalyticsState } from '../analytics/analytics.js';
import type { RecordingStatus } from '../record/segment-writer.js';
import type { Auth } from './auth.js';
import type { CameraAdmin } from '../cameras/admin.js';
import type { CameraRegistry } from '../cameras/registry.js';
import { sendError } from './errors.js';
import { SourceForbiddenError } from '../ingest/source-guard.js';
import type { Logger } from '../util/logger.js';
import { accountRoutes } from './account-routes.js';
import { loginRoutes } from './login-routes.js';
import type { Metrics } from './metrics.js';

export interface HttpDeps {
  client: ModelClient;
  registry: CameraRegistry;
  live: LiveHub;
  /** How the model server is reached, for /api/model. */
  modelServer: { address: string; embedded: boolean; description?: string };
  /** Adds, changes and removes cameras for the REST routes. */
  cameras: CameraAdmin;
  /** Who may do what: users, sessions, tokens, the shared token, a trusted proxy. */
  auth: Auth;
  /** Prometheus metrics for /metrics. */
  metrics: Metrics;
  /** Where refused camera urls are logged, with who asked. */
  log?: Logger;
  /** The detection log; absent when the store is turned off. */
  store?: StoreRouteDeps & { stats(): object };
  /** Each camera's zone occupancy, line counters and objects in view. */
  analytics?: (camera: string) => AnalyticsState;
  /** Recordings (with the store): the routes' needs, each camera's recording state, and the totals for /api/store. */
  recordings?: RecordingRouteDeps & { status(camera: string): RecordingStatus; stats(): object };
}

const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** /api/detect requests decoded or waiting on the model at once; more get 429 rather than pile up in memory. */
const MAX_DETECTS_IN_FLIGHT = 8;

export function createApp(deps: HttpDeps): express.Express {
  const app = express();
  let detectsInFlight = 0;
  app.disable('x-powered-by');
  // Behind a TLS proxy, req.secure follows X-Forwarded-Proto (the session cookie is then Secure).
  app.set('trust proxy', 'loopback');
  // Always in place: with auth off it lets everyone through as the admin "local", and a user added later turns it on.
  app.use(deps.auth.middleware());
  app.use(loginRoutes(deps.auth));
  app.use('/api', accountRoutes(deps.auth));

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    // Ready when every model cameras use (and the default) has an AVAILABLE version, each asked as its cameras ask it.
    const models = await Promise.all(deps.registry.models().map(async (m) => {
      const own = deps.registry.modelClient(m.key);
      const status = own?.modelStatus?.bind(own) ?? deps.client.modelStatus.bind(deps.client);
      try {
        const versions = await status({ deadlineMs: 2_000 });
        return { model: m.key, ready: versions.some((v) => v.state === 'AVAILABLE'), versions };
      } catch (err) {
        return { model: m.key, ready: false, reason: (err as Error).message };
      }
    }));
    const ready = models.every((m) => m.ready);
    // The default model's fields stay at the top, as before several models.
    const first = models[0];
    res.status(ready ? 200 : 503).json({ ready, model: deps.client.modelName, ...(first && 'versions' in first ? { versions: first.versions } : { reason: first?.reason }), models });
  });

  app.get('/api/model', async (_req, res) => {
    const body: Record<string, unknown> = {
      ...deps.modelServer,
      modelName: deps.client.modelName,
      signatureName: deps.client.signatureName,
      // Every model cameras use: its breaker, the version that last answered, its cameras.
      models: deps.registry.models(),
    };
    try {
      body.versions = await deps.client.modelStatus({ deadlineMs: 2_000 });
      const sig = await deps.client.signature({ deadlineMs: 2_000 });
      body.signature = { ...sig, maxBatch: Number.isFinite(sig.maxBatch) ? sig.maxBatch : null };
    } catch (err) {
      body.error = (err as Error).message;
    }
    res.json(body);
  });

  app.post('/api/detect', express.raw({ type: ['image/jpeg', 'image/png', 'image/webp'], limit: MAX_IMAGE_BYTES }), async (req, res) => {
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      res.status(415).json({ error: 'send an image as the request body, with Content-Type image/jpeg, image/png or image/webp' });
      return;
    }
    if (detectsInFlight >= MAX_DETECTS_IN_FLIGHT) {
      res.status(429).json({ error: `${MAX_DETECTS_IN_FLIGHT} detect requests are already running; try again shortly` });
      return;
    }
    detectsInFlight++;
    // A client that hangs up cancels its model call.
    const controller = new AbortController();
    const onClose = (): void => {
      if (!res.writableEnded) controller.abort();
    };
    res.on('close', onClose);
    try {
      const image = await decodeImage(req.body);
      const started = performance.now();
      const result = await deps.client.detect([image], { signal: controller.signal });
      res.json({
        model: deps.client.modelName,
        version: result.modelVersion,
        width: image.width,
        height: image.height,
        inferenceMs: Math.round(performance.now() - started),
        detections: result.detections[0],
      });
    } catch (err) {
      if (controller.signal.aborted) return;
      if (!sendError(res, err, err instanceof ImageDecodeError ? 'cannot decode the image: ' : '')) throw err;
    } finally {
      detectsInFlight--;
      res.off('close', onClose);
    }
  });

  const cameraJson = (id: string) => {
    const view = deps.registry.view(id);
    if (!view) return undefined;
    const { config, status, ...rest } = view;
    return {
      id,
      state: status.state,
      lastError: status.lastError ?? null,
      status,
      ...rest,
      live: deps.live.feedStats(id) ?? null,
      recording: deps.recordings?.status(id) ?? null,
      analytics: deps.analytics?.(id) ?? null,
      settings: {
        detectFps: config.detectFps, liveFps: config.liveFps, size: config.size, liveSize: config.liveSize, minScore: config.minScore, labels: config.labels,
        zones: config.zones, lines: config.lines, masks: config.masks,
        // What applies (the config's with the camera's own over them), and the camera's own, which a PATCH changes.
        filters: config.filters, ownFilters: config.ownFilters,
        motion: config.motion, regions: config.regions,
      },
    };
  };

  app.get('/api/cameras', (_req, res) => {
    res.json({ model: deps.registry.modelState(), cameras: deps.registry.cameraIds().map(cameraJson) });
  });

  app.get('/api/cameras/:id/snapshot.jpg', async (req, res) => {
    const frame = await deps.live.snapshot(req.params.id);
    if (!frame) {
      const known = deps.registry.has(req.params.id);
      res.status(known ? 503 : 404).json({ error: known ? `camera ${JSON.stringify(req.params.id)} has no frame yet` : `no camera ${JSON.stringify(req.params.id)}` });
      return;
    }
    res.set({ 'content-type': 'image/jpeg', 'cache-control': 'no-store', 'x-frame-id': frame.frameId }).send(frame.jpeg);
  });

  app.get('/api/cameras/:id/stream.mjpeg', (req, res) => {
    if (!deps.live.streamMjpeg(req.params.id, res)) res.status(404).json({ error: `no camera ${JSON.stringify(req.params.id)}` });
  });

  app.get('/api/cameras/:id/stream.mp4', (req, res) => {
    if (!deps.live.streamMp4(req.params.id, res)) res.status(404).json({ error: `no camera ${JSON.stringify(req.params.id)}` });
  });

  const cameraError = (res: Response, err: unknown): void => {
    // A camera url aimed at this machine or link-local (ingest/source-guard.ts): logged with who asked, never with the url's password.
    if (err instanceof SourceForbiddenError) deps.log?.warn(`camera url refused: ${err.message}`, { client: res.req.socket.remoteAddress, user: String(res.locals.user ?? 'anonymous'), url: err.url });
    if (!sendError(res, err)) throw err;
  };
  // Room for a camera's zones, lines and masks (up to 32 polygons of 64 points each).
  const jsonBody = express.json({ limit: '256kb', strict: true, type: () => true });

  app.post('/api/cameras', jsonBody, async (req, res) => {
    try {
      const camera = await deps.cameras.add(req.body);
      res.status(201).location(`api/cameras/${encodeURIComponent(camera.id)}`).json(cameraJson(camera.id));
    } catch (err) {
      cameraError(res, err);
    }
  });

  app.patch('/api/cameras/:id', jsonBody, async (req, res) => {
    try {
      const camera = await deps.cameras.update(req.params.id, req.body);
      res.json(cameraJson(camera.id));
    } catch (err) {
      cameraError(res, err);
    }
  });

  app.delete('/api/cameras/:id', async (req, res) => {
    try {
      await deps.cameras.remove(req.params.id);
      res.status(204).end();
    } catch (err) {
      cameraError(res, err);
    }
  });

  app.get('/api/cameras/:id', (req, res) => {
    const body = cameraJson(req.params.id);
    if (!body) {
      res.status(404).json({ error: `no camera ${JSON.stringify(req.params.id)}` });
      return;
    }
    res.json(body);
  });

  if (deps.store) {
    const store = deps.store;
    app.use('/api', storeRoutes(store));
    app.use('/api', countRoutes(() => store.reader.db));
    const recordings = deps.recordings;
    if (recordings) app.use('/api', recordingRoutes(recordings));
    app.get('/api/store', (_req, res) => {
      const stats = store.stats() as { recordings?: object };
      res.json(recordings ? { ...stats, recordings: { ...stats.recordings, ...recordings.stats() } } : stats);
    });
  }

  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'no such API route' });
  });

  app.use(express.static(webDir, { index: 'index.html' }));

  // Errors from body parsing (too large, bad type) become JSON, never a stack page.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    // A stream that failed halfway (the client left mid-export) has nothing left to answer.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: status === 413 ? `the body exceeds ${MAX_IMAGE_BYTES} bytes` : err.message });
  });
  return app;
}

export interface HttpServer {
  port: number;
  /** One per address listened on (loopback: 127.0.0.1 and ::1). */
  servers: http.Server[];
  close(): Promise<void>;
}

const listenOn = (server: http.Server, port: number, host: string): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

/**
 * Listens on `hosts` with one port: the first picks it (port 0: any free
 * one), the others take the same. A second address this machine does not
 * have (::1 with IPv6 turned off) is left out; the first must work.
 */
export async function listen(app: express.Express, port: number, hosts: readonly string[]): Promise<HttpServer> {
  const servers: http.Server[] = [];
  let bound = port;
  for (const [i, host] of hosts.entries()) {
    const server = http.createServer(app);
    try {
      await listenOn(server, bound, host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (i === 0 || (code !== 'EADDRNOTAVAIL' && code !== 'EAFNOSUPPORT')) {
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
        throw err;
      }
      continue;
    }
    if (i === 0) bound = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return {
    port: bound,
    servers,
    close: () =>
      Promise.all(servers.map((server) => new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }))).then(() => undefined),
  };
}
