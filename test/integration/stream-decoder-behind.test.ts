// A camera's decoder that falls behind a live stream skips to the next
// keyframe once the stream written is DECODER_BEHIND_S past the newest frame
// it handed out, so detections stay on recent frames; a file read as fast as
// it decodes (no bound) gets every frame. Real ffmpeg: the bottle clip copied
// into fragmented MP4 as a camera's ffmpeg copies it, split as lookout splits it.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { ffmpegMajor, FMP4_OUTPUT } from '../../src/ingest/ffmpeg-args.js';
import { Fmp4Splitter, parseFragment, parseInit } from '../../src/ingest/fmp4.js';
import { DECODER_BEHIND_S, StreamDecoder } from '../../src/ingest/stream-decoder.js';
import { tempDir } from '../helpers/cleanup.js';
import { BOTTLE_CLIP } from '../helpers/media.js';

interface Piece { data: Buffer; pts: number; keyframe: boolean }

/** The clip as a camera's ffmpeg copies it: its init segment, and fragments with pts (s) and keyframe flags. */
function copiedStream(): { init: Buffer; fragments: Piece[] } {
  const ffmpeg = resolveFfmpeg();
  const file = path.join(tempDir('lookout-behind-'), 'copy.mp4');
  execFileSync(ffmpeg.path, ['-loglevel', 'error', '-i', BOTTLE_CLIP, '-map', '0:v:0', '-c:v', 'copy', ...FMP4_OUTPUT, file]);
  const splitter = new Fmp4Splitter();
  let init: Buffer | undefined;
  let timescale = 0;
  const fragments: Piece[] = [];
  for (const piece of splitter.push(readFileSync(file))) {
    if (piece.kind === 'init') {
      init = piece.data;
      timescale = parseInit(piece.data)?.timescale ?? 0;
      continue;
    }
    const info = parseFragment(piece.data);
    if (info) fragments.push({ data: piece.data, pts: info.pts / timescale, keyframe: info.keyframe });
  }
  if (!init) throw new Error('no init segment');
  return { init, fragments };
}

const OUTPUT = { fps: 5, maxWidth: 320, maxHeight: 180 };

/** A decoder of the copied stream (with the live bound, or none), its frames, its init segment written. */
function startDecoder(init: Buffer, bound?: number, knownGopS?: () => number): { decoder: StreamDecoder; frames: AsyncGenerator<{ pts: number }> } {
  const ffmpeg = resolveFfmpeg();
  const decoder = new StreamDecoder(ffmpeg, OUTPUT, ffmpegMajor(ffmpeg.version), bound, knownGopS);
  const frames = decoder.frames();
  decoder.write(init, true);
  return { decoder, frames };
}

/** Ends the decoder's input and reads what it still hands out, to its end. */
async function drain(decoder: StreamDecoder, frames: AsyncGenerator<{ pts: number }>): Promise<number[]> {
  const got: number[] = [];
  const reading = (async () => {
    for (;;) {
      const next = await frames.next();
      if (next.done) return;
      got.push(next.value.pts);
    }
  })();
  await decoder.finish(10_000);
  await reading;
  return got;
}

describe('a decoder behind a live stream', () => {
  it('skips to a keyframe once the stream written is more than DECODER_BEHIND_S past its newest frame, and hands out recent frames after', async () => {
    const { init, fragments } = copiedStream();
    const { decoder, frames } = startDecoder(init, DECODER_BEHIND_S);
    try {
      const first = fragments.filter((f) => f.pts < 1);
      for (const f of first) decoder.write(f.data, f.keyframe, f.pts);
      // The decoder is read up to 0.6 s, then not at all while 11 s more of the stream is written: it is behind.
      // (The clip has a keyframe every 8.38 s.)
      let newest = -1;
      while (newest < 0.6) newest = (await frames.next()).value?.pts ?? Infinity;
      const rest = fragments.filter((f) => f.pts >= 1 && f.pts < 12);
      for (const f of rest) decoder.write(f.data, f.keyframe, f.pts);
      expect(decoder.skipped).toBeGreaterThan(0);
      const after = await drain(decoder, frames);
      // Frames up to DECODER_BEHIND_S past the last one read come; then none until the next keyframe (8.38 s), then the rest.
      const gaps = after.slice(1).map((t, i) => t - after[i]);
      expect(Math.max(...after.filter((t) => t < 8))).toBeLessThan(0.6 + DECODER_BEHIND_S + 0.5);
      expect(Math.max(...gaps)).toBeGreaterThan(5);
      const resumed = after.find((t) => t > 8) ?? NaN;
      expect(resumed).toBeGreaterThan(8.3);
      expect(resumed).toBeLessThan(8.7);
      expect(after[after.length - 1]).toBeGreaterThan(11.5);
    } finally {
      await decoder.stop();
    }
  }, 60_000);

  it('falls further behind rather than skip when a skip would lose more: the bound is at least 1.5 groups of pictures', async () => {
    const { init, fragments } = copiedStream();
    const { decoder, frames } = startDecoder(init, DECODER_BEHIND_S);
    try {
      // Read along through two keyframes (0 and 8.38 s): the group of pictures is known, 8.38 s.
      const first = fragments.filter((f) => f.pts < 9);
      for (const f of first) decoder.write(f.data, f.keyframe, f.pts);
      let newest = -1;
      while (newest < 8.5) newest = (await frames.next()).value?.pts ?? Infinity;
      // Then 3.5 s more without reading: past DECODER_BEHIND_S, well within 1.5 × 8.38 s.
      for (const f of fragments.filter((g) => g.pts >= 9 && g.pts < 12)) decoder.write(f.data, f.keyframe, f.pts);
      expect(decoder.skipped).toBe(0);
      const after = await drain(decoder, frames);
      expect(after[after.length - 1]).toBeGreaterThan(11.5);
    } finally {
      await decoder.stop();
    }
  }, 60_000);

  it('knows the camera\'s group of pictures from the start when the camera does (a JPEG view started late): no skip before its own second keyframe', async () => {
    const { init, fragments } = copiedStream();
    const { decoder, frames } = startDecoder(init, DECODER_BEHIND_S, () => 8.38);
    try {
      for (const f of fragments.filter((g) => g.pts < 1)) decoder.write(f.data, f.keyframe, f.pts);
      let newest = -1;
      while (newest < 0.6) newest = (await frames.next()).value?.pts ?? Infinity;
      // 4 s behind, before this decoder has seen a second keyframe: within 1.5 × the camera's 8.38 s.
      for (const f of fragments.filter((g) => g.pts >= 1 && g.pts < 5)) decoder.write(f.data, f.keyframe, f.pts);
      expect(decoder.skipped).toBe(0);
      const after = await drain(decoder, frames);
      expect(after[after.length - 1]).toBeGreaterThan(4.5);
    } finally {
      await decoder.stop();
    }
  }, 60_000);

  it('hands out every slot\'s frame of a file read as fast as it decodes (no bound)', async () => {
    const { init, fragments } = copiedStream();
    const { decoder, frames } = startDecoder(init);
    try {
      const some = fragments.filter((f) => f.pts < 9);
      for (const f of some) decoder.write(f.data, f.keyframe, f.pts);
      const got = await drain(decoder, frames);
      expect(decoder.skipped).toBe(0);
      // One frame per 1/5 s slot, none missing.
      const slots = new Set(got.map((t) => Math.floor(t * OUTPUT.fps)));
      expect(slots.size).toBeGreaterThanOrEqual(Math.floor(8.8 * OUTPUT.fps));
    } finally {
      await decoder.stop();
    }
  }, 60_000);
});
