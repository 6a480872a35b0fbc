// The schema, as a list of versioned migrations. The version lives in
// `PRAGMA user_version` (an integer in the database header, changed inside
// the migration's own transaction), so a crash mid-migration leaves the old
// version and the old schema, never half of the new one.
//
// Rules for later migrations: append, never edit one that shipped; each runs
// in one transaction; a database from a newer lookout is refused rather than
// written with an older idea of the schema.
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'detections and events',
    up(db) {
      // STRICT: a wrongly typed value (a string score, a fractional class id)
      // fails the insert instead of being stored as whatever it was.
      // `id INTEGER PRIMARY KEY` is the rowid: inserts append in id order and
      // every index carries it, so (camera, time) is really (camera, time, id),
      // exactly the order keyset pagination walks.
      db.exec(`
        CREATE TABLE detections (
          id        INTEGER PRIMARY KEY,
          camera    TEXT    NOT NULL,
          time      INTEGER NOT NULL,
          frame_id  TEXT    NOT NULL,
          label     TEXT    NOT NULL,
          class_id  INTEGER NOT NULL,
          score     REAL    NOT NULL,
          ymin      REAL    NOT NULL,
          xmin      REAL    NOT NULL,
          ymax      REAL    NOT NULL,
          xmax      REAL    NOT NULL,
          track_id  INTEGER
        ) STRICT;
        -- "one camera, one hour", newest first
        CREATE INDEX detections_camera_time ON detections (camera, time);
        -- "all the people since Monday"
        CREATE INDEX detections_label_time ON detections (label, time);
        -- "when was a person at the front door?": without it SQLite walks one
        -- of the two indexes above and filters the other column row by row
        CREATE INDEX detections_camera_label_time ON detections (camera, label, time);
        -- unfiltered pages, exports, and retention's oldest-first deletes
        CREATE INDEX detections_time ON detections (time);

        CREATE TABLE events (
          id             TEXT    PRIMARY KEY,
          camera         TEXT    NOT NULL,
          track_id       INTEGER NOT NULL,
          label          TEXT    NOT NULL,
          class_id       INTEGER NOT NULL,
          -- start/end are SQL keywords; the _time suffix spares quoting them everywhere
          start_time     INTEGER NOT NULL,
          end_time       INTEGER,
          max_score      REAL    NOT NULL,
          ymin           REAL    NOT NULL,
          xmin           REAL    NOT NULL,
          ymax           REAL    NOT NULL,
          xmax           REAL    NOT NULL,
          best_frame_id  TEXT    NOT NULL,
          best_time      INTEGER NOT NULL,
          snapshot       TEXT,
          snapshot_bytes INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        -- The id is a TEXT key, so the indexes name it: pages order by (start, id).
        CREATE INDEX events_camera_start ON events (camera, start_time, id);
        CREATE INDEX events_label_start ON events (label, start_time, id);
        CREATE INDEX events_start ON events (start_time, id);
      `);
    },
  },
  {
    version: 2,
    name: 'recording segments',
    up(db) {
      // One row per segment file (docs/recordings.md). start/end are wall-clock
      // ms on the detection log's clock; start_pts (timescale units) is the
      // first frame's pts in the file, so a frame's time is
      // start_time + (pts - start_pts) / timescale. keyframes: JSON
      // [[byte offset, pts, dts], …], where a clip may begin. event: NULL
      // until the recordings pass has decided whether an event overlaps it.
      db.exec(`
        CREATE TABLE segments (
          id          INTEGER PRIMARY KEY,
          camera      TEXT    NOT NULL,
          path        TEXT    NOT NULL UNIQUE,
          start_time  INTEGER NOT NULL,
          end_time    INTEGER NOT NULL,
          start_pts   INTEGER NOT NULL,
          timescale   INTEGER NOT NULL,
          init_bytes  INTEGER NOT NULL,
          init_hash   TEXT    NOT NULL,
          bytes       INTEGER NOT NULL,
          keyframes   TEXT    NOT NULL,
          complete    INTEGER NOT NULL,
          event       INTEGER
        ) STRICT;
        CREATE INDEX segments_camera_start ON segments (camera, start_time);
        CREATE INDEX segments_start ON segments (start_time);
        -- "which events overlap this segment": those ended after it began are few
        CREATE INDEX events_camera_end ON events (camera, end_time);
      `);
    },
  },
  {
    version: 3,
    name: 'zones and crossings',
    up(db) {
      // zones: the JSON list of zones an event's object entered, in order
      // (analytics/). line_totals: each line's counters. crossings: one row per line crossing (kind 'line',
      // direction in|out) and per zone entry, exit or loitering (kind 'zone',
      // direction enter|exit|loiter): what GET /api/counts sums per bucket.
      db.exec(`
        ALTER TABLE events ADD COLUMN zones TEXT NOT NULL DEFAULT '[]';
        CREATE TABLE crossings (
          id         INTEGER PRIMARY KEY,
          camera     TEXT    NOT NULL,
          kind       TEXT    NOT NULL CHECK (kind IN ('line', 'zone')),
          name       TEXT    NOT NULL,
          label      TEXT    NOT NULL,
          direction  TEXT    NOT NULL CHECK (direction IN ('in', 'out', 'enter', 'exit', 'loiter')),
          time       INTEGER NOT NULL,
          track_id   INTEGER NOT NULL,
          event_id   TEXT    NOT NULL
        ) STRICT;
        -- "the gate line, this week, by hour"
        CREATE INDEX crossings_camera_name_time ON crossings (camera, kind, name, time);
        -- every line since Monday, and retention's oldest-first deletes
        CREATE INDEX crossings_time ON crossings (time);
        -- The all-time counters (MQTT's total_increasing sensors, /metrics): kept
        -- apart from the rows, which retention deletes, so they never go down.
        CREATE TABLE line_totals (
          camera  TEXT    NOT NULL,
          line    TEXT    NOT NULL,
          label   TEXT    NOT NULL,
          in_n    INTEGER NOT NULL DEFAULT 0,
          out_n   INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (camera, line, label)
        ) STRICT;
      `);
    },
  },
  {
    version: 4,
    name: 'the model that detected an event',
    up(db) {
      // The model (name) and version that answered the frame an event started on
      // (TF Serving's model_spec in its answer); NULL for events from before, or when the server did not say.
      db.exec(`
        ALTER TABLE events ADD COLUMN model TEXT;
        ALTER TABLE events ADD COLUMN model_version INTEGER;
      `);
    },
  },
];

export const SCHEMA_VERSION = migrations[migrations.length - 1].version;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: string[];
}

/**
 * Applies the migrations the database lacks, each in its own transaction.
 * Idempotent. The caller (db.ts) has refused a newer database first.
 */
export function migrate(db: Database.Database): MigrationResult {
  const from = schemaVersion(db);
  const applied: string[] = [];
  for (const m of migrations) {
    // IMMEDIATE takes the write lock first, and the version is read again
    // under it: two processes opening a fresh file cannot both apply a step.
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
      applied.push(`${m.version} ${m.name}`);
    }).immediate();
  }
  return { from, to: schemaVersion(db), applied };
}
