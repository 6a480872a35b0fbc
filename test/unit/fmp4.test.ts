// The copied stream as lookout reads it: fragmented MP4 written by the real
// ffmpeg (the same flags a camera's ffmpeg uses), cut at any chunk size into
// one init segment and a fragment per frame, with the codec string, sizes,
// each fragment's pts and keyframe flag — checked against ffprobe's reading
// of the same bytes. Then the group-of-pictures cache and the native feed's
// skip-to-keyframe rule.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FMP4_OUTPUT } from '../../src/ingest/ffmpeg-args.js';
import { Fmp4Splitter, parseFragment, parseInit, type Fmp4Piece } from '../../src/ingest/fmp4.js';
import { GOP_CACHE_FRAGMENTS, StreamCache, type StreamFragment, type StreamInit } from '../../src/ingest/stream-cache.js';
import { NativeFeed, type NativeSink } from '../../src/live/native.js';
import { tempDir } from '../helpers/cleanup.js';
import { BOTTLE_CLIP } from '../helpers/media.js';

/** The first seconds of the bottle clip (H.264 High, B-frames, 11456 tbn), as a camera's ffmpeg copies it. */
function copied(seconds: number): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-t', String(seconds), '-i', BOTTLE_CLIP, '-map', '0:v:0', '-c:v', 'copy', ...FMP4_OUTPUT, 'pipe:1'], { maxBuffer: 64 << 20 });
}

function split(data: Buffer, chunk: number): Fmp4Piece[] {
  const splitter = new Fmp4Splitter();
  const pieces: Fmp4Piece[] = [];
  for (let i = 0; i < data.length; i += chunk) pieces.push(...splitter.push(data.subarray(i, i + chunk)));
  return pieces;
}

describe('fragmented MP4', () => {
  const data = copied(10);

  it('cuts the stream into the init segment and a fragment per frame, whatever the chunk size', () => {
    const whole = split(data, data.length);
    expect(whole[0].kind).toBe('init');
    expect(whole.slice(1).every((p) => p.kind === 'fragment')).toBe(true);
    for (const chunk of [1, 7, 4096, 65536]) {
      const pieces = split(data, chunk);
      expect(pieces.map((p) => p.data.length)).toEqual(whole.map((p) => p.data.length));
    }
    // Nothing lost or added: the pieces are the stream, but for the index the muxer writes at its end (mfra).
    const joined = Buffer.concat(whole.map((p) => p.data));
    expect(data.subarray(0, joined.length).equals(joined)).toBe(true);
    expect(data.toString('latin1', joined.length + 4, joined.length + 8)).toBe('mfra');
  });

  it('reads the codec string, size and timescale, and each fragment\'s pts and keyframe flag as ffprobe does', () => {
    const pieces = split(data, 5000);
    expect(parseInit(pieces[0].data)).toEqual({ codec: 'avc1.64001e', sampleEntry: 'avc1', width: 640, height: 360, timescale: 11456 });
    const dir = tempDir('lookout-fmp4-');
    const file = path.join(dir, 'copy.mp4');
    writeFileSync(file, data);
    const probed = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file], { encoding: 'utf8' })
      .trim().split('\n').map((l) => { const [pts, flags] = l.split(','); return { pts: Number(pts), keyframe: flags.startsWith('K') }; });
    const ours = pieces.slice(1).map((p) => parseFragment(p.data)).map((f) => ({ pts: Number(((f?.pts ?? NaN) / 11456).toFixed(6)), keyframe: f?.keyframe }));
    expect(ours).toEqual(probed);
    expect(ours[0].keyframe).toBe(true);
    expect(ours.filter((f) => f.keyframe).length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a stream that is not MP4 boxes, naming the size it found', () => {
    expect(() => new Fmp4Splitter().push(Buffer.from('this is not an mp4 stream at all'))).toThrow(/a box of \d+ bytes/);
  });
});

const init = (run: number): StreamInit => ({ camera: 'c', run, data: Buffer.from(`init${run}`), codec: 'avc1.64001e', sampleEntry: 'avc1', width: 640, height: 360, timescale: 90000, transcoded: false, from: 'h264', mime: '' });
const fragment = (run: number, seq: number, keyframe: boolean, bytes = 10): StreamFragment => ({ camera: 'c', run, seq, data: Buffer.alloc(bytes), pts: seq / 30, duration: 1 / 30, keyframe, receivedAt: 0, time: 0, epoch: 0 });

