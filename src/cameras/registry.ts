// The camera registry: which cameras run, and what is newest from each. It
// owns the cameras (and so their ffmpeg processes) and the scheduler they
// share, keeps each camera's newest live frame and newest detections for the
// live view and the API, and tells its listeners (app.ts wires tracking, the
// live view, metrics); close() stops them all.
import type { CameraConfig, LookoutConfig } from '../config/schema.js';
import { Camera, type CameraStatus } from '../ingest/camera.js';
import type { StreamCache, StreamPiece } from '../ingest/stream-cache.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import type { SourceSpec } from '../ingest/ffmpeg-args.js';
import { redactUrl } from '../ingest/source-url.js';
import { SourceGuard } from '../ingest/source-guard.js';
import type { Logger } from '../util/logger.js';
import type { BreakerStatus } from '../schedule/breaker.js';
import type { CameraScheduleStats, SchedulerModel, DetectionResult } from '../schedule/scheduler.js';
import { ModelLanes, type ModelLaneView, type ModelSource } from './model-lanes.js';
import { RateWindow } from '../schedule/stats-window.js';
import { frameId, keptDetections, type CameraDetections, type Frame, type TrackedObject } from '../types.js';
import { MotionGate, type GateDecision, type GateSettings, type GateStats } from '../motion/gate.js';
import { rectBox } from '../util/rect.js';
import { LookoutError } from '../util/errors.js';
import { Listeners } from '../util/listeners.js';

export interface CameraView {
  config: CameraConfig;
  status: CameraStatus;
  decodedFps: number;
  liveFps: number;
  schedule: CameraScheduleStats | undefined;
  latest: CameraDetections | undefined;
  /** Motion and gating: what moved, and how many frames went to the model or were skipped. */
  motion: GateStats;
}

/** Each detection frame with what the motion gate decided for it (skipped frames too). */
export type GateListener = (cameraId: string, frame: Frame, decision: GateDecision) => void;

/** The camera's live tracks, predicted for a time (tracking's; app.ts wires it): the gate looks where they are. */
export type ObjectsSource = (cameraId: string, time: number) => TrackedObject[];

/** Regions need the camera's own pixels: detection frames are decoded at up to this size, not scaled to the model's. */
export const REGIONS_DECODE = { width: 3840, height: 2160 };

function gateSettings(config: CameraConfig): GateSettings {
  return { motion: config.motion, regions: config.regions, size: config.size };
}

/** Regions are cut from detection frames at the camera's own resolution; without them, frames are scaled to the model's size in ffmpeg. */
export function detectSize(config: CameraConfig): { maxWidth: number; maxHeight: number } {
  if (!config.motion.enabled || !config.regions.enabled) return { maxWidth: config.size.width, maxHeight: config.size.height };
  return { maxWidth: Math.max(REGIONS_DECODE.width, config.size.width), maxHeight: Math.max(REGIONS_DECODE.height, config.size.height) };
}

/** `frame` is the picture the model saw (for snapshots); listeners must not change it. */
export type DetectionsListener = (cameraId: string, detections: CameraDetections, frame: Frame) => void;

class CameraEntry {
  latestLive: Frame | undefined;
  latest: CameraDetections | undefined;
  readonly decoded = new RateWindow();
  readonly live = new RateWindow();
  readonly gate: MotionGate;
  constructor(public config: CameraConfig, readonly camera: Camera) {
    this.gate = new MotionGate(gateSettings(config));
  }
}

/** How long shutdown waits for Predict calls in flight. */
const DRAIN_MS = 5_000;

export class CameraConfigError extends LookoutError {
  readonly code = 'CAMERA_INVALID';
}

export class CameraRegistry {
  private readonly entries = new Map<string, CameraEntry>();
  /** One scheduler per model the cameras name (model-lanes.ts). */
  private readonly lanes: ModelLanes;
  private readonly detections = new Listeners<Parameters<DetectionsListener>>();
  private readonly liveFrames = new Listeners<[frame: Frame]>();
  private readonly streams = new Listeners<[piece: StreamPiece]>();
  private readonly removed = new Listeners<[cameraId: string]>();
  private readonly gated = new Listeners<Parameters<GateListener>>();
  private objects: ObjectsSource = () => [];
  /** The last run number of each camera id this registry has run (a handful of numbers, kept for the process's life). */
  private readonly runs = new Map<string, number>();
  private closed = false;
  /** Where cameras whose url came over the API may connect (allowedSourceNetworks); the admin checks new urls with it too. */
  readonly sourceGuard: SourceGuard;

