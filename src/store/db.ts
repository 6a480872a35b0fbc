// Opening the detection log's SQLite file, the one way every connection does it.
//
// One writable connection (owned by the writer's worker thread) migrates and
// writes; read-only connections (queries.ts) read beside it. WAL mode is what
// makes that work: readers see the last committed state and never block the
// writer, nor it them.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate, schemaVersion, SCHEMA_VERSION, type MigrationResult } from './migrations.js';
import { LookoutError } from '../util/errors.js';

export type Db = Database.Database;

export type StoreErrorCode =
  /** The file was written by a newer lookout (its schema version is higher). */
  | 'STORE_TOO_NEW'
  /** A read-only open found a database the writer has not migrated yet. */
  | 'STORE_NOT_MIGRATED'
  /** SQLite could not open the file (permissions, not a database, missing directory…). */
  | 'STORE_OPEN_FAILED'
  /** The writer is closed, or its worker died. */
  | 'STORE_CLOSED';

export class StoreError extends LookoutError {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export interface OpenStoreOptions {
  /** Open read-only (queries); the file must exist and be migrated. */
  readonly?: boolean;
  /** How long a statement waits for a lock held by another connection; default 5 s. */
  busyTimeoutMs?: number;
}

export interface OpenedStore {
  db: Db;
  /** What the open migrated (writable opens only). */
  migration?: MigrationResult;
}

/** The WAL is truncated back to this size after a checkpoint, so one burst does not keep it large. */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

function refuseNewer(db: Db, file: string): number {
  const version = schemaVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'STORE_TOO_NEW',
      `${file} has schema version ${version}, newer than this lookout understands (${SCHEMA_VERSION}); ` +
        'upgrade lookout, or point the store at another file',
    );
  }
  return version;
}

function open(file: string, options: Database.Options): Db {
  try {
    return new Database(file, options);
  } catch (err) {
    throw new StoreError('STORE_OPEN_FAILED', `cannot open the store ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Opens the store: writable (migrating it to the current schema) unless `readonly`. */
export function openStore(file: string, options: OpenStoreOptions = {}): OpenedStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  if (options.readonly) {
    const db = open(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    try {
      const version = refuseNewer(db, file);
      if (version < SCHEMA_VERSION) {
        throw new StoreError('STORE_NOT_MIGRATED', `${file} has schema version ${version}, expected ${SCHEMA_VERSION}: open the writer first`);
      }
      // Readers scan index ranges of a large file: a bigger page cache and
      // memory-mapped reads spare a copy per page (safe with WAL; the map is
      // only of the main file, committed pages still come through the WAL).
      db.pragma('cache_size = -65536');
      db.pragma('mmap_size = 1073741824');
      return { db };
    } catch (err) {
      db.close();
      throw err;
    }
  }

  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = open(file, { timeout: busyTimeoutMs });
  try {
    refuseNewer(db, file);
    // Set before the first table exists (it cannot change afterwards without
    // a VACUUM): freed pages can then be handed back to the file system, so
    // retention by size shrinks the file rather than only its contents.
    if ((db.pragma('page_count', { simple: true }) as number) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError('STORE_OPEN_FAILED', `${file}: SQLite refused WAL mode (got ${String(mode)}); is it on a network file system?`);
    // FULL: the WAL is fsynced at every commit, so what the writer has
    // reported written survives a power cut, a kernel crash or the file
    // system aborting on a disk error, not only a kill -9. With NORMAL, ext4
    // erroring out lost every commit the kernel had not yet written back (up
    // to 30 s; a young database lost its tables: test/faults/disk-io-error).
    // The writer commits one batch per 200 ms, so this is 5 fsyncs a second.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
    db.pragma('cache_size = -32768');
    const migration = migrate(db);
    return { db, migration };
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * The bytes the store takes inside its database file: pages in use (the
 * file's free pages are excluded, they are reused before the file grows).
 */
export function usedDatabaseBytes(db: Db): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}
