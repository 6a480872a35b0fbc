// The leak gauntlet's faults (leak-gauntlet.test.ts) that need nothing of the
// run but lookout's API and what they aim at: WebSocket clients by the hundred,
// hundreds of bad requests, cameras added, changed and deleted. Each repeats
// its fault many times over, checks what it must on the way, and returns how
// many it made, for the summary.
import http from 'node:http';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { RtspServer } from '../../helpers/rtsp-server.js';
import { alive, until } from '../../helpers/wait.js';
import { abandonedDownload, rawExchange, runLimited, type LookoutApi, type Reply } from './api.js';

/** 200 WebSocket clients come and go; malformed messages; broken handshakes. */
export async function webSocketFaults(api: LookoutApi, wsBase: string, cameraIds: string[]): Promise<{ wsClients: number; junkSent: number; connections: number }> {
  const { cameras, port: httpPort } = api;
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
  return { wsClients, junkSent, connections: wsClients + 6 + rawFaults.length * 4 };
}

/** A few hundred bad API requests; returns how many were sent. */
export async function badRequestFaults(api: LookoutApi, fileClip: string, jpeg: Buffer): Promise<number> {
  const { request, getJson, port: httpPort } = api;
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
  return badRequests;
}

/** What the camera changes aim at: a file, an RTSP mount of their own, a port that refuses and one that never answers. */
export interface ChurnTargets {
  fileClip: string;
  rtsp: RtspServer;
  refusedPort: number;
  mutePort: number;
  /** The cameras of the config, which must be all that is left. */
  cameraIds: string[];
}

/** Cameras added, changed and deleted through the API, 3 rounds; returns how many changes were made. */
export async function cameraChurn(api: LookoutApi, targets: ChurnTargets): Promise<number> {
  const { request, cameras, camera, streamingAgain } = api;
  const { fileClip, rtsp, refusedPort, mutePort, cameraIds } = targets;
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
  return cameraChanges;
}
