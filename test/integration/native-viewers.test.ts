// Native viewers who cannot keep up, and cameras browsers cannot play as
// they are: a WebSocket viewer that stops reading skips to the next keyframe
// (told how many fragments it missed) while another keeps every fragment,
// and lookout holds no more for it than the bound; an MJPEG or MPEG-4 part 2
// camera is transcoded once to H.264. No ffmpeg is left after any test.
import dc from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_NATIVE_BUFFER } from '../../src/live/native.js';
import { tempDir } from '../helpers/cleanup.js';
import { childrenOf, isFfmpeg } from '../helpers/procfs.js';
import {
  captureHttp, lookoutWithoutLeftovers, makeClip, NativeClient, type MediaHeader, probeFrames, probeStream, saveCapture, skipWithoutFfprobe,
} from '../helpers/native-stream.js';
import { until } from '../helpers/wait.js';

const skip = skipWithoutFfprobe('the native viewer tests');
const start = lookoutWithoutLeftovers();

interface NativeStats { viewers: number; sent: number; skipped: number; bytesSent: number }
interface CameraJson {
  id: string;
  status: { video: { codec: string; transcoded: boolean; from: string; width: number; height: number } | null };
  live: { native: NativeStats } | null;
}

/** Where a viewer's fragments jump without saying so: each one follows the one before, or is a keyframe whose `skipped` is the gap. */
function unannounced(media: MediaHeader[]): string[] {
  return media.slice(1).flatMap((m, i) => {
    const gap = m.seq - media[i].seq - 1;
    if (gap === (m.skipped ?? 0) && (gap === 0 || m.keyframe)) return [];
    return [`seq ${media[i].seq} → ${m.seq}${m.keyframe ? ' (keyframe)' : ''}, skipped: ${String(m.skipped)}`];
  });
}

async function camera(base: string, id: string): Promise<CameraJson | undefined> {
  const body = (await (await fetch(`${base}/api/cameras`)).json()) as { cameras: CameraJson[] };
  return body.cameras.find((c) => c.id === id);
}

/** The server's end of every TCP connection accepted in this process, by the client's port. */
function serverSockets(): { byClientPort: Map<number, Socket>; stop: () => void } {
  const byClientPort = new Map<number, Socket>();
  const onSocket = (message: unknown): void => {
    const { socket } = message as { socket: Socket };
    if (socket.remotePort !== undefined) byClientPort.set(socket.remotePort, socket);
  };
  dc.subscribe('net.server.socket', onSocket);
  return { byClientPort, stop: () => dc.unsubscribe('net.server.socket', onSocket) };
}

