// The long-lived connections each principal holds: WebSockets, MJPEG and
// stream.mp4 responses, recordings being played, and any request still
// running. When a session ends, a token is revoked or a user is removed or
// changed, sweep() closes every connection whose principal no longer stands,
// at once (a WebSocket with close code 4401, the rest by destroying the socket).
import type { Principal } from './accounts.js';

interface Held { principal: Principal; close: () => void }

export class OpenConnections {
  private readonly held = new Set<Held>();
  /** Connections closed because their principal no longer stood. */
  revoked = 0;

  /** Remembers a connection; the returned function forgets it (call it when it closes). */
  track(principal: Principal, close: () => void): () => void {
    const entry: Held = { principal, close };
    this.held.add(entry);
    return () => this.held.delete(entry);
  }

  /** Closes each connection whose principal `valid` no longer accepts. */
  sweep(valid: (p: Principal) => boolean): number {
    let n = 0;
    for (const entry of [...this.held]) {
      if (valid(entry.principal)) continue;
      this.held.delete(entry);
      n++;
      try {
        entry.close();
      } catch {
        // Already closed: nothing left to end.
      }
    }
    this.revoked += n;
    return n;
  }

  get size(): number {
    return this.held.size;
  }
}
