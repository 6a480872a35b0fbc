// The motion gate's decisions on real frames (made here: a grey picture and
// a white square that moves or not), and tracking's side of gating: tracks
// held over frames the model did not see, never missed where it did not look.
import { describe, expect, it } from 'vitest';
import { MOTION_DEFAULTS, REGIONS_DEFAULTS } from '../../src/config/motion.js';
import { MotionGate, type GateSettings } from '../../src/motion/gate.js';
import { EventBuilder } from '../../src/track/events.js';
import { Tracker } from '../../src/track/tracker.js';
import type { Box, Detection, Frame, TrackedObject } from '../../src/types.js';

const settings = (over: { motion?: Partial<GateSettings['motion']>; regions?: Partial<GateSettings['regions']> } = {}): GateSettings => ({
  motion: { ...MOTION_DEFAULTS, ...over.motion },
  regions: { ...REGIONS_DEFAULTS, ...over.regions },
  size: { width: 640, height: 640 },
});

/** A grey frame at `time` ms with a white square of `side` px at (x, y), on run `run`. */
function frame(time: number, width: number, height: number, square?: { x: number; y: number; side: number }, run = 1): Frame {
  const data = Buffer.alloc(width * height * 3, 90);
  if (square) {
    for (let y = square.y; y < square.y + square.side; y++) data.fill(250, (y * width + square.x) * 3, (y * width + square.x + square.side) * 3);
  }
  return { cameraId: 'c', seq: time / 200, run, width, height, data, ptsMs: time, capturedAt: time };
}

const steady = (box: Box, unseenMs = 0): TrackedObject => ({ trackId: 1, label: 'car', box, moving: false, uncertain: false, unseenMs });

