// What the world does to cameras: an RTSP server (GStreamer's, a real one)
// killed and restarted 20 times during a run, a camera that accepts the
// connection and then never answers, and a stream whose frame size changes
// mid-stream. Every camera must recover by itself, none may hold up another,
// and no ffmpeg may be left behind.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Camera } from '../../src/ingest/camera.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { classifySource } from '../../src/ingest/source-url.js';
import { BOTTLE_CLIP, PERSON_CLIP } from '../helpers/media.js';
import { prepareClip, skipRtsp, startRtspServer } from '../helpers/rtsp-server.js';
import { alive, sleep, until } from '../helpers/wait.js';
import { tempDir } from '../helpers/cleanup.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function camera(id: string, url: string, timeoutMs = 3_000) {
  const sizes = new Set<string>();
  let frames = 0;
  const cam = new Camera({
    id, displayUrl: url, binary: resolveFfmpeg(),
    spec: { ...classifySource(url), rtspTransport: 'tcp', timeoutMs, realtime: true, loop: true, detect: { fps: 5, maxWidth: 640, maxHeight: 640 } },
    onDetectFrame: (f) => {
      frames++;
      sizes.add(`${f.width}x${f.height}:${f.data.length}`);
    },
    backoff: { initialMs: 200, maxMs: 1_000, factor: 2, jitter: 0.2 },
  });
  cam.start();
  cleanup.push(() => cam.stop());
  return { cam, frames: () => frames, sizes };
}

describe.skipIf(skipRtsp())('RTSP server faults', () => {
  it('every camera recovers from 20 kills and restarts of the RTSP server, with no ffmpeg left behind', async () => {
    const server = await startRtspServer({ '/a': prepareClip(BOTTLE_CLIP, 4), '/b': prepareClip(PERSON_CLIP, 2) });
    cleanup.push(() => server.stop());
    const cams = [camera('a', server.url('/a')), camera('b', server.url('/b'))];
    const pids = new Set<number>();
    await until(() => cams.every((c) => c.frames() >= 3), 30_000);
    for (let round = 1; round <= 20; round++) {
      for (const c of cams) {
        const pid = c.cam.status().pid;
        if (pid) pids.add(pid);
      }
      await server.kill();
      await until(() => cams.every((c) => c.cam.status().state !== 'streaming'), 15_000);
      await server.restart();
      const before = cams.map((c) => c.frames());
      await until(() => cams.every((c, i) => c.cam.status().state === 'streaming' && c.frames() > before[i] + 2), 30_000)
        .catch((err: Error) => { throw new Error(`round ${round}: ${err.message}: ${cams.map((c) => `${c.cam.status().id} ${c.cam.status().state} ${c.cam.status().lastError ?? ''}`).join('; ')}`); });
    }
    expect(cams.every((c) => c.cam.status().restarts >= 20)).toBe(true);
    // Every ffmpeg of the killed rounds is gone; only the current ones run.
    const current = new Set(cams.map((c) => c.cam.status().pid));
    for (const pid of pids) if (!current.has(pid)) expect(alive(pid), `ffmpeg ${pid}`).toBe(false);
  }, 600_000);
});

describe('camera faults', () => {
  it('a camera that accepts the connection and never answers does not delay the others', async () => {
    // A TCP server that takes RTSP connections and says nothing, ever.
    const sockets = new Set<net.Socket>();
    const mute = net.createServer((s) => { sockets.add(s); s.on('error', () => undefined); });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); mute.close(() => r()); }));
    const port = (mute.address() as net.AddressInfo).port;
    const silent = camera('silent', `rtsp://127.0.0.1:${port}/stream`, 1_500);
    const file = camera('file', BOTTLE_CLIP);
    await until(() => file.frames() >= 5, 20_000);
    // The silent camera times out, restarts and times out again; the file camera never waits for it.
    await until(() => silent.cam.status().restarts >= 2, 20_000);
    expect(silent.frames()).toBe(0);
    expect(['reconnecting', 'starting', 'failed']).toContain(silent.cam.status().state);
    const before = file.frames();
    await sleep(2_000);
    // 5 fps for 2 s: about 10 frames; at least 7 on a loaded machine.
    expect(file.frames() - before).toBeGreaterThanOrEqual(7);
  }, 60_000);

  it('a stream whose frame size changes mid-stream keeps its frames whole and the camera running', async () => {
    // 640x360, then a square 432x432 section, then 640x360 again, in one MPEG-TS stream.
    const dir = tempDir('lookout-resize-');
    const ffmpeg = resolveFfmpeg().path;
    const part = (input: string, vf: string, out: string) => {
      const r = spawnSync(ffmpeg, ['-v', 'error', '-y', '-i', input, '-t', '2', '-an', '-vf', vf, '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', out]);
      expect(r.status, r.stderr.toString()).toBe(0);
    };
    part(BOTTLE_CLIP, 'null', path.join(dir, 'a.ts'));
    part(PERSON_CLIP, 'crop=432:432', path.join(dir, 'b.ts'));
    const joined = path.join(dir, 'joined.ts');
    const cat = spawnSync('sh', ['-c', `cat a.ts b.ts a.ts > joined.ts`], { cwd: dir });
    expect(cat.status).toBe(0);
    const cam = camera('resize', joined);
    // Two passes over the 6 s stream (it loops): every frame whole, of one size, no restart needed.
    await until(() => cam.frames() >= 45, 40_000);
    expect([...cam.sizes]).toEqual([`640x360:${640 * 360 * 3}`]);
    expect(cam.cam.status().state).toBe('streaming');
  }, 60_000);
});
