// What happens to each update of tracking in `lookout serve`, in order: the
// analytics see it first (zones and lines; events get their zones), then the
// log stores it (records, events, crossings; its events go on to the live
// view and the notifications), then the notifications and the page hear
// what the analytics found. Without the log, events go to the notifications
// straight from tracking (no snapshots, no links).
import type { Analytics, AnalyticsNews } from './analytics/analytics.js';
import type { FilterReason } from './analytics/screen.js';
import type { LiveHub } from './live/hub.js';
import type { ShownDetection } from './live/messages.js';
import type { Notifier } from './notify/notifier.js';
import type { CrossingRecord } from './store/crossings.js';
import type { DetectionStore } from './store/detection-store.js';
import type { TrackUpdate } from './track/tracking.js';
import type { Detection, TrackedDetection } from './types.js';

export interface FlowDeps {
  analytics: Analytics;
  hub: LiveHub;
  notifier: Notifier;
  store: DetectionStore | undefined;
}

/** The rows the log keeps of what the analytics found. */
export function crossingRows(news: AnalyticsNews): CrossingRecord[] {
  return [
    ...news.crossings.map((c): CrossingRecord => ({ camera: c.camera, kind: 'line', name: c.line, label: c.label, direction: c.direction, time: c.time, trackId: c.trackId, eventId: c.eventId })),
    ...news.zones.map((z): CrossingRecord => ({ camera: z.camera, kind: 'zone', name: z.zone, label: z.label, direction: z.phase, time: z.time, trackId: z.trackId, eventId: z.eventId })),
  ];
}

export function analyticsFlow(deps: FlowDeps): (update: TrackUpdate) => void {
  const { analytics, hub, notifier, store } = deps;
  return (update) => {
    const news = analytics.apply(update);
    if (store) {
      store.recorder.record(update);
      store.recorder.changed(news.changed);
      const rows = crossingRows(news);
      if (rows.length > 0) store.writer.addCrossings(rows);
    } else if (notifier.enabled) {
      for (const e of update.started) notifier.event('start', e);
      for (const e of [...update.improved, ...news.changed]) notifier.event('update', e);
      for (const e of update.ended) notifier.event('end', e);
    }
    notifier.news(news);
    const camera = update.camera;
    for (const z of news.zones) hub.broadcast(camera, { type: 'zone', ...z });
    for (const c of news.crossings) hub.broadcast(camera, { type: 'crossing', ...c });
    if (news.zones.length + news.crossings.length + news.counts.length + news.occupancy.length > 0) {
      hub.broadcast(camera, { type: 'analytics', camera, ...analytics.state(camera) });
    }
  };
}

/** One frame's boxes for the page: the tracked ones (marked "threshold" while their track is no event), then the filtered ones. */
export function shownDetections(tracked: readonly TrackedDetection[], filtered: readonly { detection: Detection; reason: FilterReason }[], hasEvent: (trackId: number) => boolean): ShownDetection[] {
  return [
    ...tracked.map((d) => ({ ...d, filtered: d.trackId !== null && d.confirmed && !hasEvent(d.trackId) ? 'threshold' : null })),
    ...filtered.map((f) => ({ ...f.detection, trackId: null, filtered: f.reason })),
  ];
}
