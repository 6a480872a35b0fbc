import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { isSnapshotFileName, snapshotFileName, SnapshotError, SnapshotStore } from '../../src/store/snapshots.js';
import { tempDir } from '../helpers/cleanup.js';

let root: string;
let store: SnapshotStore;

beforeEach(() => {
  root = tempDir('lookout-snap-');
  store = new SnapshotStore(path.join(root, 'snapshots'));
});

function refusal(fn: () => unknown): SnapshotError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SnapshotError);
    return err as SnapshotError;
  }
  throw new Error('accepted');
}

describe('snapshots', () => {
  it('names files from the event id only: safe characters, and distinct for ids that sanitize alike', () => {
    const a = snapshotFileName('../../etc/passwd-1-2');
    expect(a).toMatch(/^[A-Za-z0-9_-]+-[0-9a-f]{12}\.jpg$/);
    expect(a).not.toContain('/');
    expect(snapshotFileName('a b-1-2')).not.toBe(snapshotFileName('a/b-1-2'));
    expect(snapshotFileName('front-1-2')).toBe(snapshotFileName('front-1-2'));
    expect(isSnapshotFileName(a)).toBe(true);
  });

  it('saves through a temporary file and replaces the previous snapshot of the event', async () => {
    const first = await store.saveSnapshot('front-1-2', Buffer.from('one'));
    const second = await store.saveSnapshot('front-1-2', Buffer.from('second'));
    expect(second).toEqual({ file: first.file, bytes: 6 });
    expect(readFileSync(store.snapshotPath(first.file), 'utf8')).toBe('second');
    // No temporary files left behind.
    expect(readdirSync(store.dir)).toEqual([first.file]);
  });

  it.each(['../x', '../x.jpg', '/etc/passwd', 'a/b.jpg', '..', '.hidden-000000000000.jpg', 'x.jpg', '', 'a\\b-000000000000.jpg', 'front-1-2-abcdefabcdef.jpg/..'])(
    'refuses %j as a snapshot path',
    (name) => {
      expect(refusal(() => store.snapshotPath(name)).code).toBe('BAD_SNAPSHOT_NAME');
    },
  );

  it('deletes only plain snapshot names; a traversal attempt touches nothing', async () => {
    const victim = path.join(root, 'victim.jpg');
    writeFileSync(victim, 'keep me');
    await expect(store.deleteSnapshot('../victim.jpg')).rejects.toMatchObject({ code: 'BAD_SNAPSHOT_NAME' });
    expect(existsSync(victim)).toBe(true);
    const { file } = await store.saveSnapshot('front-1-2', Buffer.from('x'));
    expect(await store.deleteSnapshot(file)).toBe(true);
    expect(await store.deleteSnapshot(file)).toBe(false);
    expect(existsSync(store.snapshotPath(file))).toBe(false);
  });
});
