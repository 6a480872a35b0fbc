// The RTSP test camera itself: ffmpeg can read it, and it comes back on the
// same port after a crash, which the reconnect tests rely on.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { skipRtsp, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';

const FRAME_BYTES = 640 * 360 * 3;

/** `frames` RGB frames read from `url` by ffmpeg over RTSP/TCP. */
function readFrames(url: string, frames: number, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ff = spawn(resolveFfmpeg().path, [
      '-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (d: Buffer) => chunks.push(d));
    ff.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => ff.kill('SIGKILL'), timeoutMs);
    ff.on('error', reject);
    ff.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(chunks));
      else reject(new Error(`ffmpeg ${url} ended with ${code ?? signal}: ${err}`));
    });
  });
}

/** rtsp-server.py processes that are children of this test process. */
function ourServers(): string {
  return spawnSync('pgrep', ['-a', '-P', String(process.pid), '-f', 'rtsp-server.py'], { encoding: 'utf8' }).stdout.trim();
}

const skip = skipRtsp();

describe.skipIf(skip)('RTSP test server', () => {
  let server: RtspServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('serves a clip to ffmpeg, survives kill + restart on the same port, and leaves no process behind', async () => {
    server = await startRtspServer({ '/cam': BOTTLE_CLIP });
    const url = server.url('/cam');
    expect(url).toBe(`rtsp://127.0.0.1:${server.port}/cam`);

    expect((await readFrames(url, 30)).length).toBe(30 * FRAME_BYTES);

    // Crash it while a client is streaming, as a camera going down mid-stream;
    // the client's connection leaves the port in TIME_WAIT for the restart.
    const watching = readFrames(url, 300).then((b) => b.length, () => -1);
    await new Promise((r) => setTimeout(r, 1_000));
    await server.kill();
    expect(ourServers()).toBe('');
    expect(await watching).toBeLessThan(300 * FRAME_BYTES);
    await expect(readFrames(url, 1, 5_000)).rejects.toThrow();

    const started = Date.now();
    await server.restart();
    console.log(`rtsp-server.py restarted on port ${server.port} in ${Date.now() - started} ms`);
    expect(server.url('/cam')).toBe(url);
    expect((await readFrames(url, 30)).length).toBe(30 * FRAME_BYTES);

    await server.stop();
    await server.stop(); // idempotent
    expect(ourServers()).toBe('');
  });
});
