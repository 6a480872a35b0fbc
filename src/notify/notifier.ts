// Turns what tracking, the analytics and the log decided into notices, and
// hands each to every sink. Sinks never block (each queues with a bound and
// counts what it drops), so a dead broker or receiver costs messages, never
// the pipeline.
import type { AnalyticsNews } from '../analytics/analytics.js';
import type { CameraConfig, NotifyConfig } from '../config/schema.js';
import type { TrackEvent } from '../types.js';
import type { Logger } from '../util/logger.js';
import { MqttSink } from './mqtt-sink.js';
import type { EventPhase, Notice, NoticeEvent, NotifyCatalog, NotifySink, SinkStats } from './notice.js';
import { WebhookSink } from './webhook-sink.js';

/** An event as the log keeps it: with its snapshot's file name once one is saved. */
export type NotifiedEvent = TrackEvent & { snapshot?: string | null };

export interface NotifierOptions {
  config: NotifyConfig;
  /** The cameras' settings, for discovery (labels, zones, lines). */
  cameras: () => CameraConfig[];
  /** Zones an open event's object loiters in now. */
  loitering: (camera: string, trackId: number) => string[];
  /** A snapshot's bytes (MQTT publishes them); absent without the log. */
  snapshot?: (file: string) => Promise<Buffer | undefined>;
  /** Whether links to snapshots and clips can be given (the log is on). */
  links: boolean;
  /** Where this lookout listens (known once it does), when notify.baseUrl is not set. */
  listening: () => string;
  log: Logger;
  version: string;
  /** Sinks made elsewhere (tests); by default those the config names. */
  sinks?: NotifySink[];
}

/** The labels a camera's discovery announces before any is seen: those it keeps, else those its filters name, else person. */
export function announcedLabels(camera: CameraConfig): string[] {
  if (camera.labels.length > 0) return camera.labels;
  const named = Object.keys(camera.ownFilters).filter((l) => l !== '*');
  return named.length > 0 ? named : ['person'];
}

export class Notifier {
  private readonly sinks: NotifySink[];
  private closed = false;

  constructor(private readonly options: NotifierOptions) {
    const catalog: NotifyCatalog = {
      cameras: () =>
        options.cameras().map((c) => {
          const labels = announcedLabels(c);
          return {
            id: c.id,
            labels,
            zones: c.zones.map((z) => ({ name: z.name, labels: z.labels.length ? z.labels : labels })),
            lines: c.lines.map((l) => ({ name: l.name, labels: l.labels.length ? l.labels : labels })),
          };
        }),
    };
    const { mqtt, webhooks } = options.config;
    const snapshot = options.snapshot;
    this.sinks = options.sinks ?? [
      ...(mqtt
        ? [new MqttSink({ config: mqtt, catalog, log: options.log, ...(snapshot ? { snapshot: (e: NoticeEvent) => (e.snapshot ? snapshot(e.snapshot) : Promise.resolve(undefined)) } : {}) })]
        : []),
      ...webhooks.map((config, index) => new WebhookSink({ config, index, log: options.log, version: options.version })),
    ];
  }

  get enabled(): boolean {
    return this.sinks.length > 0;
  }

  /** An event's start, update (a better snapshot, a zone entered) or end. */
  event(phase: EventPhase, e: NotifiedEvent): void {
    this.send({ kind: 'event', phase, time: phase === 'end' ? (e.end ?? Date.now()) : phase === 'start' ? e.start : Date.now(), event: this.noticeEvent(e) });
  }

  /** What the analytics found in one update of tracking. */
  news(n: AnalyticsNews): void {
    if (!this.enabled) return;
    for (const z of n.zones) this.send({ kind: 'zone', ...z });
    for (const c of n.crossings) this.send({ kind: 'crossing', phase: 'crossing', ...c });
    for (const c of n.counts) this.send({ kind: 'count', camera: n.camera, label: c.label, count: c.count });
    for (const o of n.occupancy) this.send({ kind: 'occupancy', camera: n.camera, zone: o.zone, label: o.label, count: o.count });
  }

  /** Sends one notice to every sink; a sink that throws (a bug) loses that notice only. */
  send(notice: Notice): void {
    if (this.closed) return;
    for (const sink of this.sinks) {
      try {
        sink.send(notice);
      } catch (err) {
        this.options.log.warn(`notify: ${sink.name} refused a notice: ${(err as Error).message}`);
      }
    }
  }

  /** A camera was deleted (not changed): the sinks let go of what they keep for it. */
  forget(camera: string): void {
    if (this.closed) return;
    for (const sink of this.sinks) sink.forget?.(camera);
  }

  stats(): SinkStats[] {
    return this.sinks.map((s) => s.stats());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.sinks.map((s) => s.close().catch(() => undefined)));
  }

  private noticeEvent(e: NotifiedEvent): NoticeEvent {
    const snapshot = e.snapshot ?? null;
    const base = this.options.config.baseUrl ?? this.options.listening();
    const id = encodeURIComponent(e.id);
    return {
      id: e.id,
      camera: e.camera,
      label: e.label,
      trackId: e.trackId,
      start: e.start,
      end: e.end,
      score: e.maxScore,
      box: [e.bestBox[0], e.bestBox[1], e.bestBox[2], e.bestBox[3]],
      zones: [...e.zones],
      loitering: e.end === null ? this.options.loitering(e.camera, e.trackId) : [],
      snapshot,
      snapshotUrl: this.options.links && snapshot ? `${base}/api/events/${id}/snapshot.jpg` : null,
      clipUrl: this.options.links ? `${base}/api/events/${id}/clip.mp4` : null,
    };
  }
}
