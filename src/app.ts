// Wires `lookout serve` together: the one place that knows every stage, so
// the stages need not know each other. Data flows one way:
//
//   cameras (ffmpeg copies the video) ─┬ copied stream (fMP4) ────────────→ live view (native viewers, stream.mp4)
//                                      │                      └───────────→ recordings (segment files, rows in the log)
//                                      ├ detect frames (a decoder of the copy) → motion gate (skip, whole, regions; skipped
//                                      │     frames hold tracking's steady tracks) → schedule → model → registry's newest
//                                      │     detections → object filters and masks → tracking (ids) → analytics (zones,
//                                      │     lines) → live view (detections JSON with pts, track ids, filter marks),
//                                      │     the detection log (records, events, crossings, snapshots) → live view (events)
//                                      │     and notifications (MQTT, webhooks)
//                                      └ live frames (a decoder, only while watched as JPEG) → live view (annotated JPEG)
//
// Every subscription made here is remembered and undone at close, and
// close() runs in one order, the reverse of the flow, so that nothing is cut
// off half-way:
//   1. viewers (WebSocket close code 1001, MJPEG ends), then the HTTP server
//      (no new requests) and the metrics' subscription;
//   2. the cameras and the scheduler (no ffmpeg left; the model's answers in
//      flight still reach tracking, within a bound);
//   3. tracking (open events end at their last sighting and reach the log and
//      the notifications);
//   4. the recordings (open segments finish, their rows handed over), then the
//      detection log (last snapshots, then pending records commit), then the
//      notifications (MQTT says offline, webhooks deliver within a bound);
//   5. the model-server client, then the embedded model server (its workers last).
import { CameraAdmin } from './cameras/admin.js';
import { CameraRegistry } from './cameras/registry.js';
import { camerasForShard } from './cameras/shard.js';
import { ConfigError, type LookoutConfig, type RecordSettings } from './config/schema.js';
import { attachWebSocket, startAuth, type RunningAuth } from './http/auth-setup.js';
import { registerAuthMetrics } from './http/auth-metrics.js';
import { listenHosts } from './auth/exposure.js';
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
import { packageVersion } from './util/paths.js';
import { readFile } from 'node:fs/promises';
import { Analytics } from './analytics/analytics.js';
import { screen } from './analytics/screen.js';
import { filterFor } from './config/analytics.js';
import { lineTotals } from './store/crossings.js';
import { Notifier } from './notify/notifier.js';
import { analyticsFlow, shownDetections } from './analytics-flow.js';
import { motionJson } from './live/messages.js';

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
  let notifier: Notifier | undefined;
  let auth: RunningAuth | undefined;
  /** Where this lookout answers, once it listens: the notifications' links when notify.baseUrl is not set. */
  let listening = '';
  const subscriptions: (() => void)[] = [];
  /** Undone only once the log has closed: its last events still go out. */
  const afterStore: (() => void)[] = [];
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
      // The last snapshots' updates went out with the store's close; now the notifications deliver what waits.
      for (const unsubscribe of afterStore.splice(0)) unsubscribe();
      await notifier?.close();
      await model?.close();
      auth?.close();
    })();
    return closing;
  };
  try {
    // Who may use it first: a lookout that would be open to the network stops here, before anything runs.
    auth = startAuth(config, log);
    // The log next: a store that cannot open stops start-up before any camera runs.
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
    const connection = model;
    registry = new CameraRegistry(config, { source: (choice) => connection.clientFor(choice), defaultName: config.modelServer.modelName }, ffmpeg, log);
    // A StatefulSet replica runs only its share of the config's cameras (see docs/deploy.md).
    const own = config.shard ? { ...config, cameras: camerasForShard(config.cameras, config.shard) } : config;
    if (config.shard) log.info(`shard ${config.shard.index} of ${config.shard.count}: ${own.cameras.length} of ${config.cameras.length} cameras from the config`);
    // Cameras the API added, changed or removed in earlier runs apply over the config file's.
    const cameras = new CameraAdmin(own, registry, config.camerasFile);
    for (const camera of cameras.startingCameras()) registry.addCamera(camera);
    live = new LiveHub(registry);
    const hub = live;
    const cams = registry;
    const settings = (camera: string) => cams.config(camera) ?? { ...config, masks: [] };
    // Tracking runs whether or not there is a log: the live view's boxes carry its ids.
    const stage = new Tracking({
      firstTrackId: (camera) => store?.firstTrackId(camera) ?? 1,
      threshold: (camera, label) => filterFor(settings(camera).filters, label).threshold,
    });
    tracking = stage;
    registry.setObjects((camera, time) => stage.objects(camera, time));
    const analytics = new Analytics((id) => cams.config(id), store ? lineTotals(store.reader.db) : []);
    const opened = store;
    const notify = new Notifier({
      // Replicas of a StatefulSet each have their own MQTT connection: a broker drops a client whose id another takes.
      config: config.shard && config.notify.mqtt ? { ...config.notify, mqtt: { ...config.notify.mqtt, clientId: `${config.notify.mqtt.clientId}-${config.shard.index}` } } : config.notify,
      cameras: () => cams.cameraIds().flatMap((id) => cams.config(id) ?? []),
      loitering: (camera, trackId) => analytics.loitering(camera, trackId),
      ...(opened ? { snapshot: (file: string) => readFile(opened.snapshots.snapshotPath(file)).catch(() => undefined) } : {}),
      links: store !== undefined,
      listening: () => listening,
      log,
      version: packageVersion(),
    });
    notifier = notify;
    subscriptions.push(
      registry.onDetections((camera, d, frame) => {
        // Filtered detections are neither tracked nor logged; the page shows them, marked.
        const { kept, filtered } = screen(d.detections, settings(camera), d.width, d.height);
        const tracked = stage.update({ camera, frameId: d.frameId, time: d.capturedAt, detections: kept, regions: d.regions, ...(d.model ? { model: d.model } : {}) }, frame);
        hub.detections(camera, d, shownDetections(tracked ?? [], filtered, (id) => analytics.hasEvent(camera, id)));
      }),
      registry.onGate((camera, frame, decision) => {
        // Nothing moved: the model was not asked, so the steady tracks were not missed.
        if (!decision.plan) stage.hold(camera, frame.capturedAt);
        hub.broadcast(camera, motionJson(camera, frame, decision));
      }),
      registry.onCameraRemoved((camera) => {
        stage.endCamera(camera);
        // Deleted, or changed (re-added as soon as its old ffmpeg stopped, before this runs): only a deleted one is forgotten.
        setImmediate(() => {
          if (!cams.has(camera)) notify.forget(camera);
        });
      }),
      stage.onUpdate(analyticsFlow({ analytics, hub, notifier: notify, store })),
    );
    if (store) {
      const { recorder } = store;
      afterStore.push(
        recorder.onEvent((phase, event) => {
          hub.broadcast(event.camera, { type: 'event', phase, event: toEventJson(event) });
          notify.event(phase, event);
        }),
      );
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
    const rec = recordings;
    metrics = createMetrics({ cameras: registry, live, store, notify: () => notify.stats(), analytics: (id) => analytics.state(id), ...(rec ? { recording: (id: string) => rec.status(id) } : {}) });
    registerAuthMetrics(metrics.registry, auth.auth);
    const app = createApp({
      log,
      cameras,
      auth: auth.auth,
      metrics,
      client,
      registry,
      live,
      modelServer: { address: address.join(','), embedded: embedded !== undefined, ...(embedded ? { description: embedded.description } : {}) },
      ...(store ? { store } : {}),
      analytics: (id: string) => analytics.state(id),
      ...(store && recordings ? { recordings: recordingDeps(store, recordings, registry, config.record, config.store.recordingsDir) } : {}),
    });
    http = await listen(app, config.http.port, listenHosts(config));
    attachWebSocket(live, http.servers, auth.auth, config.auth.allowedOrigins);
    const host = config.http.host;
    // localhost is either loopback address: said only when both are listened on.
    const loopback = http.servers.length > 1 ? 'localhost' : '127.0.0.1';
    const shownHost = host === undefined ? loopback : host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    const url = `http://${shownHost}:${http.port}`;
    listening = url;
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
