// Motion gating in lookout serve, with the real CenterNet, on scenes made by
// ffmpeg from the bottle clip (bench/motion-clips.ts): a still table, where
// after the first looks the model is asked only at the refresh rate and the
// bottles' events stay open without flapping; and the same table whose light
// goes up part-way, which re-calibrates motion instead of making motion (and
// model calls) everywhere. A change of motion settings through the API
// applies without restarting the camera's ffmpeg.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lightClip, stillClip } from '../../bench/motion-clips.js';
import type { RunningLookout } from '../../src/app.js';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { sleep, until } from '../helpers/wait.js';

interface CameraJson {
  state: string;
  status: { pid: number | undefined };
  schedule: { detected: number; images: number } | null;
  motion: { sentFull: number; sentRegions: number; skipped: number; refreshes: number; state: string; motion?: { calibrations: number; motionFrames: number } };
  settings: { motion: { threshold: number; refreshSeconds: number } };
}
interface EventJson { id: string; label: string; start: number; end: number | null }

describe('motion gating in lookout serve, with the real detector', () => {
  let lookout: RunningLookout;
  let base: string;
  const camera = async (id: string) => (await (await fetch(`${base}/api/cameras/${id}`)).json()) as CameraJson;
  const events = async (id: string) => ((await (await fetch(`${base}/api/events?camera=${id}&limit=100`)).json()) as { events: EventJson[] }).events;

  beforeAll(async () => {
    const dir = tempDir('lookout-motion-');
    const still = stillClip(dir, 75);
    const light = lightClip(dir, 30, 15);
    lookout = await startTestLookout({
      // Cameras changed through the API may read files only from the config's fileRoots.
      fileRoots: [dir],
      modelServer: { embedded: { model: 'centernet', workers: 1 } },
      cameras: [
        { id: 'table', url: still, detectFps: 5, motion: { refreshSeconds: 10 } },
        { id: 'lights', url: light, detectFps: 5 },
      ],
    });
    onCleanup(() => lookout.close());
    base = lookout.url;
    await until(async () => (await camera('table')).state === 'streaming' && (await camera('lights')).state === 'streaming', 60_000, 200);
  }, 120_000);

  afterAll(async () => {
    await lookout?.close();
  });

  it('asks the model about a still scene only at the refresh rate, and keeps the bottles\' events open without flapping', async () => {
    // Warm-up: the first whole look, the new tracks' looks until they are confirmed.
    await sleep(15_000);
    const before = await camera('table');
    const started = (await events('table')).filter((e) => e.label === 'bottle');
    expect(started.length).toBeGreaterThanOrEqual(1);
    await sleep(40_000);
    const after = await camera('table');
    const calls = (after.schedule?.detected ?? 0) - (before.schedule?.detected ?? 0);
    const frames = after.motion.sentFull + after.motion.sentRegions + after.motion.skipped - (before.motion.sentFull + before.motion.sentRegions + before.motion.skipped);
    // 40 s at 5 fps is 200 frames; refreshes every 10 s and one whole look every 30 s make about 5 calls.
    expect(frames).toBeGreaterThan(150);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(10);
    expect(after.motion.refreshes).toBeGreaterThan(before.motion.refreshes);
    expect(after.motion.motion?.motionFrames).toBe(0);
    // The same bottles, still open: none ended, none started again.
    const now = (await events('table')).filter((e) => e.label === 'bottle');
    expect(now.map((e) => e.id).sort()).toEqual(started.map((e) => e.id).sort());
    expect(now.every((e) => e.end === null)).toBe(true);
    // /metrics counts what the gate did; inferences only what went to the model.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/lookout_camera_motion_frames_total\{camera="table",decision="skipped"\} [1-9]/);
    expect(metrics).toContain(`lookout_camera_inferences_total{camera="table"} ${after.schedule?.detected ?? -1}`);
  }, 90_000);

  it('re-calibrates on a global change of light instead of seeing motion everywhere', async () => {
    // The light goes up at 15 s of the clip; by now (over 55 s since start) it has, and the clip has ended.
    const cam = await camera('lights');
    expect(cam.motion.motion?.calibrations).toBeGreaterThanOrEqual(2);
    expect(cam.motion.motion?.motionFrames).toBe(0);
    // No burst of model calls at the change: 30 s of clip (150 frames) cost a handful, as the still one does.
    expect(cam.schedule?.detected ?? 0).toBeLessThanOrEqual(15);
    expect(cam.motion.skipped).toBeGreaterThan(120);
  });

  it('applies a change of motion settings without restarting the camera\'s ffmpeg', async () => {
    const pid = (await camera('table')).status.pid;
    const res = await fetch(`${base}/api/cameras/table`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ motion: { threshold: 40 } }) });
    expect([res.status, res.status === 200 ? '' : await res.text()]).toEqual([200, '']);
    const cam = await camera('table');
    expect(cam.settings.motion).toMatchObject({ threshold: 40, refreshSeconds: 10 });
    expect(cam.status.pid).toBe(pid);
    const bad = await fetch(`${base}/api/cameras/table`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ motion: { minArea: 2 } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('motion.minArea');
  });
});