describe('the motion gate', () => {
  it('looks at the whole first frame, then skips a still picture, and looks again when something moves', () => {
    const gate = new MotionGate(settings());
    const first = gate.decide(frame(0, 640, 360), []);
    expect(first.reason).toBe('first');
    expect(first.plan?.kind).toBe('full');
    gate.answered(first.plan!, frame(0, 640, 360));
    const reasons: string[] = [];
    for (let t = 200; t <= 3000; t += 200) reasons.push(gate.decide(frame(t, 640, 360), []).reason);
    expect(reasons.every((r) => r === 'still' || r === 'calibrating')).toBe(true);
    expect(reasons.at(-1)).toBe('still');
    const moved = gate.decide(frame(3200, 640, 360, { x: 300, y: 150, side: 40 }), []);
    expect(moved.reason).toBe('motion');
    // A 640×360 frame is no larger than the model's input: the whole frame, not a region.
    expect(moved.plan?.kind).toBe('full');
    expect(gate.stats()).toMatchObject({ sentFull: 2, skipped: 15, state: 'motion' });
  });

  it('gives a 4K frame\'s motion to the model as a square region at full resolution', () => {
    const gate = new MotionGate(settings());
    gate.answered(gate.decide(frame(0, 3840, 2160), []).plan!, frame(0, 3840, 2160));
    for (let t = 200; t <= 1400; t += 200) gate.decide(frame(t, 3840, 2160), []);
    const d = gate.decide(frame(1600, 3840, 2160, { x: 2000, y: 1000, side: 60 }), []);
    expect(d.reason).toBe('motion');
    expect(d.plan?.kind).toBe('regions');
    expect(d.plan?.fit).toEqual({ width: 640, height: 640 });
    const [r] = d.plan!.rects;
    expect(r.width).toBe(640);
    expect(r.x <= 2000 && r.x + r.width >= 2060 && r.y <= 1000 && r.y + r.height >= 1060).toBe(true);
  });

  it('looks at uncertain and moving objects without motion, at steady ones every refreshSeconds, and at the whole frame every fullFrameSeconds', () => {
    const gate = new MotionGate(settings({ motion: { refreshSeconds: 2 }, regions: { fullFrameSeconds: 10 } }));
    gate.answered(gate.decide(frame(0, 3840, 2160), []).plan!, frame(0, 3840, 2160));
    const car: Box = [0.4, 0.4, 0.45, 0.43];
    expect(gate.decide(frame(200, 3840, 2160), [{ ...steady(car), uncertain: true }]).reason).toBe('objects');
    // The model sees the car whenever it is given the frame (as tracking would report).
    let seenAt = 200;
    const seen: string[] = [];
    for (let t = 400; t <= 9800; t += 200) {
      const d = gate.decide(frame(t, 3840, 2160), [steady(car, t - seenAt)]);
      if (d.plan) seenAt = t;
      seen.push(d.reason);
    }
    // After the look at 200 ms, a refresh every 2 s: 2.2, 4.2, 6.2, 8.2 s; skipped otherwise.
    expect(seen.filter((r) => r === 'refresh')).toHaveLength(4);
    expect(seen.filter((r) => r !== 'refresh' && r !== 'still' && r !== 'calibrating')).toEqual([]);
    expect(gate.decide(frame(10_000, 3840, 2160), [steady(car)]).reason).toBe('periodic');
    // Motion elsewhere does not starve a steady object of its refresh: its region comes along.
    const busy = gate.decide(frame(10_200, 3840, 2160, { x: 100, y: 100, side: 60 }), [steady(car, 2_500)]);
    expect(busy.reason).toBe('motion');
    expect(busy.plan?.rects.some((r) => r.x <= 0.4 * 3840 && r.x + r.width >= 0.43 * 3840 && r.y <= 0.4 * 2160 && r.y + r.height >= 0.45 * 2160)).toBe(true);
    expect(gate.decide(frame(10_400, 3840, 2160), [{ ...steady(car), moving: true }]).reason).toBe('objects');
  });

  it('sends every frame whole with motion off, and the whole frame on motion with regions off', () => {
    const off = new MotionGate(settings({ motion: { enabled: false } }));
    for (let t = 0; t < 1000; t += 200) expect(off.decide(frame(t, 3840, 2160), []).reason).toBe('off');
    expect(off.stats()).toMatchObject({ sentFull: 5, skipped: 0, state: 'off' });
    const whole = new MotionGate(settings({ regions: { enabled: false } }));
    whole.answered(whole.decide(frame(0, 3840, 2160), []).plan!, frame(0, 3840, 2160));
    for (let t = 200; t <= 1400; t += 200) whole.decide(frame(t, 3840, 2160), []);
    const d = whole.decide(frame(1600, 3840, 2160, { x: 2000, y: 1000, side: 60 }), []);
    expect([d.reason, d.plan?.kind, d.plan?.fit]).toEqual(['motion', 'full', { width: 640, height: 640 }]);
  });

  it('starts again with a whole look when the camera\'s ffmpeg restarts (a new run)', () => {
    const gate = new MotionGate(settings());
    gate.answered(gate.decide(frame(0, 640, 360), []).plan!, frame(0, 640, 360));
    gate.decide(frame(200, 640, 360), []);
    expect(gate.decide(frame(400, 640, 360, undefined, 2), []).reason).toBe('first');
  });

  it('treats a global change of light as re-calibration, not motion, with one whole look at the changed picture', () => {
    const gate = new MotionGate(settings());
    gate.answered(gate.decide(frame(0, 640, 360), []).plan!, frame(0, 640, 360));
    for (let t = 200; t <= 2000; t += 200) gate.decide(frame(t, 640, 360), []);
    const bright = (t: number): Frame => {
      const f = frame(t, 640, 360);
      return { ...f, data: Buffer.alloc(f.data.length, 200) };
    };
    const reasons: string[] = [];
    for (let t = 2200; t <= 4000; t += 200) reasons.push(gate.decide(bright(t), []).reason);
    expect(reasons).not.toContain('motion');
    // Whatever filled the picture (a light, a truck) gets one whole look, then warm-up.
    expect(reasons.slice(0, 2)).toEqual(['changed', 'calibrating']);
    expect(reasons.filter((r) => r === 'changed')).toHaveLength(1);
    expect(reasons.at(-1)).toBe('still');
  });
});

