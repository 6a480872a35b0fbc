// Refusals (401, 403, 429) as log lines an operator can act on: what was
// refused and why, the client's address and the user, never a secret or a
// query string (access_token= may be in it). The same refusal from the same
// address is logged once per QUIET_MS, with how many were folded into it,
// so a client polling without a login cannot flood the log.
import type { Logger } from '../util/logger.js';

const QUIET_MS = 10_000;
const MAX_KEYS = 1_000;

export class RefusalLog {
  private readonly recent = new Map<string, { at: number; folded: number }>();
  /** Refusals by HTTP status, for /metrics. */
  readonly counts = new Map<number, number>();

  constructor(private readonly log: Logger, private readonly now: () => number = Date.now) {}

  note(status: number, reason: string, what: string, address: string, user: string | undefined): void {
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
    const key = `${status} ${address} ${user ?? ''} ${reason}`;
    const now = this.now();
    const seen = this.recent.get(key);
    if (seen && now - seen.at < QUIET_MS) {
      seen.folded++;
      return;
    }
    if (this.recent.size >= MAX_KEYS) this.recent.clear();
    const folded = seen?.folded ?? 0;
    this.recent.set(key, { at: now, folded: 0 });
    this.log.warn(`auth: refused ${what} (${status}: ${reason}) from ${address}, user ${user ?? 'anonymous'}${folded ? ` (and ${folded} more like it)` : ''}`, { status, address, user: user ?? null });
  }
}
