// The camera-URL SSRF guard in a whole lookout (issue 18): cameras added or
// changed over the API may not make ffmpeg connect to this machine
// (loopback, its own addresses), to link-local addresses (169.254.169.254,
// the cloud metadata service) or to the unspecified address, unless
// allowedSourceNetworks allows them; names are checked at save time and
// again before every connection, and ffmpeg is given the address checked.
//
// A rebinding DNS server cannot run here, so the guard's resolver is
// replaced on the running lookout by a function that answers as one would:
// a public address while the URL is saved, 127.0.0.1 afterwards.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { RunningLookout } from '../../src/app.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import type { Logger } from '../../src/util/logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { prepareClip, skipRtsp, startRtspServer } from '../helpers/rtsp-server.js';
import { sleep, until } from '../helpers/wait.js';

const send = (url: string, method: string, body?: unknown) =>
  fetch(url, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

interface Warning { message: string; fields: Record<string, unknown> | undefined }

/** lookout with a logger that keeps its warnings. */
async function start(options: { allowedSourceNetworks?: string[] } = {}): Promise<{ lookout: RunningLookout; warnings: Warning[] }> {
  const warnings: Warning[] = [];
  const log: Logger = { info: () => undefined, warn: (message, fields) => { warnings.push({ message, fields }); }, error: () => undefined };
  const lookout = await startTestLookout({ ...options, store: false, detection: { detectFps: 1, liveFps: 0 }, log });
  return { lookout, warnings };
}

const status = (lookout: RunningLookout, id: string) => lookout.registry.view(id)?.status;

/** A TCP port on 127.0.0.1 that counts who connects to it. */
async function listener(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => { connections++; socket.destroy(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, connections: () => connections };
}

/** An address of this machine other than loopback (its LAN or container address), if it has one. */
const ownAddress = Object.values(os.networkInterfaces()).flat().find((n) => n && !n.internal && n.family === 'IPv4')?.address;

describe('camera URLs over the API (strict: no allowedSourceNetworks)', () => {
  it('refuses loopback, metadata, IPv6 loopback, a name resolving to loopback and its own address with 400 naming the URL, and logs who asked', async () => {
    const { lookout, warnings } = await start();
    const forbidden = [
      'rtsp://127.0.0.1:8554/x',
      'http://169.254.169.254/latest/meta-data',
      'rtsp://[::1]/x',
      'rtsp://localhost:8554/x',
      'rtsp://[::ffff:127.0.0.1]:8554/x',
      ...(ownAddress ? [`rtsp://${ownAddress}:554/x`] : []),
    ];
    for (const url of forbidden) {
      const res = await send(`${lookout.url}/api/cameras`, 'POST', { id: 'evil', url });
      const body = (await res.json()) as { error: string; key: string };
      expect(res.status, url).toBe(400);
      expect(body.error, url).toContain(`${url} targets `);
      expect(body.error).toMatch(/lookout does not fetch loopback, link-local or its own addresses for cameras added over the API unless allowedSourceNetworks allows them/);
      expect(body.key).toBe('url');
    }
    const metadata = (await (await send(`${lookout.url}/api/cameras`, 'POST', { id: 'evil', url: 'http://169.254.169.254/latest/meta-data' })).json()) as { error: string };
    expect(metadata.error).toContain('targets 169.254.169.254, a cloud metadata service address');
    const named = (await (await send(`${lookout.url}/api/cameras`, 'POST', { id: 'evil', url: 'rtsp://localhost:8554/x' })).json()) as { error: string };
    expect(named.error).toMatch(/targets localhost, which resolves to (127\.0\.0\.1|::1), a loopback address/);

    // The password never reaches the answer or the log.
    const secret = await send(`${lookout.url}/api/cameras`, 'POST', { id: 'evil', url: 'rtsp://admin:hunter2@127.0.0.1:8554/x' });
    expect(secret.status).toBe(400);
    expect(await secret.text()).toContain('rtsp://admin:***@127.0.0.1:8554/x targets 127.0.0.1');
    expect(JSON.stringify(warnings)).not.toContain('hunter2');
    // Every refusal is logged with the client's address and the user.
    expect(warnings).toHaveLength(forbidden.length + 3);
    const last = warnings.at(-1);
    expect(last?.message).toMatch(/^camera url refused: rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:8554\/x targets 127\.0\.0\.1/);
    expect(last?.fields).toMatchObject({ url: 'rtsp://admin:***@127.0.0.1:8554/x', client: expect.stringMatching(/127\.0\.0\.1/), user: expect.any(String) });

    expect(lookout.registry.cameraIds()).toEqual([]);
  });

  it('accepts LAN addresses (where cameras live), and refuses a PATCH that aims one at loopback, keeping its old URL', async () => {
    const { lookout, warnings } = await start();
    for (const [id, url] of [['lan10', 'rtsp://10.255.255.1:554/x'], ['lan192', 'http://192.168.255.1/video.mjpg']]) {
      expect((await send(`${lookout.url}/api/cameras`, 'POST', { id, url, timeoutMs: 1_000 })).status, url).toBe(201);
    }
    const patched = await send(`${lookout.url}/api/cameras/lan10`, 'PATCH', { url: 'rtsp://127.0.0.1:8554/x' });
    expect(patched.status).toBe(400);
    expect(((await patched.json()) as { error: string }).error).toContain('rtsp://127.0.0.1:8554/x targets 127.0.0.1, a loopback address');
    expect(warnings).toHaveLength(1);
    expect(lookout.registry.view('lan10')?.config.url).toBe('rtsp://10.255.255.1:554/x');
    // They only fail to connect later; that is fine. Take them away again.
    for (const id of ['lan10', 'lan192']) expect((await send(`${lookout.url}/api/cameras/${id}`, 'DELETE')).status).toBe(204);
  });

  it('takes a rebinding name at save time, then refuses it before ffmpeg connects, naming the address', async () => {
    const { lookout } = await start();
    const target = await listener();
    const asked: string[] = [];
    // Stands in for a rebinding DNS server: a public address first, loopback on every later lookup.
    lookout.registry.sourceGuard.resolve = async (host) => {
      asked.push(host);
      return asked.length === 1 ? ['203.0.113.9'] : ['127.0.0.1'];
    };
    const url = `rtsp://rebind.test:${target.port}/x`;
    expect((await send(`${lookout.url}/api/cameras`, 'POST', { id: 'rebind', url, timeoutMs: 1_000 })).status).toBe(201);
    await until(() => status(lookout, 'rebind')?.state === 'failed', 10_000);
    const s = status(lookout, 'rebind');
    expect(s?.lastError).toBe(`${url} targets rebind.test, which resolves to 127.0.0.1, a loopback address; lookout does not fetch loopback, link-local or its own addresses for cameras added over the API unless allowedSourceNetworks allows them`);
    // Shown as the user gave it; no ffmpeg ran, and nothing reached the port.
    expect(s?.url).toBe(url);
    expect(s?.pid).toBeUndefined();
    expect(asked).toEqual(['rebind.test', 'rebind.test']);
    await sleep(500);
    expect(target.connections()).toBe(0);
  });
});

const skip = skipRtsp();

describe.skipIf(skip)('camera URLs over the API with allowedSourceNetworks [127.0.0.0/8]', () => {
  it('streams a 127.0.0.1 RTSP camera added over the API, and one through a name, given to ffmpeg as the address checked', async () => {
    const { lookout } = await start({ allowedSourceNetworks: ['127.0.0.0/8'] });
    const server = await startRtspServer({ '/cam': prepareClip(BOTTLE_CLIP, 4) });
    onCleanup(() => server.stop());
    // ffmpeg could never resolve camera.test (.test is reserved): it streams only because it was given 127.0.0.1.
    lookout.registry.sourceGuard.resolve = async (host) => (host === 'camera.test' ? ['127.0.0.1'] : []);
    const named = `rtsp://camera.test:${server.port}/cam`;
    expect((await send(`${lookout.url}/api/cameras`, 'POST', { id: 'relay', url: server.url('/cam') })).status).toBe(201);
    expect((await send(`${lookout.url}/api/cameras`, 'POST', { id: 'named', url: named })).status).toBe(201);
    await until(() => status(lookout, 'relay')?.state === 'streaming' && status(lookout, 'named')?.state === 'streaming', 30_000);
    expect(status(lookout, 'named')?.url).toBe(named);
    const cameras = (await (await fetch(`${lookout.url}/api/cameras`)).json()) as { cameras: { id: string; status: { url: string } }[] };
    expect(cameras.cameras.find((c) => c.id === 'named')?.status.url).toBe(named);
    // ::1 is not in the list: still refused.
    expect((await send(`${lookout.url}/api/cameras`, 'POST', { id: 'v6', url: `rtsp://[::1]:${server.port}/cam` })).status).toBe(400);
  });
});

describe('an http camera through a name, allowed to 127.0.0.0/8', () => {
  it('sends the name in its Host header to the address checked, and follows no redirect', async () => {
    const { lookout } = await start({ allowedSourceNetworks: ['127.0.0.0/8'] });
    const elsewhere = await listener();
    const hosts: (string | undefined)[] = [];
    const camera = http.createServer((req, res) => {
      hosts.push(req.headers.host);
      res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/next` }).end();
    });
    await new Promise<void>((resolve) => camera.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => { camera.closeAllConnections(); camera.close(() => resolve()); }));
    const port = (camera.address() as net.AddressInfo).port;
    lookout.registry.sourceGuard.resolve = async () => ['127.0.0.1'];

    expect((await send(`${lookout.url}/api/cameras`, 'POST', { id: 'mjpeg', url: `http://camera.test:${port}/video.mjpg`, timeoutMs: 2_000 })).status).toBe(201);
    await until(() => hosts.length > 0 && status(lookout, 'mjpeg')?.lastError !== undefined, 20_000);
    expect(hosts[0]).toBe(`camera.test:${port}`);
    const ffmpeg = resolveFfmpeg();
    const knowsMaxRedirects = execFileSync(ffmpeg.path, ['-hide_banner', '-h', 'protocol=http'], { encoding: 'utf8' }).includes('-max_redirects');
    // The bundled 2018 build has no -max_redirects (README says so); any ffmpeg from 5.1 on has.
    if (knowsMaxRedirects) expect(elsewhere.connections()).toBe(0);
  });
});
