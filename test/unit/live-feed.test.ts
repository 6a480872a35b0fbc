// One camera's live feed with viewers the test plays: what each viewer gets,
// what is encoded and what is skipped (and counted), and that the frames
// handed in are never drawn on.
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { CameraFeed, type AnnotatedFrame, type Viewer } from '../../src/live/feed.js';
import type { CameraDetections, Frame } from '../../src/types.js';
import { solidFrame } from '../helpers/frames.js';

/** A viewer that keeps what it took; `takes` decides, frame by frame, whether it keeps up. */
class TestViewer implements Viewer {
  readonly got: AnnotatedFrame[] = [];
  offered = 0;
  constructor(private readonly takes: (n: number) => boolean = () => true) {}
  offer(frame: AnnotatedFrame): 'sent' | 'skipped' {
    if (!this.takes(this.offered++)) return 'skipped';
    this.got.push(frame);
    return 'sent';
  }
  ids(): string[] {
    return this.got.map((f) => f.frameId);
  }
}

/** Frame `seq` of camera "door", 64×48, taken at t0 + seq·100 ms (frameId `1:${seq * 100}`). */
const t0 = 1_700_000_000_000;
const frame = (seq: number, rgb: readonly [number, number, number] = [40, 40, 40]): Frame =>
  solidFrame('door', seq, { width: 64, height: 48, rgb, ptsMs: seq * 100, capturedAt: t0 + seq * 100 });

/** The header of a frame's WebSocket message (see frameMessage). */
function header(f: AnnotatedFrame): Record<string, unknown> {
  const length = f.message.readUInt32BE(0);
  expect(f.message.subarray(4 + length).equals(f.jpeg)).toBe(true);
  return JSON.parse(f.message.subarray(4, 4 + length).toString()) as Record<string, unknown>;
}

const settled = (feed: CameraFeed, encoded: number) => vi.waitFor(() => expect(feed.snapshotStats().encoded).toBe(encoded), { timeout: 5_000, interval: 5 });

