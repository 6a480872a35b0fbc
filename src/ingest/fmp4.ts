// Fragmented MP4 as ffmpeg's mp4 muxer writes it (empty_moov,
// default_base_moof, a fragment per frame): cut into the initialization
// segment (ftyp + moov) and media fragments (moof + mdat), and read what the
// live view needs from them — the codec string for MediaSource, the
// timescale, and each fragment's presentation time and whether it starts
// with a keyframe. Only box headers and the few fields named here are read;
// the media bytes are passed on untouched.

export interface InitInfo {
  /** RFC 6381 codec string, e.g. avc1.64001f. */
  codec: string;
  /** The sample entry's four-character code: avc1, avc3, hvc1, hev1, mp4v, … */
  sampleEntry: string;
  width: number;
  height: number;
  /** Units per second of the track's times. */
  timescale: number;
}

export interface FragmentInfo {
  /** tfdt: decode time of the first sample, in timescale units. */
  decodeTime: number;
  /** Smallest presentation time of its samples, timescale units (decode time + composition offset). */
  pts: number;
  /** Sum of the sample durations, timescale units. */
  duration: number;
  samples: number;
  /** The first sample is a sync sample (a keyframe): a decoder can start here. */
  keyframe: boolean;
}

export interface Box {
  type: string;
  /** Offset of the box itself (its header) within the buffer. */
  at: number;
  /** Offsets of the box's payload (after its header) and end, within the buffer. */
  start: number;
  end: number;
}

/** The boxes of buf[from, to) one level deep; stops at one cut off or malformed. */
export function* boxes(buf: Buffer, from = 0, to = buf.length): Generator<Box> {
  let at = from;
  while (at + 8 <= to) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) return;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < header || at + size > to) return;
    yield { type, at, start: at + header, end: at + size };
    at += size;
  }
}

function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  for (const b of boxes(buf, parent.start, parent.end)) if (b.type === type) return b;
  return undefined;
}

function path(buf: Buffer, parent: Box, ...types: string[]): Box | undefined {
  let at: Box | undefined = parent;
  for (const t of types) {
    if (!at) return undefined;
    at = child(buf, at, t);
  }
  return at;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** avc1.PPCCLL from an avcC box: profile, constraint flags, level. */
function avcCodec(entry: string, buf: Buffer, avcC: Box): string {
  return `${entry}.${hex2(buf[avcC.start + 1] ?? 0)}${hex2(buf[avcC.start + 2] ?? 0)}${hex2(buf[avcC.start + 3] ?? 0)}`;
}

/** hvc1.P.C.TL.B… from an hvcC box (ISO/IEC 14496-15 annex E). */
function hevcCodec(entry: string, buf: Buffer, hvcC: Box): string {
  const s = hvcC.start;
  const b1 = buf[s + 1] ?? 0;
  const space = ['', 'A', 'B', 'C'][b1 >> 6] ?? '';
  const tier = (b1 >> 5) & 1 ? 'H' : 'L';
  const profile = b1 & 0x1f;
  // The compatibility flags are written bit-reversed, in hex, without leading zeros.
  let compat = buf.readUInt32BE(s + 2);
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    reversed = (reversed << 1) | (compat & 1);
    compat >>>= 1;
  }
  const constraints: string[] = [];
  for (let i = 0; i < 6; i++) constraints.push(hex2(buf[s + 6 + i] ?? 0));
  while (constraints.length > 1 && constraints[constraints.length - 1] === '00') constraints.pop();
  const level = buf[s + 12] ?? 0;
  return `${entry}.${space}${profile}.${(reversed >>> 0).toString(16)}.${tier}${level}.${constraints.join('.')}`;
}

