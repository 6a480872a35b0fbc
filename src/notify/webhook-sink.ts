// One webhook receiver: notices that pass its filters become signed JSON
// POSTs, delivered one at a time so a receiver sees a camera's events in
// order. A slow or dead receiver never reaches back into the pipeline: send()
// only queues, the queue is bounded (the oldest waiting message goes first,
// counted), and every attempt has a timeout. Transient failures (network,
// timeout, 5xx, 408, 429) are retried with the shared backoff; a receiver
// that refuses a message (other 4xx) will refuse it again, so it is not.
//
// node:http(s) rather than fetch: fetch refuses URLs with userinfo (which we
// turn into Basic auth), and our own keep-alive agent is one we can destroy
// at close, leaving no pooled socket behind.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { WebhookConfig } from '../config/schema.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { packageRoot } from '../util/paths.js';
import type { Notice, NotifySink, SinkStats } from './notice.js';

/** Between attempts of one message: a receiver that is restarting gets seconds, not a burst. */
const RETRY_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.2 };
/** A receiver's Retry-After is honoured up to this; beyond it we would hold the whole queue too long. */
const MAX_RETRY_AFTER_MS = 60_000;
/** close() lets the delivery in flight finish this long before aborting it. */
const CLOSE_GRACE_MS = 2_000;

export interface WebhookSinkOptions {
  config: WebhookConfig;
  /** The webhook's place in notify.webhooks: tells two webhooks to one host apart. */
  index: number;
  log: Logger;
  /** For User-Agent; default: the package's version. */
  version?: string;
}

/** One notice for this receiver: its JSON made at send() (the notice's arrays may change after), its bytes and signature at its first attempt (what a burst drops costs no HMAC), the same bytes on every attempt. */
interface Message { json: string; delivery: string; event: string; sent?: { body: Buffer; headers: Record<string, string> }; attempts: number }

type Delivered = Extract<Notice, { kind: 'event' | 'zone' | 'crossing' }>;
/** An attempt's failure; null is a 2xx. */
type Failure = { reason: string; retryable: boolean; retryAfterMs: number | null } | null;

let packageVersion: string | undefined;
function defaultVersion(): string {
  try {
    packageVersion ??= String((JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: unknown }).version);
  } catch {
    packageVersion = 'unknown';
  }
  return packageVersion;
}

/** Whether this webhook wants the notice (docs/notify.md); counts and occupancy are MQTT's retained state, never webhooks'. */
function accepts(config: WebhookConfig, notice: Notice): notice is Delivered {
  if (notice.kind === 'count' || notice.kind === 'occupancy') return false;
  if (!config.phases.includes(notice.phase)) return false;
  const camera = notice.kind === 'event' ? notice.event.camera : notice.camera;
  const label = notice.kind === 'event' ? notice.event.label : notice.label;
  if (config.cameras.length > 0 && !config.cameras.includes(camera)) return false;
  if (config.labels.length > 0 && !config.labels.includes(label)) return false;
  if (config.zones.length > 0) {
    if (notice.kind === 'crossing') return false;
    const zones = notice.kind === 'event' ? notice.event.zones : [notice.zone];
    if (!zones.some((z) => config.zones.includes(z))) return false;
  }
  if (config.lines.length > 0 && (notice.kind !== 'crossing' || !config.lines.includes(notice.line))) return false;
  return true;
}

/** The JSON a receiver gets: type and phase first, then what the notice says, then the delivery id. */
function bodyOf(notice: Delivered, delivery: string): Record<string, unknown> {
  if (notice.kind === 'event') {
    const e = notice.event;
    return { type: 'event', phase: notice.phase, time: notice.time, camera: e.camera, label: e.label, event: e, delivery };
  }
  // Everything the notice carries but its discriminant, which the receiver reads as `type`.
  const { kind, phase, time, camera, label, ...fields } = notice;
  return { type: kind, phase, time, camera, label, ...fields, delivery };
}

