// Every camera's recording, as `serve` runs it: a SegmentWriter per camera
// fed from the registry's copied streams, each reading its camera's current
// `record` settings (so a PATCH applies at the next fragment), and the
// recordings pass (events-mode pruning, retainDays/eventRetainDays) asked of
// the store's writer thread every PASS_INTERVAL_MS. One owner, one close():
// every open segment is finished and its row handed to the store before the
// store closes.
import type { RecordSettings } from '../config/schema.js';
import type { StreamPiece } from '../ingest/stream-cache.js';
import type { CameraRecordPolicy, RecordingsPolicy, RecordingsReport } from '../store/recordings-retention.js';
import type { SegmentRecord } from '../store/segments.js';
import type { Logger } from '../util/logger.js';
import { SegmentWriter, type RecordingStatus } from './segment-writer.js';

const PASS_INTERVAL_MS = 10_000;
const DAY_MS = 86_400_000;

/** What the recordings need of the store's writer. */
export interface RecordingsStore {
  upsertSegment(segment: SegmentRecord): boolean;
  recordings(policy: RecordingsPolicy, now?: number): Promise<RecordingsReport | null>;
}

export interface RecordingsOptions {
  dir: string;
  store: RecordingsStore;
  /** A camera's current settings; undefined once it is gone. */
  settings: (camera: string) => RecordSettings | undefined;
  /** Every configured camera's id, for the pass's policy. */
  cameras: () => string[];
  /** For segments of cameras no longer configured. */
  defaults: RecordSettings;
  log: Logger;
  passIntervalMs?: number;
  /** Asks for a retention pass now (a full disk paused a recording). */
  retainNow?: () => void;
}

function policyOf(s: RecordSettings): CameraRecordPolicy {
  return {
    mode: s.mode, preMs: s.preSeconds * 1000, postMs: s.postSeconds * 1000, graceMs: s.graceSeconds * 1000,
    retainMs: s.retainDays * DAY_MS, eventRetainMs: s.eventRetainDays * DAY_MS,
  };
}

export class Recordings {
  private readonly writers = new Map<string, SegmentWriter>();
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<unknown> | undefined;
  private closing: Promise<void> | undefined;
  lastReport: RecordingsReport | null = null;
  /** Totals over this lookout's passes. */
  readonly totals = { pruned: 0, aged: 0, bytesFreed: 0 };

  constructor(private readonly options: RecordingsOptions) {
    this.arm(options.passIntervalMs ?? PASS_INTERVAL_MS);
  }

  onStream(piece: StreamPiece): void {
    if (this.closing) return;
    const camera = piece.kind === 'init' ? piece.init.camera : piece.fragment.camera;
    let writer = this.writers.get(camera);
    if (!writer) {
      if (piece.kind !== 'init' || !this.options.settings(camera)) return;
      const fallback = this.options.defaults;
      writer = new SegmentWriter(camera, this.options.dir, () => this.options.settings(camera) ?? { ...fallback, mode: 'off' },
        (record) => this.options.store.upsertSegment(record), this.options.log, () => this.options.retainNow?.());
      this.writers.set(camera, writer);
    }
    if (piece.kind === 'init') writer.newInit(piece.init);
    else writer.fragment(piece.fragment);
  }

  /** A camera removed: its segment ends now. */
  async cameraRemoved(camera: string): Promise<void> {
    const writer = this.writers.get(camera);
    this.writers.delete(camera);
    await writer?.close();
  }

  status(camera: string): RecordingStatus {
    const settings = this.options.settings(camera);
    const status = this.writers.get(camera)?.status();
    if (status) return status;
    return { mode: settings?.mode ?? 'off', state: settings?.mode === 'off' ? 'off' : 'waiting', reason: null, segment: null, segments: 0, bytes: 0, droppedFragments: 0, skippedFragments: 0 };
  }

  /** The segment a camera is writing now and those it finished lately, as they are on disk. */
  live(camera: string): SegmentRecord[] {
    return this.writers.get(camera)?.live() ?? [];
  }

  stats(): { paused: Record<string, string>; recording: string[]; pruned: number; aged: number; bytesFreed: number; lastPass: RecordingsReport | null } {
    const paused: Record<string, string> = {};
    const recording: string[] = [];
    for (const [camera, w] of this.writers) {
      const s = w.status();
      if (s.state === 'paused') paused[camera] = s.reason ?? 'paused';
      if (s.state === 'recording') recording.push(camera);
    }
    return { paused, recording, ...this.totals, lastPass: this.lastReport };
  }

  /** Runs a recordings pass now (or joins the one running). */
  runPass(now = Date.now()): Promise<RecordingsReport | null> {
    const cameras: Record<string, CameraRecordPolicy> = {};
    for (const id of this.options.cameras()) {
      const s = this.options.settings(id);
      if (s) cameras[id] = policyOf(s);
    }
    // A camera no longer configured: its segments are judged as continuous (nothing deleted unasked), kept by the defaults.
    const policy: RecordingsPolicy = { cameras, fallback: { ...policyOf(this.options.defaults), mode: 'continuous' }, chunkRows: 500 };
    const run = this.options.store.recordings(policy, now).then((report) => {
      if (report) {
        this.lastReport = report;
        this.totals.pruned += report.pruned;
        this.totals.aged += report.aged;
        this.totals.bytesFreed += report.bytesFreed;
      }
      return report;
    });
    this.pass = run.catch(() => undefined).finally(() => { this.pass = undefined; });
    return run;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const next = () => { if (!this.closing) this.arm(ms); };
      if (this.pass) return next();
      this.runPass().catch((err: Error) => this.options.log.warn(`recordings pass failed: ${err.message}`)).finally(next);
    }, ms);
    this.timer.unref();
  }

  /** Finishes every segment being written. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      await Promise.all([...this.writers.values()].map((w) => w.close()));
      this.writers.clear();
      await this.pass;
    })();
    return this.closing;
  }
}
