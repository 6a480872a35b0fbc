// /metrics in Prometheus' text format (prom-client), on a registry of this
// lookout's own (several can share a process, as in the tests).
//
// Most figures already live in the components (camera status, scheduler
// lanes, feeds, the store writer); they are read at scrape time rather than
// mirrored on every frame. Counters whose source is a running total are
// advanced by the difference since the last scrape, so they stay counters
// (rate() works) even though the component owns the number. The two
// histograms (inference latency, queue wait) are observed per result.
import client from 'prom-client';
import type { CameraRegistry } from '../cameras/registry.js';
import type { LiveHub } from '../live/hub.js';
import type { RecordingStatus } from '../record/segment-writer.js';
import type { DetectionStore } from '../store/detection-store.js';
import type { CameraState } from '../types.js';
import type { AnalyticsState } from '../analytics/analytics.js';
import type { SinkStats } from '../notify/notice.js';

const STATES: readonly CameraState[] = ['starting', 'streaming', 'reconnecting', 'failed', 'stopped'];
const MODEL_STATES = ['closed', 'open', 'probing'] as const;

export interface Metrics {
  registry: client.Registry;
  close(): void;
}

/** A counter fed from a running total owned elsewhere. */
class MirroredCounter {
  private readonly last = new Map<string, number>();
  readonly counter: client.Counter<string>;

  constructor(registry: client.Registry, name: string, help: string, labelNames: string[]) {
    this.counter = new client.Counter({ name, help, labelNames, registers: [registry] });
  }

  set(labels: Record<string, string>, total: number): void {
    const key = JSON.stringify(labels);
    const before = this.last.get(key) ?? 0;
    // A smaller total means the source restarted (a camera re-added): count from there.
    const delta = total >= before ? total - before : total;
    this.last.set(key, total);
    if (delta > 0) this.counter.inc(labels, delta);
    else this.counter.inc(labels, 0);
  }
}

