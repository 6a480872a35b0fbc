// What the disk I/O error tests share (disk-io-error.test.ts: ext4 turning
// itself read-only; disk-io-transient.test.ts: a disk failing for a while):
// mounts and their cleanup, a lookout whose detection log is on the failing
// disk, what a user checks while it fails, and the database read back.
import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { Logger } from '../../src/util/logger.js';
import { onCleanup, tempDir } from './cleanup.js';
import { startTestLookout } from './lookout.js';
import { BOTTLE_CLIP, PERSON_CLIP } from './media.js';
import { untilViewerGets } from './wait.js';

/** Runs a command, never throwing: its status, output and error to read. */
export const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
export const failed = (r: ReturnType<typeof run>) => (r.error ? r.error.message : r.stderr.trim() || `exit ${r.status}`);

/** Cleanup: detaches the mount at once even if something still holds it, then removes the mount point. */
export function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
  spawnSync('rmdir', [dir]);
}

/** A tmpfs of `size` on a fresh temporary folder, unmounted by onCleanup. */
export function tmpfs(prefix: string, size: string): string {
  const dir = tempDir(prefix);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  onCleanup(() => unmount(dir));
  return dir;
}

export interface Store {
  writer: { written: number; failing: boolean; lastError: string | null; dropped: number; pending: number };
  recorder: { snapshotsSaved: number; snapshotErrors: number };
}

/** Keeps the warnings, so the test can read what lookout told the operator. */
export function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
}

/** lookout with its detection log at `dbFile`, two looping cameras, and a viewer of camera a counting its frames. */
export async function start(dbFile: string, log: Logger, snapshotDir?: string) {
  const lookout = await startTestLookout({
    store: { path: dbFile, ...(snapshotDir ? { snapshotDir } : {}) },
    modelServer: { embedded: { capacity: 4 } },
    scheduler: { maxInFlight: 4 },
    detection: { detectFps: 15, liveFps: 10, minScore: 0.3 },
    // Motion off: the disk tests count on a steady stream of rows, and gating skips the clips' still seconds.
    cameras: [{ id: 'a', url: BOTTLE_CLIP, loop: true, motion: { enabled: false } }, { id: 'b', url: PERSON_CLIP, loop: true, motion: { enabled: false } }],
    log,
  });
  const base = lookout.url;
  const store = async () => (await (await fetch(`${base}/api/store`)).json()) as Store;
  let frames = 0;
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=a`);
  ws.on('message', (_d, binary) => { if (binary) frames++; });
  onCleanup(() => ws.terminate());
  return { lookout, base, store, frames: () => frames };
}

/** What a user checks while the store fails: live video, health, the camera, the failure named, the log still readable. */
export async function expectServingWhileFailing(base: string, frames: () => number, store: () => Promise<Store>) {
  const s = await store();
  expect(s.writer.failing).toBe(true);
  expect(s.writer.lastError).toMatch(/read-only|READONLY|I\/O|IOERR/i);
  // Live video goes on while the store fails.
  await untilViewerGets(frames, 8, `${base}/api/cameras/a`);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect(((await (await fetch(`${base}/api/cameras/a`)).json()) as { state: string }).state).toBe('streaming');
  expect((await fetch(`${base}/api/detections?limit=5`)).status).toBe(200);
  // The records that cannot be written wait in memory (under the bound).
  expect((await store()).writer.pending).toBeGreaterThan(0);
}

/** Rows committed so far, as a reader sees them. */
export function committedRows(file: string): { count: number; maxId: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) AS count, coalesce(max(id), 0) AS maxId FROM detections').get() as { count: number; maxId: number };
  } finally {
    db.close();
  }
}

export function checkDatabase(file: string, before: { count: number; maxId: number }) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    // Every row committed before the fault is still there.
    expect((db.prepare('SELECT count(*) AS n FROM detections WHERE id <= ?').get(before.maxId) as { n: number }).n).toBe(before.count);
    // A batch that failed and was retried is in once: a tracked object has one box per frame.
    const twice = db.prepare(
      `SELECT count(*) AS n FROM (SELECT 1 FROM detections WHERE track_id IS NOT NULL
         GROUP BY camera, frame_id, track_id HAVING count(*) > 1)`,
    ).get() as { n: number };
    expect(twice.n).toBe(0);
    return db.prepare('SELECT count(*) AS n FROM detections').get() as { n: number };
  } finally {
    db.close();
  }
}
