// One MP4 for any span of a camera's recordings, assembled from its segment
// files without re-encoding (docs/recordings.md): the first segment's init
// segment, then the fragments from the last keyframe at or before `since`
// to the first keyframe after `until`, segment after segment. Each
// fragment's decode time (tfdt, and the prft boxes' media time) is moved so
// that the clip's media time t is the wall-clock time clipStart + t: the
// page finds the detection log's boxes for a frame by adding, and a gap in
// the recording stays a gap. The bytes moved keep their size, so the
// clip's length is known before a byte is read, and a Range request starts
// reading at the keyframe before the asked offset.
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { SegmentRecord } from '../store/segments.js';
import { parseFragment } from '../ingest/fmp4.js';
import { patchBox, type Keyframe } from './segment-file.js';

export type ClipPart =
  | { kind: 'init'; file: string; bytes: number }
  | { kind: 'file'; file: string; from: number; to: number; shift: number; keyframes: number[] };

export interface ClipPlan {
  /** Wall-clock ms of media time 0. */
  clipStart: number;
  clipEnd: number;
  length: number;
  parts: ClipPart[];
  /** Why the clip ends before `until`, if it does. */
  truncated: string | null;
}

const wallOf = (s: SegmentRecord, pts: number) => s.start + ((pts - s.startPts) / s.timescale) * 1000;

/** The plan for [since, until) from a camera's segments (oldest first); undefined when none of it was recorded. */
export async function planClip(segments: readonly SegmentRecord[], since: number, until: number, dir: string): Promise<ClipPlan | undefined> {
  const usable = segments.filter((s) => s.bytes > s.initBytes && s.keyframes.length > 0 && s.end > since && s.start < until);
  const first = usable[0];
  if (!first) return undefined;
  const k0 = [...first.keyframes].reverse().find((k) => wallOf(first, k[1]) <= since) ?? (first.keyframes[0] as Keyframe);
  // Media time 0 lies at or before the first decode time, so no decode time moves below zero.
  const margin = ((k0[1] - k0[2]) / first.timescale) * 1000;
  const clipStart = Math.floor(wallOf(first, k0[1]) - Math.max(0, margin));
  const parts: ClipPart[] = [{ kind: 'init', file: path.join(dir, first.path), bytes: first.initBytes }];
  let length = first.initBytes;
  let clipEnd = clipStart;
  let truncated: string | null = null;
  let previous: { part: Extract<ClipPart, { kind: 'file' }>; end: number } | undefined;
  for (const s of usable) {
    if (s.initHash !== first.initHash || s.timescale !== first.timescale) {
      truncated = 'stream changed';
      break;
    }
    const from = s === first ? k0[0] : s.initBytes;
    const after = s.keyframes.find((k) => k[0] > from && wallOf(s, k[1]) > until);
    const to = after ? after[0] : s.bytes;
    // Each segment keeps its own clock's mapping, so media time is wall time exactly.
    const shift = Math.round(((s.start - clipStart) * s.timescale) / 1000) - s.startPts;
    const firstDts = (s.keyframes.find((k) => k[0] >= from) ?? k0)[2] + shift;
    // Within a run a segment begins where the one before ended (its last frame shown, plus its duration).
    if (previous && s.start < previous.end - 1) {
      // Where the run clock's epoch was lowered (run-clock.ts: the first seconds of a run), this
      // segment begins before the previous one ended: the previous one's last frames (droppable: the
      // end of a group of pictures) go, so decode times never step back.
      const cut = await firstFragmentFrom(previous.part, firstDts);
      length -= previous.part.to - cut;
      previous.part.to = cut;
      previous.part.keyframes = previous.part.keyframes.filter((o) => o < cut);
      if (cut <= previous.part.from) parts.splice(parts.indexOf(previous.part), 1);
    }
    const keyframes = s.keyframes.map((k) => k[0]).filter((o) => o >= from && o < to);
    const part: Extract<ClipPart, { kind: 'file' }> = { kind: 'file', file: path.join(dir, s.path), from, to, shift, keyframes };
    parts.push(part);
    previous = { part, end: s.end };
    length += to - from;
    clipEnd = after ? wallOf(s, after[1]) : s.end;
    if (after) break;
  }
  return { clipStart, clipEnd: Math.round(clipEnd), length, parts, truncated };
}

/**
 * The offset of the first fragment of `part` whose shifted decode time is at
 * least `dts` (its end if none). Reads box headers and moofs only, never the
 * media data.
 */
