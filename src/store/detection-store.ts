// The detection log as `lookout serve` runs it: the writer thread, a reader
// for the API, the snapshot folder, the recorder that stores what tracking
// decides, and retention. One owner, one close(), in the order that loses
// nothing: the recorder writes its last snapshots, then retention stops, then
// the writer commits what is pending, then the reader. (Tracking, which ends
// the open events, closes before this.)
import type { StoreConfig } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import { StoreReader } from './queries.js';
import { Recorder, type RecorderStats } from './recorder.js';
import { Retention } from './retention.js';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SegmentReader } from './segments.js';
import { isSnapshotFileName, SnapshotStore } from './snapshots.js';
import { StoreWriter, type StoreWriterStats } from './writer.js';

/**
 * Snapshot files no event row names: written just before a crash took the
 * row's commit with it, or half-written temporaries. Retention only ever
 * sees files through their rows, so these would stay for ever.
 */
function removeOrphanSnapshots(dir: string, referenced: Set<string>): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const orphan = name.endsWith('.tmp') || (isSnapshotFileName(name) && !referenced.has(name));
    if (!orphan) continue;
    rmSync(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

export interface DetectionStoreStats {
  path: string;
  snapshotDir: string;
  writer: StoreWriterStats;
  recorder: RecorderStats;
  retention: { maxAgeMs: number | null; maxBytes: number | null; last: object | null };
  recordings: { dir: string; segments: number; bytes: number; reconciled: object | null };
}

export class DetectionStore {
  private closing: Promise<void> | undefined;
  /** Recording segments, read on the reader's connection. */
  readonly segments: SegmentReader;

  private constructor(
    readonly config: StoreConfig,
    readonly writer: StoreWriter,
    readonly reader: StoreReader,
    readonly snapshots: SnapshotStore,
    readonly recorder: Recorder,
    private readonly retention: Retention,
  ) {
    this.segments = new SegmentReader(reader.db);
  }

  static async open(config: StoreConfig, log: Logger): Promise<DetectionStore> {
    const snapshots = new SnapshotStore(config.snapshotDir);
    const writer = await StoreWriter.open({ file: config.path, snapshotDir: snapshots.dir, recordingsDir: config.recordingsDir, logger: log });
    const fixed = writer.reconciled;
    if (fixed && fixed.repaired + fixed.removedRows + fixed.removedFiles + fixed.indexed > 0) {
      log.info(`recordings: ${fixed.repaired} segment(s) cut off by the last run repaired, ${fixed.removedRows} row(s) without a playable file removed, ` +
        `${fixed.indexed} file(s) without a row indexed, ${fixed.removedFiles} unreadable file(s) removed (${fixed.ms} ms)`);
    }
    let reader: StoreReader;
    try {
      reader = StoreReader.open(config.path);
    } catch (err) {
      await writer.close();
      throw err;
    }
    const removed = removeOrphanSnapshots(snapshots.dir, reader.snapshotNames());
    if (removed > 0) log.info(`detection log: removed ${removed} snapshot file(s) no event refers to (left by a crash)`);
    const recorder = new Recorder(writer, snapshots, { log });
    const retention = new Retention(writer, { maxAgeMs: config.retention.maxAgeMs, maxBytes: config.retention.maxBytes, logger: log, ...(config.retention.intervalMs ? { intervalMs: config.retention.intervalMs } : {}) });
    retention.start();
    const migrated = writer.migration.applied.length ? `, migrated to schema ${writer.migration.to}` : '';
    log.info(`detection log: ${config.path}${migrated}; snapshots in ${snapshots.dir}`);
    return new DetectionStore(config, writer, reader, snapshots, recorder, retention);
  }

  /** Runs a retention pass now (or joins the one running): a full disk paused a recording. Never throws. */
  retainNow(): void {
    this.retention.runOnce().catch(() => undefined);
  }

  /** The first track id for a camera: one above the highest stored, so an id names one object across restarts. */
  firstTrackId(camera: string): number {
    return (this.reader.lastTrackId(camera) ?? 0) + 1;
  }

  stats(): DetectionStoreStats {
    return {
      path: this.config.path,
      snapshotDir: this.snapshots.dir,
      writer: this.writer.stats(),
      recorder: this.recorder.stats(),
      retention: { maxAgeMs: this.config.retention.maxAgeMs, maxBytes: this.config.retention.maxBytes, last: this.retention.lastReport ?? null },
      recordings: { dir: this.config.recordingsDir, ...this.segments.totals(), reconciled: this.writer.reconciled },
    };
  }

  /** Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.recorder.close();
      await this.retention.close();
      await this.writer.close();
      this.reader.close();
    })();
    return this.closing;
  }
}
