import { describe, expect, it } from 'vitest';
import { RunClock } from '../../src/ingest/run-clock.js';

// 30 fps, a keyframe every 30 frames; `late(i)` ms of delay on frame i's arrival.
function feed(clock: RunClock, frames: number, late: (i: number) => number, t0 = 1_000_000, rate = 1) {
  const times: number[] = [];
  for (let i = 0; i < frames; i++) {
    const pts = i / 30;
    times.push(clock.stamp(pts, i % 30 === 0, t0 + (pts * 1000) / rate + late(i)));
  }
  return times;
}

describe('the run clock', () => {
  it('holds the first fragment\'s epoch through a probing burst, so times never step back early in a run', () => {
    const clock = new RunClock(true);
    // ffmpeg's probing burst: the first second arrives 400 ms late, then 20 ms.
    const times = feed(clock, 30 * 50, (i) => (i < 30 ? 400 - i * 10 : 20));
    expect(times[0]).toBe(1_000_400);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1] as number);
    expect(times[30 * 49]).toBe(Math.round(1_000_400 + 49_000));
    // A decoded frame later gets the time its fragment was stamped with.
    expect(clock.at(29 / 30, 9e12)).toBe(times[29]);
    expect(clock.at(1000 / 30, 9e12)).toBe(times[1000]);
  });

  it('follows a start more than half a second late after a minute, in one step at a keyframe', () => {
    const clock = new RunClock(true);
    const times = feed(clock, 30 * 70, (i) => (i < 30 ? 1500 : 20));
    expect(times[0]).toBe(1_001_500);
    // After the first minute's window, the next keyframe takes the epoch to the earliest arrival.
    expect(times[30 * 62]).toBe(1_000_000 + 62_000 + 20);
    expect(clock.at(62, 0)).toBe(times[30 * 62]);
  });

  it('follows a camera clock that runs slow, a step at a keyframe once it is half a second behind', () => {
    const clock = new RunClock(true);
    // Our clock runs 1 % faster than the camera's: arrivals fall behind pts by 10 ms a second.
    const times = feed(clock, 30 * 120, () => 0, 1_000_000, 1 / 1.01);
    const lag = (i: number) => (1_000_000 + (i / 30) * 1010) - (times[i] as number);
    expect(lag(30 * 50)).toBeGreaterThan(400);
    expect(lag(30 * 119)).toBeLessThan(700);
    // Times never step back between keyframes.
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1] as number);
  });

  it('leaves a file read faster than real time with its arrival times', () => {
    const clock = new RunClock(false);
    expect(clock.stamp(5, true, 123)).toBe(123);
    expect(clock.at(5, 456)).toBe(456);
  });
});
