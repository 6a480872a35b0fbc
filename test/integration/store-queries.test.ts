// The read side on a real SQLite file: filters, keyset pages, iteration, and parameters that stay data.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { parseQueryFilter, QueryError, type QueryFilter } from '../../src/store/query-filter.js';
import { StoreReader } from '../../src/store/queries.js';
import type { EventRecord, StoredDetection } from '../../src/store/records.js';
import { tempDir } from '../helpers/cleanup.js';

const T0 = 1_700_000_000_000;
const LABELS = ['person', 'car', "x' OR '1'='1", '%'];
let dir: string;
let reader: StoreReader;
const rows: StoredDetection[] = [];
const events: EventRecord[] = [];

beforeAll(() => {
  dir = tempDir('lookout-queries-');
  const file = path.join(dir, 'log.db');
  const { db } = openStore(file);
  const ins = db.prepare(
    'INSERT INTO detections (camera, time, frame_id, label, class_id, score, ymin, xmin, ymax, xmax, track_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insEvent = db.prepare(
    'INSERT INTO events (id, camera, track_id, label, class_id, start_time, end_time, max_score, ymin, xmin, ymax, xmax, best_frame_id, best_time, snapshot, snapshot_bytes) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (let i = 0; i < 600; i++) {
      // Three rows share each millisecond, so pages must break ties by id; inserted out of time order.
      const time = T0 + Math.floor(((i * 37) % 600) / 3) * 1000;
      const d: Omit<StoredDetection, 'id'> = {
        camera: `cam${i % 3}`, time, frameId: `1:${i}`, label: LABELS[i % 4], classId: (i % 4) + 1,
        score: (i % 100) / 100, box: [0.1, 0.2, 0.3, 0.4], trackId: i % 5 ? i : null,
      };
      const id = Number(ins.run(d.camera, d.time, d.frameId, d.label, d.classId, d.score, ...d.box, d.trackId).lastInsertRowid);
      rows.push({ id, ...d });
    }
    for (let i = 0; i < 50; i++) {
      const e: EventRecord = {
        id: `cam${i % 2}-${T0 + Math.floor(i / 2) * 1000}-${i}`, camera: `cam${i % 2}`, trackId: i, label: LABELS[i % 2], classId: 1,
        start: T0 + Math.floor(i / 2) * 1000, end: i % 3 ? T0 + i * 1000 + 500 : null, maxScore: i / 50,
        bestBox: [0, 0, 1, 1], bestFrameId: `1:${i}`, bestTime: T0, snapshot: null, snapshotBytes: 0, zones: [],
      };
      insEvent.run(e.id, e.camera, e.trackId, e.label, e.classId, e.start, e.end, e.maxScore, ...e.bestBox, e.bestFrameId, e.bestTime, e.snapshot, e.snapshotBytes);
      events.push(e);
    }
  })();
  db.close();
  reader = StoreReader.open(file);
});
afterAll(() => {
  reader.close();
});

/** The expected answer, computed in JavaScript: filter, then newest first, ties by id. */
function oracle(f: QueryFilter): StoredDetection[] {
  return rows
    .filter((r) => (!f.camera || f.camera.includes(r.camera)) && (!f.label || f.label.includes(r.label)))
    .filter((r) => (f.minScore === undefined || r.score >= f.minScore) && (f.since === undefined || r.time >= f.since) && (f.until === undefined || r.time < f.until))
    .sort((a, b) => b.time - a.time || b.id - a.id);
}

function allPages(f: QueryFilter): { ids: number[]; pages: number } {
  const ids: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = reader.queryDetections({ ...f, cursor });
    pages++;
    ids.push(...page.rows.map((r) => r.id));
    if (!page.nextCursor) return { ids, pages };
    cursor = page.nextCursor;
  }
}

