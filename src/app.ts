// Wires `lookout serve` together and owns its shutdown order: the HTTP server
// first (no new work), then the model-server client, then the embedded model
// server (its workers last).
import type { LookoutConfig } from './config.js';
import type { Logger } from './log.js';
import { ModelServer } from './modelserver/server.js';
import { TfServingClient } from './tfserving/client.js';
import { createApp, listen, type HttpServer } from './http/server.js';

export interface RunningLookout {
  url: string;
  httpPort: number;
  modelServerAddress: string;
  embedded: ModelServer | undefined;
  client: TfServingClient;
  close(): Promise<void>;
}

export async function startLookout(config: LookoutConfig, log: Logger): Promise<RunningLookout> {
  let embedded: ModelServer | undefined;
  let client: TfServingClient | undefined;
  let http: HttpServer | undefined;
  const close = async (): Promise<void> => {
    await http?.close();
    client?.close();
    await embedded?.close();
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
    const app = createApp({
      client,
      modelServer: { address: address.join(','), embedded: embedded !== undefined, ...(embedded ? { description: embedded.description } : {}) },
    });
    http = await listen(app, config.http.port, config.http.host);
    const shownHost = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
    const url = `http://${shownHost}:${http.port}`;
    return { url, httpPort: http.port, modelServerAddress: address.join(','), embedded, client, close };
  } catch (err) {
    await close();
    throw err;
  }
}
