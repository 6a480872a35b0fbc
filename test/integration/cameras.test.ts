// Supervised cameras on real ffmpeg, reading the bundled clips.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Camera, type CameraOptions } from '../../src/ingest/camera.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { classifySource } from '../../src/ingest/source-url.js';
import type { Frame } from '../../src/types.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { sleep, until, alive } from '../helpers/wait.js';

const running: Camera[] = [];
const pids = new Set<number>();
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  // No ffmpeg outlives its camera.
  for (const pid of pids) expect(alive(pid), `ffmpeg ${pid} is still running`).toBe(false);
  pids.clear();
});


interface Recorded { camera: Camera; detect: Frame[]; live: Frame[]; states: string[] }

function camera(id: string, url: string, extra: Partial<CameraOptions> = {}, spec: Partial<CameraOptions['spec']> = {}): Recorded {
  const rec: Recorded = { camera: undefined as unknown as Camera, detect: [], live: [], states: [] };
  const cam = new Camera({
    id,
    displayUrl: url,
    binary: resolveFfmpeg(),
    spec: {
      ...classifySource(url), rtspTransport: 'tcp', timeoutMs: 3_000, realtime: true, loop: true,
      detect: { fps: 5, maxWidth: 640, maxHeight: 640 }, live: { fps: 15, maxWidth: 320, maxHeight: 320 },
      ...spec,
    },
    onDetectFrame: (f) => {
      rec.detect.push({ ...f, data: Buffer.alloc(0) });
      const pid = cam.status().pid;
      if (pid) pids.add(pid);
    },
    onLiveFrame: (f) => rec.live.push({ ...f, data: Buffer.alloc(0) }),
    onStateChange: (s) => rec.states.push(s.state),
    ...extra,
  });
  rec.camera = cam;
  running.push(cam);
  cam.start();
  return rec;
}


