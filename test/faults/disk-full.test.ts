// The detection log on a disk that fills up: a real, small tmpfs (mounted
// here; the suite runs as root, as CI does). lookout must keep streaming,
// report the store as failing, lose nothing it still holds, and resume
// writing by itself when space returns.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP, PERSON_CLIP } from '../helpers/media.js';
import { requireOrSkip } from '../helpers/skip.js';
import { sleep, until } from '../helpers/wait.js';

/** Why a tmpfs cannot be mounted here, if it cannot. */
function mountSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = tempDir('lookout-mount-probe-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
  if (r.status !== 0) return `cannot mount a tmpfs: ${r.stderr.toString().trim()}`;
  spawnSync('umount', [probe]);
  return undefined;
}
const skip = requireOrSkip('the full-disk test', mountSkipReason());

interface Store { writer: { written: number; failing: boolean; lastError: string | null; dropped: number; pending: number } }

describe.skipIf(skip)('a full disk under the detection log', () => {
  it('keeps streaming, reports the store failing, and resumes writing when space returns', async () => {
    const dir = tempDir('lookout-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]);
    onCleanup(() => { spawnSync('umount', ['-l', dir]); });
    const lookout = await startTestLookout({
      store: path.join(dir, 'lookout.db'),
      modelServer: { embedded: { capacity: 4 } },
      scheduler: { maxInFlight: 4 },
      detection: { detectFps: 15, liveFps: 10, minScore: 0.3 },
      cameras: [{ id: 'a', url: BOTTLE_CLIP, loop: true }, { id: 'b', url: PERSON_CLIP, loop: true }],
    });
    const base = lookout.url;
    const store = async () => (await (await fetch(`${base}/api/store`)).json()) as Store;
    await until(async () => (await store()).writer.written > 100, 30_000);

    let frames = 0;
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=a`);
    ws.on('message', (_d, binary) => { if (binary) frames++; });
    onCleanup(() => ws.terminate());

    // Fill the disk to the last byte.
    const filler = path.join(dir, 'filler');
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k']);
    await until(async () => (await store()).writer.failing, 30_000);
    const failing = await store();
    expect(failing.writer.lastError).toMatch(/full|SQLITE_FULL|space/i);
    // Video does not wait for the disk.
    const before = frames;
    await sleep(2_000);
    expect(frames - before).toBeGreaterThan(8);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(((await (await fetch(`${base}/api/cameras/a`)).json()) as { state: string }).state).toBe('streaming');
    const written = failing.writer.written;
    // A camera change that cannot be kept is refused whole: 503 naming the
    // file, and nothing started or stopped that the next start would undo.
    const ids = async () => ((await (await fetch(`${base}/api/cameras`)).json()) as { cameras: { id: string }[] }).cameras.map((c) => c.id).sort();
    const add = () => fetch(`${base}/api/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'c', url: BOTTLE_CLIP, loop: true }) });
    const refused = await add();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toMatch(/cameras\.json.*nothing was changed.*ENOSPC/);
    const removal = await fetch(`${base}/api/cameras/b`, { method: 'DELETE' });
    expect(removal.status).toBe(503);
    expect(await ids()).toEqual(['a', 'b']);

    // Space returns: the writer commits what it kept, and goes on.
    rmSync(filler);
    await until(async () => !(await store()).writer.failing, 30_000);
    await until(async () => (await store()).writer.written > written + 50, 30_000);
    const after = await store();
    expect(after.writer.lastError === null || !after.writer.failing).toBe(true);
    // The same change goes through once there is room, and is kept.
    expect((await add()).status).toBe(201);
    expect(await ids()).toEqual(['a', 'b', 'c']);
    expect(readFileSync(path.join(dir, 'cameras.json'), 'utf8')).toContain('"c"');
    // What the API shows came through: the log answers queries again.
    const res = await fetch(`${base}/api/detections?limit=5`);
    expect(res.status).toBe(200);
  }, 120_000);
});
