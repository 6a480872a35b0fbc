// The embedded model server in a child process for bench/model-batching.ts.
// It is forked rather than run through `lookout model-server` because the
// bench needs the batcher's own counts (batchingStats(): how many batches,
// how many frames in them), which the CLI does not print; the server is the
// same ModelServer the CLI builds, in its own process so the clients' gRPC
// work and the server's do not share one event loop.
//
// Protocol (IPC): argv[2] is the ModelServerOptions as JSON; the child sends
// { port } once the model is AVAILABLE, answers 'stats' with
// { stats: BatchingStats | null }, and closes the server and exits on 'stop'.
import { ModelServer, type ModelServerOptions } from '../src/modelserver/server.js';
import type { BatchingStats } from '../src/modelserver/batching.js';

export type ChildRequest = 'stats' | 'stop';
export type ChildMessage = { port: number } | { stats: BatchingStats | null } | { error: string };

const send = (m: ChildMessage): void => {
  process.send?.(m);
};

const options = JSON.parse(process.argv[2] ?? '{}') as ModelServerOptions;
const server = new ModelServer(options);
try {
  const port = await server.listen(0, '127.0.0.1');
  await server.loaded;
  send({ port });
} catch (err) {
  send({ error: (err as Error).message });
  process.exit(1);
}

process.on('message', (m: ChildRequest) => {
  if (m === 'stats') send({ stats: server.batchingStats() ?? null });
  if (m === 'stop') void server.close().finally(() => process.exit(0));
});
// The parent going away (an error, Ctrl+C) must not leave the server running.
process.on('disconnect', () => process.exit(0));