/** Reads the first video track of an initialization segment; undefined if it has none. */
export function parseInit(buf: Buffer): InitInfo | undefined {
  const moov = [...boxes(buf)].find((b) => b.type === 'moov');
  if (!moov) return undefined;
  for (const trak of boxes(buf, moov.start, moov.end)) {
    if (trak.type !== 'trak') continue;
    const mdia = child(buf, trak, 'mdia');
    const hdlr = mdia && child(buf, mdia, 'hdlr');
    if (!mdia || !hdlr || buf.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') continue;
    const mdhd = child(buf, mdia, 'mdhd');
    const stsd = path(buf, mdia, 'minf', 'stbl', 'stsd');
    if (!mdhd || !stsd) continue;
    const timescale = buf.readUInt32BE(mdhd.start + (buf[mdhd.start] === 1 ? 20 : 12));
    // stsd: version/flags, entry count, then the sample entries.
    const entry = [...boxes(buf, stsd.start + 8, stsd.end)][0];
    if (!entry) continue;
    const width = buf.readUInt16BE(entry.start + 24);
    const height = buf.readUInt16BE(entry.start + 26);
    // A visual sample entry's own fields take 78 bytes; its boxes (avcC, hvcC, …) follow.
    const inner = { type: entry.type, at: entry.at, start: entry.start + 78, end: entry.end };
    const avcC = child(buf, inner, 'avcC');
    const hvcC = child(buf, inner, 'hvcC');
    const codec = avcC ? avcCodec(entry.type, buf, avcC) : hvcC ? hevcCodec(entry.type, buf, hvcC) : entry.type;
    return { codec, sampleEntry: entry.type, width, height, timescale };
  }
  return undefined;
}

/** A sample's flags say "not a sync sample" in bit 16. */
const NON_SYNC = 0x10000;

/** Reads a media fragment's first track run: times, duration and whether it starts on a keyframe. */
export function parseFragment(buf: Buffer): FragmentInfo | undefined {
  const moof = [...boxes(buf)].find((b) => b.type === 'moof');
  const traf = moof && child(buf, moof, 'traf');
  const tfhd = traf && child(buf, traf, 'tfhd');
  const trun = traf && child(buf, traf, 'trun');
  if (!traf || !tfhd || !trun) return undefined;
  const tfhdFlags = buf.readUInt32BE(tfhd.start) & 0xffffff;
  let at = tfhd.start + 8; // version/flags, track id
  if (tfhdFlags & 0x01) at += 8;
  if (tfhdFlags & 0x02) at += 4;
  const defaultDuration = tfhdFlags & 0x08 ? buf.readUInt32BE(at) : 0;
  if (tfhdFlags & 0x08) at += 4;
  if (tfhdFlags & 0x10) at += 4;
  const defaultFlags = tfhdFlags & 0x20 ? buf.readUInt32BE(at) : 0;
  const tfdt = child(buf, traf, 'tfdt');
  const decodeTime = !tfdt ? 0 : buf[tfdt.start] === 1 ? Number(buf.readBigUInt64BE(tfdt.start + 4)) : buf.readUInt32BE(tfdt.start + 4);

  const version = buf[trun.start] ?? 0;
  const flags = buf.readUInt32BE(trun.start) & 0xffffff;
  const count = buf.readUInt32BE(trun.start + 4);
  at = trun.start + 8;
  if (flags & 0x01) at += 4;
  let firstFlags: number | undefined;
  if (flags & 0x04) {
    firstFlags = buf.readUInt32BE(at);
    at += 4;
  }
  let time = decodeTime;
  let pts = Infinity;
  let keyframe = false;
  for (let i = 0; i < count && at <= trun.end; i++) {
    let duration = defaultDuration;
    let sampleFlags = defaultFlags;
    let cts = 0;
    if (flags & 0x100) { duration = buf.readUInt32BE(at); at += 4; }
    if (flags & 0x200) at += 4;
    if (flags & 0x400) { sampleFlags = buf.readUInt32BE(at); at += 4; }
    if (flags & 0x800) { cts = version === 1 ? buf.readInt32BE(at) : buf.readUInt32BE(at); at += 4; }
    if (i === 0) {
      if (firstFlags !== undefined) sampleFlags = firstFlags;
      keyframe = (sampleFlags & NON_SYNC) === 0;
    }
    pts = Math.min(pts, time + cts);
    time += duration;
  }
  if (count === 0) pts = decodeTime;
  return { decodeTime, pts, duration: time - decodeTime, samples: count, keyframe };
}

export type Fmp4Piece =
  | { kind: 'init'; data: Buffer }
  | { kind: 'fragment'; data: Buffer };

/**
 * Cuts a growing fMP4 byte stream into whole pieces: ftyp + moov as the
 * init segment, and everything from one moof up to the end of its mdat as a
 * fragment (styp, sidx or prft boxes before a moof go with it). A box larger
 * than maxBox is an error: the stream is not what ffmpeg's muxer writes.
 */
export class Fmp4Splitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private piece: Buffer[] = [];
  private sawMoov = false;

  constructor(private readonly maxBox = 64 << 20) {}

  /** Bytes the box at the head of `pending` needs, once its header has been read. */
  private need = 0;

  push(chunk: Buffer): Fmp4Piece[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: Fmp4Piece[] = [];
    // A large box (a keyframe's mdat) arrives over many chunks: join them once it is whole, not at every chunk.
    if (this.pendingBytes < this.need) return out;
    let buf = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingBytes);
    let at = 0;
    while (buf.length - at >= 8) {
      let size = buf.readUInt32BE(at);
      if (size === 1) {
        if (buf.length - at < 16) break;
        size = Number(buf.readBigUInt64BE(at + 8));
      }
      if (size < 8 || size > this.maxBox) throw new Error(`fragmented MP4: a box of ${size} bytes at a box boundary`);
      if (buf.length - at < size) {
        this.need = size;
        break;
      }
      this.need = 0;
      const type = buf.toString('latin1', at + 4, at + 8);
      const box = buf.subarray(at, at + size);
      at += size;
      this.piece.push(box);
      if (type === 'moov') {
        this.sawMoov = true;
        out.push({ kind: 'init', data: Buffer.concat(this.piece) });
        this.piece = [];
      } else if (type === 'mdat' && this.sawMoov) {
        out.push({ kind: 'fragment', data: Buffer.concat(this.piece) });
        this.piece = [];
      } else if (type === 'mfra') {
        // The muxer's closing index: nothing a live viewer needs.
        this.piece = [];
      }
    }
    buf = buf.subarray(at);
    // Keep only the unread tail, copied so the chunk it came from can go.
    this.pending = buf.length > 0 ? [Buffer.from(buf)] : [];
    this.pendingBytes = buf.length;
    return out;
  }
}
