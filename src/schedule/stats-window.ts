// Small bounded statistics for per-camera counters: event rates over a
// sliding window, and percentiles over the last N samples.

/** Events per second over the last windowMs, from at most `capacity` timestamps. */
export class RateWindow {
  private readonly times: number[] = [];
  constructor(private readonly windowMs = 10_000, private readonly capacity = 1_000) {}

  mark(now = Date.now()): void {
    this.times.push(now);
    if (this.times.length > this.capacity) this.times.shift();
  }

  perSecond(now = Date.now()): number {
    while (this.times.length > 0 && now - this.times[0] > this.windowMs) this.times.shift();
    if (this.times.length === 0) return 0;
    // Over the window, or over the time since the first event when that is shorter.
    const span = Math.max(1_000, Math.min(this.windowMs, now - this.times[0]));
    return (this.times.length * 1000) / span;
  }
}

/** Percentiles of the last `capacity` samples. */
export class SampleRing {
  private readonly samples: number[] = [];
  private next = 0;
  constructor(private readonly capacity = 256) {}

  add(value: number): void {
    if (this.samples.length < this.capacity) this.samples.push(value);
    else this.samples[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
  }

  percentile(p: number): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  }
}
