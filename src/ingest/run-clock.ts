// The wall-clock time of every frame of one ffmpeg run, on one clock shared
// by the detection log and the recordings, so that "the detection at time T"
// is on "the recorded frame at time T" to the millisecond.
//
// A frame's time is epoch + pts. The epoch is set by the run's first
// fragment (its arrival minus its pts) and then held: a step in it makes
// times step, and a step back makes a recording segment begin before the
// one before it ended. It moves only to follow a camera clock that runs
// fast or slow against ours: at the end of each minute, if every fragment
// of that minute arrived more than STEP_MS later (or, the earliest, earlier)
// than the epoch predicts, it moves to that minute's earliest arrival, at
// the next keyframe, where a new segment begins. So drift never exceeds
// STEP_MS, and times are at most that much (plus the first fragment's
// delay) off the arrivals; between log and recordings they agree exactly.
// A file read faster than real time has no wall clock: its frames take the
// time they arrived, and it is not recorded.

/** Drift followed beyond this; smaller offsets are jitter, or the first fragment's delay. */
const STEP_MS = 500;
const WINDOW_MS = 60_000;
/** Epoch changes remembered for frames still in the decoder (seconds behind the copied stream at most). */
const MAX_CHANGES = 32;

export class RunClock {
  private epoch: number | undefined;
  private windowStart = 0;
  private windowLowest = Infinity;
  /** A move decided at a window's end, applied at the next keyframe. */
  private moveTo: number | undefined;
  private readonly changes: { fromPts: number; epoch: number }[] = [];

  constructor(readonly realtime: boolean) {}

  /**
   * The wall-clock time (ms) of a fragment's pts (s), given when it arrived;
   * call for every fragment in order.
   */
  stamp(pts: number, keyframe: boolean, receivedAt: number): number {
    if (!this.realtime) return receivedAt;
    const ptsMs = pts * 1000;
    const offset = receivedAt - ptsMs;
    if (this.epoch === undefined) {
      this.set(offset, pts);
      this.windowStart = receivedAt;
    }
    if (receivedAt - this.windowStart >= WINDOW_MS) {
      const epoch = this.epoch as number;
      if (Math.abs(this.windowLowest - epoch) > STEP_MS) this.moveTo = this.windowLowest;
      this.windowStart = receivedAt;
      this.windowLowest = Infinity;
    }
    this.windowLowest = Math.min(this.windowLowest, offset);
    if (keyframe && this.moveTo !== undefined) {
      this.set(this.moveTo, pts);
      this.moveTo = undefined;
    }
    return Math.round((this.epoch as number) + ptsMs);
  }

  private set(epoch: number, fromPts: number): void {
    this.epoch = epoch;
    this.changes.push({ fromPts, epoch });
    if (this.changes.length > MAX_CHANGES) this.changes.shift();
  }

  /** The epoch in force at a pts (ms since the epoch of the run's pts 0); undefined before the first fragment. */
  epochAt(pts: number): number | undefined {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const c = this.changes[i];
      if (c && c.fromPts <= pts) return c.epoch;
    }
    return this.changes[0]?.epoch;
  }

  /** The wall-clock time (ms) of a decoded frame's pts (s): the time its fragment was stamped with. */
  at(pts: number, arrivedAt: number): number {
    if (!this.realtime) return arrivedAt;
    const epoch = this.epochAt(pts);
    return epoch === undefined ? arrivedAt : Math.round(epoch + pts * 1000);
  }
}
