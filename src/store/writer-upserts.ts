// The rows the writer holds between hand-overs besides detections: events
// and segments (upserts: a later state of the same id replaces the earlier
// one, so an event's many updates cost one row write per batch) and line
// crossings (appended). The writer decides the bound; this keeps the rows.
import type { CrossingRecord } from './crossings.js';
import type { EventRecord } from './records.js';
import type { SegmentRecord } from './segments.js';

export interface UpsertBatch {
  events: EventRecord[];
  segments: SegmentRecord[];
  crossings: CrossingRecord[];
}

export class PendingUpserts {
  private events = new Map<string, EventRecord>();
  /** By path: the open and the close of one segment collapse like an event's upserts. */
  private segments = new Map<string, SegmentRecord>();
  private crossings: CrossingRecord[] = [];

  get size(): number {
    return this.events.size + this.segments.size + this.crossings.length;
  }

  hasEvent(id: string): boolean {
    return this.events.has(id);
  }

  hasSegment(path: string): boolean {
    return this.segments.has(path);
  }

  /** Copies: trackers and the recorder go on changing their own objects. */
  setEvent(e: EventRecord): void {
    this.events.set(e.id, { ...e, bestBox: [e.bestBox[0], e.bestBox[1], e.bestBox[2], e.bestBox[3]], zones: [...e.zones] });
  }

  setSegment(s: SegmentRecord): void {
    this.segments.set(s.path, { ...s, keyframes: s.keyframes.slice() });
  }

  addCrossings(rows: readonly CrossingRecord[]): void {
    for (const r of rows) this.crossings.push({ ...r });
  }

  /** Everything held, for one batch; the holder starts empty. */
  take(): UpsertBatch {
    const batch = { events: [...this.events.values()], segments: [...this.segments.values()], crossings: this.crossings };
    this.clear();
    return batch;
  }

  clear(): void {
    this.events = new Map();
    this.segments = new Map();
    this.crossings = [];
  }
}
