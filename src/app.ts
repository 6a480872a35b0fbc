// Wires `lookout serve` together: the one place that knows every stage, so
// the stages need not know each other. Data flows one way:
//
//   cameras (ffmpeg copies the video) ─┬ copied stream (fMP4) ────────────→ live view (native viewers, stream.mp4)
//                                      │                      └───────────→ recordings (segment files, rows in the log)
//                                      ├ detect frames (a decoder of the copy) → schedule → model → registry's newest
//                                      │     detections → tracking (ids) → live view (detections JSON with pts and
//                                      │     track ids) and the detection log (records, events, snapshots) → live view (events)
//                                      └ live frames (a decoder, only while watched as JPEG) → live view (annotated JPEG)
//
// Every subscription made here is remembered and undone at close, and
// close() runs in one order, the reverse of the flow, so that nothing is cut
// off half-way:
//   1. viewers (WebSocket close code 1001, MJPEG ends), then the HTTP server
//      (no new requests) and the metrics' subscription;
//   2. the cameras and the scheduler (no ffmpeg left; the model's answers in
//      flight still reach tracking, within a bound);
//   3. tracking (open events end at their last sighting and reach the log);
//   4. the recordings (open segments finish, their rows handed over), then the
//      detection log (last snapshots, then pending records commit);
//   5. the model-server client, then the embedded model server (its workers last).
import { CameraAdmin } from './cameras/admin.js';
import { CameraRegistry } from './cameras/registry.js';
import { camerasForShard } from './cameras/shard.js';
import { ConfigError, type LookoutConfig, type RecordSettings } from './config/schema.js';
import { Auth, originAllowed } from './http/auth.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { createApp, listen, type HttpServer } from './http/server.js';
import { resolveFfmpeg } from './ingest/ffmpeg-binary.js';
import { LiveHub } from './live/hub.js';
import type { ModelClient } from './model/client.js';
import { connectModel, type ModelConnection } from './model/connection.js';
import type { ModelServer } from './modelserver/server.js';
import { Recordings } from './record/recordings.js';
import { DetectionStore } from './store/detection-store.js';
import { toEventJson } from './store/records.js';
import { Tracking } from './track/tracking.js';
import type { Logger } from './util/logger.js';

export interface RunningLookout {
  url: string;
  httpPort: number;
  modelServerAddress: string;
  embedded: ModelServer | undefined;
  client: ModelClient;
  registry: CameraRegistry;
  store: DetectionStore | undefined;
  close(): Promise<void>;
}

export async function startLookout(config: LookoutConfig, log: Logger): Promise<RunningLookout> {
  let model: ModelConnection | undefined;
  let http: HttpServer | undefined;
  let registry: CameraRegistry | undefined;
  let tracking: Tracking | undefined;
  let live: LiveHub | undefined;
  let store: DetectionStore | undefined;
  let recordings: Recordings | undefined;
  let metrics: Metrics | undefined;
  const subscriptions: (() => void)[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await live?.close();
      await http?.close();
      metrics?.close();
      await registry?.close();
      tracking?.close();
      for (const unsubscribe of subscriptions.splice(0).reverse()) unsubscribe();
      // The last segments end (rows handed over) before the store commits what it holds.
      await recordings?.close();
      await store?.close();
      await model?.close();
    })();
    return closing;
  };
  try {
    // The log first: a store that cannot open stops start-up before any camera runs.
    if (config.store.enabled) {
      try {
        store = await DetectionStore.open(config.store, log);
      } catch (err) {
        throw new ConfigError('store.path', `cannot open the detection log ${config.store.path}: ${(err as Error).message}`);
      }
    }
    model = await connectModel(config.modelServer, config.minScore, log);
    const { client, embedded, address } = model;
    const ffmpeg = resolveFfmpeg();
    log.info(`ffmpeg: ${ffmpeg.path} (${ffmpeg.source}), ${ffmpeg.version}`);
    registry = new CameraRegistry(config, client, ffmpeg, log);
    // A StatefulSet replica runs only its share of the config's cameras (see docs/deploy.md).
    const own = config.shard ? { ...config, cameras: camerasForShard(config.cameras, config.shard) } : config;
    if (config.shard) log.info(`shard ${config.shard.index} of ${config.shard.count}: ${own.cameras.length} of ${config.cameras.length} cameras from the config`);
    // Cameras the API added, changed or removed in earlier runs apply over the config file's.
    const cameras = new CameraAdmin(own, registry, config.camerasFile);
    for (const camera of cameras.startingCameras()) registry.addCamera(camera);
    live = new LiveHub(registry);
    const hub = live;
    // Tracking runs whether or not there is a log: the live view's boxes carry its ids.
    const stage = new Tracking({ firstTrackId: (camera) => store?.firstTrackId(camera) ?? 1 });
    tracking = stage;
    subscriptions.push(
      registry.onDetections((camera, d, frame) => hub.detections(camera, d, stage.update({ camera, frameId: d.frameId, time: d.capturedAt, detections: d.detections }, frame))),
      registry.onCameraRemoved((camera) => stage.endCamera(camera)),
    );
    if (store) {
      const { recorder } = store;
      subscriptions.push(
        stage.onUpdate((update) => recorder.record(update)),
        recorder.onEvent((phase, event) => hub.broadcast(event.camera, { type: 'event', phase, event: toEventJson(event) })),
      );
      const cams = registry;
      const rec = new Recordings({
        dir: config.store.recordingsDir,
        store: store.writer,
        settings: (id) => cams.config(id)?.record,
        cameras: () => cams.cameraIds(),
        defaults: config.record,
        log,
        retainNow: () => store?.retainNow(),
      });
      recordings = rec;
      subscriptions.push(
        registry.onStream((piece) => rec.onStream(piece)),
        registry.onCameraRemoved((id) => void rec.cameraRemoved(id)),
      );
    }
    const auth = new Auth(config.auth.token);
    const rec = recordings;
    metrics = createMetrics({ cameras: registry, live, store, ...(rec ? { recording: (id: string) => rec.status(id) } : {}) });
    const app = createApp({
      cameras,
      auth,
      metrics,
      client,
      registry,
      live,
      modelServer: { address: address.join(','), embedded: embedded !== undefined, ...(embedded ? { description: embedded.description } : {}) },
      ...(store ? { store } : {}),
      ...(store && recordings ? { recordings: recordingDeps(store, recordings, registry, config.record, config.store.recordingsDir) } : {}),
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

/** What the recordings' routes and status need, from the store, the recorder and the cameras. */
function recordingDeps(store: DetectionStore, recordings: Recordings, registry: CameraRegistry, defaults: RecordSettings, dir: string) {
  return {
    dir,
    reader: store.reader,
    segments: store.segments,
    live: (camera: string) => recordings.live(camera),
    settings: (camera: string) => registry.config(camera)?.record,
    defaults,
    status: (camera: string) => recordings.status(camera),
    stats: () => recordings.stats(),
  };
}
