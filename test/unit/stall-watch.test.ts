// The camera's stall clock, with the time given: what a user sees as "the
// camera stalled" (and lookout restarting it), and what must not count.
import { describe, expect, it } from 'vitest';
import { StallWatch, type StallPolicy } from '../../src/ingest/stall-watch.js';
import { CAMERA_TRANSITIONS } from '../../src/ingest/camera.js';
import { FFMPEG_TRANSITIONS } from '../../src/ingest/ffmpeg-process.js';

const policy: StallPolicy = { intervals: 8, minStallMs: 4_000, startTimeoutMs: 20_000, outputFps: 5 };

describe('StallWatch', () => {
  it('gives a camera that never sends a frame its start-up time, then calls it', () => {
    const w = new StallWatch(policy, 1_000);
    expect(w.stalled(20_000, undefined)).toBeUndefined();
    expect(w.stalled(21_001, undefined)).toBe('no frame within 20 s of starting ffmpeg');
    expect(w.firstFrameAt).toBeUndefined();
  });

  it('calls a stall after 8 frame intervals, never sooner than the minimum', () => {
    const w = new StallWatch(policy, 0);
    expect(w.frame(100)).toBe(true);
    for (let t = 300; t <= 2_100; t += 200) expect(w.frame(t)).toBe(false);
    // 5 fps: 8 intervals are 1.6 s, under the 4 s minimum.
    expect(w.stalled(2_100 + 4_000, 25)).toBeUndefined();
    expect(w.stalled(2_100 + 4_001, 25)).toMatch(/^stalled: no frame for 4\.0 s \(8 frame intervals of 200 ms\)$/);
    expect(w.firstFrameAt).toBe(100);
  });

  it('does not call a sparse stream stalled: the interval is what actually arrives', () => {
    const w = new StallWatch({ ...policy, outputFps: 0 }, 0);
    // An MJPEG camera that declares 25 fps but sends a frame every 3 s.
    for (let t = 0; t <= 30_000; t += 3_000) w.frame(t);
    expect(w.stalled(30_000 + 20_000, 25)).toBeUndefined();
    expect(w.stalled(30_000 + 30_000, 25)).toMatch(/^stalled:/);
  });
});

describe('state machines', () => {
  it('lets a camera end only in stopped, and never leave it', () => {
    expect(CAMERA_TRANSITIONS.stopped).toEqual([]);
    for (const [from, to] of Object.entries(CAMERA_TRANSITIONS)) if (from !== 'stopped') expect(to).toContain('stopped');
    expect(CAMERA_TRANSITIONS.streaming).not.toContain('starting');
  });

  it('lets an ffmpeg process end only in exited, abandoned only before it spawned', () => {
    expect(FFMPEG_TRANSITIONS.exited).toEqual([]);
    for (const [from, to] of Object.entries(FFMPEG_TRANSITIONS)) if (from !== 'exited') expect(to).toContain('exited');
    const toAbandoned = Object.entries(FFMPEG_TRANSITIONS).filter(([, to]) => to.includes('abandoned')).map(([from]) => from);
    expect(toAbandoned).toEqual(['spawning']);
  });
});
