// The URL of an incoming request. Node's HTTP parser lets through request
// targets that WHATWG URL parsing rejects (`GET //[ HTTP/1.1`); `new URL`
// throwing there, outside express (the WebSocket upgrade), would be an
// uncaught exception from one request.
import type { IncomingMessage } from 'node:http';

/** The request's URL, or undefined when its target cannot be parsed. */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}
