import { describe, expect, it } from 'vitest';
import { DetectionPacker, malformedDetection, toDetectionJson, toEventJson, unpackDetection, type EventRecord } from '../../src/store/records.js';
import { eventId } from '../../src/track/events.js';
import type { DetectionRecord } from '../../src/types.js';

const det = (over: Partial<DetectionRecord> = {}): DetectionRecord => ({
  camera: 'front',
  time: 1_700_000_000_123,
  frameId: '1:400',
  label: 'person',
  classId: 1,
  score: 0.875,
  box: [0.1, 0.2, 0.3, 0.4],
  trackId: 7,
  ...over,
});

describe('records', () => {
  it('event ids are camera-start-track, and stay unique when the camera id holds dashes', () => {
    expect(eventId('front', 1_700_000_000_000, 3)).toBe('front-1700000000000-3');
    // "a-1" at start 23 vs "a" at start 1…: the numeric tail tells them apart.
    expect(eventId('a-1', 23, 4)).not.toBe(eventId('a', 123, 4));
    expect(eventId('a-1', 2, 34)).not.toBe(eventId('a-1-2', 3, 4));
  });

  it('detection JSON has a fixed key order, the id only for stored rows, and times as ms numbers', () => {
    expect(Object.keys(toDetectionJson(det()))).toEqual(['camera', 'time', 'frameId', 'label', 'classId', 'score', 'box', 'trackId']);
    const stored = toDetectionJson({ ...det(), id: 42 });
    expect(Object.keys(stored)[0]).toBe('id');
    expect(stored).toMatchObject({ id: 42, time: 1_700_000_000_123, box: [0.1, 0.2, 0.3, 0.4], trackId: 7 });
  });

  it('event JSON copies the box rather than sharing it', () => {
    const e: EventRecord = {
      id: 'front-1-7', camera: 'front', trackId: 7, label: 'car', classId: 3, start: 1, end: null, maxScore: 0.9,
      bestBox: [0, 0, 1, 1], bestFrameId: '1:0', bestTime: 1, snapshot: null, snapshotBytes: 0, zones: [],
    };
    const j = toEventJson(e);
    // The model that detected it is always in the JSON: null when the record does not know it.
    expect(j).toEqual({ ...e, model: null, modelVersion: null });
    expect(toEventJson({ ...e, model: 'people', modelVersion: 3 })).toMatchObject({ model: 'people', modelVersion: 3 });
    expect(j.bestBox).not.toBe(e.bestBox);
  });

  it('says what is malformed about a record', () => {
    expect(malformedDetection(det())).toBeNull();
    expect(malformedDetection(det({ camera: undefined as unknown as string }))).toMatch(/strings/);
    expect(malformedDetection(det({ score: NaN }))).toMatch(/score/);
    expect(malformedDetection(det({ classId: 1.5 }))).toMatch(/classId/);
    expect(malformedDetection(det({ box: [0, 0, 1] as unknown as DetectionRecord['box'] }))).toMatch(/box/);
    expect(malformedDetection(det({ trackId: 0.5 }))).toMatch(/trackId/);
  });

  it('packs records past its initial capacity and unpacks them unchanged, null track ids included', () => {
    const packer = new DetectionPacker(2);
    const records = Array.from({ length: 9 }, (_, i) =>
      det({ camera: `cam${i % 3}`, time: 1000 + i, frameId: `1:${i >> 1}`, score: i / 10, trackId: i % 2 ? null : i }),
    );
    for (const r of records) packer.push(r);
    const packed = packer.take();
    expect(packed.count).toBe(9);
    // Repeated strings are stored once.
    expect(packed.strings.length).toBe(3 + 5 + 1);
    expect(Array.from({ length: 9 }, (_, i) => unpackDetection(packed, i))).toEqual(records);
    expect(packer.take().count).toBe(0);
  });
});
