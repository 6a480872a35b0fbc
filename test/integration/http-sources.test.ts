// Cameras that stream over HTTP: progressive MP4, HLS and MJPEG, served by a
// real HTTP server on port 0 and read by real ffmpeg.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Camera } from '../../src/ingest/camera.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { classifySource } from '../../src/ingest/source-url.js';
import { BOTTLE_CLIP, decodeFrameJpeg } from '../helpers/media.js';
import { prepareClip } from '../helpers/rtsp-server.js';
import { tempDir } from '../helpers/cleanup.js';

let server: http.Server;
let base: string;
let hlsDir: string;
const jpegs = [0, 30, 60].map((i) => decodeFrameJpeg(BOTTLE_CLIP, i));

beforeAll(async () => {
  // An HLS rendition of the clip: 2-second segments and a playlist.
  hlsDir = tempDir('lookout-hls-');
  const made = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-i', BOTTLE_CLIP, '-c', 'copy', '-t', '10', '-f', 'hls', '-hls_time', '2', '-hls_list_size', '0', path.join(hlsDir, 'live.m3u8')]);
  expect(made.status, made.stderr?.toString()).toBe(0);
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/clip.mp4') {
      // Progressive MP4 as web servers serve it: index first (faststart), read front to back.
      const clip = prepareClip(BOTTLE_CLIP, 1);
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': statSync(clip).size });
      createReadStream(clip).pipe(res);
    } else if (url.startsWith('/hls/')) {
      const file = path.join(hlsDir, path.basename(url));
      res.writeHead(200, { 'content-type': file.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t' });
      res.end(readFileSync(file));
    } else if (url === '/mjpeg') {
      // A camera's MJPEG endpoint: one JPEG part after another, 10 a second, until the client leaves.
      res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
      let i = 0;
      const timer = setInterval(() => {
        const jpeg = jpegs[i++ % jpegs.length];
        res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
        res.write(jpeg);
        res.write('\r\n');
      }, 100);
      res.on('close', () => clearInterval(timer));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Runs a camera on url until it has delivered n frames (or fails), and reports their size. */
async function firstFrames(url: string, n: number): Promise<{ width: number; height: number; count: number }> {
  let count = 0;
  let size = { width: 0, height: 0 };
  let done!: () => void;
  const enough = new Promise<void>((r) => { done = r; });
  const cam = new Camera({
    id: 'http', displayUrl: url, binary: resolveFfmpeg(),
    spec: { ...classifySource(url), rtspTransport: 'tcp', timeoutMs: 5_000, realtime: false, loop: false, detect: { fps: 0, maxWidth: 640, maxHeight: 640 } },
    onDetectFrame: (f) => {
      size = { width: f.width, height: f.height };
      if (++count === n) done();
    },
  });
  cam.start();
  try {
    await Promise.race([enough, new Promise((_, reject) => setTimeout(() => reject(new Error(`${url}: ${cam.status().lastError ?? 'no frames'}`)), 20_000))]);
  } finally {
    await cam.stop();
  }
  return { ...size, count };
}

describe('HTTP cameras', () => {
  it('reads progressive MP4', async () => {
    expect(await firstFrames(`${base}/clip.mp4`, 20)).toMatchObject({ width: 640, height: 360 });
  });

  it('reads HLS', async () => {
    expect(await firstFrames(`${base}/hls/live.m3u8`, 20)).toMatchObject({ width: 640, height: 360 });
  });

  it('reads an MJPEG stream', async () => {
    expect(await firstFrames(`${base}/mjpeg`, 5)).toMatchObject({ width: 640, height: 360 });
  });
});