  /** `model`: the one model every camera uses, or the source of each model a camera may name (with the default's name). */
  constructor(
    config: Pick<LookoutConfig, 'scheduler'> & Partial<Pick<LookoutConfig, 'allowedSourceNetworks'>>,
    model: SchedulerModel | { source: ModelSource; defaultName: string },
    private readonly binary: FfmpegBinary,
    private readonly log: Logger,
  ) {
    this.sourceGuard = new SourceGuard(config.allowedSourceNetworks ?? []);
    const source: ModelSource = 'source' in model ? model.source : () => model;
    this.lanes = new ModelLanes(source, 'source' in model ? model.defaultName : 'default', config.scheduler, (r) => this.onResult(r), (lane, s) => this.onModelState(lane, s));
  }

  /** Called with each camera's new detections (for the live view and the detection log). */
  onDetections(listener: DetectionsListener): () => void {
    return this.detections.add(listener);
  }

  /** Called with every detection frame and the gate's decision for it (tracking holds its steady tracks over skipped ones; the page shows motion). */
  onGate(listener: GateListener): () => void {
    return this.gated.add(listener);
  }

  /** Where the gate learns each camera's tracked objects. */
  setObjects(source: ObjectsSource): void {
    this.objects = source;
  }

  /** Called with every live frame of every camera (for the live view). */
  onLiveFrame(listener: (frame: Frame) => void): () => void {
    return this.liveFrames.add(listener);
  }

  /** Called with every piece of every camera's copied stream (init segments, fragments), for native viewers. */
  onStream(listener: (piece: StreamPiece) => void): () => void {
    return this.streams.add(listener);
  }

  /** A camera's copied stream as it stands: init segment and newest group of pictures. */
  stream(id: string): StreamCache | undefined {
    return this.entries.get(id)?.camera.stream;
  }

  /** Asks a camera for raw live frames (JPEG viewers, snapshots); returns the release. */
  watchLive(id: string): (() => void) | undefined {
    return this.entries.get(id)?.camera.watchLive();
  }

  /** Called when a camera is removed (or replaced by updateCamera), after its ffmpeg stopped. */
  onCameraRemoved(listener: (cameraId: string) => void): () => void {
    return this.removed.add(listener);
  }

  addCamera(config: CameraConfig): void {
    if (this.closed) throw new CameraConfigError('the registry is closed');
    if (this.entries.has(config.id)) throw new CameraConfigError(`camera ${JSON.stringify(config.id)} already exists`);
    const displayUrl = redactUrl(config.url);
    let entry: CameraEntry | undefined;
    const camera = new Camera({
      id: config.id,
      // Runs keep counting across a camera's changes: a viewer told run N must never be told N again for another stream.
      nextRun: () => {
        const run = (this.runs.get(config.id) ?? 0) + 1;
        this.runs.set(config.id, run);
        return run;
      },
      displayUrl,
      binary: this.binary,
      spec: {
        // Checked when the camera's settings were parsed (config/camera.ts).
        ...config.source,
        rtspTransport: config.rtspTransport,
        timeoutMs: config.timeoutMs,
        realtime: config.realtime,
        loop: config.loop,
        detect: { fps: config.detectFps, ...detectSize(config) },
        ...(config.liveFps > 0 ? { live: { fps: config.liveFps, maxWidth: config.liveSize.width, maxHeight: config.liveSize.height } } : {}),
      },
      // A url from the API is checked again before every connection, and ffmpeg given the address checked; status keeps the url as given.
      ...(config.urlFromApi ? { beforeConnect: (spec: SourceSpec) => this.sourceGuard.pin(spec, this.binary.path) } : {}),
      onDetectFrame: (frame) => {
        if (!entry) return;
        entry.decoded.mark();
        const decision = entry.gate.decide(frame, this.objects(config.id, frame.capturedAt));
        if (decision.plan) this.lanes.submit(frame, decision.plan);
        this.gated.emit(config.id, frame, decision);
      },
      onLiveFrame: (frame) => {
        if (!entry) return;
        entry.live.mark();
        // Only the newest live frame is kept: viewers get the newest, never a backlog.
        entry.latestLive = frame;
        this.liveFrames.emit(frame);
      },
      onStream: (piece) => this.streams.emit(piece),
      onStateChange: (status) => {
        const detail = status.lastError ? `: ${status.lastError}` : '';
        this.log.info(`camera ${status.id}: ${status.state}${detail}`);
      },
    });
    entry = new CameraEntry(config, camera);
    this.entries.set(config.id, entry);
    this.lanes.addCamera(config.id, config.model);
    const decoded = detectSize(config);
    this.log.info(`camera ${config.id}: ${displayUrl} (detect ${config.detectFps} fps decoded ≤ ${decoded.maxWidth}x${decoded.maxHeight}, model ${config.size.width}x${config.size.height}, motion ${config.motion.enabled ? 'on' : 'off'}, live ${config.liveFps} fps)`);
    camera.start();
  }