describe('queryDetections', () => {
  it.each<[string, QueryFilter]>([
    ['everything', { limit: 1000 }],
    ['one camera', { camera: ['cam1'], limit: 1000 }],
    ['two cameras', { camera: ['cam0', 'cam2'], limit: 1000 }],
    ['one label', { label: ['car'], limit: 1000 }],
    ['min score', { minScore: 0.9, limit: 1000 }],
    ['since (inclusive)', { since: T0 + 150_000, limit: 1000 }],
    ['until (exclusive)', { until: T0 + 10_000, limit: 1000 }],
    ['all at once', { camera: ['cam2'], label: ['person', 'car'], minScore: 0.3, since: T0 + 20_000, until: T0 + 120_000, limit: 1000 }],
    ['cameras × labels as merged ranges', { camera: ['cam0', 'cam1'], label: ['car', '%'], limit: 1000 }],
    ['more pairs than merged ranges', { camera: [...Array.from({ length: 40 }, (_, i) => `nope${i}`), 'cam1'], label: ['person', 'car'], limit: 1000 }],
  ])('filters by %s', (name, filter) => {
    const expected = oracle(filter);
    expect(expected.length).toBeGreaterThan(0);
    // Each filter really filters: the comparison below would not notice one that was ignored.
    if (name !== 'everything') expect(expected.length).toBeLessThan(600);
    const page = reader.queryDetections(filter);
    expect(page.rows).toEqual(expected);
    expect(page.nextCursor).toBeNull();
  });

  it('pages return every row exactly once, in order, across ties in time', () => {
    for (const f of [{ limit: 7 }, { limit: 1 }, { camera: ['cam0', 'cam2'], limit: 9 }, { camera: ['cam1'], label: ['person', '%'], limit: 13 }, { since: T0 + 50_000, minScore: 0.5, limit: 10 }]) {
      const { ids, pages } = allPages(f);
      const expected = oracle(f).map((r) => r.id);
      expect(ids).toEqual(expected);
      expect(new Set(ids).size).toBe(ids.length);
      expect(pages).toBe(Math.max(1, Math.ceil(expected.length / f.limit)));
    }
  });

  it('says there is no next page when the last page is exactly full', () => {
    const n = oracle({ camera: ['cam0'], limit: 1 }).length;
    expect(reader.queryDetections({ camera: ['cam0'], limit: n }).nextCursor).toBeNull();
    expect(reader.queryDetections({ camera: ['cam0'], limit: n - 1 }).nextCursor).not.toBeNull();
  });

  it('treats SQL metacharacters in filters as data', () => {
    const tricky = reader.queryDetections(parseQueryFilter({ label: "x' OR '1'='1", limit: '1000' }));
    expect(tricky.rows.length).toBe(150);
    expect(tricky.rows.every((r) => r.label === "x' OR '1'='1")).toBe(true);
    expect(reader.queryDetections({ label: ['%'], limit: 1000 }).rows.every((r) => r.label === '%')).toBe(true);
    expect(reader.queryDetections({ camera: ["cam0'; DROP TABLE detections; --"], limit: 10 }).rows).toEqual([]);
    expect(reader.queryDetections({ camera: ['cam_'], limit: 10 }).rows).toEqual([]);
    expect(reader.queryDetections({ limit: 1000 }).rows.length).toBe(600);
  });

  it('refuses a cursor from the events list', () => {
    const cursor = reader.queryEvents({ limit: 1 }).nextCursor ?? '';
    expect(() => reader.queryDetections({ limit: 1, cursor })).toThrow(QueryError);
  });

  it('answers one camera, one time range from the (camera, time) index, in index order', () => {
    const plan = reader.db
      .prepare("EXPLAIN QUERY PLAN SELECT id FROM detections WHERE camera IN (?) AND time >= ? AND time < ? AND (time, id) < (?, ?) ORDER BY time DESC, id DESC LIMIT 10")
      .all('cam0', 0, 1, 2, 3) as { detail: string }[];
    const text = plan.map((p) => p.detail).join('; ');
    expect(text).toContain('detections_camera_time');
    expect(text).not.toContain('TEMP B-TREE');
  });
});

describe('iterateDetections', () => {
  it('yields every matching row once, in chunks, without the page limit', () => {
    const f: QueryFilter = { camera: ['cam0', 'cam1'], limit: 5 };
    const chunks = [...reader.iterateDetections(f, { chunkRows: 64 })];
    expect(chunks.every((c) => c.length <= 64 && c.length > 0)).toBe(true);
    expect(chunks.flat().map((r) => r.id)).toEqual(oracle(f).map((r) => r.id));
    expect(chunks.flat()).toHaveLength(400);
  });

  it('stops at maxRows and starts after a given cursor', () => {
    expect([...reader.iterateDetections({ limit: 1 }, { chunkRows: 50, maxRows: 120 })].flat()).toHaveLength(120);
    const first = reader.queryDetections({ limit: 100 });
    const rest = [...reader.iterateDetections({ limit: 1, cursor: first.nextCursor ?? undefined })].flat();
    expect([...first.rows, ...rest].map((r) => r.id)).toEqual(oracle({ limit: 1 }).map((r) => r.id));
  });
});

describe('queryEvents', () => {
  const expected = (f: (e: EventRecord) => boolean) =>
    events.filter(f).sort((a, b) => b.start - a.start || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));

  it('filters by camera, label, best score and start, newest first', () => {
    expect(reader.queryEvents({ camera: ['cam1'], limit: 100 }).rows).toEqual(expected((e) => e.camera === 'cam1'));
    expect(reader.queryEvents({ label: ['car'], minScore: 0.5, limit: 100 }).rows).toEqual(expected((e) => e.label === 'car' && e.maxScore >= 0.5));
    expect(reader.queryEvents({ since: T0 + 10_000, until: T0 + 20_000, limit: 100 }).rows).toEqual(
      expected((e) => e.start >= T0 + 10_000 && e.start < T0 + 20_000),
    );
    expect(reader.getEvent(events[3].id)).toEqual(events[3]);
    expect(reader.getEvent('nope')).toBeUndefined();
  });

  it('pages through events with equal starts exactly once', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = reader.queryEvents({ limit: 3, cursor });
      seen.push(...page.rows.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(expected(() => true).map((e) => e.id));
    expect([...reader.iterateEvents({ limit: 1 }, { chunkRows: 7 })].flat()).toHaveLength(50);
  });
});