describe('cameras on real ffmpeg', () => {
  it('streams a file at its own pace: the copied stream, detection frames with their pts on it, and live frames only while watched', async () => {
    const rec = camera('bottles', BOTTLE_CLIP);
    await until(() => rec.detect.length >= 10);
    const s = rec.camera.status();
    expect(s.state).toBe('streaming');
    expect(s.ffmpeg.path).toBe(resolveFfmpeg().path);
    expect(s.ffmpeg.version).toMatch(/^ffmpeg version /);
    // ffmpeg leads a process group of its own, so stopping it signals the whole group.
    const stat = readFileSync(`/proc/${s.pid}/stat`, 'utf8');
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgid).toBe(s.pid);
    expect(s.input).toEqual({ width: 640, height: 360, fps: 29.83, codec: 'h264' });
    // The camera's own H.264 (High profile), copied, not transcoded.
    expect(s.video).toEqual({ codec: 'avc1.64001e', transcoded: false, from: 'h264', width: 640, height: 360 });
    expect(rec.camera.stream.current?.mime).toBe('video/mp4; codecs="avc1.64001e"');
    expect(rec.camera.stream.fragments()[0]?.keyframe).toBe(true);
    // The clip has B-frames: its first frame is shown at 768/11456 s on the copied stream's timeline.
    expect(rec.detect[0]).toMatchObject({ cameraId: 'bottles', seq: 0, width: 640, height: 360, pts: 0.067039, ptsMs: 67.039 });
    // One frame per fifth of a second, each keeping its own time (a multiple of the clip's frame duration, 384/11456 s).
    for (const [i, f] of rec.detect.slice(0, 10).entries()) {
      expect(Math.floor((f.pts ?? -1) * 5)).toBe(i);
      expect(Math.abs(((f.pts ?? 0) * 11456) / 384 - Math.round(((f.pts ?? 0) * 11456) / 384))).toBeLessThan(0.01);
    }
    // Nobody watches as JPEG: no live frames are made.
    expect(rec.live).toHaveLength(0);
    expect(s.liveDecoding).toBe(false);
    const release = rec.camera.watchLive();
    await until(() => rec.live.length >= 20);
    expect(rec.camera.status().liveDecoding).toBe(true);
    expect(rec.live[0]).toMatchObject({ width: 320, height: 180 });
    // The live decoder starts at the newest keyframe, then follows the stream at 15 fps.
    const recent = rec.live.slice(-10);
    expect((recent[9].pts ?? 0) - (recent[0].pts ?? 0)).toBeGreaterThan(0.5);
    expect((recent[9].pts ?? 0) - (recent[0].pts ?? 0)).toBeLessThan(0.75);
    release();
    // Paced like a camera: ten frames at 5 fps take about two seconds.
    expect(rec.detect[9].capturedAt - rec.detect[0].capturedAt).toBeGreaterThan(1_200);
  });

  it('fails a camera with a wrong URL with a clear error, while another keeps streaming', async () => {
    const good = camera('good', BOTTLE_CLIP);
    const bad = camera('bad', '/nonexistent/clip.mp4');
    const refused = camera('refused', 'rtsp://127.0.0.1:1/cam');
    await until(() => bad.camera.status().state === 'failed' && refused.camera.status().lastError !== undefined);
    expect(bad.camera.status().lastError).toMatch(/No such file or directory/);
    expect(refused.camera.status().state).toBe('reconnecting');
    expect(refused.camera.status().lastError).toMatch(/Connection refused/);
    const before = good.detect.length;
    await sleep(1_000);
    expect(good.detect.length).toBeGreaterThan(before + 2);
    expect(good.camera.status().state).toBe('streaming');
  });

  it('restarts ffmpeg when it dies, and when it stalls', async () => {
    const rec = camera('phoenix', BOTTLE_CLIP, { minStallMs: 1_000, backoff: { initialMs: 200, maxMs: 1_000, factor: 2, jitter: 0 } });
    await until(() => rec.detect.length >= 3);
    const first = rec.camera.status().pid as number;
    process.kill(first, 'SIGKILL');
    await until(() => rec.camera.status().restarts === 1 && rec.camera.status().state === 'streaming');
    expect(rec.states).toContain('reconnecting');
    const second = rec.camera.status().pid as number;
    expect(second).not.toBe(first);
    // Freeze ffmpeg: it neither exits nor sends frames. The stall watch must notice.
    process.kill(second, 'SIGSTOP');
    await until(() => rec.camera.status().restarts === 2, 15_000);
    expect(rec.camera.status().lastError).toMatch(/stalled: no frame for/);
    await until(() => rec.camera.status().state === 'streaming');
    expect(alive(second)).toBe(false);
  });

  it('backs off longer after each quick failure, and starts over after a healthy run', async () => {
    const rec = camera('flaky', BOTTLE_CLIP, { backoff: { initialMs: 300, maxMs: 20_000, factor: 10, jitter: 0 }, healthyRunMs: 1_500 });
    const killAndReadDelay = async (): Promise<number> => {
      await until(() => rec.camera.status().state === 'streaming');
      const restarts = rec.camera.status().restarts;
      process.kill(rec.camera.status().pid as number, 'SIGKILL');
      await until(() => rec.camera.status().restarts === restarts + 1);
      return rec.camera.status().retryInMs as number;
    };
    await until(() => rec.detect.length >= 1);
    expect(await killAndReadDelay()).toBeLessThanOrEqual(300); // first restart: 300 ms
    // Killed again at once: the second step, 3 s.
    await until(() => rec.camera.status().state === 'streaming');
    expect(await killAndReadDelay()).toBeGreaterThan(2_000);
    // Now let it stream past the healthy mark: the next failure starts over at 300 ms.
    await until(() => rec.camera.status().state === 'streaming', 10_000);
    await sleep(1_800);
    expect(await killAndReadDelay()).toBeLessThanOrEqual(300);
  });

  it('never shows a camera password, in errors or in the stderr tail', async () => {
    const rec = camera('secret', 'rtsp://alice:s3cret@127.0.0.1:1/cam');
    await until(() => rec.camera.status().lastError !== undefined);
    const s = rec.camera.status();
    expect(s.lastError).toMatch(/alice:\*\*\*@127\.0\.0\.1/);
    expect(JSON.stringify(s)).not.toContain('s3cret');
  });

  it('stops at once while starting or while waiting to reconnect', async () => {
    const starting = camera('early', BOTTLE_CLIP);
    await starting.camera.stop();
    expect(starting.camera.status().state).toBe('stopped');
    const waiting = camera('waiting', 'rtsp://127.0.0.1:1/cam', { backoff: { initialMs: 60_000, maxMs: 60_000, factor: 2, jitter: 0 } });
    await until(() => waiting.camera.status().state === 'reconnecting');
    const t = Date.now();
    await waiting.camera.stop();
    expect(waiting.camera.status().state).toBe('stopped');
    // Not a timing target: only that stop() did not sit out the minute-long backoff.
    expect(Date.now() - t).toBeLessThan(30_000);
  });

  it('plays a file without loop to its end, then stops', async () => {
    const rec = camera('once', BOTTLE_CLIP, {}, { loop: false, realtime: false, detect: { fps: 1, maxWidth: 160, maxHeight: 160 }, live: undefined });
    await until(() => rec.camera.status().state === 'stopped', 30_000);
    // 1189 frames at 29.83 fps: 40 s of video, one detection frame per second of it.
    expect(rec.detect.length).toBeGreaterThanOrEqual(39);
    expect(rec.detect.length).toBeLessThanOrEqual(41);
    expect(rec.camera.status().lastError).toBeUndefined();
    expect(rec.camera.status().restarts).toBe(0);
  });
});
