// Authentication in /metrics: login attempts by result, who must wait now,
// refusals by status, and connections ended because their session or user
// went. Read from the components at scrape time, like metrics.ts's.
import client from 'prom-client';
import type { Auth } from './auth.js';

export function registerAuthMetrics(registry: client.Registry, auth: Auth): void {
  const { limiter, connections } = auth.deps;
  // Totals mirrored at scrape time (they only grow; each is the component's own count).
  const mirrored = (name: string, help: string, labelNames: string[], read: () => [Record<string, string>, number][]) => {
    const last = new Map<string, number>();
    new client.Counter({ name, help, labelNames, registers: [registry], collect() {
      for (const [labels, total] of read()) {
        const key = JSON.stringify(labels);
        const delta = total - (last.get(key) ?? 0);
        last.set(key, total);
        this.inc(labels, Math.max(0, delta));
      }
    } });
  };
  mirrored('lookout_login_attempts_total', 'Login attempts by result: ok, wrong (user name or password), throttled (refused with 429 before the password was checked)', ['result'], () => {
    const a = limiter.stats().attempts;
    return [[{ result: 'ok' }, a.ok], [{ result: 'wrong' }, a.wrong], [{ result: 'throttled' }, a.throttled]];
  });
  mirrored('lookout_auth_refusals_total', 'Requests refused by status: 401 (not logged in), 403 (role or origin), 429 (login throttled)', ['status'], () =>
    [...auth.refusalCounts()].map(([status, n]) => [{ status: String(status) }, n]));
  mirrored('lookout_auth_connections_ended_total', 'Open connections (WebSocket, MJPEG, stream.mp4, requests) ended because their session, token or user went', [], () => [[{}, connections.revoked]]);
  new client.Gauge({ name: 'lookout_login_locked', help: 'Client addresses and user names that must wait before their next login attempt', labelNames: ['kind'], registers: [registry], collect() {
    const s = limiter.stats();
    this.set({ kind: 'address' }, s.lockedAddresses);
    this.set({ kind: 'user' }, s.lockedUsers);
  } });
}
