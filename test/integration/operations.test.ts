// Running lookout for real: the access token on every route and the
// WebSocket, the origin check, and /metrics as Prometheus reads it. A real
// lookout (ffmpeg on a bundled clip, the synthetic model over real gRPC).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningLookout } from '../../src/app.js';
import { sameSecret } from '../../src/http/auth.js';
import { packageRoot } from '../../src/util/paths.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

const TOKEN = 'correct-horse-battery-staple-42';
let lookout: RunningLookout;
let base: string;

beforeAll(async () => {
  lookout = await startTestLookout({
    auth: { token: TOKEN },
    modelServer: { embedded: { latencyMs: 10 } },
    detection: { detectFps: 5, liveFps: 10, minScore: 0.3 },
    cameras: [{ id: 'shelf', url: BOTTLE_CLIP, loop: true }],
  });
  base = lookout.url;
  await until(() => lookout.registry.view('shelf')?.latest !== undefined);
});

const bearer = { authorization: `Bearer ${TOKEN}` };

function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=shelf`, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => undefined);
  });
}

describe('access token', () => {
  it('refuses every route without it, and serves them with it; the probes stay open', async () => {
    const routes: [string, string][] = [
      ['GET', '/api/model'], ['GET', '/api/cameras'], ['GET', '/api/cameras/shelf'], ['GET', '/api/cameras/shelf/snapshot.jpg'],
      ['GET', '/api/detections'], ['GET', '/api/events'], ['GET', '/api/store'], ['GET', '/metrics'],
      ['GET', '/api/events/x/snapshot.jpg'], ['POST', '/api/detect'], ['GET', '/'], ['GET', '/index.html'], ['GET', '/app.js'],
      ['GET', '/api/nope'], ['GET', '/api/cameras/shelf/stream.mjpeg'],
    ];
    for (const [method, route] of routes) {
      const res = await fetch(`${base}${route}`, { method, redirect: 'manual' });
      expect(res.status, `${method} ${route}`).toBe(401);
      await res.body?.cancel();
    }
    for (const route of ['/api/cameras', '/api/detections', '/metrics', '/api/cameras/shelf/snapshot.jpg']) {
      const res = await fetch(`${base}${route}`, { headers: bearer });
      expect(res.status, route).toBe(200);
      await res.body?.cancel();
    }
    // A wrong token of any length is refused alike.
    for (const wrong of ['x', TOKEN.slice(0, -1), `${TOKEN}x`, '']) {
      expect((await fetch(`${base}/api/cameras`, { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${base}/readyz`)).status);
  });

  it('sends a browser to the login page, whose cookie then opens the page, the API and the WebSocket', async () => {
    const page = await fetch(`${base}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('login.html');
    expect(await (await fetch(`${base}/login.html`)).text()).toMatch(/access token/i);

    // The old form's field (token); a form post that fails goes back to the page, saying why.
    const wrong = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: 'guess-guess-guess-guess' }), redirect: 'manual' });
    expect(wrong.status).toBe(303);
    expect(wrong.headers.get('location')).toBe('login.html?error=401');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const right = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
    expect(right.status).toBe(303);
    const cookie = (right.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie).toMatch(/^lookout_session=/);
    expect(cookie).not.toContain(TOKEN);
    expect(right.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await fetch(`${base}/api/cameras`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/`, { headers: { cookie } })).status).toBe(200);

    expect(await upgrade({})).toBe(401);
    expect(await upgrade({ cookie: 'lookout_session=forged' })).toBe(401);
    expect(await upgrade({ cookie })).toBe(101);
    expect(await upgrade(bearer)).toBe(101);
    // Another site's page, even with the user's cookie, may not open it.
    expect(await upgrade({ cookie, origin: 'https://evil.example' })).toBe(403);
    expect(await upgrade({ cookie, origin: base })).toBe(101);
  });

  it('survives cookies it cannot decode: refused without them, served with a good session beside them', async () => {
    const login = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
    const session = (login.headers.get('set-cookie') ?? '').split(';')[0];
    // A malformed escape in another app's cookie, or in ours, on the WebSocket
    // upgrade (where a throw is uncaught) and on a route (where it was a 500).
    for (const bad of ['other=%E0', 'lookout_session=%E0%A4%A', 'a=%; b=%zz']) {
      expect(await upgrade({ cookie: bad })).toBe(401);
      expect((await fetch(`${base}/api/cameras`, { headers: { cookie: bad } })).status).toBe(401);
      expect(await upgrade({ cookie: `${bad}; ${session}` })).toBe(101);
      expect((await fetch(`${base}/api/cameras`, { headers: { cookie: `${bad}; ${session}` } })).status).toBe(200);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('takes the token in the URL only for snapshots, MJPEG and recorded clips (players that take only a URL)', async () => {
    expect((await fetch(`${base}/api/cameras/shelf/snapshot.jpg?access_token=${TOKEN}`)).status).toBe(200);
    expect((await fetch(`${base}/api/cameras?access_token=${TOKEN}`)).status).toBe(401);
    const controller = new AbortController();
    const mjpeg = await fetch(`${base}/api/cameras/shelf/stream.mjpeg?access_token=${TOKEN}`, { signal: controller.signal });
    expect(mjpeg.status).toBe(200);
    controller.abort();
    // Recorded clips too (VLC, Home Assistant); nothing recorded this far back, so past auth it is a 404, not a 401.
    expect((await fetch(`${base}/api/recordings/shelf/clip.mp4?since=1000&until=2000&access_token=${TOKEN}`)).status).toBe(404);
    expect((await fetch(`${base}/api/recordings/shelf/clip.mp4?since=1000&until=2000`)).status).toBe(401);
    expect((await fetch(`${base}/api/recordings?access_token=${TOKEN}`)).status).toBe(401);
  });

  it('compares secrets whatever their lengths', () => {
    expect(sameSecret(TOKEN, TOKEN)).toBe(true);
    expect(sameSecret('', TOKEN)).toBe(false);
    expect(sameSecret(`${TOKEN}${TOKEN}`, TOKEN)).toBe(false);
  });
});

describe('/metrics', () => {
  interface Family { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }[] }

  it('scrapes cleanly with a Prometheus text-format parser, with per-camera figures', async () => {
    // One viewer, so the live counters move.
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=shelf`, { headers: bearer });
    await new Promise((r) => ws.once('message', r));
    await until(async () => {
      const text = await (await fetch(`${base}/metrics`, { headers: bearer })).text();
      const inferences = Number(/lookout_camera_inferences_total\{camera="shelf"\} (\d+)/.exec(text)?.[1] ?? 0);
      return /lookout_live_frames_sent_total\{camera="shelf"\} [1-9]/.test(text) && inferences >= 10;
    }, 20_000);
    ws.terminate();
    const res = await fetch(`${base}/metrics`, { headers: bearer });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await res.text()) as Family[];
    const family = (name: string) => families.find((f) => f.name === name) as Family;
    const value = (name: string, labels: Record<string, string>) =>
      Number(family(name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);

    expect(family('lookout_camera_fps').type).toBe('GAUGE');
    expect(value('lookout_camera_fps', { camera: 'shelf', kind: 'live' })).toBeGreaterThan(3);
    expect(value('lookout_camera_fps', { camera: 'shelf', kind: 'detect' })).toBeGreaterThan(1);
    expect(value('lookout_camera_state', { camera: 'shelf', state: 'streaming' })).toBe(1);
    expect(value('lookout_camera_state', { camera: 'shelf', state: 'failed' })).toBe(0);
    expect(family('lookout_camera_frames_dropped_total').type).toBe('COUNTER');
    expect(family('lookout_camera_frames_dropped_total').metrics.map((m) => m.labels?.reason).sort()).toEqual(['busy', 'error', 'modelDown', 'stale', 'superseded']);
    expect(value('lookout_camera_inferences_total', { camera: 'shelf' })).toBeGreaterThan(3);
    expect(value('lookout_model_server_state', { state: 'closed' })).toBe(1);
    expect(value('lookout_live_bytes_sent_total', { camera: 'shelf' })).toBeGreaterThan(10_000);
    const latency = family('lookout_inference_latency_seconds');
    expect(latency.type).toBe('HISTOGRAM');
    // (This parser keeps a histogram's buckets only: the +Inf bucket is its count.)
    expect(Number(latency.metrics[0].buckets?.['+Inf'])).toBeGreaterThan(3);
    // The synthetic model answers after 10 ms: every call is over 5 ms and nearly all under 250 ms.
    expect(Number(latency.metrics[0].buckets?.['0.005'])).toBe(0);
    expect(family('lookout_queue_wait_seconds').type).toBe('HISTOGRAM');
    expect(Number(family('lookout_store_detections_written_total').metrics[0].value)).toBeGreaterThan(0);
    expect(family('lookout_process_resident_memory_bytes')).toBeDefined();

    // The Grafana dashboard asks only for metrics that exist.
    const dashboard = readFileSync(path.join(packageRoot, 'grafana/lookout-dashboard.json'), 'utf8');
    const asked = new Set([...dashboard.matchAll(/lookout_[a-z0-9_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
    for (const name of asked) expect(family(name), name).toBeDefined();
  });
});
