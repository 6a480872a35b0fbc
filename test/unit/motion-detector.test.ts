// The motion detector on pictures drawn here: a textured scene with a
// little noise, squares that move, appear or stay, a light switched on. The
// frames' times are made up, so warm-up and learning are checked by time.
import { describe, expect, it } from 'vitest';
import { MOTION_DEFAULTS } from '../../src/config/motion.js';
import { MotionDetector, MotionSettingsError, type MotionResult, type MotionSettings } from '../../src/motion/detector.js';
import type { Box } from '../../src/types.js';

interface Square { x: number; y: number; size: number; grey: number }

const W = 640;
const H = 360;

/** A 16-pixel checkerboard (grey 70/110) plus `light`, squares on top, and ±`noise` grey levels of deterministic noise. */
function scene(squares: Square[], opts: { width?: number; height?: number; light?: number; noise?: number; seed?: number } = {}): { width: number; height: number; data: Uint8Array } {
  const width = opts.width ?? W;
  const height = opts.height ?? H;
  const light = opts.light ?? 0;
  const noise = opts.noise ?? 3;
  let state = (opts.seed ?? 1) * 2654435761 >>> 0;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = ((x >> 4) + (y >> 4)) % 2 === 0 ? 70 : 110;
      for (const s of squares) if (x >= s.x && x < s.x + s.size && y >= s.y && y < s.y + s.size) v = s.grey;
      state = (state * 1664525 + 1013904223) >>> 0;
      v = Math.max(0, Math.min(255, v + light + ((state >>> 24) % (2 * noise + 1)) - noise));
      const i = (y * width + x) * 3;
      data[i] = v;
      data[i + 1] = v;
      data[i + 2] = v;
    }
  }
  return { width, height, data };
}

/** Feeds frames `dt` ms apart from `start`; returns each result. */
function feed(d: MotionDetector, frames: ReturnType<typeof scene>[], start: number, dt: number): MotionResult[] {
  return frames.map((f, i) => d.update(f, start + i * dt));
}

/** Warms a detector up on the still scene: 2 s at 5 fps. */
function warm(settings: Partial<MotionSettings> = {}): { d: MotionDetector; t: number } {
  const d = new MotionDetector({ ...MOTION_DEFAULTS, ...settings });
  const results = feed(d, Array.from({ length: 10 }, (_, i) => scene([], { seed: i })), 0, 200);
  expect(results.at(-1)?.state).toBe('still');
  return { d, t: 2000 };
}

const inside = (box: Box, y0: number, x0: number, y1: number, x1: number, slack = 0.02) =>
  box[0] >= y0 - slack && box[1] >= x0 - slack && box[2] <= y1 + slack && box[3] <= x1 + slack;

