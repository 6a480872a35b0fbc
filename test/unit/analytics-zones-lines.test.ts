// One zone's and one line's view of tracks: entering and leaving with
// inertia, loitering once per stay, crossings with hysteresis and only
// through the line's own length.
import { describe, expect, it } from 'vitest';
import { LineWatch, sideMargin, type Direction } from '../../src/analytics/lines.js';
import { ZoneWatch, type ZoneChange } from '../../src/analytics/zones.js';
import type { LineConfig, ZoneConfig } from '../../src/config/schema.js';
import type { Box } from '../../src/types.js';

const T0 = 1_700_000_000_000;
const DT = 500;

/** A box whose bottom centre is (x, y). */
function feet(x: number, y: number, h = 0.2, w = 0.1): Box {
  return [y - h, x - w / 2, y, x + w / 2];
}

function zone(over: Partial<ZoneConfig> = {}): ZoneWatch {
  return new ZoneWatch({ name: 'door', points: [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]], labels: [], loiterSeconds: null, inertia: 3, anchor: 'bottom-center', ...over });
}

function line(over: Partial<LineConfig> = {}): LineWatch {
  return new LineWatch({ name: 'gate', points: [[0.2, 0.5], [0.8, 0.5]], labels: [], anchor: 'bottom-center', ...over });
}

const IN = feet(0.5, 0.5);
const OUT = feet(0.5, 0.7);

/** Feeds boxes to one track, frame i at T0 + i·DT; returns [frame, change] for every change. */
function walkZone(w: ZoneWatch, boxes: Box[], opts: { id?: number; label?: string; counted?: (i: number) => boolean; from?: number } = {}): [number, ZoneChange][] {
  const out: [number, ZoneChange][] = [];
  boxes.forEach((b, k) => {
    const i = (opts.from ?? 0) + k;
    for (const c of w.update(opts.id ?? 1, opts.label ?? 'person', b, T0 + i * DT, opts.counted?.(i) ?? true)) out.push([i, c]);
  });
  return out;
}

/** Feet at x moving in y through the given hundredths. */
const column = (x: number, ys: number[], h = 0.2): Box[] => ys.map((y) => feet(x, y / 100, h));
const range = (from: number, to: number, step = 2): number[] => {
  const out: number[] = [];
  for (let v = from; step > 0 ? v <= to : v >= to; v += step) out.push(v);
  return out;
};

function crossings(w: LineWatch, boxes: Box[], id = 1, label = 'person'): Direction[] {
  return boxes.map((b) => w.update(id, label, b)).filter((d): d is Direction => d !== null);
}