describe.skipIf(skip)('native viewers', () => {
  it('a viewer that stops reading skips to a keyframe, told how many it missed; the other misses nothing; lookout holds a bounded backlog', async () => {
    const dir = tempDir('lookout-native-');
    // 1280x720, 30 fps, ~8 Mbit/s (noise does not compress), a keyframe a second: the bound is reached in seconds.
    const clip = makeClip(dir, 'busy.mp4', [
      '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30,noise=alls=30:allf=t', '-t', '6',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-b:v', '8M', '-maxrate', '8M', '-bufsize', '4M', '-pix_fmt', 'yuv420p',
    ]);
    const sockets = serverSockets();
    const lookout = await start({ cameras: [{ id: 'busy', url: clip, loop: true, detectFps: 2 }] }, [dir]);
    try {
      const fast = await NativeClient.connect(lookout.url, '?camera=busy&video=native');
      await until(() => fast.media.length >= 10);
      const before = (await camera(lookout.url, 'busy'))?.live?.native.skipped ?? 0;
      // The slow one stops reading at once: its kernel buffers stay small (they grow only for a reader that keeps up).
      const slow = await NativeClient.connect(lookout.url, '?camera=busy&video=native');
      slow.ws.pause();
      const pausedAt = Date.now();
      const fastBefore = fast.media.length;
      const server = sockets.byClientPort.get(slow.localPort);
      const fastServer = sockets.byClientPort.get(fast.localPort);
      expect(server, 'lookout\'s socket for the slow viewer').toBeDefined();
      let most = 0;
      let fastMost = 0;
      let overSince: number | undefined;
      const sampler = setInterval(() => {
        most = Math.max(most, server?.writableLength ?? 0);
        fastMost = Math.max(fastMost, fastServer?.writableLength ?? 0);
        if (most > MAX_NATIVE_BUFFER) overSince ??= Date.now();
      }, 5);
      // Paused until lookout's buffer for it has been at the bound for 2 s (at most 12 s: the heartbeat would drop it at 15).
      await until(() => (overSince !== undefined && Date.now() - overSince > 2_000) || Date.now() - pausedAt > 12_000, 15_000, 50);
      clearInterval(sampler);
      const pausedFor = Date.now() - pausedAt;
      const receivedWhilePaused = slow.media.length;
      const fastWhilePaused = fast.media.length - fastBefore;
      slow.ws.resume();
      await until(() => slow.media.some((m) => m.skipped !== undefined), 10_000);
      await until(() => slow.media.length > receivedWhilePaused + 60, 10_000);

      // Neither viewer has a gap it was not told of, and each one it was told of ends on a keyframe.
      expect(unannounced(fast.media), 'the fast viewer').toEqual([]);
      expect(unannounced(slow.media), 'the slow viewer').toEqual([]);
      // The fast one kept getting every fragment, in order, while the slow one was paused: unless this machine was
      // too busy for this process to keep up with even the fast one (its own buffer near the bound), then it may skip too.
      if (fastMost < MAX_NATIVE_BUFFER / 2) expect(fast.media.filter((m) => m.skipped !== undefined), 'the fast viewer skipped').toEqual([]);
      else console.warn(`the fast viewer fell behind by itself (${fastMost} bytes buffered): not checking that it skipped nothing`);
      expect(fastWhilePaused, 'fragments the fast viewer got while the other was paused').toBeGreaterThanOrEqual(Math.floor((pausedFor / 1000) * 30 * 0.5));
      // The slow one: what was queued, then a keyframe saying how many fragments it skipped (exactly the gap in seq).
      const slowMedia = slow.media;
      const i = slowMedia.findIndex((m) => m.skipped !== undefined);
      expect(i, 'what was queued before it stopped reading comes first').toBeGreaterThan(0);
      const resumed = slowMedia[i];
      expect(resumed.keyframe).toBe(true);
      expect(resumed.skipped).toBeGreaterThan(0);
      expect(resumed.seq - slowMedia[i - 1].seq - 1).toBe(resumed.skipped);
      // Lookout held at most the bound plus the message that crossed it (and a status or detections text).
      const largest = Math.max(...fast.messages.filter((m) => m.type === 'media').map((m) => m.size));
      expect(most, 'lookout\'s buffer for the paused viewer never reached the bound').toBeGreaterThan(MAX_NATIVE_BUFFER);
      expect(most).toBeLessThanOrEqual(MAX_NATIVE_BUFFER + largest + 16 * 1024);
      const stats = (await camera(lookout.url, 'busy'))?.live?.native;
      expect(stats?.viewers).toBe(2);
      expect((stats?.skipped ?? 0) - before).toBeGreaterThanOrEqual(resumed.skipped ?? 0);
      expect(slow.closedWith).toBeUndefined();
    } finally {
      sockets.stop();
    }
  }, 120_000);

  it.each([
    { from: 'mjpeg', container: 'avi', codec: ['-c:v', 'mjpeg', '-q:v', '5'] },
    { from: 'mpeg4', container: 'avi', codec: ['-c:v', 'mpeg4', '-q:v', '5'] },
  ])('a $from camera is transcoded once to H.264 for native viewers, and says so', async ({ from, container, codec }) => {
    const dir = tempDir('lookout-native-');
    const clip = makeClip(dir, `cam.${container}`, ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=15', '-t', '6', ...codec, '-pix_fmt', 'yuvj420p']);
    expect((await probeStream(clip)).codec).toBe(from);
    const lookout = await start({ cameras: [{ id: 'old', url: clip, loop: true }] }, [dir]);
    const viewer = await NativeClient.connect(lookout.url, '?camera=old&video=native');
    const capturing = captureHttp(`${lookout.url}/api/cameras/old/stream.mp4`, 4_000);
    // Once, for both viewers: a single ffmpeg encodes H.264 for this camera.
    await until(() => viewer.media.length > 10);
    const encoders = childrenOf(process.pid).filter((p) => isFfmpeg(p) && p.cmdline.includes('libx264'));
    expect(encoders.map((p) => p.cmdline.find((a) => a.includes(clip)))).toEqual([`file:${clip}`]);
    const capture = await capturing;
    const status = (await camera(lookout.url, 'old'))?.status;
    expect(status?.video).toMatchObject({ transcoded: true, from, width: 640, height: 360 });
    expect(status?.video?.codec).toMatch(/^avc1\./);
    const file = saveCapture(dir, 'old.mp4', capture.bytes);
    expect(await probeStream(file)).toMatchObject({ codec: 'h264', width: 640, height: 360 });
    const frames = await probeFrames(file);
    expect(frames.length).toBeGreaterThanOrEqual(30);
    expect(frames[0].key).toBe(true);
    // The WebSocket viewer is told the same, and its stream is H.264 from a keyframe.
    expect(viewer.inits[0]).toMatchObject({ kind: 'init', transcoded: true, width: 640, height: 360 });
    expect(viewer.inits[0].mime).toMatch(/^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/);
    expect(viewer.media[0].keyframe).toBe(true);
    await until(() => viewer.texts('status').length > 0);
    expect(viewer.texts('status')[0].video).toEqual({ codec: viewer.inits[0].codec, transcoded: true, from });
  }, 120_000);
});