describe('the newest group of pictures', () => {
  it('keeps the init segment and the fragments since the newest keyframe, and nothing of a group too long to keep', () => {
    const cache = new StreamCache();
    cache.setInit(init(1));
    cache.add(fragment(1, 0, false));
    expect(cache.fragments()).toHaveLength(0);
    for (let i = 1; i <= 5; i++) cache.add(fragment(1, i, i === 1 || i === 4));
    expect(cache.fragments().map((f) => f.seq)).toEqual([4, 5]);
    for (let i = 6; i < 6 + GOP_CACHE_FRAGMENTS; i++) cache.add(fragment(1, i, false));
    expect(cache.fragments()).toHaveLength(0);
    expect(cache.stats().overflows).toBe(1);
    cache.setInit(init(2));
    expect(cache.current?.run).toBe(2);
  });

  it('measures the camera\'s group of pictures (the longest keyframe interval), kept across runs, not across a run\'s new timeline', () => {
    const cache = new StreamCache();
    cache.setInit(init(1));
    // Keyframes at 0, 2 and 6 s (30 fps): the longest group is 4 s.
    for (let i = 0; i <= 200; i++) cache.add(fragment(1, i, i === 0 || i === 60 || i === 180));
    expect(cache.gopS).toBeCloseTo(4, 6);
    // A new run starts its timeline at 0 again: its first keyframe is not an interval from run 1's last.
    cache.setInit(init(2));
    for (let i = 0; i <= 30; i++) cache.add(fragment(2, i, i === 0 || i === 30));
    expect(cache.gopS).toBeCloseTo(4, 6);
  });
});

class Sink implements NativeSink {
  readonly got: string[] = [];
  buffered = 0;
  ended = false;
  constructor(readonly kind: 'ws' | 'http') {}
  backlog(): number {
    return this.buffered;
  }
  sendInit(i: StreamInit): void {
    this.got.push(`init${i.run}`);
  }
  sendFragment(f: StreamFragment, skipped: number): void {
    this.got.push(`${f.run}:${f.seq}${f.keyframe ? 'K' : ''}${skipped ? `+${skipped}` : ''}`);
  }
  end(): void {
    this.ended = true;
  }
}

describe('native viewers', () => {
  it('start at the newest keyframe, skip to the next keyframe when behind, and a slow one never holds up another', () => {
    const cache = new StreamCache();
    cache.setInit(init(1));
    for (let i = 0; i < 4; i++) cache.add(fragment(1, i, i % 3 === 0));
    const feed = new NativeFeed('c');
    const fast = new Sink('ws');
    const slow = new Sink('ws');
    feed.add(fast, cache);
    feed.add(slow, cache);
    expect(fast.got).toEqual(['init1', '1:3K']);
    slow.buffered = 10 << 20;
    for (let i = 4; i < 8; i++) feed.push({ kind: 'fragment', fragment: fragment(1, i, i % 3 === 0) });
    slow.buffered = 0;
    for (let i = 8; i < 10; i++) feed.push({ kind: 'fragment', fragment: fragment(1, i, i % 3 === 0) });
    expect(fast.got).toEqual(['init1', '1:3K', '1:4', '1:5', '1:6K', '1:7', '1:8', '1:9K']);
    // Behind from 4 on: 4–8 skipped (8 waited for a keyframe), then back at the keyframe, saying how many.
    expect(slow.got).toEqual(['init1', '1:3K', '1:9K+5']);
    expect(feed.snapshotStats()).toMatchObject({ viewers: 2, skipped: 5 });
  });

  it('give WebSocket viewers a new run\'s init segment, and end stream.mp4 viewers there', () => {
    const cache = new StreamCache();
    cache.setInit(init(1));
    cache.add(fragment(1, 0, true));
    const feed = new NativeFeed('c');
    const ws = new Sink('ws');
    const http = new Sink('http');
    feed.add(ws, cache);
    feed.add(http, cache);
    feed.push({ kind: 'init', init: init(2) });
    feed.push({ kind: 'fragment', fragment: fragment(2, 0, true) });
    expect(ws.got).toEqual(['init1', '1:0K', 'init2', '2:0K']);
    expect(http.got).toEqual(['init1', '1:0K']);
    expect(http.ended).toBe(true);
    expect(feed.snapshotStats().viewers).toBe(1);
  });
});
