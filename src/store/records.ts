// The shapes the detection log stores and serves. One module so the writer,
// the queries, the exports (API json/jsonl/csv) and `lookout detect --out`
// all agree on one set of names.
//
// Times are milliseconds since the Unix epoch (UTC) everywhere, in the
// database and in the JSON: a number sorts, compares and round-trips exactly,
// and every client can turn it into a date (`new Date(ms)`). The HTTP filters
// accept ISO 8601 as well (see query-filter.ts), so people can type dates.
import type { Box, DetectionRecord, TrackEvent } from '../types.js';

export type { Box };

/** A detection as stored: the row id orders rows of the same millisecond. */
export interface StoredDetection extends DetectionRecord {
  id: number;
}

/**
 * An event as the log keeps it: the tracker's event (types.ts TrackEvent)
 * and the JPEG of its best frame, once the recorder has drawn and saved it.
 */
export interface EventRecord extends TrackEvent {
  /** File name of the JPEG in the snapshot directory (snapshots.ts), or null. */
  snapshot: string | null;
  snapshotBytes: number;
}

/**
 * The public JSON of a detection (API json/jsonl and `detect --out`): the
 * record's names; `id` is present for stored rows and absent for output not
 * stored (detect --out).
 */
export type DetectionJson = DetectionRecord & { id?: number };

/** The public JSON of an event: the same names as EventRecord, in a fixed order; model and modelVersion always there (null: unknown). */
export type EventJson = Omit<EventRecord, 'model' | 'modelVersion'> & { model: string | null; modelVersion: number | null };

function hasId(r: DetectionRecord | StoredDetection): r is StoredDetection {
  return typeof (r as Partial<StoredDetection>).id === 'number';
}

/** Builds the JSON with a fixed key order, so outputs diff and grep the same everywhere. */
export function toDetectionJson(r: DetectionRecord | StoredDetection): DetectionJson {
  const base = {
    camera: r.camera,
    time: r.time,
    frameId: r.frameId,
    label: r.label,
    classId: r.classId,
    score: r.score,
    box: [r.box[0], r.box[1], r.box[2], r.box[3]] as Box,
    trackId: r.trackId,
  };
  return hasId(r) ? { id: r.id, ...base } : base;
}

export function toEventJson(e: EventRecord): EventJson {
  return {
    id: e.id,
    camera: e.camera,
    trackId: e.trackId,
    label: e.label,
    classId: e.classId,
    start: e.start,
    end: e.end,
    maxScore: e.maxScore,
    bestBox: [e.bestBox[0], e.bestBox[1], e.bestBox[2], e.bestBox[3]],
    bestFrameId: e.bestFrameId,
    bestTime: e.bestTime,
    snapshot: e.snapshot,
    snapshotBytes: e.snapshotBytes,
    zones: [...e.zones],
    // The model and version that detected it; null when not known (events from before, or a server that did not say).
    model: e.model ?? null,
    modelVersion: e.modelVersion ?? null,
  };
}

// ---------------------------------------------------------------------------
// The wire form of a batch of detections, from the frame path to the writer
// thread. Structured-cloning 100 000 record objects costs the main thread
// ~0.4 s (measured here); the same records packed into two typed arrays,
// whose buffers are transferred rather than copied, plus a dictionary of
// their distinct strings (cameras, labels and frame ids repeat), cost a
// small fraction of that.

export interface PackedDetections {
  count: number;
  /** Distinct strings of the batch; refs index into it. */
  strings: string[];
  /** 3 per record: camera, frameId, label. */
  refs: Uint32Array<ArrayBuffer>;
  /** 8 per record: time, classId, score, ymin, xmin, ymax, xmax, trackId (NaN for null). */
  nums: Float64Array<ArrayBuffer>;
}

export const PACKED_NUMS = 8;
export const PACKED_REFS = 3;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Why a record cannot be stored, or null when it can. Checked on the main side, where the caller's bug is. */
export function malformedDetection(r: DetectionRecord): string | null {
  if (typeof r !== 'object' || r === null) return 'not an object';
  if (typeof r.camera !== 'string' || typeof r.frameId !== 'string' || typeof r.label !== 'string') return 'camera, frameId and label must be strings';
  if (!finite(r.time) || !Number.isInteger(r.classId) || !finite(r.score)) return 'time and score must be finite numbers, classId an integer';
  const b = r.box as unknown;
  if (!Array.isArray(b) || b.length !== 4 || !b.every(finite)) return 'box must be 4 finite numbers';
  if (r.trackId !== null && !Number.isSafeInteger(r.trackId)) return 'trackId must be an integer or null';
  return null;
}

/** Accumulates detections into a PackedDetections; take() hands over the arrays and starts afresh. */
export class DetectionPacker {
  private strings: string[] = [];
  private index = new Map<string, number>();
  private refs: Uint32Array<ArrayBuffer>;
  private nums: Float64Array<ArrayBuffer>;
  count = 0;

  constructor(private readonly initialCapacity = 1024) {
    this.refs = new Uint32Array(initialCapacity * PACKED_REFS);
    this.nums = new Float64Array(initialCapacity * PACKED_NUMS);
  }

  private ref(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.index.set(s, i);
    }
    return i;
  }

  /** Appends a record that passed malformedDetection(). */
  push(r: DetectionRecord): void {
    if (this.count * PACKED_NUMS === this.nums.length) {
      const refs = new Uint32Array(this.refs.length * 2);
      refs.set(this.refs);
      this.refs = refs;
      const nums = new Float64Array(this.nums.length * 2);
      nums.set(this.nums);
      this.nums = nums;
    }
    const s = this.count * PACKED_REFS;
    this.refs[s] = this.ref(r.camera);
    this.refs[s + 1] = this.ref(r.frameId);
    this.refs[s + 2] = this.ref(r.label);
    const n = this.count * PACKED_NUMS;
    const nums = this.nums;
    nums[n] = Math.round(r.time);
    nums[n + 1] = r.classId;
    nums[n + 2] = r.score;
    nums[n + 3] = r.box[0];
    nums[n + 4] = r.box[1];
    nums[n + 5] = r.box[2];
    nums[n + 6] = r.box[3];
    nums[n + 7] = r.trackId === null ? NaN : r.trackId;
    this.count++;
  }

  take(): PackedDetections {
    const packed: PackedDetections = { count: this.count, strings: this.strings, refs: this.refs, nums: this.nums };
    this.strings = [];
    this.index = new Map();
    this.refs = new Uint32Array(this.initialCapacity * PACKED_REFS);
    this.nums = new Float64Array(this.initialCapacity * PACKED_NUMS);
    this.count = 0;
    return packed;
  }
}

/** Record i of a packed batch, as an object (tests and tools; the writer reads the arrays directly). */
export function unpackDetection(p: PackedDetections, i: number): DetectionRecord {
  const s = i * PACKED_REFS;
  const n = i * PACKED_NUMS;
  const track = p.nums[n + 7];
  return {
    camera: p.strings[p.refs[s]],
    time: p.nums[n],
    frameId: p.strings[p.refs[s + 1]],
    label: p.strings[p.refs[s + 2]],
    classId: p.nums[n + 1],
    score: p.nums[n + 2],
    box: [p.nums[n + 3], p.nums[n + 4], p.nums[n + 5], p.nums[n + 6]],
    trackId: Number.isNaN(track) ? null : track,
  };
}
