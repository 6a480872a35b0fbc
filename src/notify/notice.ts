// What lookout tells the outside world, in one form every sink (MQTT,
// webhooks) reads: an event's start, update and end; a track entering,
// leaving or loitering in a zone; a line crossing; and the states that
// follow from them (objects in view, zone occupancy). The notifier
// (notifier.ts) makes these from tracking and analytics; sinks turn them
// into topics or requests. Nothing here does I/O.
import type { CrossingNews, ZoneNews } from '../analytics/analytics.js';
import type { Box } from '../types.js';

/** An event as notifications carry it (the log's event, with its zones and links). */
export interface NoticeEvent {
  id: string;
  camera: string;
  label: string;
  trackId: number;
  /** ms since the epoch. */
  start: number;
  /** null while the event is ongoing. */
  end: number | null;
  /** The best detection's score. */
  score: number;
  /** The best detection's box, [ymin, xmin, ymax, xmax] normalized. */
  box: Box;
  /** Zones the object has entered, in the order it entered them. */
  zones: string[];
  /** Zones the object is loitering in now. */
  loitering: string[];
  /** The snapshot's file name in the log, null until one is saved. */
  snapshot: string | null;
  /** Absolute links, from notify.baseUrl; null when the log is off or no snapshot is saved yet. */
  snapshotUrl: string | null;
  clipUrl: string | null;
}

export type EventPhase = 'start' | 'update' | 'end';
export type ZonePhase = ZoneNews['phase'];
export type Direction = CrossingNews['direction'];

export type Notice =
  | { kind: 'event'; phase: EventPhase; time: number; event: NoticeEvent }
  /** A track entering, leaving or loitering in a zone (the analytics' news as it is). */
  | ({ kind: 'zone' } & ZoneNews)
  /** A line crossed; `totals` are the line's counters for the label after it (totals in the log). */
  | ({ kind: 'crossing'; phase: 'crossing' } & CrossingNews)
  /** Objects of a label in view on a camera (open events), on every change; retained state. */
  | { kind: 'count'; camera: string; label: string; count: number }
  /** Objects of a label in a zone, on every change; retained state. */
  | { kind: 'occupancy'; camera: string; zone: string; label: string; count: number };

/** What sinks count; /metrics reports it per sink. */
export interface SinkStats {
  /** "mqtt", or "webhook:<index>:<host>" (never the secret or the path's query). */
  sink: string;
  /** MQTT: connected to the broker; webhooks: the last delivery succeeded (or none was tried). */
  connected: boolean;
  /** Delivered: MQTT acknowledged (QoS 1) or sent (QoS 0); webhook answered 2xx. */
  published: number;
  /** Waiting now (a gauge). */
  queued: number;
  /** Left out because the queue was full (or the sink closed with them waiting). */
  dropped: number;
  /** Webhooks: given up after the retries; MQTT: publishes the client refused. */
  failed: number;
  /** Webhook attempts that failed and were tried again. */
  retried: number;
  lastError: string | null;
}

/** A destination of notices. send() never blocks or throws: a slow or dead receiver costs counted messages. */
export interface NotifySink {
  readonly name: string;
  send(notice: Notice): void;
  /** A camera was deleted: whatever the sink keeps for it (retained state, discovery) goes. */
  forget?(camera: string): void;
  stats(): SinkStats;
  /** Stops, delivering what it can within a short bound; idempotent. */
  close(): Promise<void>;
}

/** What the cameras are, for Home Assistant discovery: each camera's labels, zones and lines to announce. */
export interface NotifyCatalog {
  cameras(): { id: string; labels: string[]; zones: { name: string; labels: string[] }[]; lines: { name: string; labels: string[] }[] }[];
}
