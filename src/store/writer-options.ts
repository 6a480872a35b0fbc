// What a StoreWriter (writer.ts) is given and what it reports: its options
// with their defaults, and the counters /api/store and /metrics read.
import type { Logger } from '../util/logger.js';

export interface StoreWriterOptions {
  /** The SQLite file; created (with its directory) and migrated if needed. */
  file: string;
  /** Where event snapshots live, so retention can delete them with their events. */
  snapshotDir?: string | null;
  /** Where recordings live: reconciled with their rows at open, deleted with them. */
  recordingsDir?: string | null;
  /** Longest a record waits in this thread before it is handed over; default 200 ms. */
  flushIntervalMs?: number;
  /** Hand over early once this many records wait; default 5000. */
  batchSize?: number;
  /** Detections buffered + in flight before new ones are dropped; default 200 000. */
  maxPending?: number;
  /** Event (and segment) upserts buffered + in flight before new ones are dropped; default 10 000. */
  maxPendingEvents?: number;
  busyTimeoutMs?: number;
  /** How long close() waits for a failing disk before giving up what is pending; default 10 s. */
  closeTimeoutMs?: number;
  logger?: Logger;
}

export interface StoreWriterStats {
  /** Detections committed. */
  written: number;
  /** Event upserts committed. */
  eventsWritten: number;
  /** Detections dropped: over the bound, after close, or lost with a dead worker or at a failed close. */
  dropped: number;
  droppedEvents: number;
  /** Segment rows committed, and dropped over the bound. */
  segmentsWritten: number;
  droppedSegments: number;
  /** Line crossings and zone changes committed, and dropped over the bound. */
  crossingsWritten: number;
  droppedCrossings: number;
  /** Records the database refused as malformed (see lastError). */
  rejected: number;
  /** Records buffered or in flight, not yet committed. */
  pending: number;
  lastError: string | null;
  /** True while the worker cannot commit (disk full, I/O error…); it retries and clears this when a write succeeds. */
  failing: boolean;
}

/** A flush() waiting for the batch `seq` to commit. */
export interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A job's (retention's, the recordings pass's) promise, settled by the worker's answer. */
export type Settle<T> = { resolve: (v: T) => void; reject: (err: Error) => void };
