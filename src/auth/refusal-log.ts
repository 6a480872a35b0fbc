// Refusals (401, 403, 429) as log lines an operator can act on: what was
// refused and why, the client's address and the user, never a secret or a
// query string (access_token= may be in it). Refusals of one status from
// one address are logged once per QUIET_MS, with how many were folded into
// it, and at most MAX_LINES lines go out per QUIET_MS in all (the rest are
// counted and said), so neither a client polling without a login nor one
// with many addresses can flood the log.
import type { Logger } from '../util/logger.js';

const QUIET_MS = 10_000;
const MAX_KEYS = 1_000;
const MAX_LINES = 50;

export class RefusalLog {
  private readonly recent = new Map<string, { at: number; folded: number }>();
  /** Refusals by HTTP status, for /metrics. */
  readonly counts = new Map<number, number>();
  private window = { start: 0, lines: 0, unsaid: 0 };

  constructor(private readonly log: Logger, private readonly now: () => number = Date.now) {}

  note(status: number, reason: string, what: string, address: string, user: string | undefined): void {
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
    const key = `${status} ${address}`;
    const now = this.now();
    const seen = this.recent.get(key);
    if (seen && now - seen.at < QUIET_MS) {
      seen.folded++;
      return;
    }
    if (now - this.window.start >= QUIET_MS) {
      if (this.window.unsaid > 0) this.log.warn(`auth: ${this.window.unsaid} more refusals in ${QUIET_MS / 1000} s were not logged one by one`);
      this.window = { start: now, lines: 0, unsaid: 0 };
    }
    if (this.window.lines >= MAX_LINES) {
      this.window.unsaid++;
      return;
    }
    this.window.lines++;
    if (this.recent.size >= MAX_KEYS) this.recent.clear();
    const folded = seen?.folded ?? 0;
    this.recent.set(key, { at: now, folded: 0 });
    this.log.warn(`auth: refused ${what.slice(0, 200)} (${status}: ${reason.slice(0, 200)}) from ${address}, user ${user ?? 'anonymous'}${folded ? ` (and ${folded} more like it)` : ''}`, { status, address, user: user ?? null });
  }
}
