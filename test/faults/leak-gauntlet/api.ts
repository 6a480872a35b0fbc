// The leak gauntlet's clients of lookout (leak-gauntlet.test.ts): its HTTP API
// as the run polls it, one request per connection so the polling itself holds
// nothing open in lookout, and the raw clients that hang up, stall or cut a
// request short.
import http from 'node:http';
import net from 'node:net';
import { until } from '../../helpers/wait.js';

export interface CameraJson {
  id: string;
  state: string;
  lastError: string | null;
  status: { pid?: number; decoderPids?: number[]; restarts: number; frames: { detect: number; live: number } };
  schedule?: { detected: number };
  live: { viewers: number; viewerSkipped: number; sent: number } | null;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** lookout's HTTP API on `httpPort`, as the gauntlet polls it and sends it faults. */
export function lookoutApi(httpPort: number) {
  // One request per connection (agent: false): the test's own polling leaves no idle keep-alive socket in lookout.
  const request = (method: string, urlPath: string, options: { headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent } = {}): Promise<Reply> =>
    new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: httpPort, method, path: urlPath, headers: options.headers, agent: options.agent ?? false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(options.body);
    });
  const getJson = async <T>(urlPath: string): Promise<T> => {
    const r = await request('GET', urlPath);
    if (r.status !== 200) throw new Error(`GET ${urlPath}: ${r.status} ${r.body.toString().slice(0, 200)}`);
    return JSON.parse(r.body.toString()) as T;
  };
  const cameras = async (): Promise<CameraJson[]> => (await getJson<{ cameras: CameraJson[] }>('/api/cameras')).cameras;
  const camera = async (id: string): Promise<CameraJson> => getJson<CameraJson>(`/api/cameras/${id}`);
  const describeCams = async (): Promise<string> => (await cameras()).map((c) => `${c.id} ${c.state} ${c.lastError ?? ''}`).join('; ');
  /** Waits until every camera of `ids` streams and has decoded `more` frames beyond what it had when called. */
  const streamingAgain = async (ids: string[], timeoutMs: number, what: string, more = 2): Promise<void> => {
    const before = new Map((await cameras()).map((c) => [c.id, c.status.frames.detect]));
    await until(async () => {
      const cams = await cameras();
      return ids.every((id) => {
        const c = cams.find((x) => x.id === id);
        return c !== undefined && c.state === 'streaming' && c.status.frames.detect > (before.get(id) ?? 0) + more;
      });
    }, timeoutMs, 250).catch(async (err: Error) => { throw new Error(`${what}: ${err.message}: ${await describeCams()}`); });
  };
  const detectedNow = async (): Promise<number> => (await cameras()).reduce((n, c) => n + (c.schedule?.detected ?? 0), 0);
  const readyz = async (): Promise<number> => (await request('GET', '/readyz')).status;
  return { port: httpPort, request, getJson, cameras, camera, describeCams, streamingAgain, detectedNow, readyz };
}

export type LookoutApi = ReturnType<typeof lookoutApi>;

/** Runs `jobs` at most `limit` at a time. */
export async function runLimited(jobs: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }));
}

/** Writes `chunks` on a fresh TCP connection, reads for `waitMs`, then destroys the socket. */
export function rawExchange(port: number, chunks: (string | Buffer)[], waitMs: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => { got += d.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      for (const c of chunks) socket.write(c);
      setTimeout(() => {
        socket.destroy();
        resolve(got);
      }, waitMs);
    });
  });
}

/** Starts a download and hangs up as soon as the first bytes of the body (or the headers) arrive. */
export function abandonedDownload(port: number, urlPath: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      res.once('data', () => { req.destroy(); resolve(status); });
      res.once('end', () => resolve(status));
      res.on('error', () => resolve(status));
    });
    req.on('error', () => resolve(0));
  });
}

/**
 * An MJPEG viewer that leaves mid-stream: 'first-chunk' hangs up on the first
 * bytes; 'stalled' stops reading for 1.5 s (the server must skip, not queue)
 * and then hangs up.
 */
export function mjpegClient(port: number, urlPath: string, how: 'first-chunk' | 'stalled'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`MJPEG ${urlPath}: ${res.statusCode}`));
        return;
      }
      res.once('data', () => {
        if (how === 'first-chunk') {
          req.destroy();
          resolve();
          return;
        }
        res.pause();
        setTimeout(() => { req.destroy(); resolve(); }, 1_500);
      });
    });
    req.on('error', (err) => { if (!req.destroyed) reject(err); });
  });
}