  /** Replaces a camera's settings: its ffmpeg is restarted with the new ones. */
  async updateCamera(config: CameraConfig): Promise<void> {
    if (!this.entries.has(config.id)) throw new CameraConfigError(`no camera ${JSON.stringify(config.id)}`);
    await this.removeCamera(config.id);
    this.addCamera(config);
  }

  /** Swaps settings that need no new ffmpeg (zones, lines, masks, filters, motion): they apply from the next frame or result. */
  reconfigure(config: CameraConfig): void {
    const entry = this.entries.get(config.id);
    if (!entry) throw new CameraConfigError(`no camera ${JSON.stringify(config.id)}`);
    entry.config = config;
    entry.gate.reconfigure(gateSettings(config));
  }

  async removeCamera(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) throw new CameraConfigError(`no camera ${JSON.stringify(id)}`);
    this.entries.delete(id);
    // Camera first, so no late frame registers it with the scheduler again.
    await entry.camera.stop();
    this.lanes.removeCamera(id);
    this.removed.emit(id);
  }

  cameraIds(): string[] {
    return [...this.entries.keys()];
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** A camera's settings, without building its whole view (the recorder asks per fragment). */
  config(id: string): CameraConfig | undefined {
    return this.entries.get(id)?.config;
  }

  /** The camera's newest detections, without building its whole view (the live path asks per frame). */
  latestDetections(id: string): CameraDetections | undefined {
    return this.entries.get(id)?.latest;
  }

  view(id: string): CameraView | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    return {
      config: e.config,
      status: e.camera.status(),
      decodedFps: e.decoded.perSecond(),
      liveFps: e.live.perSecond(),
      schedule: this.lanes.stats(id),
      latest: e.latest,
      motion: e.gate.stats(),
    };
  }

  latestLiveFrame(id: string): Frame | undefined {
    return this.entries.get(id)?.latestLive;
  }

  /** The breaker of the model a camera uses, or of the default model. */
  modelState(cameraId?: string): BreakerStatus {
    return this.lanes.stateOf(cameraId);
  }

  /** Every model cameras use (and the default), with its breaker, the version that last answered, and its cameras. */
  models(): ModelLaneView[] {
    return this.lanes.views();
  }

  /** The client of a model lane (by its key), for readiness per model. */
  modelClient(key: string) {
    return this.lanes.clientOf(key);
  }

  private onResult(result: DetectionResult): void {
    const entry = this.entries.get(result.frame.cameraId);
    if (!entry) return;
    entry.gate.answered(result.plan, result.frame);
    const detections = keptDetections(result.detections, entry.config);
    const latest: CameraDetections = {
      frameId: frameId(result.frame),
      frameSeq: result.frame.seq,
      run: result.frame.run,
      pts: result.frame.pts,
      capturedAt: result.frame.capturedAt,
      width: result.frame.width,
      height: result.frame.height,
      detections,
      latencyMs: result.latencyMs,
      queueWaitMs: result.queueWaitMs,
      regions: result.plan.kind === 'regions' ? result.looked.map((r) => rectBox(r, result.frame)) : null,
      model: { name: this.lanes.nameOf(result.frame.cameraId), version: result.modelVersion ?? null },
    };
    entry.latest = latest;
    this.detections.emit(result.frame.cameraId, latest, result.frame);
  }

  private onModelState(lane: string, status: BreakerStatus): void {
    if (status.state === 'open') this.log.warn(`model server unreachable for model ${lane}, pausing its cameras' detection: ${status.lastError ?? ''}`);
    else if (status.state === 'closed') this.log.info(`model server back for model ${lane}: detection resumes`);
  }

  /** Stops every camera (no ffmpeg left) and the scheduler. Safe to call twice. */
  async close(drainMs = DRAIN_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Ingest stops first; the frames already at the model finish (within a
    // bound) and their results reach the listeners (the log), then the rest is cancelled.
    const entries = [...this.entries.values()];
    await Promise.all(entries.map((e) => e.camera.stop()));
    await this.lanes.drain(drainMs);
    this.lanes.close();
    this.entries.clear();
  }
}
