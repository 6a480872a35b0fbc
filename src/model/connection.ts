// The model server lookout talks to, for `serve` and for `detect`: TF Serving
// at the configured address (gRPC, or REST for an http:// address), or the embedded TF-Serving-compatible server
// started here on loopback. Either way the rest of lookout holds one gRPC
// client: one code path for both. close() closes the client, then the
// embedded server (its workers last).
import type { ModelServerConfig } from '../config/schema.js';
import { modelKey, type ModelChoice } from '../types.js';
import type { Logger } from '../util/logger.js';
import { ModelServer } from '../modelserver/server.js';
import { TfServingClient } from '../tfserving/client.js';
import type { ModelClient } from './client.js';
import { RestTfServingClient } from '../tfserving/rest-client.js';

export interface ModelConnection {
  /** The default model's client (modelServer.modelName, newest version). */
  client: ModelClient;
  /** The client of a model a camera names (null: the default), made once per name and version or label. */
  clientFor(choice: ModelChoice | null): ModelClient;
  /** The gRPC target(s) the client uses. */
  address: string[];
  embedded: ModelServer | undefined;
  close(): Promise<void>;
}

export async function connectModel(config: ModelServerConfig, minScore: number, log: Logger): Promise<ModelConnection> {
  let embedded: ModelServer | undefined;
  let address: string[];
  if (config.address) {
    address = config.address;
    log.info(`model server: TF Serving at ${address.join(', ')}, model "${config.modelName}"`);
  } else {
    const e = config.embedded;
    embedded = new ModelServer({
      modelName: config.modelName,
      model: e.model,
      modelBasePath: e.modelBasePath,
      workers: e.workers,
      workerNice: e.workerNice,
      maxQueue: e.maxQueue,
      scoreThreshold: e.scoreThreshold,
      latencyMs: e.latencyMs,
      capacity: e.capacity,
      log: (m) => log.info(`model server: ${m}`),
    });
    try {
      // Loopback only: the embedded server is lookout's own, not a service for the network.
      const port = await embedded.listen(0, '127.0.0.1');
      address = [`127.0.0.1:${port}`];
    } catch (err) {
      await embedded.close();
      throw err;
    }
    log.info(`model server: embedded, gRPC on ${address[0]}, loading ${embedded.description}`);
  }
  // http(s)://host:port: TF Serving's REST API (KServe's v1 protocol serves it too); else gRPC.
  const rest = address.length === 1 && /^https?:\/\//i.test(address[0]);
  const common = { signatureName: config.signatureName, deadlineMs: config.deadlineMs, minScore };
  const make = (choice: ModelChoice | null): ModelClient => {
    const spec = { modelName: choice?.name ?? config.modelName, ...(choice?.version !== undefined ? { version: choice.version } : {}), ...(choice?.label !== undefined ? { versionLabel: choice.label } : {}) };
    return rest ? new RestTfServingClient({ baseUrl: address[0], ...common, ...spec }) : new TfServingClient({ address, ...common, ...spec });
  };
  const client = make(null);
  const clients = new Map<string, ModelClient>([[modelKey(null, config.modelName), client]]);
  let closing: Promise<void> | undefined;
  return {
    client,
    clientFor: (choice) => {
      const key = modelKey(choice, config.modelName);
      let c = clients.get(key);
      if (!c) clients.set(key, (c = make(choice)));
      return c;
    },
    address,
    embedded,
    close: () => {
      closing ??= (async () => {
        for (const c of clients.values()) c.close();
        await embedded?.close();
      })();
      return closing;
    },
  };
}
