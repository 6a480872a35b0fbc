// Time to start serving a clip, for bench:record: one GET at a time from
// this process (node:http, no keep-alive, so each request pays its own
// connection as a player's first request does), timed from the request's
// start to its response headers and to the first byte of its body; then the
// connection is dropped (a player reads on at its own pace). Optionally one
// request is read to its end, for the rate the whole clip leaves at.
import http from 'node:http';

export interface FirstBytes {
  status: number;
  headersMs: number;
  firstByteMs: number;
  /** Content-Length (the whole clip, or the range). */
  length: number;
  clipStart: number | null;
  clipEnd: number | null;
  truncated: string | null;
  /** Read to its end: bytes and ms from the request's start. */
  readBytes?: number;
  readMs?: number;
}

export function timeGet(url: string, o: { range?: string; readAll?: boolean; timeoutMs?: number } = {}): Promise<FirstBytes> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { agent: false, headers: o.range ? { range: o.range } : {} }, (res) => {
      const headersMs = performance.now() - t0;
      const base = {
        status: res.statusCode ?? 0,
        headersMs,
        length: Number(res.headers['content-length'] ?? NaN),
        clipStart: res.headers['x-lookout-clip-start'] !== undefined ? Number(res.headers['x-lookout-clip-start']) : null,
        clipEnd: res.headers['x-lookout-clip-end'] !== undefined ? Number(res.headers['x-lookout-clip-end']) : null,
        truncated: (res.headers['x-lookout-clip-truncated'] as string | undefined) ?? null,
      };
      let firstByteMs = NaN;
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        if (bytes === 0) firstByteMs = performance.now() - t0;
        bytes += d.length;
        if (!o.readAll) {
          req.destroy();
          resolve({ ...base, firstByteMs });
        }
      });
      res.on('end', () => resolve({ ...base, firstByteMs, readBytes: bytes, readMs: performance.now() - t0 }));
      res.on('error', () => resolve({ ...base, firstByteMs }));
    });
    req.setTimeout(o.timeoutMs ?? 60_000, () => req.destroy(new Error(`GET ${url}: no answer in ${o.timeoutMs ?? 60_000} ms`)));
    req.on('error', (err) => {
      if (!req.destroyed || err.message.startsWith('GET ')) reject(err);
    });
  });
}

export interface Timed {
  /** How many were asked, and how many answered 200/206 with a body. */
  requests: number;
  ok: number;
  statuses: number[];
  headersMs: number[];
  firstByteMs: number[];
  length: number;
  clipStart: number | null;
  clipEnd: number | null;
  truncated: string | null;
}

/** `n` requests one after another, `pauseMs` apart. */
export async function timeMany(url: string, n: number, o: { range?: string; pauseMs?: number } = {}): Promise<Timed> {
  const out: Timed = { requests: n, ok: 0, statuses: [], headersMs: [], firstByteMs: [], length: NaN, clipStart: null, clipEnd: null, truncated: null };
  for (let i = 0; i < n; i++) {
    const r = await timeGet(url, { range: o.range });
    out.statuses.push(r.status);
    if ((r.status === 200 || r.status === 206) && Number.isFinite(r.firstByteMs)) {
      out.ok++;
      out.headersMs.push(r.headersMs);
      out.firstByteMs.push(r.firstByteMs);
      out.length = r.length;
      out.clipStart = r.clipStart;
      out.clipEnd = r.clipEnd;
      out.truncated = r.truncated;
    }
    if (o.pauseMs) await new Promise((res) => setTimeout(res, o.pauseMs));
  }
  return out;
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}