describe('ZoneWatch', () => {
  it('with inertia 3, never lets a box flickering across the edge every other frame enter', () => {
    const w = zone({ inertia: 3 });
    const flicker = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? IN : OUT));
    expect(walkZone(w, flicker)).toEqual([]);
    expect(w.isIn(1)).toBe(false);
    expect(w.occupancy().size).toBe(0);
    // Three frames in a row inside do it, on the third.
    expect(walkZone(w, [IN, IN, IN], { from: 40 })).toEqual([[42, 'enter']]);
    expect(w.occupancy()).toEqual(new Map([['person', 1]]));
  });

  it('once in, a flicker out does not make it leave; inertia frames outside in a row do', () => {
    const w = zone({ inertia: 3 });
    walkZone(w, [IN, IN, IN]);
    expect(walkZone(w, [OUT, IN, OUT, OUT, IN, IN], { from: 3 })).toEqual([]);
    expect(w.isIn(1)).toBe(true);
    expect(walkZone(w, [OUT, OUT, OUT], { from: 9 })).toEqual([[11, 'exit']]);
    expect(w.isIn(1)).toBe(false);
    expect(w.occupancy().size).toBe(0);
  });

  it('enters, loiters once per stay after loiterSeconds counted from the first frame inside, and exits', () => {
    const w = zone({ inertia: 2, loiterSeconds: 2 });
    // Frames 0–9 inside (0.5 s apart), 10–11 outside, 12–20 inside again.
    const path = [...Array(10).fill(IN), OUT, OUT, ...Array(9).fill(IN)] as Box[];
    const changes = walkZone(w, path);
    // Enter on frame 1 (inertia 2); the stay began at frame 0, so 2 s later is frame 4.
    // The new stay begins at frame 12 and enters at 13: it loiters at 16, once.
    expect(changes).toEqual([[1, 'enter'], [4, 'loiter'], [11, 'exit'], [13, 'enter'], [16, 'loiter']]);
    expect(w.isLoitering(1)).toBe(true);
  });

  it('with loiterSeconds null, never loiters', () => {
    const w = zone({ inertia: 1, loiterSeconds: null });
    expect(walkZone(w, Array(200).fill(IN) as Box[])).toEqual([[0, 'enter']]);
  });

  it('counts only its labels', () => {
    const w = zone({ inertia: 1, labels: ['car'] });
    expect(w.counts('person')).toBe(false);
    expect(w.counts('car')).toBe(true);
    expect(walkZone(w, [IN, IN, IN], { id: 1, label: 'person' })).toEqual([]);
    expect(walkZone(w, [IN], { id: 2, label: 'car' })).toEqual([[0, 'enter']]);
    expect(w.occupancy()).toEqual(new Map([['car', 1]]));
    // A zone without labels counts every label.
    expect(zone().counts('giraffe')).toBe(true);
  });

  it('lets a track that is not counted yet (no event) enter on its first sighting after it is, its stay dating from its first frame inside', () => {
    const w = zone({ inertia: 3, loiterSeconds: 3 });
    const changes = walkZone(w, Array(10).fill(IN) as Box[], { counted: (i) => i >= 7 });
    // 7 frames inside uncounted: no enter; frame 7 counted: enters at once, and
    // 3 s after frame 0 (frame 6) is past, so it is loitering too.
    expect(changes).toEqual([[7, 'enter'], [7, 'loiter']]);
  });

  it('an uncounted track that went out again has to start its streak over', () => {
    const w = zone({ inertia: 3 });
    const changes = walkZone(w, [IN, IN, OUT, IN, IN, IN], { counted: (i) => i >= 3 });
    expect(changes).toEqual([[5, 'enter']]);
  });

  it('counts occupancy per label, and forget() makes a track that was in leave', () => {
    const w = zone({ inertia: 1 });
    walkZone(w, [IN], { id: 1, label: 'person' });
    walkZone(w, [IN], { id: 2, label: 'person' });
    walkZone(w, [IN], { id: 3, label: 'dog' });
    walkZone(w, [OUT], { id: 4, label: 'dog' });
    expect(w.occupancy()).toEqual(new Map([['person', 2], ['dog', 1]]));
    expect(w.forget(2)).toEqual(['exit']);
    expect(w.forget(4)).toEqual([]);
    expect(w.forget(99)).toEqual([]);
    expect(w.occupancy()).toEqual(new Map([['person', 1], ['dog', 1]]));
  });

  it('places an object by its anchor: a box whose feet are outside but centre inside is in only for a centre-anchored zone', () => {
    const box = feet(0.5, 0.65); // feet at y 0.65, centre at 0.55
    expect(walkZone(zone({ inertia: 1 }), [box])).toEqual([]);
    expect(walkZone(zone({ inertia: 1, anchor: 'center' }), [box])).toEqual([[0, 'enter']]);
    expect(walkZone(zone({ inertia: 1, anchor: 'top-center' }), [box])).toEqual([[0, 'enter']]); // top at 0.45
  });
});

