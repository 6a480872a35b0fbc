// One zone of a camera: which tracks are in it, with inertia (a track must
// be inside, or outside, for `inertia` frames in a row before it enters or
// leaves, so a box flickering on the edge does not enter and leave on every
// frame), loitering, and occupancy per label.
import type { ZoneConfig } from '../config/schema.js';
import type { Box } from '../types.js';
import { anchorPoint, insidePolygon } from './geometry.js';

export type ZoneChange = 'enter' | 'exit' | 'loiter';

interface TrackInZone {
  label: string;
  /** Consecutive frames on the other side of the zone's edge than `entered` says. */
  streak: number;
  entered: boolean;
  /** When the current stay began (the first frame of the streak that entered). */
  since: number;
  /** When the streak began. */
  streakSince: number;
  loitering: boolean;
}

export class ZoneWatch {
  private readonly tracks = new Map<number, TrackInZone>();

  constructor(readonly zone: ZoneConfig) {}

  /** Whether the zone counts this label at all. */
  counts(label: string): boolean {
    return this.zone.labels.length === 0 || this.zone.labels.includes(label);
  }

  /**
   * One sighting of a track. `counted`: the track is an event (confirmed,
   * past its filters), so it may enter; before that only its streak grows,
   * and it enters on the first sighting after it became one.
   */
  update(trackId: number, label: string, box: Box, time: number, counted: boolean): ZoneChange[] {
    if (!this.counts(label)) return [];
    const inside = insidePolygon(anchorPoint(box, this.zone.anchor), this.zone.points);
    let t = this.tracks.get(trackId);
    if (!t) {
      if (!inside) return [];
      t = { label, streak: 0, entered: false, since: time, streakSince: time, loitering: false };
      this.tracks.set(trackId, t);
    }
    if (inside === t.entered) {
      t.streak = 0;
    } else {
      if (t.streak === 0) t.streakSince = time;
      t.streak++;
    }
    const out: ZoneChange[] = [];
    if (!t.entered && inside && counted && t.streak >= this.zone.inertia) {
      t.entered = true;
      t.streak = 0;
      t.since = t.streakSince;
      out.push('enter');
    } else if (t.entered && !inside && t.streak >= this.zone.inertia) {
      this.tracks.delete(trackId);
      return ['exit'];
    } else if (!t.entered && !inside) {
      // Never entered and outside again: nothing to remember.
      this.tracks.delete(trackId);
      return [];
    }
    if (t.entered && !t.loitering && this.zone.loiterSeconds !== null && time - t.since >= this.zone.loiterSeconds * 1000) {
      t.loitering = true;
      out.push('loiter');
    }
    return out;
  }

  /**
   * Takes over the tracks of the zone's previous settings (a PATCH changed its
   * points, labels or timing): who was in stays in, and leaves by the usual
   * rule if the new shape leaves it outside. Returns the tracks that were in
   * and whose label the zone no longer counts: they left.
   */
  adopt(previous: ZoneWatch): number[] {
    const left: number[] = [];
    for (const [id, t] of previous.tracks) {
      if (this.counts(t.label)) this.tracks.set(id, { ...t });
      else if (t.entered) left.push(id);
    }
    return left;
  }

  /** The zone is going away: forgets every track, returning those that were in it. */
  evacuate(): number[] {
    const inside = [...this.tracks].filter(([, t]) => t.entered).map(([id]) => id);
    this.tracks.clear();
    return inside;
  }

  /** The track ended: it leaves the zone if it was in it. */
  forget(trackId: number): ZoneChange[] {
    const t = this.tracks.get(trackId);
    this.tracks.delete(trackId);
    return t?.entered ? ['exit'] : [];
  }

  isIn(trackId: number): boolean {
    return this.tracks.get(trackId)?.entered === true;
  }

  isLoitering(trackId: number): boolean {
    return this.tracks.get(trackId)?.loitering === true;
  }

  /** Tracks in the zone now, per label. */
  occupancy(): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of this.tracks.values()) if (t.entered) out.set(t.label, (out.get(t.label) ?? 0) + 1);
    return out;
  }
}