/** Seconds or an HTTP date, capped; null when absent or unreadable (the backoff decides then). */
function retryAfterMs(value: string | undefined): number | null {
  const text = value?.trim() ?? '';
  const ms = /^\d+$/.test(text) ? Number(text) * 1_000 : Date.parse(text) - Date.now();
  return Number.isNaN(ms) ? null : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

export class WebhookSink implements NotifySink {
  readonly name: string;
  private readonly config: WebhookConfig;
  private readonly log: Logger;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly userAgent: string;
  /** userinfo in the url, as Basic auth (the URL parser leaves it percent-encoded). */
  private readonly auth: string | undefined;
  private readonly waiting: Message[] = [];
  /** The message being delivered, on the wire or waiting for its retry. */
  private current: Message | null = null;
  private request: http.ClientRequest | null = null;
  /** Resolves when the attempt on the wire has an outcome (close() waits on it). */
  private attemptDone: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** close() is delivering what waited when it was called. */
  private draining = false;
  private closing: Promise<void> | null = null;
  /** close() is aborting the attempt on the wire: its end is no failure of the receiver's. */
  private aborting = false;
  /** Set by the first failed attempt, cleared by the next success: one log line each way. */
  private failingSince: number | null = null;
  private failedAttempts = 0;
  private counters = { published: 0, dropped: 0, failed: 0, retried: 0 };
  private connected = true;
  private lastError: string | null = null;

  constructor(options: WebhookSinkOptions) {
    this.config = options.config;
    this.log = options.log;
    // The config loader checked the url already; these errors never quote it (it may carry a token).
    const url = URL.canParse(options.config.url) ? new URL(options.config.url) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new Error(`webhook ${options.index}: expected an http:// or https:// url`);
    this.url = url;
    try {
      this.auth = url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
    } catch {
      throw new Error(`webhook ${options.index}: the url's user or password is not valid percent-encoding`);
    }
    // url.host: hostname and port, never userinfo, path or query (any of which may hold a secret).
    this.name = `webhook:${options.index}:${url.host}`;
    this.userAgent = `lookout/${options.version ?? defaultVersion()}`;
    // One socket (deliveries are sequential), kept alive to spare a handshake per notice, but idle for under 4 s:
    // servers commonly close idle connections at 5 s (Node's default), and a request on one they are closing fails.
    this.agent = new (url.protocol === 'https:' ? https : http).Agent({ keepAlive: true, maxSockets: 1, timeout: 4_000 });
  }

  send(notice: Notice): void {
    if (this.closed) return;
    try {
      if (!accepts(this.config, notice)) return;
      const delivery = randomUUID();
      this.waiting.push({ json: JSON.stringify(bodyOf(notice, delivery)), delivery, event: `${notice.kind}.${notice.phase}`, attempts: 0 });
      this.pump();
      // Full: the oldest waiting message goes; the one in flight keeps its place (its receiver may have it already).
      const over = this.waiting.length - this.config.maxQueue;
      if (over > 0) this.counters.dropped += this.waiting.splice(0, over).length;
    } catch (err) {
      // A notice that cannot be serialized is a bug upstream; it costs one counted message, not the caller.
      this.counters.failed += 1;
      this.lastError = `could not build the request: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  stats(): SinkStats {
    const queued = this.waiting.length + (this.current ? 1 : 0);
    return { sink: this.name, connected: this.connected, ...this.counters, queued, lastError: this.lastError };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * Takes no more notices; delivers what waits, one attempt each (the last
   * events' ends come at shutdown), until CLOSE_GRACE_MS is up; then cuts
   * off the attempt on the wire and counts what is left as dropped.
   */
  private async shutdown(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) {
      // Between attempts: a retry is not worth the grace the others wait for.
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.counters.dropped += 1;
      this.current = null;
    }
    let timedOut = false;
    let grace: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => { grace = setTimeout(() => { timedOut = true; resolve(); }, CLOSE_GRACE_MS); });
    this.draining = true;
    this.pump();
    while (!timedOut && this.current && this.attemptDone) await Promise.race([this.attemptDone, graceOver]);
    this.draining = false;
    clearTimeout(grace);
    this.counters.dropped += this.waiting.length;
    this.waiting.length = 0;
    if (this.request && this.attemptDone) {
      this.aborting = true;
      this.request.destroy(new Error('aborted: the sink closed'));
      await this.attemptDone;
    }
    // The pooled keep-alive socket, if any: nothing of ours stays open.
    this.agent.destroy();
  }

  /** Starts the next message when none is being delivered. */
  private pump(): void {
    if ((this.closed && !this.draining) || this.current) return;
    this.current = this.waiting.shift() ?? null;
    if (this.current) this.attempt(this.current);
  }

  /** The bytes and headers of a message, made on its first attempt and kept for its retries. */
  private prepare(message: Message): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.from(message.json, 'utf8');
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Length': String(body.length), 'User-Agent': this.userAgent };
    Object.assign(headers, { 'X-Lookout-Delivery': message.delivery, 'X-Lookout-Event': message.event });
    if (this.config.secret) headers['X-Lookout-Signature'] = `sha256=${createHmac('sha256', this.config.secret).update(body).digest('hex')}`;
    return { body, headers };
  }

  private attempt(message: Message): void {
    message.attempts += 1;
    const sent = (message.sent ??= this.prepare(message));
    let timer: NodeJS.Timeout | undefined;
    let status: number | null = null;
    let retryAfter: string | undefined;
    let settled = false;
    let ended!: () => void;
    this.attemptDone = new Promise<void>((resolve) => { ended = resolve; });
    const settle = (failure: Failure): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.request = null;
      this.onOutcome(message, failure);
      ended();
    };
    // An answer already given counts even if its body was cut short.
    const answered = (): Failure => {
      const s = status ?? 0;
      if (s >= 200 && s < 300) return null;
      const after = s === 429 || s === 503 ? retryAfterMs(retryAfter) : null;
      return { reason: `HTTP ${s}`, retryable: s >= 500 || s === 408 || s === 429, retryAfterMs: after };
    };
    try {
      const options = { method: 'POST', agent: this.agent, headers: sent.headers, auth: this.auth };
      this.request = (this.url.protocol === 'https:' ? https : http).request(this.url, options);
    } catch (err) {
      // The url and headers were checked already, so this does not happen; if it did, trying again would not help.
      // Settled from a microtask, so a queue of such messages is no recursion deep as the queue.
      const reason = this.redact(err instanceof Error ? err.message : String(err));
      return queueMicrotask(() => settle({ reason, retryable: false, retryAfterMs: null }));
    }
    const req = this.request;
    timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.config.timeoutMs} ms`)), this.config.timeoutMs);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      const header = res.headers['retry-after'];
      retryAfter = Array.isArray(header) ? header[0] : header;
      // The answer's body means nothing to us, but reading it to the end frees the socket for the next delivery.
      res.on('error', () => undefined);
      res.on('close', () => settle(answered()));
      res.resume();
    });
    req.on('error', (err) => settle(status !== null ? answered() : { reason: this.redact(err.message), retryable: true, retryAfterMs: null }));
    req.end(sent.body);
  }

  private onOutcome(message: Message, failure: Failure): void {
    if (failure === null) {
      this.counters.published += 1;
      this.connected = true;
      if (this.failingSince !== null) {
        this.log.info(`${this.name}: delivering again`, { sink: this.name, failedAttempts: this.failedAttempts, downMs: Date.now() - this.failingSince });
        [this.failingSince, this.failedAttempts] = [null, 0];
      }
      return this.next();
    }
    if (this.aborting) {
      // close() gave up on it: the receiver did nothing wrong, so no error, just a message left out.
      this.counters.dropped += 1;
      return this.next();
    }
    this.connected = false;
    this.lastError = failure.reason;
    this.failedAttempts += 1;
    if (this.failingSince === null) {
      this.failingSince = Date.now();
      const then = failure.retryable ? 'retrying with backoff' : 'not retried';
      this.log.warn(`${this.name}: delivery failed (${failure.reason}); ${then}, logged again when it recovers`, { sink: this.name, error: failure.reason });
    }
    const retriesLeft = failure.retryable && message.attempts <= this.config.retries;
    if (retriesLeft && !this.closed) {
      this.counters.retried += 1;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.attempt(message);
      }, failure.retryAfterMs ?? backoffDelay(message.attempts, RETRY_BACKOFF));
      return;
    }
    // Closing cut its retries short: left out, not given up on.
    this.counters[retriesLeft ? 'dropped' : 'failed'] += 1;
    this.next();
  }

  private next(): void {
    this.current = null;
    this.pump();
  }

  /** Error messages name host and port at most; this makes sure the path's query and userinfo never reach a log or /metrics. */
  private redact(message: string): string {
    const secrets = [this.url.href, this.url.search, this.url.password, this.config.secret];
    return secrets.reduce<string>((out, secret) => (secret ? out.split(secret).join('…') : out), message);
  }
}
