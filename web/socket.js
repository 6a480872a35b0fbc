// The live WebSocket, reconnecting with backoff: 0.5 s doubling to 10 s with
// ±20 % jitter, back to 0.5 s once a connection has stayed up for 10 s (so a
// server that accepts and drops at once is not hammered).
import { parseBinary, parseText } from './protocol.js';
import { api } from './api.js';

/** The server's close code for "your session, token or user is gone" (src/http/auth-setup.ts). */
const SESSION_ENDED = 4401;

/** @typedef {import('./protocol.js').BinaryMessage} BinaryMessage */
/** @typedef {import('./protocol.js').TextMessage} TextMessage */

/**
 * @typedef {object} SocketHandlers
 * @property {() => void} onOpen called on every (re)connection; send the subscription here
 * @property {(delayMs: number) => void} onDown the connection is gone; the next try is in delayMs
 * @property {(message: BinaryMessage) => void} onBinary
 * @property {(message: TextMessage) => void} onText
 */

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const STABLE_MS = 10_000;

export class LiveSocket {
  /** @type {WebSocket | undefined} */
  #ws;
  #delay = FIRST_DELAY_MS;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #retry;
  #closed = false;

  /** @param {URL} url @param {SocketHandlers} handlers */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.#connect();
  }

  get open() {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Sends if connected; a message sent while down is dropped (onOpen sends the state again). */
  send(/** @type {string} */ text) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(text);
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#ws?.close(1000);
  }

  #connect() {
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    let openedAt = 0;
    ws.onopen = () => {
      openedAt = performance.now();
      this.handlers.onOpen();
    };
    ws.onmessage = (e) => {
      try {
        if (e.data instanceof ArrayBuffer) this.handlers.onBinary(parseBinary(e.data));
        else {
          const message = parseText(String(e.data));
          if (message) this.handlers.onText(message);
        }
      } catch (err) {
        // One unreadable message must not end the live view.
        console.warn('lookout: dropped a live message', err);
      }
    };
    ws.onclose = (e) => {
      if (this.#closed) return;
      if (e.code === SESSION_ENDED) {
        // Logged out elsewhere, the password changed, or the user removed: to the login page, not a retry loop.
        location.href = 'login.html';
        return;
      }
      // Refused before it opened (an upgrade answered 401 looks the same): api() goes to the login page on a 401.
      if (!openedAt) void api('api/me').catch(() => undefined);
      if (openedAt && performance.now() - openedAt > STABLE_MS) this.#delay = FIRST_DELAY_MS;
      const delay = this.#delay * (0.8 + Math.random() * 0.4);
      this.#delay = Math.min(this.#delay * 2, MAX_DELAY_MS);
      this.handlers.onDown(delay);
      this.#retry = setTimeout(() => this.#connect(), delay);
    };
  }
}

/** The page's /ws URL (wss: behind https). */
export function liveUrl() {
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}