async function firstFragmentFrom(part: Extract<ClipPart, { kind: 'file' }>, dts: number): Promise<number> {
  const fh = await open(part.file, 'r');
  try {
    const header = Buffer.alloc(16);
    // The overlap is short (the clock's step): the last group of pictures holds it, else the whole part is walked.
    for (const start of [part.keyframes[part.keyframes.length - 1] ?? part.from, part.from]) {
      let pieceStart = -1;
      let earlier = false;
      for (let at = start; at + 8 <= part.to;) {
        const { bytesRead } = await fh.read(header, 0, 16, at);
        if (bytesRead < 8) break;
        let size = header.readUInt32BE(0);
        if (size === 1 && bytesRead >= 16) size = Number(header.readBigUInt64BE(8));
        if (size < 8) break;
        const type = header.toString('latin1', 4, 8);
        if (pieceStart < 0) pieceStart = at;
        if (type === 'moof') {
          const moof = Buffer.alloc(Math.min(size, 1 << 20));
          await fh.read(moof, 0, moof.length, at);
          const shifted = (parseFragment(moof)?.decodeTime ?? 0) + part.shift;
          if (shifted >= dts) {
            // Already the window's first fragment: the cut may lie before it.
            if (pieceStart === start && start !== part.from) earlier = true;
            else return pieceStart;
            break;
          }
        }
        if (type === 'mdat') pieceStart = -1;
        at += size;
      }
      if (!earlier) return part.to;
    }
    return part.to;
  } finally {
    await fh.close();
  }
}

const READ_BYTES = 1 << 20;

/** The bytes of file[from, to) with every moof and prft shifted; `from` is a box boundary. */
async function* shiftedBytes(file: string, from: number, to: number, shift: number): AsyncGenerator<Buffer> {
  const fh = await open(file, 'r');
  try {
    let pos = from;
    let carry = Buffer.alloc(0);
    /** Bytes of a large box (mdat) still to pass through untouched. */
    let through = 0;
    while (pos < to) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_BYTES, to - pos));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) throw new Error(`${file} ends at ${pos}, before ${to}: it changed under the clip`);
      pos += bytesRead;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let at = 0;
      while (at < buf.length) {
        if (through > 0) {
          const n = Math.min(through, buf.length - at);
          yield buf.subarray(at, at + n);
          at += n;
          through -= n;
          continue;
        }
        if (buf.length - at < 16) break;
        let size = buf.readUInt32BE(at);
        if (size === 1) size = Number(buf.readBigUInt64BE(at + 8));
        const type = buf.toString('latin1', at + 4, at + 8);
        if (size < 8) throw new Error(`${file}: a box of ${size} bytes at ${pos - buf.length + at}`);
        if (type !== 'moof' && type !== 'prft') {
          through = size;
          continue;
        }
        if (buf.length - at < size) break;
        const box = Buffer.from(buf.subarray(at, at + size));
        patchBox(box, type, shift);
        yield box;
        at += size;
      }
      carry = Buffer.from(buf.subarray(at));
    }
    if (carry.length) yield carry;
  } finally {
    await fh.close();
  }
}

/** The clip's bytes [start, end] (inclusive, as HTTP ranges are). */
export async function* clipBytes(plan: ClipPlan, start = 0, end = plan.length - 1): AsyncGenerator<Buffer> {
  let outAt = 0;
  for (const part of plan.parts) {
    const size = part.kind === 'init' ? part.bytes : part.to - part.from;
    const partStart = outAt;
    outAt += size;
    if (outAt <= start) continue;
    if (partStart > end) return;
    const want = [Math.max(start, partStart) - partStart, Math.min(end + 1, outAt) - partStart] as const;
    if (part.kind === 'init') {
      const fh = await open(part.file, 'r');
      try {
        const buf = Buffer.alloc(want[1] - want[0]);
        await fh.read(buf, 0, buf.length, want[0]);
        yield buf;
      } finally {
        await fh.close();
      }
      continue;
    }
    // Reading starts at a box boundary: the keyframe at or before the first byte wanted.
    const wantFrom = part.from + want[0];
    const wantTo = part.from + want[1];
    const readFrom = [...part.keyframes].reverse().find((o) => o <= wantFrom) ?? part.from;
    let at = readFrom;
    // Read to the part's end (a fragment boundary): a range ending inside a moof still gets it shifted.
    for await (const chunk of shiftedBytes(part.file, readFrom, part.to, part.shift)) {
      const lo = Math.max(wantFrom - at, 0);
      const hi = Math.min(wantTo - at, chunk.length);
      if (lo < hi) yield lo > 0 || hi < chunk.length ? chunk.subarray(lo, hi) : chunk;
      at += chunk.length;
      if (at >= wantTo) break;
    }
  }
}