export interface MetricsDeps {
  cameras: CameraRegistry;
  live: LiveHub;
  store: DetectionStore | undefined;
  recording?: (camera: string) => RecordingStatus;
  /** Each notification sink's counters. */
  notify?: () => SinkStats[];
  analytics?: (camera: string) => AnalyticsState;
}

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new client.Registry();
  const { cameras, live, store, recording, notify, analytics } = deps;
  // Registered first, so its collect hook refreshes every other metric before they are serialized.
  new client.Gauge({ name: 'lookout_cameras', help: 'Cameras configured', registers: [registry], collect() {
    refresh();
    this.set(cameras.cameraIds().length);
  } });
  client.collectDefaultMetrics({ register: registry, prefix: 'lookout_' });

  const latency = new client.Histogram({
    name: 'lookout_inference_latency_seconds',
    help: 'Model time per result, by camera: the frame\'s crops and its Predict call (and a second look at objects a region cut)',
    labelNames: ['camera'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const queueWait = new client.Histogram({
    name: 'lookout_queue_wait_seconds',
    help: 'Age of a frame when it was sent to the model, by camera',
    labelNames: ['camera'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers: [registry],
  });
  const unsubscribe = cameras.onDetections((camera, d) => {
    latency.observe({ camera }, d.latencyMs / 1000);
    queueWait.observe({ camera }, d.queueWaitMs / 1000);
  });

  const frames = new MirroredCounter(registry, 'lookout_camera_frames_total', 'Frames read from ffmpeg, by camera and output (stream: fragments of the copied video; detect; live: the JPEG view\'s)', ['camera', 'output']);
  const decoderSkipped = new MirroredCounter(registry, 'lookout_camera_decoder_skipped_total', 'Fragments a decoder that was behind skipped (to the next keyframe), by camera and decoder (detect, live)', ['camera', 'decoder']);
  const fragmentsSent = new MirroredCounter(registry, 'lookout_live_fragments_sent_total', 'Fragments of the camera\'s own video handed to native viewers (WebSocket and stream.mp4), by camera', ['camera']);
  const fragmentsSkipped = new MirroredCounter(registry, 'lookout_live_fragments_skipped_total', 'Fragments a native viewer skipped (behind, or waiting for a keyframe), by camera', ['camera']);
  const streamBytes = new MirroredCounter(registry, 'lookout_live_stream_bytes_sent_total', 'Bytes of the camera\'s own video handed to native viewers, by camera', ['camera']);
  const detected = new MirroredCounter(registry, 'lookout_camera_inferences_total', 'Frames the model answered, by camera', ['camera']);
  const dropped = new MirroredCounter(registry, 'lookout_camera_frames_dropped_total', 'Detection frames not sent to the model, by camera and reason', ['camera', 'reason']);
  const gated = new MirroredCounter(registry, 'lookout_camera_motion_frames_total', 'Detection frames by the motion gate\'s decision: full (the whole frame for the model), regions, skipped (nothing moved); a frame decided for the model may still be superseded or stale (lookout_camera_frames_dropped_total)', ['camera', 'decision']);
  const images = new MirroredCounter(registry, 'lookout_camera_model_images_total', 'Images the model was given, by camera: one per whole frame, one per region', ['camera']);
  const calibrations = new MirroredCounter(registry, 'lookout_camera_motion_calibrations_total', 'Times motion detection learnt the picture anew (a start, a global change of light), by camera', ['camera']);
  const restarts = new MirroredCounter(registry, 'lookout_camera_restarts_total', 'ffmpeg restarts (reconnects), by camera', ['camera']);
  const sent = new MirroredCounter(registry, 'lookout_live_frames_sent_total', 'Annotated frames handed to viewers, by camera', ['camera']);
  const skipped = new MirroredCounter(registry, 'lookout_live_frames_skipped_total', 'Frames a slow viewer skipped, by camera', ['camera']);
  const bytes = new MirroredCounter(registry, 'lookout_live_bytes_sent_total', 'Bytes of frames handed to viewers, by camera', ['camera']);
  const encoded = new MirroredCounter(registry, 'lookout_live_frames_encoded_total', 'Live frames annotated and JPEG-encoded, by camera', ['camera']);
  const recBytes = new MirroredCounter(registry, 'lookout_recording_bytes_written_total', 'Bytes of the camera\'s own video written to recording segments, by camera', ['camera']);
  const recSegments = new MirroredCounter(registry, 'lookout_recording_segments_total', 'Recording segments finished, by camera', ['camera']);
  const recDropped = new MirroredCounter(registry, 'lookout_recording_fragments_dropped_total', 'Fragments not recorded, by camera and reason (queue: the disk fell behind; paused: the disk was full or failing)', ['camera', 'reason']);
  const notified = new MirroredCounter(registry, 'lookout_notify_messages_total', 'Notification messages by sink (mqtt, webhook:N:host) and outcome (published: delivered; dropped: over the queue\'s bound; failed: refused or given up after retries; retried)', ['sink', 'outcome']);
  const crossings = new MirroredCounter(registry, 'lookout_line_crossings_total', 'Line crossings (all-time in the log), by camera, line, label and direction', ['camera', 'line', 'label', 'direction']);
  const written = new MirroredCounter(registry, 'lookout_store_detections_written_total', 'Detections committed to the log', []);
  const storeDropped = new MirroredCounter(registry, 'lookout_store_detections_dropped_total', 'Detections the log dropped (over its bound, or lost)', []);

  const gauge = (name: string, help: string, labelNames: string[]) => new client.Gauge({ name, help, labelNames, registers: [registry] });
  const fps = gauge('lookout_camera_fps', 'Frames per second over the last seconds, by camera and kind (decoded, live, detect)', ['camera', 'kind']);
  const state = gauge('lookout_camera_state', '1 for the state each camera is in', ['camera', 'state']);
  const viewers = gauge('lookout_camera_viewers', 'Viewers (WebSocket native and JPEG, stream.mp4, MJPEG), by camera', ['camera']);
  const model = gauge('lookout_model_server_state', "1 for the model server's state as lookout sees it (closed: reachable; open: down; probing)", ['state']);
  const storeFailing = gauge('lookout_store_failing', '1 while the log cannot write (disk full, I/O error)', []);
  const storePending = gauge('lookout_store_pending_records', 'Records waiting to be committed', []);
  const openEvents = gauge('lookout_events_open', 'Tracked objects in view now', []);
  const notifyQueued = gauge('lookout_notify_queued', 'Notification messages waiting (or awaiting acknowledgement), by sink', ['sink']);
  const notifyConnected = gauge('lookout_notify_connected', '1 while a sink is connected (MQTT) or its last delivery succeeded (webhooks)', ['sink']);
  const occupancy = gauge('lookout_zone_occupancy', 'Objects in a zone now, by camera, zone and label', ['camera', 'zone', 'label']);
  const inView = gauge('lookout_objects_in_view', 'Objects (open events) in view now, by camera and label', ['camera', 'label']);
  const moving = gauge('lookout_camera_motion', '1 while the newest detection frame of the camera has motion', ['camera']);
  const motionBoxes = gauge('lookout_camera_motion_boxes', 'Motion boxes in the newest detection frame, by camera', ['camera']);
  const recPaused = gauge('lookout_recording_paused', '1 while a camera\'s recording is paused (disk full or failing)', ['camera']);

  const refresh = (): void => {
    fps.reset();
    state.reset();
    viewers.reset();
    moving.reset();
    motionBoxes.reset();
    recPaused.reset();
    occupancy.reset();
    inView.reset();
    notifyQueued.reset();
    notifyConnected.reset();
    for (const s of notify?.() ?? []) {
      for (const outcome of ['published', 'dropped', 'failed', 'retried'] as const) notified.set({ sink: s.sink, outcome }, s[outcome]);
      notifyQueued.set({ sink: s.sink }, s.queued);
      notifyConnected.set({ sink: s.sink }, s.connected ? 1 : 0);
    }
    for (const id of cameras.cameraIds()) {
      const view = cameras.view(id);
      if (!view) continue;
      fps.set({ camera: id, kind: 'decoded' }, view.decodedFps);
      fps.set({ camera: id, kind: 'live' }, view.liveFps);
      fps.set({ camera: id, kind: 'detect' }, view.schedule?.detectFps ?? 0);
      for (const s of STATES) state.set({ camera: id, state: s }, view.status.state === s ? 1 : 0);
      frames.set({ camera: id, output: 'detect' }, view.status.frames.detect);
      frames.set({ camera: id, output: 'live' }, view.status.frames.live);
      frames.set({ camera: id, output: 'stream' }, view.status.frames.fragments);
      decoderSkipped.set({ camera: id, decoder: 'detect' }, view.status.decoderSkipped.detect);
      decoderSkipped.set({ camera: id, decoder: 'live' }, view.status.decoderSkipped.live);
      restarts.set({ camera: id }, view.status.restarts);
      if (view.schedule) {
        detected.set({ camera: id }, view.schedule.detected);
        images.set({ camera: id }, view.schedule.images);
        for (const [reason, n] of Object.entries(view.schedule.dropped)) dropped.set({ camera: id, reason }, n);
      }
      const m = view.motion;
      gated.set({ camera: id, decision: 'full' }, m.sentFull);
      gated.set({ camera: id, decision: 'regions' }, m.sentRegions);
      gated.set({ camera: id, decision: 'skipped' }, m.skipped);
      calibrations.set({ camera: id }, m.motion?.calibrations ?? 0);
      moving.set({ camera: id }, m.state === 'motion' ? 1 : 0);
      motionBoxes.set({ camera: id }, m.boxes.length);
      const rec = recording?.(id);
      if (rec) {
        recBytes.set({ camera: id }, rec.bytes);
        recSegments.set({ camera: id }, rec.segments);
        recDropped.set({ camera: id, reason: 'queue' }, rec.droppedFragments);
        recDropped.set({ camera: id, reason: 'paused' }, rec.skippedFragments);
        recPaused.set({ camera: id }, rec.state === 'paused' ? 1 : 0);
      }
      const a = analytics?.(id);
      if (a) {
        for (const [zone, labels] of Object.entries(a.zones)) for (const [label, n] of Object.entries(labels)) occupancy.set({ camera: id, zone, label }, n);
        for (const [line, labels] of Object.entries(a.lines)) {
          for (const [label, t] of Object.entries(labels)) for (const direction of ['in', 'out'] as const) crossings.set({ camera: id, line, label, direction }, t[direction]);
        }
        for (const [label, n] of Object.entries(a.counts)) inView.set({ camera: id, label }, n);
      }
      const feed = live.feedStats(id);
      viewers.set({ camera: id }, (feed?.viewers ?? 0) + (feed?.native.viewers ?? 0));
      if (feed) {
        fragmentsSent.set({ camera: id }, feed.native.sent);
        fragmentsSkipped.set({ camera: id }, feed.native.skipped);
        streamBytes.set({ camera: id }, feed.native.bytesSent);
        sent.set({ camera: id }, feed.sent);
        skipped.set({ camera: id }, feed.viewerSkipped);
        bytes.set({ camera: id }, feed.bytesSent);
        encoded.set({ camera: id }, feed.encoded);
      }
    }
    const m = cameras.modelState();
    for (const s of MODEL_STATES) model.set({ state: s }, m.state === s ? 1 : 0);
    if (store) {
      const st = store.stats();
      written.set({}, st.writer.written);
      storeDropped.set({}, st.writer.dropped);
      storeFailing.set(st.writer.failing ? 1 : 0);
      storePending.set(st.writer.pending);
      openEvents.set(st.recorder.openEvents);
    }
  };
  return { registry, close: () => unsubscribe() };
}