describe('LineWatch', () => {
  it('needs the anchor past the line by 4 % of the box height, kept between 1 % and 3 % of the frame', () => {
    expect(sideMargin(feet(0.5, 0.5, 0.5))).toBeCloseTo(0.02, 12);
    expect(sideMargin(feet(0.5, 0.5, 0.1))).toBe(0.01);
    expect(sideMargin(feet(0.5, 0.9, 0.9))).toBe(0.03);
  });

  it('counts a track walking down across a line drawn left to right once, as "in"', () => {
    expect(crossings(line(), column(0.5, range(30, 70)))).toEqual(['in']);
  });

  it('counts a box whose bottom jitters ±0.5 % around the line for 50 frames not at all', () => {
    const w = line();
    const jitter = Array.from({ length: 50 }, (_, i) => feet(0.5, i % 2 ? 0.505 : 0.495));
    expect(crossings(w, [feet(0.5, 0.4), ...jitter, feet(0.5, 0.4)])).toEqual([]);
    // A tall box gets a wider margin: ±1.5 % jitter of a box half the frame high counts nothing either…
    const tall = Array.from({ length: 50 }, (_, i) => feet(0.5, i % 2 ? 0.515 : 0.485, 0.5));
    expect(crossings(line(), tall, 2)).toEqual([]);
    // …while for a small box ±1.5 % is past the line every time.
    const small = Array.from({ length: 4 }, (_, i) => feet(0.5, i % 2 ? 0.515 : 0.485, 0.05));
    expect(crossings(line(), small, 3)).toEqual(['in', 'out', 'in']);
  });

  it('counts crossing then coming back as in, then out', () => {
    expect(crossings(line(), column(0.5, [...range(30, 70), ...range(68, 30, -2)]))).toEqual(['in', 'out']);
  });

  it('counts nothing for walking round the end of the line, and counts the next real crossing', () => {
    const w = line();
    const around = [
      ...[50, 40, 30, 20, 10].map((x) => feet(x / 100, 0.3)), // left along above the line, past A at x 0.2
      ...column(0.1, range(30, 70)), // down beside it
      ...[10, 20, 30, 40, 50].map((x) => feet(x / 100, 0.7)), // back right below it
    ];
    expect(crossings(w, around)).toEqual([]);
    // It is now below: coming up through the middle is "out".
    expect(crossings(w, column(0.5, range(68, 30, -2)))).toEqual(['out']);
  });

  it('allows 5 % of the line\'s length of slack beyond each end', () => {
    // The line runs from x 0.2 to 0.8 (length 0.6): slack 0.03.
    expect(crossings(line(), column(0.82, range(30, 70)))).toEqual(['in']);
    expect(crossings(line(), column(0.18, range(30, 70)))).toEqual(['in']);
    expect(crossings(line(), column(0.85, range(30, 70)))).toEqual([]);
    expect(crossings(line(), column(0.15, range(30, 70)))).toEqual([]);
  });

  it('swaps in and out when the line\'s points are given the other way round', () => {
    const reversed = line({ points: [[0.8, 0.5], [0.2, 0.5]] });
    expect(crossings(reversed, column(0.5, [...range(30, 70), ...range(68, 30, -2)]))).toEqual(['out', 'in']);
    // A line drawn top to bottom: moving to the picture's left is "in".
    const vertical = line({ points: [[0.5, 0.2], [0.5, 0.8]] });
    const leftward = range(70, 30, -2).map((x) => feet(x / 100, 0.5));
    expect(crossings(vertical, leftward)).toEqual(['in']);
  });

  it('follows the anchor: the feet cross before the centre does', () => {
    const bottom = line();
    const centre = line({ anchor: 'center' });
    // Feet from 0.30 to 0.58: the centre (0.1 higher) only reaches 0.48.
    const first = column(0.5, range(30, 58));
    expect(crossings(bottom, first)).toEqual(['in']);
    expect(crossings(centre, first)).toEqual([]);
    const rest = column(0.5, range(60, 70));
    expect(crossings(bottom, rest)).toEqual([]);
    expect(crossings(centre, rest)).toEqual(['in']);
  });

  it('counts only its labels, and tracks apart', () => {
    const w = line({ labels: ['car'] });
    expect(crossings(w, column(0.5, range(30, 70)), 1, 'person')).toEqual([]);
    expect(crossings(w, column(0.5, range(30, 70)), 2, 'car')).toEqual(['in']);
    // Two tracks interleaved: each its own side.
    const both = line();
    const a = column(0.3, range(30, 70));
    const b = column(0.7, range(70, 30, -2));
    const seen: [number, Direction][] = [];
    a.forEach((box, i) => {
      const da = both.update(1, 'person', box);
      const db = both.update(2, 'person', b[i]);
      if (da) seen.push([1, da]);
      if (db) seen.push([2, db]);
    });
    expect(seen).toEqual([[1, 'in'], [2, 'out']]);
  });

  it('forgets a track: its side is not remembered afterwards', () => {
    const w = line();
    expect(crossings(w, column(0.5, [30, 40]))).toEqual([]);
    w.forget(1);
    expect(crossings(w, column(0.5, [60, 70]))).toEqual([]);
  });
});