describe('tracking under gating', () => {
  const car: Detection = { classId: 3, label: 'car', score: 0.8, box: [0.4, 0.4, 0.5, 0.5] };

  it('holds a parked car\'s event open over a minute of frames the model was not given', () => {
    const events = new EventBuilder('c');
    events.update({ time: 0, frameId: 'a' }, [car]);
    const started = events.update({ time: 200, frameId: 'b' }, [car]).started;
    expect(started).toHaveLength(1);
    for (let t = 400; t <= 60_000; t += 200) events.hold(t);
    // The model looks again (a refresh): the same car, the same event.
    const back = events.update({ time: 60_200, frameId: 'c' }, [car]);
    expect(back.ended).toEqual([]);
    expect(back.tracked[0].trackId).toBe(started[0].trackId);
    // Looked for and gone: it ends after maxAgeMs of looking, at its last sighting.
    let ended: ReturnType<typeof events.update>['ended'] = [];
    for (let t = 60_400; t <= 63_000 && ended.length === 0; t += 200) ended = events.update({ time: t, frameId: `${t}` }, []).ended;
    expect(ended.map((e) => e.end)).toEqual([60_200]);
  });

  it('ends a walker who left the frame, though the model looks only at regions elsewhere', () => {
    const tracker = new Tracker();
    // Walking right, out of the frame at about 2 s.
    for (let t = 0; t <= 1800; t += 200) tracker.update(t, [{ classId: 1, label: 'person', score: 0.9, box: [0.3, 0.7 + t / 8000, 0.6, 0.8 + t / 8000] }]);
    const elsewhere: Box[] = [[0, 0, 0.3, 0.3]];
    let ended: string[] = [];
    for (let t = 2000; t <= 6000 && ended.length === 0; t += 200) {
      // The gate looks where the track is predicted (clamped into the frame), as it would.
      const o = tracker.objects(t)[0];
      const at: Box = [Math.max(0, o.box[0]), Math.min(0.8, Math.max(0, o.box[1])), Math.min(1, o.box[2]), 1];
      ended = tracker.update(t, [], [...elsewhere, at]).ended.map((e) => e.label);
      if (ended.length === 0 && t > 4400) throw new Error('the walker\'s track should have ended');
    }
    expect(ended).toEqual(['person']);
  });

  it('neither misses nor drops a track whose place the model did not look at, and marks one it looked for and missed as uncertain', () => {
    const tracker = new Tracker({ minHits: 2 });
    tracker.update(0, [car]);
    tracker.update(200, [car]);
    const elsewhere: Box[] = [[0, 0, 0.2, 0.2]];
    for (let t = 400; t <= 5000; t += 200) expect(tracker.update(t, [], elsewhere).ended).toEqual([]);
    expect(tracker.objects(5000)).toMatchObject([{ label: 'car', uncertain: false, moving: false }]);
    tracker.update(5200, [], [[0.3, 0.3, 0.6, 0.6]]);
    expect(tracker.objects(5200)[0].uncertain).toBe(true);
    // An uncertain track is not held: skipped frames do not keep it.
    tracker.hold(6000);
    expect(tracker.update(7300, [], elsewhere).ended.map((e) => e.label)).toEqual(['car']);
  });

  it('keeps a tentative track the model did not look at, and counts a walker as moving', () => {
    const tracker = new Tracker({ minHits: 2 });
    tracker.update(0, [car]);
    tracker.update(200, [], [[0, 0, 0.2, 0.2]]);
    expect(tracker.objects(200)).toMatchObject([{ uncertain: true }]);
    const walker = (t: number): Detection => ({ classId: 1, label: 'person', score: 0.9, box: [0.1, 0.1 + t / 20_000, 0.3, 0.15 + t / 20_000] });
    const t2 = new Tracker();
    for (let t = 0; t <= 2000; t += 200) t2.update(t, [walker(t)]);
    expect(t2.objects(2000)[0].moving).toBe(true);
    const parked = new Tracker();
    for (let t = 0; t <= 2000; t += 200) parked.update(t, [{ ...car, box: [0.4 + (t % 400 ? 0.002 : 0), 0.4, 0.5, 0.5] }]);
    expect(parked.objects(2000)[0].moving).toBe(false);
  });
});