describe('camera feed', () => {
  it('encodes nothing while nobody watches', async () => {
    const feed = new CameraFeed('door', () => undefined);
    for (let i = 0; i < 3; i++) feed.push(frame(i));
    await new Promise((r) => setTimeout(r, 50));
    expect(feed.snapshotStats()).toMatchObject({ encoded: 0, encodeSkipped: 0, viewers: 0 });
    const viewer = new TestViewer();
    feed.add(viewer);
    expect(viewer.got).toEqual([]); // nothing old to show
    feed.push(frame(3));
    await settled(feed, 1);
    feed.remove(viewer);
    feed.push(frame(4));
    await new Promise((r) => setTimeout(r, 50));
    expect(feed.snapshotStats()).toMatchObject({ encoded: 1, viewers: 0 });
    expect(viewer.ids()).toEqual(['1:300']);
  });

  it('runs one encode at a time and keeps only the newest frame waiting; the ones replaced are counted', async () => {
    const feed = new CameraFeed('door', () => undefined);
    const viewer = new TestViewer();
    feed.add(viewer);
    for (let i = 0; i < 5; i++) feed.push(frame(i));
    await settled(feed, 2);
    expect(viewer.ids()).toEqual(['1:0', '1:400']);
    expect(feed.snapshotStats()).toMatchObject({ encoded: 2, encodeSkipped: 3, sent: 2, viewerSkipped: 0 });
  });

  it('lets a slow viewer skip frames (counted) while another gets every one', async () => {
    const feed = new CameraFeed('door', () => undefined);
    const fast = new TestViewer();
    const slow = new TestViewer((n) => n % 2 === 0);
    feed.add(fast);
    feed.add(slow);
    for (let i = 0; i < 4; i++) {
      feed.push(frame(i));
      await settled(feed, i + 1);
    }
    expect(fast.ids()).toEqual(['1:0', '1:100', '1:200', '1:300']);
    expect(slow.ids()).toEqual(['1:0', '1:200']);
    const bytes = [...fast.got, ...slow.got].reduce((n, f) => n + f.message.length, 0);
    expect(feed.snapshotStats()).toMatchObject({ viewers: 2, encoded: 4, sent: 6, viewerSkipped: 2, bytesSent: bytes });
  });

  it('gives a new viewer the newest frame at once, without encoding again', async () => {
    const feed = new CameraFeed('door', () => undefined);
    feed.add(new TestViewer());
    feed.push(frame(0));
    await settled(feed, 1);
    feed.push(frame(1));
    await settled(feed, 2);
    const late = new TestViewer();
    feed.add(late);
    expect(late.ids()).toEqual(['1:100']);
    expect(header(late.got[0])).toEqual({ kind: 'jpeg', camera: 'door', frameId: '1:100', timestamp: t0 + 100, pts: null, width: 64, height: 48, detectionsFrameId: null, boxAgeMs: null });
    expect(feed.snapshotStats().encoded).toBe(2);
  });

  it('draws the newest detections once they are rasterized, says which and how old, and never changes the frame', async () => {
    const detections: CameraDetections = {
      frameId: '1:0', frameSeq: 0, run: 1, pts: undefined, capturedAt: t0, width: 64, height: 48, latencyMs: 12, queueWaitMs: 3, regions: null,
      detections: [{ classId: 1, label: 'person', score: 0.9, box: [0.25, 0.25, 0.75, 0.75] }],
    };
    const feed = new CameraFeed('door', () => detections);
    const viewer = new TestViewer();
    feed.add(viewer);
    // Live frames do not wait for the drawing: push frames until one carries it.
    let seq = 0;
    const pushed: { f: Frame; bytes: Buffer }[] = [];
    await vi.waitFor(async () => {
      const f = frame(++seq);
      pushed.push({ f, bytes: Buffer.from(f.data) });
      feed.push(f);
      await settled(feed, seq);
      expect(viewer.got.at(-1)?.detectionsFrameId).toBe('1:0');
    }, { timeout: 5_000, interval: 10 });
    const drawn = viewer.got.at(-1) as AnnotatedFrame;
    expect(header(drawn)).toMatchObject({ frameId: `1:${seq * 100}`, detectionsFrameId: '1:0', boxAgeMs: seq * 100 });
    // The box's left edge (x = 16) is drawn in the picture, the frame itself is untouched.
    const { data, info } = await sharp(drawn.jpeg).raw().toBuffer({ resolveWithObject: true });
    const edge = (24 * 64 + 16) * info.channels;
    expect(Math.max(...[0, 1, 2].map((c) => Math.abs(data[edge + c] - 40)))).toBeGreaterThan(40);
    for (const { f, bytes } of pushed) expect(f.data.equals(bytes)).toBe(true);
  });

  it('latestOr() encodes a fallback when nothing recent was encoded, with the newest detections drawn', async () => {
    const detections: CameraDetections = {
      frameId: '1:0', frameSeq: 0, run: 1, pts: undefined, capturedAt: t0, width: 64, height: 48, latencyMs: 12, queueWaitMs: 3, regions: null,
      detections: [{ classId: 1, label: 'person', score: 0.9, box: [0.25, 0.25, 0.75, 0.75] }],
    };
    const feed = new CameraFeed('door', () => detections);
    expect(await feed.latestOr(undefined)).toBeUndefined();
    const first = frame(1);
    const firstBytes = Buffer.from(first.data);
    const snap = await feed.latestOr(first);
    // A snapshot waits for the drawing, so it has the boxes.
    expect(snap).toMatchObject({ camera: 'door', frameId: '1:100', detectionsFrameId: '1:0', boxAgeMs: 100 });
    expect(first.data.equals(firstBytes)).toBe(true);
    // A frame under 2 s newer: the one encoded serves.
    expect(await feed.latestOr(frame(15))).toBe(snap);
    expect(feed.snapshotStats().encoded).toBe(1);
    // One older than that: encoded anew.
    expect(await feed.latestOr(frame(30))).toMatchObject({ frameId: '1:3000' });
    expect(feed.snapshotStats()).toMatchObject({ encoded: 2, viewers: 0, sent: 0 });
  });
});
