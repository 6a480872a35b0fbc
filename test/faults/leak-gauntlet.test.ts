// "After all of it, nothing has leaked." ONE real `lookout serve` (the built
// CLI, a config file in a temp dir) runs two RTSP cameras from GStreamer's
// RTSP server, one looping file camera, an external model server (a second
// `lookout model-server` process, so it can be SIGKILLed and brought back on
// its port) and the detection log. After a warm-up that touches every path
// once (viewers, MJPEG, snapshots, /api/detect, the log, /metrics) its
// descriptors, threads, RSS and child processes are the baseline. Then it
// takes a compressed run of every fault: RTSP server killed and restarted,
// model server killed and restarted, WebSocket clients by the hundred
// (polite, vanishing, malformed, too big, never reading), hundreds of bad
// API requests, cameras added, changed and deleted (one that refuses, one
// that never answers), MJPEG readers that hang up, snapshots. Once it has
// settled, what it holds must be what it held at the baseline, and SIGTERM
// must leave no ffmpeg anywhere.
//
// Why this catches leaks: each fault repeats (3 RTSP kills × 2 cameras, 2
// model kills, 200+ WebSocket clients, ~280 bad requests, 30 camera
// add/patch/deletes, 20 MJPEG readers), so anything a fault forgets to close
// (a socket, a pipe, ffmpeg's live-frame socket server, a child, a thread)
// shows up many times over at the end, far past the slack. Checked by hand on
// a private copy of the build (dist/) with a leak put in, this file run
// against it, the copy then thrown away:
// - FfmpegProcess never closing its live-frame socket server (one listening
//   unix socket per ffmpeg run) → fails: descriptors 46 → 79, the message
//   naming "unix live-N.sock: 6 → 39";
// - CameraRegistry.updateCamera dropping the old camera without stopping it → fails:
//   9 ffmpeg children for 3 cameras, the message listing the 6 strays' argv.
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mediaDir } from '../../src/util/paths.js';
import { startCli, type RunningChild } from '../helpers/child.js';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import { BOTTLE_CLIP, decodeFrameJpeg, PERSON_CLIP } from '../helpers/media.js';
import { allProcs, kindDiff, isFfmpeg, processFigures, type ProcessFigures, type ProcInfo } from '../helpers/procfs.js';
import { prepareClip, skipRtsp, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';
import { alive, sleep, until } from '../helpers/wait.js';

/**
 * Descriptors the end may hold beyond the baseline without it being a leak:
 * one or two short-lived ones that come and go with normal work at any
 * instant (the retention check's or a snapshot write's file, an HTTP
 * connection the test's own poll just opened, grpc-js's reconnect socket
 * while it swaps channels). A real leak from these faults is one per round
 * of a fault at least, so tens.
 */
const FD_SLACK = 3;
/**
 * Threads come in two sorts. lookout's own (all named "node" here: the main
 * thread, V8's platform threads, libuv's pool, the store's writer thread, any
 * worker thread) are fixed once warmed up: not one may be added. libvips
 * (sharp, which draws and encodes the live frames) keeps a shared pool of
 * "libvips worker" threads that, by design, grows with how many images are
 * being made at once and shrinks when idle (sharp's docs), each with pango's
 * "[pango] fontconfig" thread beside it (a font map per thread, for the
 * labels). That pool is not lookout's to close, and its size at any instant
 * follows the load just before: seen here from 4 to 11 at the same point of
 * the run. So it is held to its bound, not to the baseline: sharp runs its
 * work in libuv's pool (4 at once), and each image takes at most a few
 * libvips threads (its workers at sharp's concurrency, 1 here, a write-behind
 * thread, the overlay's own render), so 4 per libuv thread. A leak would be
 * one per client, request or round: hundreds, far past it.
 */
const IMAGE_POOL_THREADS = new Set(['libvips worker', '[pango] fontcon']);
const IMAGE_POOL_CAP = 4 * Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/** Threads past what the rules above allow, as "kind: a → b". */
function threadGrowth(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.entries(after)
    .filter(([kind, n]) => n > (IMAGE_POOL_THREADS.has(kind) ? Math.max(before[kind] ?? 0, IMAGE_POOL_CAP) : before[kind] ?? 0))
    .map(([kind, n]) => `${kind}: ${before[kind] ?? 0} → ${n}`);
}

const skip = skipRtsp();

interface CameraJson {
  id: string;
  state: string;
  lastError: string | null;
  status: { pid?: number; restarts: number; frames: { detect: number; live: number } };
  schedule?: { detected: number };
  live: { viewers: number; viewerSkipped: number; sent: number } | null;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

describe.skipIf(skip)('the leak gauntlet', () => {
  it('takes every fault in one run and ends holding what it held after warm-up: descriptors, threads, one ffmpeg per camera, none after SIGTERM', async () => {
    const startedAt = Date.now();
    const phases: string[] = [];
    let phaseStart = Date.now();
    const phase = (name: string): void => {
      const now = Date.now();
      phases.push(`${name} ${((now - phaseStart) / 1000).toFixed(1)} s`);
      // As it goes, so a run that fails midway still shows how far it got.
      console.log(`leak gauntlet: ${phases[phases.length - 1]}`);
      phaseStart = now;
    };

    // ---- Setup: RTSP cameras, the model server, the config, lookout ----
    // Removed last (cleanups run in reverse), once lookout no longer writes there.
    const dir = tempDir('lookout-leak-');
    // The file camera reads a copy in this test's folder, so its ffmpeg names the folder.
    const fileClip = path.join(dir, 'shelf.mp4');
    copyFileSync(BOTTLE_CLIP, fileClip);
    // Long enough (4 and 4.6 minutes) that no stream ends by itself during the run.
    // /c is for the cameras the API adds: GStreamer's shared media stalls its other clients for
    // seconds when one joins or leaves, so an added camera gets a mount of its own.
    const rtsp: RtspServer = await startRtspServer({ '/a': prepareClip(BOTTLE_CLIP, 6), '/b': prepareClip(PERSON_CLIP, 2), '/c': prepareClip(BOTTLE_CLIP, 6) });
    onCleanup(() => rtsp.stop());

    let modelPort = 0;
    const startModel = async (): Promise<RunningChild> => {
      const child = startCli(['model-server', '--model', 'synthetic', '--host', '127.0.0.1', '--port', String(modelPort), '--latency-ms', '5', '--capacity', '4']);
      onCleanup(() => child.stop('SIGKILL'));
      const [, port] = await child.waitFor(/gRPC listening on 127\.0\.0\.1:(\d+)/, 30_000);
      modelPort = Number(port);
      return child;
    };
    let model = await startModel();

    // A port nothing listens on (connection refused), and one that accepts and never answers.
    const refusedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const muteSockets = new Set<net.Socket>();
    const mute = net.createServer((s) => { muteSockets.add(s); s.on('error', () => undefined); });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    onCleanup(() => new Promise<void>((r) => { for (const s of muteSockets) s.destroy(); mute.close(() => r()); }));
    const mutePort = (mute.address() as net.AddressInfo).port;

    const cameraIds = ['rtsp-a', 'rtsp-b', 'file'];
    const configFile = path.join(dir, 'lookout.yaml');
    writeFileSync(configFile, JSON.stringify({
      http: { host: '127.0.0.1', port: 0 },
      store: { path: path.join(dir, 'lookout.db') },
      modelServer: { address: `127.0.0.1:${modelPort}`, modelName: 'detector', deadlineMs: 2_000 },
      scheduler: { maxInFlight: 4 },
      // Light on a shared 2-core machine: small detection frames, a modest live rate.
      detection: { detectFps: 3, liveFps: 5, size: '320x320', liveSize: '640x360', minScore: 0.3 },
      fileRoots: [dir, mediaDir],
      cameras: [
        { id: 'rtsp-a', url: rtsp.url('/a'), timeoutMs: 3_000 },
        { id: 'rtsp-b', url: rtsp.url('/b'), timeoutMs: 3_000 },
        { id: 'file', url: fileClip, loop: true },
      ],
    }));
    const lookout = startCli(['serve', '--config', configFile], {}, dir);
    const pid = lookout.child.pid;
    if (pid === undefined) throw new Error('lookout has no pid');
    // What marks an ffmpeg as this test's lookout's, even once orphaned: its
    // live-frame socket lives in lookout's runtime folder, /tmp/lookout-<pid>-XXXXXX
    // (the exact one once an ffmpeg has named it: a folder left by an earlier
    // process with the same pid must not count); the rest name this test's RTSP
    // server, file, or refusing and mute ports.
    let runtimeDir: string | undefined;
    const markers = (): string[] => [runtimeDir ?? `/lookout-${pid}-`, `127.0.0.1:${rtsp.port}`, dir, `127.0.0.1:${refusedPort}`, `127.0.0.1:${mutePort}`];
    const ours = (p: ProcInfo): boolean => p.cmdline.some((arg) => markers().some((m) => arg.includes(m)));
    onCleanup(async () => {
      // If the run failed midway: SIGTERM first, since a SIGKILLed lookout cannot stop its
      // ffmpeg (its exit hook never runs), then take away whatever of ours is left on this shared machine.
      if (lookout.child.exitCode === null && lookout.child.signalCode === null) {
        lookout.child.kill('SIGTERM');
        await Promise.race([lookout.exited, sleep(15_000)]);
      }
      await lookout.stop('SIGKILL');
      for (const p of allProcs().filter((x) => isFfmpeg(x) && ours(x))) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    });
    const [, baseUrl] = await lookout.waitFor(/lookout listening on (http:\/\/\S+)/, 30_000);
    const httpPort = Number(new URL(baseUrl).port);
    const wsBase = baseUrl.replace('http', 'ws');
    const figures = (): ProcessFigures => processFigures(pid, { http: httpPort, model: modelPort });

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
    const ffmpegChildren = (f: ProcessFigures): ProcInfo[] => f.children.filter(isFfmpeg);
    /** A gauge from a /metrics text, for the summary (V8's heap: RSS alone cannot tell a JS leak from the allocator's habits). */
    const gauge = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    phase('setup');

    // ---- Warm-up: every path used once, so lazily made pools and threads exist at the baseline ----
    await streamingAgain(cameraIds, 60_000, 'warm-up', 5);
    await until(async () => (await readyz()) === 200, 30_000, 250);
    await until(async () => (await detectedNow()) > 15, 30_000, 250);
    // The well-behaved viewer stays for the whole run (it is in the baseline and at the end).
    let viewerFrames = 0;
    const viewer = new WebSocket(`${wsBase}/ws?${cameraIds.map((id) => `camera=${id}`).join('&')}`);
    viewer.on('message', (_d, binary) => { if (binary) viewerFrames++; });
    viewer.on('error', () => undefined);
    onCleanup(() => viewer.terminate());
    await new Promise((r) => viewer.once('open', r));
    await until(() => viewerFrames > 10, 20_000);
    for (const id of cameraIds) expect((await request('GET', `/api/cameras/${id}/snapshot.jpg`)).headers['content-type']).toBe('image/jpeg');
    await mjpegClient(httpPort, '/api/cameras/file/stream.mjpeg', 'first-chunk');
    const jpeg = decodeFrameJpeg(BOTTLE_CLIP, 10);
    expect((await request('POST', '/api/detect', { headers: { 'content-type': 'image/jpeg' }, body: jpeg })).status).toBe(200);
    await until(async () => (await getJson<{ writer: { written: number } }>('/api/store')).writer.written > 20, 30_000, 250);
    expect((await request('GET', '/api/detections?limit=5')).status).toBe(200);
    // Let the warm-up's connections close and its transient work finish, then read the baseline.
    await sleep(3_000);
    const baseline = figures();
    const baselineMetrics = await request('GET', '/metrics');
    expect(baselineMetrics.status).toBe(200);
    expect(ffmpegChildren(baseline)).toHaveLength(3);
    runtimeDir = ffmpegChildren(baseline).flatMap((p) => p.cmdline).map((arg) => /^unix:(.*\/lookout-\d+-[^/]+)\/live-\d+\.sock$/.exec(arg)?.[1]).find((d) => d !== undefined);
    expect(runtimeDir, 'the live-frame socket in an ffmpeg argv').toBeDefined();
    phase('warm-up');

    // ---- Fault: the RTSP server SIGKILLed and restarted, 3 times ----
    const rtspRounds = 3;
    for (let round = 1; round <= rtspRounds; round++) {
      const restartsBefore = new Map((await cameras()).map((c) => [c.id, c.status.restarts]));
      await rtsp.kill();
      // Straight back, as a rebooted camera would be: the cameras find it on their first retry,
      // which keeps their backoff (1, 2, 4… s, reset only by a minute of streaming) short.
      await rtsp.restart();
      await until(async () => (await cameras()).filter((c) => c.id.startsWith('rtsp-')).every((c) => c.status.restarts > (restartsBefore.get(c.id) ?? 0)), 15_000, 100)
        .catch(async (err: Error) => { throw new Error(`RTSP round ${round}, the kill unnoticed: ${err.message}: ${await describeCams()}`); });
      await streamingAgain(['rtsp-a', 'rtsp-b'], 45_000, `RTSP round ${round}`);
    }
    phase(`RTSP kill ×${rtspRounds}`);

    // ---- Fault: the model server SIGKILLed and restarted on its port, twice ----
    const modelRounds = 2;
    for (let round = 1; round <= modelRounds; round++) {
      await model.stop('SIGKILL');
      await until(async () => (await readyz()) === 503, 15_000, 250);
      model = await startModel();
      const detected = await detectedNow();
      await until(async () => (await readyz()) === 200 && (await detectedNow()) > detected + 5, 45_000, 250)
        .catch(async (err: Error) => { throw new Error(`model round ${round}: ${err.message}: readyz ${await readyz()}`); });
    }
    phase(`model kill ×${modelRounds}`);

    // ---- Fault: 200 WebSocket clients come and go; malformed messages; broken handshakes ----
    const wsClients = 200;
    for (let batch = 0; batch < wsClients / 50; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${wsBase}/ws?camera=${cameraIds[i % 3]}`);
        ws.once('error', reject);
        ws.once('open', () => {
          // Half leave politely (close handshake), half vanish (socket destroyed).
          if (i % 2) ws.close();
          else ws.terminate();
          resolve();
        });
      })));
    }
    const junk: (string | Buffer)[] = [
      '', 'not json', '{', '[]', 'null', '42', '"subscribe"', '\u0000'.repeat(64),
      JSON.stringify({ type: 'subscribe' }),
      JSON.stringify({ type: 'subscribe', cameras: 'rtsp-a' }),
      JSON.stringify({ type: 'subscribe', cameras: [1, 2] }),
      JSON.stringify({ type: 'subscribe', cameras: Array.from({ length: 300 }, () => 'x') }),
      JSON.stringify({ type: 'subscribe', cameras: ['nope', '../../etc/passwd'] }),
      JSON.stringify({ type: 'unsubscribe', cameras: ['rtsp-a'] }),
      JSON.stringify({ type: 'subscribe', cameras: cameraIds }),
      JSON.stringify({ type: 'subscribe', cameras: [] }),
      JSON.stringify({ type: 'subscribe', cameras: ['file'] }),
      Buffer.from([0, 1, 2, 255, 254]),
    ];
    let junkSent = 0;
    for (let c = 0; c < 6; c++) {
      const ws = new WebSocket(`${wsBase}/ws`);
      ws.on('error', () => undefined);
      await new Promise((r) => ws.once('open', r));
      for (let rep = 0; rep < 3; rep++) {
        for (const m of junk) {
          ws.send(m, { binary: Buffer.isBuffer(m) });
          junkSent++;
        }
      }
      // The last two send a message over the 64 KB limit: the server closes them (1009).
      if (c >= 4) {
        const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
        ws.send('x'.repeat(200_000));
        expect(await closed).toBe(1009);
      } else if (c % 2) ws.close();
      else ws.terminate();
    }
    // Handshakes gone wrong, on raw sockets.
    const upgrade = (urlPath: string, key = 'dGhlIHNhbXBsZSBub25jZQ=='): string =>
      `GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`;
    const rawFaults: { send: (string | Buffer)[]; waitMs: number }[] = [
      { send: [upgrade('/ws', 'bad')], waitMs: 1_000 }, // refused by ws: 400
      { send: [upgrade('/elsewhere')], waitMs: 1_000 }, // not /ws: 404
      { send: [upgrade('/ws?camera=file')], waitMs: 0 }, // gone before the 101 is read
      { send: [upgrade('/ws?camera=file').slice(0, 40)], waitMs: 200 }, // gone mid-headers
      // Upgraded, then a frame with a reserved opcode and no mask: the server fails the connection (1002).
      { send: [upgrade('/ws?camera=rtsp-a'), Buffer.from([0x83, 0x00])], waitMs: 1_000 },
    ];
    await Promise.all(Array.from({ length: 4 }, () => rawFaults.map((f) => rawExchange(httpPort, f.send, f.waitMs))).flat());
    // Every client of those has left the feeds: only the well-behaved viewer remains.
    await until(async () => (await cameras()).every((c) => c.live?.viewers === 1), 15_000, 250)
      .catch(async (err: Error) => { throw new Error(`${err.message}: viewers ${(await cameras()).map((c) => `${c.id}=${c.live?.viewers}`).join(' ')}`); });
    phase(`WebSocket ×${wsClients + 6 + rawFaults.length * 4}`);

    // ---- A WebSocket client that never reads, for 10 s, while the rest runs ----
    const slow = new WebSocket(`${wsBase}/ws?${cameraIds.map((id) => `camera=${id}`).join('&')}`);
    slow.on('error', () => undefined);
    await new Promise((r) => slow.once('open', r));
    slow.pause();
    const slowSince = Date.now();
    const skippedBefore = (await cameras()).reduce((n, c) => n + (c.live?.viewerSkipped ?? 0), 0);

    // ---- Fault: a few hundred bad API requests ----
    const statuses = new Map<number | string, number>();
    const count = (s: number | string): void => { statuses.set(s, (statuses.get(s) ?? 0) + 1); };
    // Some of these travel over kept-alive connections, as a browser's would.
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const badQueries = [
      'limit=-1', 'limit=abc', 'limit=99999999', 'since=notadate', 'until=1e400', 'since=5&until=1', 'minScore=2', 'minScore=NaN',
      'cursor=%25%25%25', 'cursor=eyJ9', 'format=xml', `camera=${'c'.repeat(5000)}`, 'label=%27%3BDROP%20TABLE%20detections%3B--', 'camera=%00',
      'limit=1&limit=2', 'format=csv&limit=0',
    ];
    const traversal = [
      '/../../../../etc/passwd', '/..%2f..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/index.html/../../package.json',
      '/..%5c..%5cpackage.json', '/api/events/..%2f..%2f..%2fetc%2fpasswd/snapshot.jpg', '/api/events/1/../../../../etc/passwd',
      '/api/cameras/..%2F..%2Fetc%2Fpasswd/snapshot.jpg', '/api/cameras/..%2F..%2Fetc/stream.mjpeg', '/%00', '/api/%2e%2e/%2e%2e/etc/passwd',
    ];
    const badBodies = ['{', 'null', '[]', '"x"', '[1,2', '\u0000', JSON.stringify({ id: '../etc', url: fileClip }),
      JSON.stringify({ id: 'evil', url: '/etc/passwd' }), JSON.stringify({ id: 'evil', url: 'concat:/etc/passwd|/etc/hosts' }),
      JSON.stringify({ id: 'evil', url: 'rtsp://[::1' }), JSON.stringify({ id: 'x'.repeat(100), url: fileClip }),
      JSON.stringify({ id: 'rtsp-a', url: fileClip }), JSON.stringify({ id: 'evil', url: fileClip, detectFps: 'fast' }),
      JSON.stringify({ id: 'evil', url: fileClip, extra: true }), JSON.stringify({ id: 'evil', url: '-i /etc/passwd' })];
    const jobs: (() => Promise<void>)[] = [];
    const expectNoLeakOfFile = (r: Reply, what: string): void => {
      expect(r.body.toString(), what).not.toMatch(/root:.*:0:0:|"name": "lookout"/);
    };
    for (let rep = 0; rep < 3; rep++) {
      for (const q of badQueries) {
        for (const route of ['detections', 'events']) jobs.push(async () => { count((await request('GET', `/api/${route}?${q}`, { agent: keepAlive })).status); });
      }
      for (const p of traversal) jobs.push(async () => { const r = await request('GET', p, { agent: keepAlive }); count(r.status); expectNoLeakOfFile(r, p); });
      for (const b of badBodies) jobs.push(async () => { count((await request('POST', '/api/cameras', { agent: keepAlive, headers: { 'content-type': 'application/json' }, body: b })).status); });
      jobs.push(async () => { count((await request('POST', '/api/cameras', { agent: keepAlive, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'big', url: 'x'.repeat(100_000) }) })).status); });
      for (const [method, p, body] of [
        ['PATCH', '/api/cameras/nope', '{}'], ['PATCH', '/api/cameras/rtsp-a', JSON.stringify({ id: 'other' })],
        ['PATCH', '/api/cameras/rtsp-a', JSON.stringify({ detectFps: 'fast' })], ['PATCH', '/api/cameras/rtsp-a', '[]'],
        ['DELETE', '/api/cameras/nope', ''], ['DELETE', '/api/cameras/..%2F..%2Fetc', ''], ['GET', '/api/nope', ''],
        ['GET', '/api/cameras/nope', ''], ['GET', '/api/cameras/nope/snapshot.jpg', ''], ['GET', '/api/cameras/nope/stream.mjpeg', ''],
        ['GET', '/api/events/nope', ''], ['GET', '/api/events/nope/snapshot.jpg', ''], ['PROPFIND', '/', ''], ['OPTIONS', '/api/cameras', ''],
        ['HEAD', '/api/cameras', ''], ['PUT', '/api/cameras', '{}'],
      ] as const) {
        jobs.push(async () => { count((await request(method, p, { agent: keepAlive, headers: { 'content-type': 'application/json' }, body })).status); });
      }
      jobs.push(async () => { count((await request('POST', '/api/detect', { agent: keepAlive, headers: { 'content-type': 'text/plain' }, body: 'hello' })).status); });
      jobs.push(async () => { count((await request('POST', '/api/detect', { agent: keepAlive, headers: { 'content-type': 'image/jpeg' }, body: Buffer.alloc(2_000, 7) })).status); });
      jobs.push(async () => { count((await request('POST', '/api/detect', { agent: keepAlive, headers: { 'content-type': 'image/jpeg' }, body: jpeg.subarray(0, jpeg.length / 2) })).status); });
      jobs.push(async () => { count((await request('GET', '/api/cameras', { agent: keepAlive, headers: { 'x-big': 'h'.repeat(20_000) } }).catch(() => ({ status: 'reset' }))).status); });
      // A body over the 20 MB image limit: refused (413) or the connection cut while the rest is still being sent.
      jobs.push(async () => {
        const r = await request('POST', '/api/detect', { headers: { 'content-type': 'image/jpeg' }, body: Buffer.alloc(21 * 1024 * 1024) }).catch(() => ({ status: 'reset' }));
        count(r.status);
      });
      // Exports left mid-stream, and event snapshots dropped as soon as their headers arrive.
      for (const format of ['jsonl', 'csv', 'jsonl', 'csv']) jobs.push(async () => { count(await abandonedDownload(httpPort, `/api/detections?format=${format}`)); });
      jobs.push(async () => {
        const events = await getJson<{ events: { id: string }[] }>('/api/events?limit=5');
        for (const e of events.events) count(await abandonedDownload(httpPort, `/api/events/${encodeURIComponent(e.id)}/snapshot.jpg`));
      });
      // Raw sockets: a request cut off mid-headers, a body shorter than announced, a request line that is not HTTP.
      jobs.push(async () => { await rawExchange(httpPort, ['GET /api/cameras HTTP/1.1\r\nHost: x\r\nX-Half: '], 200); count('raw'); });
      jobs.push(async () => { await rawExchange(httpPort, ['POST /api/cameras HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"id":"half"'], 300); count('raw'); });
      jobs.push(async () => { await rawExchange(httpPort, ['\u0001\u0002 not http at all\r\n\r\n'], 500); count('raw'); });
    }
    await runLimited(jobs, 8);
    keepAlive.destroy();
    const badRequests = [...statuses.values()].reduce((a, b) => a + b, 0);
    // Bad input is a 4xx (or a cut connection for the oversized body), never a server error.
    expect([...statuses.keys()].filter((s) => typeof s === 'number' && s >= 500 && s !== 503), JSON.stringify([...statuses])).toEqual([]);
    phase(`bad requests ×${badRequests}`);

    // ---- Fault: cameras added, changed and deleted through the API, 3 rounds ----
    const closedPids: number[] = [];
    const addCamera = async (body: object): Promise<void> => {
      const r = await request('POST', '/api/cameras', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status, r.body.toString()).toBe(201);
    };
    const deleteCamera = async (id: string): Promise<void> => {
      const pidBefore = (await camera(id)).status.pid;
      expect((await request('DELETE', `/api/cameras/${id}`)).status).toBe(204);
      // DELETE answers once the camera's ffmpeg has exited.
      if (pidBefore !== undefined) closedPids.push(pidBefore);
    };
    let cameraChanges = 0;
    const adminRounds = 3;
    for (let round = 1; round <= adminRounds; round++) {
      await addCamera({ id: 'tmp-file', url: fileClip, loop: true, detectFps: 2, liveFps: 2 });
      await addCamera({ id: 'tmp-rtsp', url: rtsp.url('/c'), timeoutMs: 2_000, detectFps: 2 });
      await addCamera({ id: 'tmp-refused', url: `rtsp://127.0.0.1:${refusedPort}/none`, timeoutMs: 1_000 });
      // A long read timeout: its ffmpeg is still hanging on the silent connection when it is deleted.
      await addCamera({ id: 'tmp-mute', url: `rtsp://127.0.0.1:${mutePort}/none`, timeoutMs: 30_000 });
      await streamingAgain(['tmp-file', 'tmp-rtsp'], 30_000, `added cameras, round ${round}`, 1);
      // A change restarts a camera's ffmpeg with the new settings. The RTSP one is
      // deleted while its new ffmpeg is still connecting; the file one first streams again.
      for (const id of ['tmp-file', 'tmp-rtsp']) {
        const patched = await request('PATCH', `/api/cameras/${id}`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ detectFps: 1 }) });
        expect(patched.status, patched.body.toString()).toBe(200);
      }
      await streamingAgain(['tmp-file'], 30_000, `patched camera, round ${round}`, 1);
      await until(async () => (await camera('tmp-refused')).status.restarts >= 1, 15_000, 250);
      for (const id of ['tmp-mute', 'tmp-rtsp', 'tmp-file', 'tmp-refused']) await deleteCamera(id);
      cameraChanges += 10;
    }
    expect((await cameras()).map((c) => c.id)).toEqual(cameraIds);
    for (const p of closedPids) expect(alive(p), `ffmpeg ${p} of a deleted camera`).toBe(false);
    phase(`camera add/patch/delete ×${cameraChanges}`);

    // ---- Fault: MJPEG readers that hang up mid-stream; snapshots ----
    const mjpegReaders = 20;
    await Promise.all(Array.from({ length: mjpegReaders }, (_, i) =>
      mjpegClient(httpPort, `/api/cameras/${cameraIds[i % 3]}/stream.mjpeg`, i % 2 ? 'first-chunk' : 'stalled')));
    const snapshots = 30;
    for (let i = 0; i < snapshots; i++) {
      const r = await request('GET', `/api/cameras/${cameraIds[i % 3]}/snapshot.jpg`);
      expect(r.headers['content-type']).toBe('image/jpeg');
    }
    phase(`MJPEG ×${mjpegReaders}, snapshots ×${snapshots}`);

    // The reader that never read: its 10 s are up; it goes, and the good viewer still gets frames.
    await sleep(Math.max(0, 10_000 - (Date.now() - slowSince)));
    const skippedDuring = (await cameras()).reduce((n, c) => n + (c.live?.viewerSkipped ?? 0), 0) - skippedBefore;
    slow.terminate();
    const framesBefore = viewerFrames;
    await until(() => viewerFrames > framesBefore + 5, 10_000);

    // ---- Settle: cameras streaming, clients gone, then the end figures ----
    await streamingAgain(cameraIds, 30_000, 'settle');
    await until(async () => (await cameras()).every((c) => c.live?.viewers === 1), 15_000, 250);
    await sleep(3_000);
    // Transient descriptors (a keep-alive socket timing out, a snapshot being written) get up to 20 s to go.
    let end = figures();
    await until(() => {
      end = figures();
      return end.fds <= baseline.fds + FD_SLACK && threadGrowth(baseline.threadKinds, end.threadKinds).length === 0;
    }, 20_000, 500).catch(() => undefined);
    const camsAtEnd = await cameras();
    const metrics = await request('GET', '/metrics');
    phase('settle');

    const endFfmpeg = ffmpegChildren(end);
    const strays = allProcs().filter((p) => isFfmpeg(p) && ours(p) && p.ppid !== pid);
    // RSS and V8's heap are reported, not judged: two minutes cannot tell growth from warm-up
    // (V8 sizes its heap lazily, glibc keeps freed memory in per-thread arenas); the soak
    // (npm run soak) watches memory over hours.
    const mb = (kb: number): string => (kb / 1024).toFixed(0);
    const heapBase = gauge(baselineMetrics.body.toString(), 'lookout_nodejs_heap_size_used_bytes');
    const heapEnd = gauge(metrics.body.toString(), 'lookout_nodejs_heap_size_used_bytes');
    const summary = [
      `leak gauntlet: lookout pid ${pid}; ${rtspRounds} RTSP kills, ${modelRounds} model kills, ${wsClients} WebSocket clients + ${junkSent} malformed messages,`,
      `  1 non-reading client for 10 s (${skippedDuring} frames skipped for it), ${badRequests} bad requests, ${cameraChanges} camera changes, ${mjpegReaders} MJPEG hang-ups, ${snapshots} snapshots`,
      `                 baseline   end`,
      `  descriptors    ${String(baseline.fds).padEnd(10)} ${end.fds}`,
      `  threads        ${String(baseline.threads).padEnd(10)} ${end.threads}`,
      `  RSS MB         ${mb(baseline.rssKb).padEnd(10)} ${mb(end.rssKb)}`,
      `  V8 heap MB     ${mb(heapBase / 1024).padEnd(10)} ${mb(heapEnd / 1024)}`,
      `  ffmpeg         ${String(ffmpegChildren(baseline).length).padEnd(10)} ${endFfmpeg.length}`,
      `  other children ${String(baseline.children.length - ffmpegChildren(baseline).length).padEnd(10)} ${end.children.length - endFfmpeg.length}`,
      `  descriptor kinds that differ: ${kindDiff(baseline.fdKinds, end.fdKinds).join('; ') || 'none'}`,
      `  thread kinds that differ: ${kindDiff(baseline.threadKinds, end.threadKinds).join('; ') || 'none'}`,
      `  threads at end: ${Object.entries(end.threadKinds).map(([k, n]) => `${k} ×${n}`).join(', ')}`,
      `  descriptors at end: ${Object.entries(end.fdKinds).map(([k, n]) => `${k} ×${n}`).join(', ')}`,
      `  phases: ${phases.join(', ')}`,
    ];
    console.log(summary.join('\n'));

    // ---- The verdict ----
    // Exactly one ffmpeg per camera, each the one the camera reports, and no other child
    // (first: a stray ffmpeg also holds descriptors, and this says which it is).
    const cameraPids = camsAtEnd.map((c) => c.status.pid).filter((p): p is number => p !== undefined).sort((a, b) => a - b);
    const extra = endFfmpeg.filter((p) => !cameraPids.includes(p.pid)).map((p) => `${p.pid}: ${p.cmdline.join(' ')}`);
    expect(endFfmpeg.map((p) => p.pid).sort((a, b) => a - b), `ffmpeg no camera owns:\n${extra.join('\n')}`).toEqual(cameraPids);
    expect(cameraPids).toHaveLength(3);
    expect(end.children.filter((p) => !isFfmpeg(p)).map((p) => p.cmdline.join(' '))).toEqual([]);
    // Descriptors and threads back to the baseline (within the slack explained at the top).
    expect(end.fds, `descriptors: ${kindDiff(baseline.fdKinds, end.fdKinds).join('; ')}`).toBeLessThanOrEqual(baseline.fds + FD_SLACK);
    expect(threadGrowth(baseline.threadKinds, end.threadKinds), `threads by kind: ${kindDiff(baseline.threadKinds, end.threadKinds).join('; ')}`).toEqual([]);
    // No ffmpeg of ours anywhere else (orphaned, re-parented to init or a subreaper).
    expect(strays.map((p) => `${p.pid} (parent ${p.ppid}): ${p.cmdline.join(' ')}`)).toEqual([]);
    // Orphaned ffmpeg that are not ours are not this test's business, but worth a word.
    const otherOrphans = allProcs().filter((p) => isFfmpeg(p) && p.ppid === 1 && !ours(p));
    if (otherOrphans.length > 0) console.warn(`ffmpeg orphans not from this test: ${otherOrphans.map((p) => p.pid).join(', ')}`);
    // /metrics still scrapes, and its descriptor gauge agrees with /proc (give or take the scrape's own connection).
    expect(metrics.status).toBe(200);
    const text = metrics.body.toString();
    expect(text).toMatch(/^lookout_cameras 3$/m);
    const scrapedFds = gauge(text, 'lookout_process_open_fds');
    expect(Math.abs(scrapedFds - end.fds), `lookout_process_open_fds ${scrapedFds}, /proc ${end.fds}`).toBeLessThanOrEqual(FD_SLACK);

    // ---- SIGTERM: exit 0, and nothing of lookout's left running ----
    const viewerClosed = new Promise<number>((r) => viewer.once('close', (code) => r(code)));
    lookout.child.kill('SIGTERM');
    expect(await lookout.exited).toBe(0);
    expect(await viewerClosed).toBe(1001);
    for (const p of endFfmpeg) expect(alive(p.pid), `ffmpeg ${p.pid} after SIGTERM`).toBe(false);
    const left = allProcs().filter((p) => isFfmpeg(p) && ours(p));
    expect(left.map((p) => `${p.pid} (parent ${p.ppid}): ${p.cmdline.join(' ')}`)).toEqual([]);
    // Its private runtime folder (ffmpeg wrapper, live-frame sockets) went with it.
    expect(runtimeDir !== undefined && existsSync(runtimeDir), `${runtimeDir} after exit`).toBe(false);
    console.log(`leak gauntlet: SIGTERM → exit 0, no ffmpeg left; whole run ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  }, 300_000);
});

/** Runs `jobs` at most `limit` at a time. */
async function runLimited(jobs: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }));
}

/** Writes `chunks` on a fresh TCP connection, reads for `waitMs`, then destroys the socket. */
function rawExchange(port: number, chunks: (string | Buffer)[], waitMs: number): Promise<string> {
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
function abandonedDownload(port: number, urlPath: string): Promise<number> {
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
function mjpegClient(port: number, urlPath: string, how: 'first-chunk' | 'stalled'): Promise<void> {
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
