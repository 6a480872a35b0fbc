// The MQTT sink: notices as topics on one broker (docs/notify.md), all QoS 1.
// The stream (events, zones, crossings) is a FIFO bounded by maxQueue while the
// broker is away and, while it is there, by maxQueue publishes awaiting their
// PUBACK (MQTT.js would buffer without limit); full, it drops its oldest. The
// counters count these: sent = published + dropped + queued + failed. Retained
// state (counts, occupancy, line counters, the last snapshot, discovery) is a
// map topic → latest value, bounded by the catalog, republished whole on every
// connect: a broker restarted without persistence gets it back. Each connection
// is a fresh MQTT.js client with its reconnect off, so none resends behind our back.
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/schema.js';
import { backoffDelay, type BackoffOptions } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { availabilityTopic, cameraDiscovery, catalogCombos, noticeMessages, snapshotTopic, type Combo, type DiscoveryNames } from './ha-discovery.js';
import type { Notice, NoticeEvent, NotifyCatalog, NotifySink, SinkStats } from './notice.js';

export interface MqttSinkOptions {
  config: MqttConfig;
  catalog: NotifyCatalog;
  /** The JPEG an event's snapshot (event.snapshot) names; undefined when there is none to send. */
  snapshot?: (event: NoticeEvent) => Promise<Buffer | undefined>;
  log: Logger;
}

const RECONNECT: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };
const KEEPALIVE_S = 30;
const CONNECT_TIMEOUT_MS = 10_000;
/** close(): what waits goes out, then 'offline', then DISCONNECT, all within this; STEP_MS is kept for the last two. */
const CLOSE_MS = 2_000;
const STEP_MS = 500;
/** Events whose last snapshot name is remembered (events that never end must not grow the map). */
const REMEMBERED_EVENTS = 1_000;

