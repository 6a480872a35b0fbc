// Wires `lookout serve` together and owns its shutdown order: live viewers
// first (close code 1001), the HTTP server (no new work), then the cameras and
// scheduler (no ffmpeg left), then the model-server client, then the embedded
// model server (its workers last).
import type { LookoutConfig } from './config.js';
import type { Logger } from './log.js';
import { ModelServer } from './modelserver/server.js';
import { TfServingClient } from './tfserving/client.js';
import { createApp, listen, type HttpServer } from './http/server.js';
import { resolveFfmpeg } from './ingest/ffmpeg-binary.js';
import { Pipeline } from './pipeline.js';
import { LiveHub } from './live/hub.js';

export interface RunningLookout {
  url: string;
  httpPort: number;
  modelServerAddress: string;
  embedded: ModelServer | undefined;
  client: TfServingClient;
  pipeline: Pipeline;
  close(): Promise<void>;
}

export async function startLookout(config: LookoutConfig, log: Logger): Promise<RunningLookout> {
  let embedded: ModelServer | undefined;
  let client: TfServingClient | undefined;
  let http: HttpServer | undefined;
  let pipeline: Pipeline | undefined;
  let live: LiveHub | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Viewers first: WebSocket clients get a close code (1001) rather than a cut connection.
      await live?.close();
      await http?.close();
      await pipeline?.close();
      client?.close();
      await embedded?.close();
    })();
    return closing;
  };
  try {
    let address: string[];
    if (config.modelServer.address) {
      address = config.modelServer.address;
      log.info(`model server: TF Serving at ${address.join(', ')}, model "${config.modelServer.modelName}"`);
    } else {
      const e = config.modelServer.embedded;
      embedded = new ModelServer({
        modelName: config.modelServer.modelName,
        model: e.model,
        modelBasePath: e.modelBasePath,
        workers: e.workers,
        maxQueue: e.maxQueue,
        scoreThreshold: e.scoreThreshold,
        latencyMs: e.latencyMs,
        capacity: e.capacity,
        log: (m) => log.info(`model server: ${m}`),
      });
      // Loopback only: the embedded server is lookout's own, not a service for the network.
      const port = await embedded.listen(0, '127.0.0.1');
      address = [`127.0.0.1:${port}`];
      log.info(`model server: embedded, gRPC on ${address[0]}, loading ${embedded.description}`);
    }
    client = new TfServingClient({
      address,
      modelName: config.modelServer.modelName,
      signatureName: config.modelServer.signatureName,
      deadlineMs: config.modelServer.deadlineMs,
      minScore: config.minScore,
    });
    const ffmpeg = resolveFfmpeg();
    log.info(`ffmpeg: ${ffmpeg.path} (${ffmpeg.source}), ${ffmpeg.version}`);
    pipeline = new Pipeline(config, client, ffmpeg, log);
    for (const camera of config.cameras) pipeline.addCamera(camera);
    live = new LiveHub(pipeline);
    const app = createApp({
      client,
      pipeline,
      live,
      modelServer: { address: address.join(','), embedded: embedded !== undefined, ...(embedded ? { description: embedded.description } : {}) },
    });
    http = await listen(app, config.http.port, config.http.host);
    live.attach(http.server);
    const shownHost = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
    const url = `http://${shownHost}:${http.port}`;
    return { url, httpPort: http.port, modelServerAddress: address.join(','), embedded, client, pipeline, close };
  } catch (err) {
    await close();
    throw err;
  }
}
