// The store's file: schema migrations, version checks and connection settings, on real SQLite files.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError } from '../../src/store/db.js';
import { migrations, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { StoreReader } from '../../src/store/queries.js';
import { StoreWriter } from '../../src/store/writer.js';
import { tempDir } from '../helpers/cleanup.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('lookout-db-');
});

function caught(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error('did not throw');
}

describe('openStore', () => {
  it('creates and migrates a fresh file (in a new directory) with WAL, NORMAL sync and incremental vacuum', () => {
    const file = path.join(dir, 'sub', 'dir', 'log.db');
    const { db, migration } = openStore(file);
    try {
      expect(migration).toEqual({ from: 0, to: SCHEMA_VERSION, applied: migrations.map((m) => `${m.version} ${m.name}`) });
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // INCREMENTAL
      const names = (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]);
      expect(names).toEqual([
        'crossings', 'crossings_camera_name_time', 'crossings_time',
        'detections', 'detections_camera_label_time', 'detections_camera_time', 'detections_label_time', 'detections_time',
        'events', 'events_camera_end', 'events_camera_start', 'events_label_start', 'events_start',
        'line_totals',
        'segments', 'segments_camera_start', 'segments_start',
      ]);
    } finally {
      db.close();
    }
  });

  it('is idempotent on reopen: nothing applied again, rows kept', () => {
    const file = path.join(dir, 'log.db');
    const first = openStore(file).db;
    first.prepare("INSERT INTO detections (camera, time, frame_id, label, class_id, score, ymin, xmin, ymax, xmax, track_id) VALUES ('a', 1, '1:0', 'person', 1, 0.5, 0, 0, 1, 1, NULL)").run();
    first.close();
    const again = openStore(file);
    try {
      expect(again.migration).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });
      expect(again.db.prepare('SELECT count(*) FROM detections').pluck().get()).toBe(1);
    } finally {
      again.db.close();
    }
  });

  it('refuses a database from a newer lookout, for writing and for reading, and leaves it alone', async () => {
    const file = path.join(dir, 'future.db');
    const raw = new Database(file);
    raw.exec('CREATE TABLE detections (x TEXT)');
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const w = caught(() => openStore(file));
    expect(w.code).toBe('STORE_TOO_NEW');
    expect(w.message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect(w.message).toContain(file);
    expect(caught(() => openStore(file, { readonly: true })).code).toBe('STORE_TOO_NEW');
    await expect(StoreWriter.open({ file })).rejects.toMatchObject({ code: 'STORE_TOO_NEW' });
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(check.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'events'").pluck().get()).toBe(0);
    check.close();
  });

  it('read-only opens need an existing, migrated file', () => {
    expect(caught(() => openStore(path.join(dir, 'missing.db'), { readonly: true })).code).toBe('STORE_OPEN_FAILED');
    const file = path.join(dir, 'blank.db');
    new Database(file).close();
    expect(caught(() => StoreReader.open(file)).code).toBe('STORE_NOT_MIGRATED');
  });

  it('names the file when it cannot be opened', () => {
    const notAFile = path.join(dir, 'a-directory');
    mkdirSync(notAFile);
    const err = caught(() => openStore(notAFile));
    expect(err.code).toBe('STORE_OPEN_FAILED');
    expect(err.message).toContain(notAFile);
  });

  it('a half-applied migration rolls back whole, leaving the old version', () => {
    const file = path.join(dir, 'log.db');
    const db = new Database(file);
    // A table of the same name makes migration 1 fail midway.
    db.exec('CREATE TABLE events (x TEXT)');
    db.close();
    expect(() => openStore(file)).toThrow(/events already exists/);
    const check = new Database(file);
    expect(check.pragma('user_version', { simple: true })).toBe(0);
    expect(check.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'detections'").pluck().get()).toBe(0);
    check.close();
  });
});
