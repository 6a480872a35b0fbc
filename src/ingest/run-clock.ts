// The wall-clock time of every frame of one ffmpeg run, on one clock shared
// by the detection log and the recordings, so that "the detection at time T"
// is on "the recorded frame at time T" to the millisecond.
//
// A frame's time is epoch + pts. The epoch is the earliest arrival of any
// fragment minus its pts: arrivals only ever add delay (network, ffmpeg's
// probing burst at the start), so the minimum is the best estimate of when
// pts 0 was seen. The epoch changes only at a keyframe, and only by more
// than half a frame, so a recording segment (which starts on a keyframe and
// is cut when the epoch changes) has one epoch throughout:
//   - lowered when fragments arrive earlier than it predicts (the first
//     seconds after ffmpeg's probing burst; a camera clock running fast);
//   - raised when a whole minute's fragments arrived later than predicted by
//     more than RAISE_AFTER_MS (a camera clock running slow), so drift never
//     accumulates beyond that.
// A file read faster than real time has no wall clock: its frames take the
// time they arrived, and it is not recorded.

/** Smaller improvements are jitter, not worth a new epoch (and a segment cut, and an overlap in clips). */
const LOWER_BY_MS = 50;
/** A slow camera clock is corrected once it is this far behind. */
const RAISE_AFTER_MS = 500;
const WINDOW_MS = 60_000;
/** Epoch changes remembered for frames still in the decoder (seconds behind the copied stream at most). */
const MAX_CHANGES = 32;

export class RunClock {
  private epoch: number | undefined;
  /** Smallest arrival − pts since the epoch was last set. */
  private lowest = Infinity;
  private windowStart = 0;
  private windowLowest = Infinity;
  /** A raise decided at a window's end, applied at the next keyframe. */
  private raiseTo: number | undefined;
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
    this.lowest = Math.min(this.lowest, offset);
    if (receivedAt - this.windowStart >= WINDOW_MS) {
      if (this.epoch !== undefined && this.windowLowest !== Infinity && this.windowLowest > this.epoch + RAISE_AFTER_MS) this.raiseTo = this.windowLowest;
      this.windowStart = receivedAt;
      this.windowLowest = Infinity;
    }
    this.windowLowest = Math.min(this.windowLowest, offset);
    if (this.epoch === undefined || keyframe) {
      let next = this.epoch;
      if (next === undefined || this.lowest < next - LOWER_BY_MS) next = this.lowest;
      if (this.raiseTo !== undefined) {
        next = Math.max(next, this.raiseTo);
        this.raiseTo = undefined;
      }
      if (next !== this.epoch) this.set(next, pts);
    }
    return Math.round((this.epoch ?? offset) + ptsMs);
  }

  private set(epoch: number, fromPts: number): void {
    this.epoch = epoch;
    this.lowest = epoch;
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