describe('the motion detector', () => {
  it('boxes a moving square, and only it', () => {
    const { d, t } = warm();
    for (let k = 0; k < 10; k++) {
      const sq: Square = { x: 100 + 20 * k, y: 120, size: 60, grey: 220 };
      const r = d.update(scene([sq], { seed: 20 + k }), t + 200 * k);
      expect(r.state).toBe('motion');
      expect(r.boxes).toHaveLength(1);
      const box = r.boxes[0];
      // Around the square where it is now: not its trail, not the whole frame.
      expect(inside(box, 120 / H, sq.x / W, 180 / H, (sq.x + 60) / W)).toBe(true);
      expect(box[3] - box[1]).toBeGreaterThan(50 / W);
      expect(box[2] - box[0]).toBeGreaterThan(50 / H);
      expect(r.changed).toBeGreaterThan(0.01);
      expect(r.changed).toBeLessThan(0.05);
    }
    expect(d.stats()).toEqual({ frames: 20, calibrations: 1, motionFrames: 10 });
  });

  it('reports nothing in a still, noisy scene after warm-up, and is calibrating before', () => {
    const d = new MotionDetector(MOTION_DEFAULTS);
    const results = feed(d, Array.from({ length: 50 }, (_, i) => scene([], { seed: i, noise: 6 })), 0, 200);
    expect(results[0]).toEqual({ state: 'calibrating', boxes: [], changed: 0, recalibrated: true });
    expect(results.slice(0, 5).every((r) => r.state === 'calibrating')).toBe(true);
    expect(results.slice(5).every((r) => r.state === 'still' && r.boxes.length === 0 && r.changed === 0)).toBe(true);
    expect(d.stats()).toEqual({ frames: 50, calibrations: 1, motionFrames: 0 });
  });

  it('gives boxes largest first, and joins fragments of one thing', () => {
    const { d, t } = warm();
    const r = d.update(scene([{ x: 40, y: 40, size: 40, grey: 230 }, { x: 400, y: 150, size: 120, grey: 230 }]), t);
    expect(r.boxes).toHaveLength(2);
    expect(inside(r.boxes[0], 150 / H, 400 / W, 270 / H, 520 / W)).toBe(true);
    expect(inside(r.boxes[1], 40 / H, 40 / W, 80 / H, 80 / W)).toBe(true);
    // Three bars 4 pixels apart: one object (a person behind railings), one box.
    const bars = [0, 1, 2].map((i): Square => ({ x: 200 + 24 * i, y: 100, size: 20, grey: 230 }));
    const joined = d.update(scene(bars), t + 200);
    expect(joined.boxes).toHaveLength(1);
    expect(inside(joined.boxes[0], 100 / H, 200 / W, 120 / H, 268 / W)).toBe(true);
  });

  it('ignores changes under a mask, and counts the changed fraction of the unmasked picture only', () => {
    const left: MotionSettings['masks'] = [[[0, 0], [0.5, 0], [0.5, 1], [0, 1]]];
    const { d, t } = warm({ masks: left });
    const masked = d.update(scene([{ x: 60, y: 100, size: 100, grey: 230 }]), t);
    expect(masked).toMatchObject({ state: 'still', boxes: [], changed: 0 });
    const open = d.update(scene([{ x: 60, y: 100, size: 100, grey: 230 }, { x: 420, y: 100, size: 100, grey: 230 }]), t + 200);
    expect(open.boxes).toHaveLength(1);
    expect(open.boxes[0][1]).toBeGreaterThan(0.5);
    // 100×100 of the unmasked 320×360: about 8.7% (the blur widens it a little).
    expect(open.changed).toBeGreaterThan(0.07);
    expect(open.changed).toBeLessThan(0.11);
  });

  it('drops specks smaller than minArea, and keeps them when minArea allows', () => {
    const speck = [{ x: 300, y: 200, size: 6, grey: 250 }];
    const strict = warm();
    const r = strict.d.update(scene(speck), strict.t);
    expect(r.changed).toBeGreaterThan(0);
    expect(r).toMatchObject({ state: 'still', boxes: [] });
    const lax = warm({ minArea: 0 });
    expect(lax.d.update(scene(speck), lax.t).boxes).toHaveLength(1);
  });

  it('takes a global brightness jump for a re-calibration, not motion', () => {
    const { d, t } = warm();
    const lit = (i: number) => scene([], { light: 60, seed: 100 + i });
    const jump = d.update(lit(0), t);
    expect(jump).toMatchObject({ state: 'calibrating', boxes: [], recalibrated: true });
    expect(jump.changed).toBeGreaterThan(0.9);
    // One second of warm-up (warmupSeconds: 1) at 5 fps, then still.
    const after = feed(d, Array.from({ length: 10 }, (_, i) => lit(i + 1)), t + 200, 200);
    expect(after.slice(0, 4).map((r) => r.state)).toEqual(['calibrating', 'calibrating', 'calibrating', 'calibrating']);
    expect(after.slice(4).every((r) => r.state === 'still' && !r.recalibrated)).toBe(true);
    expect(d.stats().calibrations).toBe(2);
    expect(d.stats().motionFrames).toBe(0);
  });

  it('warms up again after reset(), and after the frame size changes', () => {
    const { d, t } = warm();
    d.reset();
    const again = d.update(scene([{ x: 100, y: 100, size: 80, grey: 230 }]), t);
    expect(again).toMatchObject({ state: 'calibrating', recalibrated: true, boxes: [] });
    expect(d.update(scene([{ x: 100, y: 100, size: 80, grey: 230 }]), t + 500).state).toBe('calibrating');
    // Warm again at t + 1000: the square it learnt is scenery now; a frame without it shows where it was.
    const gone = d.update(scene([]), t + 1000);
    expect(gone.state).toBe('motion');
    expect(inside(gone.boxes[0], 100 / H, 100 / W, 180 / H, 180 / W)).toBe(true);
    const resized = d.update(scene([], { width: 320, height: 240 }), t + 1200);
    expect(resized).toMatchObject({ state: 'calibrating', recalibrated: true });
    expect(d.stats().calibrations).toBe(3);
  });

  it('counts warm-up in frame time, whatever the frame rate, and never less than two frames', () => {
    const states = (dt: number, n: number) => {
      const d = new MotionDetector({ ...MOTION_DEFAULTS, warmupSeconds: 2 });
      return feed(d, Array.from({ length: n }, (_, i) => scene([], { seed: i })), 5_000, dt).map((r) => r.state);
    };
    // 2 s of warm-up: 40 frames at 20 fps, 4 at 2 fps.
    const fast = states(50, 45);
    expect(fast.indexOf('still')).toBe(40);
    const slow = states(500, 6);
    expect(slow.indexOf('still')).toBe(4);
    // A frame every 5 s: the first frame alone is no warm-up.
    expect(states(5_000, 3)).toEqual(['calibrating', 'calibrating', 'still']);
  });

  it('learns by time: an object that stops is motion for about as long at 2 fps as at 10 fps', () => {
    const stopsAfter = (fps: number) => {
      const { d, t } = warm();
      const parked = scene([{ x: 200, y: 100, size: 120, grey: 230 }]);
      for (let k = 0; k < 10 * fps; k++) {
        const r = d.update(parked, t + (k * 1000) / fps);
        if (r.state === 'still') return (k * 1000) / fps;
      }
      return Infinity;
    };
    const at2 = stopsAfter(2);
    const at10 = stopsAfter(10);
    // A change that settles is taken in within a few seconds (SETTLED_MS), so a parked car is not motion for ever.
    expect(at10).toBeGreaterThan(500);
    expect(at10).toBeLessThan(5_000);
    expect(Math.abs(at2 - at10)).toBeLessThanOrEqual(600);
  });

  it('keeps the background when reconfigured, and applies the new threshold from the next frame', () => {
    const { d, t } = warm();
    // 20 grey levels off the checkerboard in a patch: not motion at 25, motion at 15.
    const patch = scene([{ x: 200, y: 100, size: 100, grey: 90 }]);
    expect(d.update(patch, t)).toMatchObject({ state: 'still', recalibrated: false });
    d.reconfigure({ ...MOTION_DEFAULTS, threshold: 15 });
    expect(d.update(patch, t + 200).state).toBe('motion');
    d.reconfigure({ ...MOTION_DEFAULTS, masks: [[[0.2, 0.1], [0.6, 0.1], [0.6, 0.7], [0.2, 0.7]]] });
    expect(d.update(patch, t + 400).state).toBe('still');
    expect(d.stats().calibrations).toBe(1);
  });

  it('boxes the same square in a 3840×2160 frame, from a few samples per cell', () => {
    const big = { width: 3840, height: 2160, noise: 0 };
    const d = new MotionDetector(MOTION_DEFAULTS);
    feed(d, [scene([], big), scene([], big), scene([], big)], 0, 500);
    const r = d.update(scene([{ x: 1200, y: 600, size: 480, grey: 230 }], big), 1_500);
    expect(r.state).toBe('motion');
    expect(r.boxes).toHaveLength(1);
    expect(inside(r.boxes[0], 600 / 2160, 1200 / 3840, 1080 / 2160, 1680 / 3840, 0.01)).toBe(true);
  });

  it('refuses settings out of range and frames whose bytes do not fit their size', () => {
    const bad = (s: Partial<MotionSettings>) => () => new MotionDetector({ ...MOTION_DEFAULTS, ...s });
    expect(bad({ threshold: 0 })).toThrow(MotionSettingsError);
    expect(bad({ minArea: 2 })).toThrow(/minArea/);
    expect(bad({ recalibrate: Number.NaN })).toThrow(/recalibrate/);
    expect(bad({ masks: [[[0, 0], [1.5, 0], [0, 1]]] })).toThrow(/masks/);
    try {
      bad({ warmupSeconds: -1 })();
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID', key: 'warmupSeconds' });
    }
    const d = new MotionDetector(MOTION_DEFAULTS);
    expect(() => d.update({ width: 640, height: 360, data: new Uint8Array(100) }, 0)).toThrow(/needs 691200 bytes/);
  });
});
