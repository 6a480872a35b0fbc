// The detection log as `lookout serve` runs it: the writer thread, a reader
// for the API, the snapshot folder, the recorder that tracks and builds
// events, and retention. One owner, one close(), in the order that loses
// nothing: the recorder ends open events and writes its last snapshots, then
// retention stops, then the writer commits what is pending, then the reader.
import type { StoreConfig } from '../config.js';
import type { Logger } from '../log.js';
import { StoreReader } from './queries.js';
import { Recorder, type RecorderStats } from './recorder.js';
import { Retention } from './retention.js';
import { SnapshotStore } from './snapshots.js';
import { StoreWriter, type StoreWriterStats } from './writer.js';

export interface DetectionLogStats {
  path: string;
  snapshotDir: string;
  writer: StoreWriterStats;
  recorder: RecorderStats;
  retention: { maxAgeMs: number | null; maxBytes: number | null; last: object | null };
}

export class DetectionLog {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: StoreConfig,
    readonly writer: StoreWriter,
    readonly reader: StoreReader,
    readonly snapshots: SnapshotStore,
    readonly recorder: Recorder,
    private readonly retention: Retention,
  ) {}

  static async open(config: StoreConfig, log: Logger): Promise<DetectionLog> {
    const snapshots = new SnapshotStore(config.snapshotDir);
    const writer = await StoreWriter.open({ file: config.path, snapshotDir: snapshots.dir, logger: log });
    let reader: StoreReader;
    try {
      reader = StoreReader.open(config.path);
    } catch (err) {
      await writer.close();
      throw err;
    }
    // Track ids go on from the highest stored, so an id names one object across restarts.
    const recorder = new Recorder(writer, snapshots, { firstTrackId: (camera) => (reader.lastTrackId(camera) ?? 0) + 1, log });
    const retention = new Retention(writer, { maxAgeMs: config.retention.maxAgeMs, maxBytes: config.retention.maxBytes, logger: log });
    retention.start();
    const migrated = writer.migration.applied.length ? `, migrated to schema ${writer.migration.to}` : '';
    log.info(`detection log: ${config.path}${migrated}; snapshots in ${snapshots.dir}`);
    return new DetectionLog(config, writer, reader, snapshots, recorder, retention);
  }

  stats(): DetectionLogStats {
    return {
      path: this.config.path,
      snapshotDir: this.snapshots.dir,
      writer: this.writer.stats(),
      recorder: this.recorder.stats(),
      retention: { ...this.config.retention, last: this.retention.lastReport ?? null },
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
