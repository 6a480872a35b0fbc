// Reading ffmpeg's stderr and cutting its raw output into frames.
import { describe, expect, it } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { LineTail, StderrParser } from '../../src/ingest/ffmpeg-stderr.js';
import { readFrames } from '../../src/ingest/frame-reader.js';
import { backoffDelay } from '../../src/util/backoff.js';
import { CAMERA_BACKOFF } from '../../src/ingest/camera.js';

describe('ffmpeg stderr', () => {
  it('finds the input rate and each output\'s exact size, in either order', () => {
    const p = new StderrParser();
    const lines = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/m/bottle.mp4':",
      '  Duration: 00:01:39.85, start: 0.000000, bitrate: 105 kb/s',
      '  Stream #0:0[0x1](eng): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 640x360 [SAR 1:1 DAR 16:9], 98 kb/s, 29.83 fps, 29.83 tbr, 11456 tbn (default)',
      "Output #1, rawvideo, to 'unix:/tmp/l.sock':",
      '  Stream #1:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 320x180 [SAR 1:1 DAR 16:9], q=2-31, 20736 kb/s, 15 fps, 15 tbn',
      "Output #0, rawvideo, to 'pipe:1':",
      '    Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, 640x360 [SAR 1:1 DAR 16:9], q=2-31, 27648 kb/s, 5 fps, 5 tbn, 5 tbc (default)',
    ];
    const revealed = lines.map((l) => p.push(l));
    expect(revealed).toEqual([undefined, undefined, undefined, undefined, 1, undefined, 0]);
    expect(p.facts.durationMs).toBe(99_850);
    expect(p.facts.input).toEqual({ width: 640, height: 360, fps: 29.83, codec: 'h264' });
    expect(p.facts.outputs.get(0)).toEqual({ width: 640, height: 360, fps: 5, codec: 'rawvideo' });
    expect(p.facts.outputs.get(1)).toEqual({ width: 320, height: 180, fps: 15, codec: 'rawvideo' });
  });

  it('keeps a bounded tail and picks the line that explains a failure', () => {
    const tail = new LineTail(3);
    for (const l of ['a', "[rtsp @ 0x1] method DESCRIBE failed: 404 Not Found", 'b', 'c']) tail.push(l);
    expect(tail.get()).toEqual(["[rtsp @ 0x1] method DESCRIBE failed: 404 Not Found", 'b', 'c']);
    expect(tail.reason()).toMatch(/404 Not Found/);
  });
});

describe('frame reader', () => {
  it('cuts frames across and within chunks, waiting for the size', async () => {
    const stream = new PassThrough();
    let announce!: (n: number) => void;
    const size = new Promise<number>((r) => { announce = r; });
    const frames: number[][] = [];
    const reading = (async () => {
      for await (const f of readFrames(stream, () => size)) frames.push([...f]);
    })();
    stream.write(Buffer.from([1, 1, 1, 2]));
    setTimeout(() => announce(3), 20);
    stream.write(Buffer.from([2, 2]));
    stream.write(Buffer.from([3, 3, 3, 4, 4, 4, 5]));
    stream.end();
    await reading;
    expect(frames).toEqual([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]]);
  });

  it('stops reading when the consumer is slow, instead of buffering', async () => {
    let pulled = 0;
    async function* producer() {
      for (let i = 0; i < 10_000; i++) {
        pulled++;
        yield Buffer.alloc(16, i % 256);
      }
    }
    const it = readFrames(Readable.from(producer(), { objectMode: false, highWaterMark: 64 }), async () => 16);
    const first = await it.next();
    expect(first.value?.length).toBe(16);
    await new Promise((r) => setTimeout(r, 50));
    // The consumer took one frame and waits: the reader pulled a few chunks ahead, not the whole stream.
    expect(pulled).toBeLessThan(100);
    await it.return(undefined);
  });
});

describe('restart backoff', () => {
  it('doubles from 1 s to a 30 s cap, with jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, CAMERA_BACKOFF, mid))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(1, CAMERA_BACKOFF, () => 0)).toBe(800);
    expect(backoffDelay(1, CAMERA_BACKOFF, () => 1)).toBe(1200);
    expect(backoffDelay(9, CAMERA_BACKOFF, () => 1)).toBe(30000);
  });
});
