// The segment file format (docs/recordings.md), and nothing with state: the
// files' names, the `prft` box lookout writes before each keyframe's
// fragment, moving a fragment's decode times, and a scan of a
// segment file (init segment, fragments, keyframes, where the last whole
// fragment ends) for the start-up pass that repairs what a crash cut off.
// The store's reconciliation and the recorder both use it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { boxes, parseFragment, parseInit } from '../ingest/fmp4.js';

/** Seconds between 1900-01-01 (NTP's epoch) and 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800;

/** A keyframe of a segment: its fragment's byte offset (its prft box), pts and decode time in timescale units. */
export type Keyframe = [offset: number, pts: number, dts: number];

/**
 * ProducerReferenceTimeBox (ISO 14496-12 §8.16.5), version 1: the wall-clock
 * time (NTP format) at which the sample with decode time `mediaTime` was
 * seen. 32 bytes.
 */
export function prftBox(wallMs: number, mediaTime: number, trackId = 1): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32BE(32, 0);
  b.write('prft', 4, 'latin1');
  b.writeUInt32BE(0x01000000, 8); // version 1, flags 0
  b.writeUInt32BE(trackId, 12);
  const seconds = Math.floor(wallMs / 1000);
  const fraction = Math.round(((wallMs - seconds * 1000) / 1000) * 2 ** 32);
  b.writeUInt32BE(seconds + NTP_UNIX_OFFSET, 16);
  b.writeUInt32BE(Math.min(fraction, 2 ** 32 - 1), 20);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.round(mediaTime))), 24);
  return b;
}

/** Reads a prft box's payload (after its 8-byte header): wall-clock ms and media time. */
export function readPrft(payload: Buffer): { wallMs: number; mediaTime: number } {
  const version = payload[0] ?? 0;
  const seconds = payload.readUInt32BE(8) - NTP_UNIX_OFFSET;
  const fraction = payload.readUInt32BE(12);
  const mediaTime = version === 1 ? Number(payload.readBigUInt64BE(16)) : payload.readUInt32BE(16);
  return { wallMs: seconds * 1000 + (fraction / 2 ** 32) * 1000, mediaTime };
}

/** Short hash of an init segment: two segments with the same one can be joined into one clip. */
export function initHash(init: Buffer): string {
  return createHash('sha1').update(init).digest('hex').slice(0, 16);
}

export interface SegmentScan {
  initBytes: number;
  initHash: string;
  timescale: number;
  /** Bytes up to the end of the last whole fragment: a file cut off mid-fragment is truncated here. */
  goodBytes: number;
  fragments: number;
  keyframes: Keyframe[];
  /** pts of the first fragment and the end (pts + duration) of the last, timescale units. */
  startPts: number;
  endPts: number;
  /** The first prft's wall-clock time mapped to the first fragment's pts, ms; undefined without one. */
  startWall: number | undefined;
}

/**
 * Reads a segment file whole (a segment is seconds of video) and says what a
 * crash left of it; undefined when it has no init segment or no whole
 * fragment to play.
 */
export function scanSegment(file: string): SegmentScan | undefined {
  const buf = readFileSync(file);
  let at = 0;
  let initEnd = 0;
  let timescale = 0;
  let hash = '';
  const keyframes: Keyframe[] = [];
  let fragments = 0;
  let goodBytes = 0;
  let pieceStart = -1;
  let prft: { wallMs: number; mediaTime: number } | undefined;
  let firstPrft: { wallMs: number; mediaTime: number } | undefined;
  let startPts = 0;
  let endPts = 0;
  let moofAt = -1;
  while (at + 8 <= buf.length) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1 && at + 16 <= buf.length) {
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    }
    if (size < header || at + size > buf.length) break;
    if (type === 'moov') {
      const info = parseInit(buf.subarray(0, at + size));
      if (!info) return undefined;
      timescale = info.timescale;
      initEnd = at + size;
      hash = initHash(buf.subarray(0, initEnd));
      goodBytes = initEnd;
    } else if (initEnd > 0) {
      if (pieceStart < 0) pieceStart = at;
      if (type === 'prft') prft = readPrft(buf.subarray(at + header, at + size));
      if (type === 'moof') moofAt = at;
      if (type === 'mdat' && moofAt >= 0) {
        const info = parseFragment(buf.subarray(moofAt, at + size));
        if (info) {
          if (fragments === 0) {
            startPts = info.pts;
            if (prft) firstPrft = { wallMs: prft.wallMs + ((info.pts - prft.mediaTime) / timescale) * 1000, mediaTime: info.pts };
          }
          if (info.keyframe) keyframes.push([pieceStart, info.pts, info.decodeTime]);
          endPts = Math.max(endPts, info.pts + info.duration);
          fragments++;
          goodBytes = at + size;
        }
        pieceStart = -1;
        moofAt = -1;
        prft = undefined;
      }
    }
    at += size;
  }
  if (initEnd === 0 || fragments === 0) return undefined;
  return { initBytes: initEnd, initHash: hash, timescale, goodBytes, fragments, keyframes, startPts, endPts, startWall: firstPrft?.wallMs };
}

/** Adds `shift` to a moof's tfdt (each traf) or a prft's media time, in place. */
export function patchBox(box: Buffer, type: string, shift: number): void {
  if (type === 'prft') {
    if (box[8] === 1) box.writeBigUInt64BE(BigInt(Math.max(0, Number(box.readBigUInt64BE(24)) + shift)), 24);
    return;
  }
  for (const traf of boxes(box, 8)) {
    if (traf.type !== 'traf') continue;
    for (const tfdt of boxes(box, traf.start, traf.end)) {
      if (tfdt.type !== 'tfdt') continue;
      const at = tfdt.start + 4;
      if (box[tfdt.start] === 1) box.writeBigUInt64BE(BigInt(Math.max(0, Number(box.readBigUInt64BE(at)) + shift)), at);
      else box.writeUInt32BE(Math.min(0xffffffff, Math.max(0, box.readUInt32BE(at) + shift)), at);
    }
  }
}

/**
 * A fragment with its decode times moved by `shift`: each moof copied and
 * changed (a few hundred bytes), the media data passed on as it is (the
 * fragment's buffer is shared with live viewers and must not change).
 */
export function rebased(fragment: Buffer, shift: number): Buffer[] {
  return [...boxes(fragment)].map((b) => {
    const whole = fragment.subarray(b.at, b.end);
    if (b.type !== 'moof' || shift === 0) return whole;
    const moof = Buffer.from(whole);
    patchBox(moof, 'moof', shift);
    return moof;
  });
}

const pad = (n: number) => String(n).padStart(2, '0');

/** <camera>/<YYYY-MM-DD>/<HH>/<MM.SS>.mp4, UTC. */
export function segmentName(camera: string, start: number, suffix = 0): string {
  const d = new Date(start);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return `${camera}/${day}/${pad(d.getUTCHours())}/${pad(d.getUTCMinutes())}.${pad(d.getUTCSeconds())}${suffix ? `-${suffix}` : ''}.mp4`;
}
