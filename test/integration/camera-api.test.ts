// Cameras added, changed and removed over REST while lookout runs, with real
// ffmpeg behind them, and the changes still there after a restart.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningLookout } from '../../src/app.js';
import { tempDir } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP, PERSON_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

/** lookout with its detection log (and so its cameras.json) in `dir`, to be started again on it. */
function start(dir: string): Promise<RunningLookout> {
  return startTestLookout({
    store: path.join(dir, 'lookout.db'),
    modelServer: { embedded: { latencyMs: 10 } },
    detection: { detectFps: 2, liveFps: 5 },
    cameras: [{ id: 'fromfile', url: BOTTLE_CLIP, loop: true }],
    // The password test's camera is on 127.0.0.1 (a closed port), which the SSRF guard refuses over the API unless allowed.
    allowedSourceNetworks: ['127.0.0.0/8'],
  });
}

const send = (url: string, method: string, body?: unknown) =>
  fetch(url, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
const ids = async (base: string) => ((await (await fetch(`${base}/api/cameras`)).json()) as { cameras: { id: string }[] }).cameras.map((c) => c.id).sort();

describe('camera REST API', () => {
  it('adds a camera that streams at once, changes and removes cameras, and keeps the changes across a restart', async () => {
    const dir = tempDir('lookout-cams-');
    const first = await start(dir);
    const base = first.url;

    const added = await send(`${base}/api/cameras`, 'POST', { id: 'hall', url: PERSON_CLIP, loop: true, detectFps: 3 });
    expect(added.status).toBe(201);
    expect(added.headers.get('location')).toBe('api/cameras/hall');
    expect(await ids(base)).toEqual(['fromfile', 'hall']);
    // It streams without a restart: a viewer gets its frames.
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=hall`);
    let frames = 0;
    ws.on('message', (_d, binary) => { if (binary) frames++; });
    await until(() => frames >= 3, 30_000);
    ws.terminate();

    const changed = await send(`${base}/api/cameras/hall`, 'PATCH', { detectFps: 1, labels: ['person'] });
    expect(changed.status).toBe(200);
    const body = (await changed.json()) as { settings: { detectFps: number; labels: string[] } };
    expect(body.settings).toMatchObject({ detectFps: 1, labels: ['person'] });
    // record is merged key by key: the mode changes, the seconds stay.
    expect((await send(`${base}/api/cameras/hall`, 'PATCH', { record: { preSeconds: 8 } })).status).toBe(200);
    expect((await send(`${base}/api/cameras/hall`, 'PATCH', { record: { mode: 'continuous' } })).status).toBe(200);
    const rec = ((await (await fetch(`${base}/api/cameras/hall`)).json()) as { recording: { mode: string } }).recording;
    expect(rec.mode).toBe('continuous');

    expect((await send(`${base}/api/cameras/fromfile`, 'DELETE')).status).toBe(204);
    expect((await send(`${base}/api/cameras/fromfile`, 'DELETE')).status).toBe(404);
    expect(await ids(base)).toEqual(['hall']);
    const saved = JSON.parse(readFileSync(path.join(dir, 'cameras.json'), 'utf8')) as { removed: string[]; cameras: Record<string, { detectFps: number }> };
    expect(saved.removed).toEqual(['fromfile']);
    expect(saved.cameras.hall.detectFps).toBe(1);
    await first.close();

    const second = await start(dir);
    expect(await ids(second.url)).toEqual(['hall']);
    expect(second.registry.view('hall')?.config).toMatchObject({ detectFps: 1, labels: ['person'], loop: true, record: { mode: 'continuous', preSeconds: 8, postSeconds: 5 } });
  });

  it('refuses bad cameras with a 4xx that names what is wrong, and starts none of them', async () => {
    const dir = tempDir('lookout-cams-');
    const { url: base } = await start(dir);
    const refuse = async (method: string, route: string, body: unknown, status: number, pattern: RegExp) => {
      const res = await send(`${base}${route}`, method, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(pattern);
    };
    await refuse('POST', '/api/cameras', { id: 'x', url: BOTTLE_CLIP, detectFPS: 5 }, 400, /detectFPS: unknown key/);
    await refuse('POST', '/api/cameras', { id: 'x', url: BOTTLE_CLIP, detectFps: 500 }, 400, /detectFps: must be between/);
    await refuse('POST', '/api/cameras', { id: '../x', url: BOTTLE_CLIP }, 400, /id: expected 1 to 64 letters/);
    await refuse('POST', '/api/cameras', { id: 'x', url: '/etc/passwd' }, 400, /url: file \/etc\/passwd is outside the allowed folders/);
    await refuse('POST', '/api/cameras', { id: 'x', url: 'concat:a|b' }, 400, /url: protocol "concat:" is not allowed/);
    await refuse('POST', '/api/cameras', { id: 'x', url: '-i /etc/passwd' }, 400, /url: url starts with "-"/);
    await refuse('POST', '/api/cameras', { id: 'fromfile', url: BOTTLE_CLIP }, 409, /already exists/);
    await refuse('POST', '/api/cameras', '{"id": "x", ', 400, /JSON|Unexpected|Expected/);
    await refuse('POST', '/api/cameras', ['x'], 400, /expected a mapping/);
    await refuse('PATCH', '/api/cameras/fromfile', { id: 'other' }, 400, /id: cannot be changed/);
    await refuse('PATCH', '/api/cameras/fromfile', { minScore: 'high' }, 400, /minScore: expected a number/);
    await refuse('PATCH', '/api/cameras/nope', { minScore: 0.5 }, 404, /no camera "nope"/);
    await refuse('PATCH', '/api/cameras/fromfile', { record: { mode: 'always' } }, 400, /record\.mode: expected one of off, events, continuous/);
    await refuse('POST', '/api/cameras', { id: 'x', url: BOTTLE_CLIP, record: { segmentSeconds: 0 } }, 400, /record\.segmentSeconds: must be between 1 and 600/);
    // A camera's password never comes back out of the API.
    const secret = await send(`${base}/api/cameras`, 'POST', { id: 'gate', url: 'rtsp://admin:hunter2secret@127.0.0.1:9/stream', timeoutMs: 1000 });
    expect(secret.status).toBe(201);
    expect(await secret.text()).not.toContain('hunter2secret');
    await until(async () => ((await (await fetch(`${base}/api/cameras/gate`)).json()) as { state: string }).state !== 'starting', 15_000);
    const all = await (await fetch(`${base}/api/cameras`)).text();
    expect(all).toContain('rtsp://admin:***@127.0.0.1:9/stream');
    expect(all).not.toContain('hunter2secret');
    expect((await send(`${base}/api/cameras/gate`, 'DELETE')).status).toBe(204);
    const big = await send(`${base}/api/cameras`, 'POST', { id: 'x', url: BOTTLE_CLIP, labels: Array(40_000).fill('person') });
    expect(big.status).toBe(413);
    expect(await ids(base)).toEqual(['fromfile']);
  });

  it('takes camera changes one at a time, and refuses a flood of them with 429 rather than queueing it', async () => {
    const dir = tempDir('lookout-cams-');
    const { url: base } = await start(dir);
    // Each PATCH restarts the camera's ffmpeg, so they pile up behind each other.
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => send(`${base}/api/cameras/fromfile`, 'PATCH', { minScore: 0.3 + i / 100 }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    // The last change that went through is the one kept, and the camera streams.
    const saved = JSON.parse(readFileSync(path.join(dir, 'cameras.json'), 'utf8')) as { cameras: Record<string, { minScore: number }> };
    const running = (await (await fetch(`${base}/api/cameras/fromfile`)).json()) as { settings: { minScore: number } };
    expect(saved.cameras.fromfile.minScore).toBeGreaterThan(0.3);
    expect(running.settings.minScore).toBe(saved.cameras.fromfile.minScore);
    expect((await send(`${base}/api/cameras/fromfile`, 'PATCH', { minScore: 0.5 })).status).toBe(200);
  });
});
