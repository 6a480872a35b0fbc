// Real model servers on free ports, closed by the test that started them.
import { ModelServer, type ModelServerOptions } from '../../src/modelserver/server.js';

export interface StartedServer {
  server: ModelServer;
  address: string;
  port: number;
}

export async function startModelServer(options: ModelServerOptions, host = '127.0.0.1', port = 0): Promise<StartedServer> {
  const server = new ModelServer(options);
  const bound = await server.listen(port, host);
  await server.loaded;
  return { server, port: bound, address: `${host}:${bound}` };
}

export function synthetic(extra: Partial<ModelServerOptions> = {}): ModelServerOptions {
  return { model: 'synthetic', latencyMs: 5, capacity: 4, ...extra };
}
