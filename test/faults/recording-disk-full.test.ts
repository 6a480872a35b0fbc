// The recordings folder on a small disk (a real tmpfs, mounted here; the
// suite runs as root) that fills up (docs/recordings.md, State): recording
// pauses with the full disk named, the store names the camera, live view and
// detection go on, what was written before plays, and recording resumes by
// itself when space returns.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import { tmpfs } from '../helpers/disk-io.js';
import { startTestLookout, type TestLookoutOptions } from '../helpers/lookout.js';
import { PERSON_CLIP } from '../helpers/media.js';
import {
  describeProbe, mountSkipReason, probeFrames, recordings, recordingState, segmentFiles, skipFfprobe, storeRecordings, type Segment,
} from '../helpers/recordings.js';
import { requireOrSkip } from '../helpers/skip.js';
import { sleep, until } from '../helpers/wait.js';

const skip = requireOrSkip('the recordings full-disk test', mountSkipReason()) || skipFfprobe();

describe.skipIf(skip)('a full disk under the recordings', () => {
  it('pauses recording naming the full disk, keeps live view and detection, and resumes by itself when space returns', async () => {
    const dir = tmpfs('lookout-rec-full-', '16m');
    // The detection log on another disk: only the recordings fill up.
    const data = tempDir('lookout-rec-full-db-');
    const lookout = await startTestLookout({
      store: { path: path.join(data, 'lookout.db'), recordingsDir: dir },
      detection: { detectFps: 5, liveFps: 10, minScore: 0.3 },
      cameras: [{ id: 'a', url: PERSON_CLIP, loop: true }],
      record: { mode: 'continuous', segmentSeconds: 2 },
    } as TestLookoutOptions);
    const base = lookout.url;
    const t0 = Date.now();
    const segments = async (): Promise<Segment[]> => (await recordings(base, 'a', t0 - 60_000)).segments;
    const detections = async (since: number): Promise<number> =>
      ((await (await fetch(`${base}/api/detections?camera=a&since=${since}&limit=10000`)).json()) as { detections: unknown[] }).detections.length;

    let frames = 0;
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?camera=a`);
    ws.on('message', (_d, binary) => { if (binary) frames++; });
    onCleanup(() => ws.terminate());

    await until(async () => (await segments()).filter((s) => s.complete).length >= 2, 30_000, 200);
    expect((await recordingState(base, 'a')).state).toBe('recording');

    // Fill the disk to the last byte.
    const filler = path.join(dir, 'filler');
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k']);
    const filledAt = Date.now();
    const lastBefore = (await segments()).filter((s) => s.complete).at(-1)!;
    await until(async () => (await recordingState(base, 'a')).state === 'paused', 15_000, 100);
    const paused = await recordingState(base, 'a');
    expect(paused.reason).toMatch(/full|ENOSPC|space/i);
    const store = await storeRecordings(base);
    expect(Object.keys(store.paused)).toContain('a');
    expect(store.paused.a).toMatch(/full|ENOSPC|space/i);

    // Live view and detection do not wait for the disk: frames keep coming over /ws, and
    // detections of frames captured after the fill keep reaching the log (on its own disk).
    const framesBefore = frames;
    await sleep(3_000);
    expect(frames - framesBefore, 'live frames over /ws in 3 s').toBeGreaterThan(10);
    await until(async () => (await detections(filledAt)) >= 5, 15_000, 250).catch(async () => {
      const cam = await (await fetch(`${base}/api/cameras/a`)).json() as { schedule?: unknown };
      throw new Error(`only ${await detections(filledAt)} detections logged since the disk filled; schedule ${JSON.stringify(cam.schedule)}`);
    });
    expect(((await (await fetch(`${base}/api/cameras/a`)).json()) as { state: string }).state).toBe('streaming');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await recordingState(base, 'a')).state).toBe('paused');

    // What was written before the disk filled plays, and the index lists no file the disk lacks.
    const last = await probeFrames(path.join(dir, lastBefore.path));
    expect(last.errors, describeProbe(lastBefore.path, last)).toBe('');
    expect(last.frames).toBeGreaterThanOrEqual(15);
    const onDisk = segmentFiles(dir);
    for (const s of await segments()) expect(onDisk, `row ${s.path}`).toContain(s.path);
    for (const s of (await segments()).filter((x) => x.complete)) {
      const p = await probeFrames(path.join(dir, s.path));
      expect(p.errors, describeProbe(s.path, p)).toBe('');
    }

    // Space returns: recording resumes by itself, in new segments that play.
    rmSync(filler);
    const freedAt = Date.now();
    await until(async () => (await recordingState(base, 'a')).state === 'recording', 20_000, 100);
    expect((await storeRecordings(base)).paused).not.toHaveProperty('a');
    await until(async () => (await segments()).some((s) => s.complete && s.start >= freedAt), 20_000, 200);
    const fresh = (await segments()).find((s) => s.complete && s.start >= freedAt)!;
    const p = await probeFrames(path.join(dir, fresh.path));
    expect(p.errors, describeProbe(fresh.path, p)).toBe('');
    expect(p.frames).toBeGreaterThanOrEqual(15);
  }, 90_000);
});
