// A camera's stall clock, judged from the stream's own frame rate so that a
// sparse stream (an MJPEG camera sending a frame every few seconds) is not
// called stalled, while a stream that stops mid-run is. The camera owns it
// (one per ffmpeg run), marks every frame, and asks it every half second.
// Pure: the caller passes the time.

export interface StallPolicy {
  /** A stall is this many frame intervals without a frame. */
  intervals: number;
  /** Never call a stall sooner than this, ms. */
  minStallMs: number;
  /** Time allowed from spawn to the first frame (connecting, probing), ms. */
  startTimeoutMs: number;
  /** The frame rate the outputs ask for (the larger of detect and live; 0: every frame of the input). */
  outputFps: number;
}

export class StallWatch {
  private first: number | undefined;
  private last = 0;
  /** Running mean of the gaps between frames actually received, ms. */
  private gapMs: number | undefined;

  constructor(private readonly policy: StallPolicy, private readonly startedAt: number) {}

  /** When the run's first frame came, if it has. */
  get firstFrameAt(): number | undefined {
    return this.first;
  }

  /** A frame arrived on either output; true for the run's first. */
  frame(now: number): boolean {
    if (this.first !== undefined) this.gapMs = this.gapMs === undefined ? now - this.last : 0.9 * this.gapMs + 0.1 * (now - this.last);
    this.last = now;
    if (this.first !== undefined) return false;
    this.first = now;
    return true;
  }

  /** Why the run counts as stalled now, or undefined. `inputFps` is the rate ffmpeg says the input has, once known. */
  stalled(now: number, inputFps: number | undefined): string | undefined {
    if (this.first === undefined) {
      const limit = this.policy.startTimeoutMs;
      return now - this.startedAt > limit ? `no frame within ${Math.round(limit / 1000)} s of starting ffmpeg` : undefined;
    }
    // The interval is the slower of what the stream declares and what actually arrives.
    const outputFps = this.policy.outputFps || inputFps || 1;
    const declaredMs = 1000 / Math.min(outputFps, inputFps ?? outputFps);
    const intervalMs = Math.max(declaredMs, this.gapMs ?? 0);
    const limit = Math.max(this.policy.minStallMs, this.policy.intervals * intervalMs);
    const silent = now - this.last;
    if (silent <= limit) return undefined;
    return `stalled: no frame for ${(silent / 1000).toFixed(1)} s (${this.policy.intervals} frame intervals of ${Math.round(intervalMs)} ms)`;
  }
}