interface Message { topic: string; payload: string }
interface Flight { message: Message; settled: boolean }
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits for `p` at most `ms`, leaving no timer behind to hold the process up. */
function within(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** The broker's address without credentials, for logs. */
const redact = (url: string): string =>
  (URL.canParse(url) ? ((u: URL) => `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`)(new URL(url)) : '(invalid url)');

export class MqttSink implements NotifySink {
  readonly name = 'mqtt';
  private readonly names: DiscoveryNames;
  private readonly url: string;
  private readonly maxQueue: number;
  private queue: Message[] = [];
  private readonly flights = new Set<Flight>();
  private readonly discovery = new Map<string, string>();
  private readonly announced = new Set<string>();
  private readonly state = new Map<string, string | Buffer>();
  /** Retained topics to publish, in order; one publish per topic in flight at most, so a busy count cannot pile up. */
  private readonly pending = new Set<string>();
  private readonly retainedInFlight = new Set<string>();
  private readonly snapshotNames = new Map<string, string>();
  private client: MqttClient | undefined;
  private connected = false;
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private readonly counts = { published: 0, dropped: 0, failed: 0 };
  private lastError: string | null = null;
  /** The error last logged: a broker refusing for hours is logged once, not at every attempt. */
  private reported: string | null = null;

  constructor(private readonly options: MqttSinkOptions) {
    const { topicPrefix, discoveryPrefix, url, maxQueue } = options.config;
    this.names = { prefix: topicPrefix || 'lookout', discoveryPrefix: discoveryPrefix || 'homeassistant' };
    this.url = redact(url);
    this.maxQueue = Math.max(1, maxQueue);
    this.open();
  }

  send(notice: Notice): void {
    try {
      const { stream, retained, combo } = noticeMessages(this.names, notice);
      if (combo) this.announce(combo);
      for (const r of retained) this.retain(r.topic, r.payload);
      if (stream) this.enqueue(stream);
      if (notice.kind === 'event') this.takeSnapshot(notice.event, notice.phase === 'end');
    } catch (e) {
      this.note(`cannot send a ${notice.kind} notice: ${describe(e)}`);
    }
  }

  /**
   * A camera deleted: its retained topics and discovery configs are cleared
   * (an empty retained message deletes one; Home Assistant removes an entity
   * whose config is empty), so no ghost entity or stale count stays behind.
   */
  forget(camera: string): void {
    const ours = (topic: string): boolean =>
      topic.startsWith(`${this.names.prefix}/${camera}/`) || (topic.startsWith(`${this.names.discoveryPrefix}/`) && topic.includes(`/lookout_${camera}/`));
    for (const map of [this.discovery, this.state]) {
      for (const topic of [...map.keys()]) {
        if (!ours(topic)) continue;
        map.delete(topic);
        this.pending.add(topic);
      }
    }
    for (const k of [...this.announced]) if (k === camera || k.startsWith(`${camera}\0`)) this.announced.delete(k);
    this.flushRetained();
  }

  stats(): SinkStats {
    const queued = this.queue.length + this.flights.size;
    return { sink: this.name, connected: this.connected, ...this.counts, queued, retried: 0, lastError: this.lastError };
  }

  close(): Promise<void> {
    this.stopped = true;
    return (this.closing ??= this.shut());
  }

  /** Reads a snapshot once per new file name of an event; the bytes become the camera's retained picture. */
  private takeSnapshot(event: NoticeEvent, ended: boolean): void {
    const [file, id, read] = [event.snapshot, event.id, this.options.snapshot];
    if (file !== null && read && this.snapshotNames.get(id) !== file) {
      this.snapshotNames.set(id, file);
      if (this.snapshotNames.size > REMEMBERED_EVENTS) this.snapshotNames.delete(this.snapshotNames.keys().next().value ?? '');
      Promise.resolve().then(() => read(event)).then((bytes) => {
        if (!bytes || this.stopped) return;
        this.announce({ camera: event.camera, key: '', configs: () => [] });
        this.retain(snapshotTopic(this.names.prefix, event.camera), bytes);
      }, (e: unknown) => this.note(`cannot read a snapshot: ${describe(e)}`));
    }
    if (ended) this.snapshotNames.delete(id);
  }

  /** Announces a camera (once) and a combo of it (once) before their first state. */
  private announce({ camera, key, configs }: Combo): void {
    if (!this.options.config.discovery) return;
    const fresh = (k: string): boolean => !this.announced.has(k) && this.announced.add(k) !== undefined;
    const messages = [...(fresh(camera) ? cameraDiscovery(this.names, camera) : []), ...(key !== '' && fresh(`${camera}\0${key}`) ? configs() : [])];
    for (const m of messages) this.discovery.set(m.topic, m.payload);
    for (const m of messages) this.pending.add(m.topic);
    if (messages.length > 0) this.flushRetained();
  }

  private retain(topic: string, payload: string | Buffer): void {
    this.state.set(topic, payload);
    this.pending.add(topic);
    this.flushRetained();
  }

  private enqueue(message: Message): void {
    if (this.stopped) return void (this.counts.dropped += 1);
    this.queue.push(message);
    this.trim();
    this.pump();
  }

  private trim(): void {
    const over = Math.max(0, this.queue.length - this.maxQueue);
    this.queue.splice(0, over);
    this.counts.dropped += over;
  }

  /** A QoS 1 publish on connection `c`; an error that means the connection went is handled as its loss, not passed on. */
  private publish(c: MqttClient, topic: string, payload: string | Buffer, retain: boolean, done: (e: Error | undefined) => void): void {
    c.publish(topic, payload, { qos: 1, retain }, (e) => {
      if (e && (c !== this.client || !this.connected || c.disconnecting || e.message === 'Connection closed')) this.down(c, false);
      else done(e);
    });
  }

  private pump(): void {
    const c = this.client;
    while (c && this.connected && this.flights.size < this.maxQueue) {
      const message = this.queue.shift();
      if (!message) return;
      const flight: Flight = { message, settled: false };
      this.flights.add(flight);
      this.publish(c, message.topic, message.payload, false, (e) => this.settle(flight, e));
    }
  }

  private settle(flight: Flight, e: Error | undefined): void {
    if (flight.settled) return;
    flight.settled = true;
    this.flights.delete(flight);
    this.counts[e ? 'failed' : 'published'] += 1;
    if (e) this.note(`publish to ${flight.message.topic} failed: ${e.message}`);
    this.pump();
  }

  private flushRetained(): void {
    const c = this.client;
    if (!c || !this.connected) return;
    for (const topic of this.pending) {
      if (this.retainedInFlight.has(topic)) continue;
      this.pending.delete(topic);
      // A pending topic without a value is one forget() cleared: the empty payload deletes it.
      const payload = this.discovery.get(topic) ?? this.state.get(topic) ?? '';
      this.retainedInFlight.add(topic);
      this.publish(c, topic, payload, true, (e) => {
        if (c !== this.client) return;
        this.retainedInFlight.delete(topic);
        if (e) this.note(`publish to ${topic} failed: ${e.message}`);
        if (this.pending.has(topic)) this.flushRetained();
      });
    }
  }

  private clientOptions(): IClientOptions {
    const { clientId, username, password, url, rejectUnauthorized, caFile } = this.options.config;
    const will = { topic: availabilityTopic(this.names.prefix), payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    const options: IClientOptions = {
      clientId: clientId || undefined, clean: true, keepalive: KEEPALIVE_S, connectTimeout: CONNECT_TIMEOUT_MS, reconnectPeriod: 0, username, password, will, rejectUnauthorized,
    };
    // Read at each connect: a CA renewed on disk is picked up by the next reconnect.
    if (caFile && /^(mqtts|wss):/i.test(url)) options.ca = readFileSync(caFile);
    return options;
  }

  private open(): void {
    this.retryTimer = undefined;
    if (this.stopped) return;
    let c: MqttClient;
    try {
      c = connect(this.options.config.url, this.clientOptions());
    } catch (e) {
      this.note(`cannot connect: ${describe(e)}`);
      return this.retry();
    }
    this.client = c;
    let sawError = false;
    c.on('connect', () => this.up(c));
    c.on('error', (e) => {
      sawError ||= c === this.client;
      // On a live connection down() reports it with the disconnection; a discarded client's last word (keepalive timeout) is kept, unlogged.
      this.note(e.message, c !== this.client || this.connected);
    });
    c.on('close', () => this.down(c, sawError));
  }

  private up(c: MqttClient): void {
    if (c !== this.client || this.stopped) return;
    [this.attempt, this.reported] = [0, null];
    this.options.log.info('mqtt: connected', { url: this.url });
    c.publish(availabilityTopic(this.names.prefix), 'online', { qos: 1, retain: true }, () => undefined);
    // Not marked connected yet: announcing the catalog only fills the maps, all published below, in order, once.
    try {
      for (const { combo, zero } of catalogCombos(this.names, this.options.catalog.cameras())) {
        this.announce(combo);
        if (zero !== undefined && !this.state.has(zero)) this.state.set(zero, '0');
      }
    } catch (e) {
      this.note(`cannot read the catalog: ${describe(e)}`);
    }
    // Discovery first, then state, then the stream: Home Assistant knows an entity before its state.
    this.connected = true;
    this.pending.clear();
    for (const topic of [...this.discovery.keys(), ...this.state.keys()]) this.pending.add(topic);
    this.flushRetained();
    this.pump();
  }

  /** The connection (or an attempt) is gone: unacknowledged messages go back to the front, and a retry is scheduled. */
  private down(c: MqttClient, sawError: boolean): void {
    if (c !== this.client) return;
    this.client = undefined;
    const was = this.connected;
    this.connected = false;
    this.retainedInFlight.clear();
    // Later: this can run inside MQTT.js's own clean-up (from a publish callback), which must finish first.
    setImmediate(() => c.end(true));
    // Closing: shut() counts what is left as dropped.
    if (this.stopped) return;
    // QoS 1 is at-least-once: a message the broker may have got, unacknowledged, is sent again rather than lost unseen.
    this.queue = [...this.flights].map((f) => ((f.settled = true), f.message)).concat(this.queue);
    this.flights.clear();
    this.trim();
    if (!sawError) this.note(was ? 'the broker closed the connection' : 'the broker closed the connection before answering', was);
    // Logged here with its cause; the same cause on the attempts that follow is not logged again.
    if (was) this.options.log.warn('mqtt: disconnected', { url: this.url, error: (this.reported = this.lastError) });
    this.retry();
  }

  private retry(): void {
    if (this.stopped || this.retryTimer) return;
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.open(), backoffDelay(this.attempt, RECONNECT)).unref();
  }

  private note(message: string, quiet = false): void {
    this.lastError = message;
    if (quiet || message === this.reported) return;
    this.reported = message;
    this.options.log.warn(`mqtt: ${message}`, { url: this.url });
  }

  private async shut(): Promise<void> {
    clearTimeout(this.retryTimer);
    const c = this.client;
    const deadline = Date.now() + CLOSE_MS;
    while (this.connected && this.queue.length > 0 && Date.now() < deadline - STEP_MS) await sleep(20);
    this.counts.dropped += this.queue.length;
    this.queue = [];
    // A clean DISCONNECT suppresses the will, so 'offline' is said here; end() waits for every PUBACK before it.
    if (c && this.connected) c.publish(availabilityTopic(this.names.prefix), 'offline', { qos: 1, retain: true });
    if (c) await within(new Promise((resolve) => c.end(!this.connected, resolve)), Math.max(STEP_MS, deadline - Date.now()));
    // A broker that never answers still loses the socket.
    c?.stream?.destroy();
    this.client = undefined;
    this.connected = false;
    for (const f of this.flights) f.settled = true;
    this.counts.dropped += this.flights.size;
    this.flights.clear();
    this.options.log.info('mqtt: closed', { url: this.url });
  }
}
