// Wires `lookout serve` together and owns its shutdown order: live viewers
// first (close code 1001), the HTTP server (no new work), then the cameras and
// scheduler (no ffmpeg left), then the detection log (open events end, pending
// records commit), then the model-server client, then the embedded model
// server (its workers last).
import { ConfigError, type LookoutConfig } from './config/parse.js';
import path from 'node:path';
import { applyCameraOverrides, CameraAdmin } from './cameras/admin.js';
import { DetectionLog } from './store/detection-log.js';
import { Auth, originAllowed } from './http/auth.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { toEventJson } from './store/records.js';
import type { Logger } from './util/logger.js';
import type { ModelServer } from './modelserver/server.js';
import type { ModelClient } from './model/client.js';
import { connectModel, type ModelConnection } from './model/connection.js';
import { createApp, listen, type HttpServer } from './http/server.js';
import { resolveFfmpeg } from './ingest/ffmpeg-binary.js';
import { CameraRegistry } from './cameras/registry.js';
import { LiveHub } from './live/hub.js';

export interface RunningLookout {
  url: string;
  httpPort: number;
  modelServerAddress: string;
  embedded: ModelServer | undefined;
  client: ModelClient;
  registry: CameraRegistry;
  store: DetectionLog | undefined;
  close(): Promise<void>;
}

export async function startLookout(config: LookoutConfig, log: Logger): Promise<RunningLookout> {
  let model: ModelConnection | undefined;
  let http: HttpServer | undefined;
  let registry: CameraRegistry | undefined;
  let live: LiveHub | undefined;
  let store: DetectionLog | undefined;
  let metrics: Metrics | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Viewers first: WebSocket clients get a close code (1001) rather than a cut connection.
      await live?.close();
      await http?.close();
      metrics?.close();
      await registry?.close();
      // No results come after the registry: open events end, and the log commits what is pending.
      await store?.close();
      await model?.close();
    })();
    return closing;
  };
  try {
    // The log first: a store that cannot open stops start-up before any camera runs.
    if (config.store.enabled) {
      try {
        store = await DetectionLog.open(config.store, log);
      } catch (err) {
        throw new ConfigError('store.path', `cannot open the detection log ${config.store.path}: ${(err as Error).message}`);
      }
    }
    model = await connectModel(config.modelServer, config.minScore, log);
    const { client, embedded, address } = model;
    const ffmpeg = resolveFfmpeg();
    log.info(`ffmpeg: ${ffmpeg.path} (${ffmpeg.source}), ${ffmpeg.version}`);
    registry = new CameraRegistry(config, client, ffmpeg, log);
    // Cameras the API added, changed or removed in earlier runs apply over the config file's.
    const camerasFile = path.join(path.dirname(config.store.path), 'cameras.json');
    for (const camera of applyCameraOverrides(config, camerasFile)) registry.addCamera(camera);
    const cameras = new CameraAdmin(config, registry, camerasFile);
    live = new LiveHub(registry);
    if (store) {
      const { recorder } = store;
      const hub = live;
      registry.onDetections((camera, d, frame) => {
        recorder.record({ camera, frameId: d.frameId, time: d.capturedAt, detections: d.detections, frame });
      });
      registry.onCameraRemoved((camera) => recorder.endCamera(camera));
      recorder.onEvent((phase, event) => hub.broadcast(event.camera, { type: 'event', phase, event: toEventJson(event) }));
    }
    const auth = new Auth(config.auth.token);
    metrics = createMetrics({ cameras: registry, live, store });
    const app = createApp({
      cameras,
      auth,
      metrics,
      client,
      registry,
      live,
      modelServer: { address: address.join(','), embedded: embedded !== undefined, ...(embedded ? { description: embedded.description } : {}) },
      ...(store ? { log: { reader: store.reader, snapshots: store.snapshots, stats: () => store?.stats() ?? {} } } : {}),
    });
    http = await listen(app, config.http.port, config.http.host);
    live.attach(http.server, (req) => {
      if (!originAllowed(req, config.auth.allowedOrigins)) return { status: 403, reason: `origin ${req.headers.origin ?? ''} may not open lookout's WebSocket` };
      if (!auth.allows(req)) return { status: 401, reason: 'this lookout needs its access token' };
      return undefined;
    });
    const shownHost = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
    const url = `http://${shownHost}:${http.port}`;
    return { url, httpPort: http.port, modelServerAddress: address.join(','), embedded, client, registry, store, close };
  } catch (err) {
    await close();
    throw err;
  }
}
