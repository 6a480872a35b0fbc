// A circuit breaker in front of the model server. When calls fail because the
// server is down or too slow, sending stops; a readiness probe (GetModelStatus)
// runs with backoff, and sending resumes when the model is AVAILABLE again.
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';

export type BreakerState = 'closed' | 'open' | 'probing';

export interface BreakerStatus {
  state: BreakerState;
  lastError: string | undefined;
  since: number;
  opens: number;
  retryInMs: number | undefined;
}

export const BREAKER_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 15_000, factor: 2, jitter: 0.2 };

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private lastError: string | undefined;
  private since = Date.now();
  private opens = 0;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private retryAt: number | undefined;
  private closedForGood = false;

  constructor(
    private readonly probe: () => Promise<boolean>,
    private readonly onChange: (status: BreakerStatus) => void,
    private readonly backoff: BackoffOptions = BREAKER_BACKOFF,
  ) {}

  /** Whether calls may go out now. */
  get allows(): boolean {
    return this.state === 'closed';
  }

  status(): BreakerStatus {
    return {
      state: this.state,
      lastError: this.lastError,
      since: this.since,
      opens: this.opens,
      retryInMs: this.retryAt === undefined ? undefined : Math.max(0, this.retryAt - Date.now()),
    };
  }

  private set(state: BreakerState): void {
    if (this.state === state) return;
    this.state = state;
    this.since = Date.now();
    this.onChange(this.status());
  }

  /** A call succeeded. Only a closed breaker forgets its backoff: a late success while open proves nothing. */
  succeeded(): void {
    if (this.state !== 'closed') return;
    this.attempt = 0;
    this.lastError = undefined;
  }

  /** A call failed in a way that says the server is down or overloaded: stop sending and start probing. */
  tripped(error: string): void {
    this.lastError = error;
    if (this.state !== 'closed' || this.closedForGood) return;
    this.opens++;
    this.set('open');
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.closedForGood) return;
    this.attempt++;
    const delay = backoffDelay(this.attempt, this.backoff);
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retryAt = undefined;
      this.set('probing');
      this.probe().then(
        (ok) => this.afterProbe(ok, ok ? undefined : 'model not AVAILABLE'),
        (err: unknown) => this.afterProbe(false, err instanceof Error ? err.message : String(err)),
      );
    }, delay);
  }

  private afterProbe(ok: boolean, error: string | undefined): void {
    if (this.closedForGood) return;
    if (ok) {
      this.attempt = 0;
      this.set('closed');
      return;
    }
    if (error) this.lastError = error;
    this.set('open');
    this.scheduleProbe();
  }

  close(): void {
    this.closedForGood = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
