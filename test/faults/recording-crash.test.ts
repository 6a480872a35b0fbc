// `kill -9` of a real `lookout serve` in the middle of a recording segment
// (docs/recordings.md, Files): every segment it had finished plays to its end,
// the one it was writing is readable up to its last fragment (or gone once
// the next start cleans it up), and after the next start the index, over the
// API and in the database, names exactly the files on disk.
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type RunningChild } from '../helpers/child.js';
import { tempDir } from '../helpers/cleanup.js';
import { PERSON_CLIP } from '../helpers/media.js';
import {
  describeProbe, mediaDuration, packets, probeFrames, recordings, segmentFiles, segmentRowPaths, skipFfprobe, type Segment,
} from '../helpers/recordings.js';
import { alive, sleep, until } from '../helpers/wait.js';

const children: RunningChild[] = [];
const strays: number[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.stop('SIGKILL');
  for (const pid of strays.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

const skip = skipFfprobe();

describe.skipIf(skip)('lookout killed with SIGKILL while recording', () => {
  it('leaves every finished segment playable, the interrupted one readable or removed, and an index matching the disk after the next start', async () => {
    const data = tempDir('lookout-crash-');
    const dir = path.join(data, 'recordings');
    const db = path.join(data, 'lookout.db');
    const config = path.join(data, 'lookout.yaml');
    writeFileSync(config, JSON.stringify({
      http: { host: '127.0.0.1', port: 0 },
      store: { path: db, recordingsDir: dir },
      modelServer: { embedded: { model: 'synthetic', latencyMs: 5, capacity: 2 } },
      detection: { detectFps: 5, liveFps: 0, minScore: 0.3 },
      record: { mode: 'continuous', segmentSeconds: 2 },
      cameras: [{ id: 'a', url: PERSON_CLIP, loop: true }],
    }));
    const testStart = Date.now();
    const serve = async (): Promise<{ child: RunningChild; url: string }> => {
      const child = startCli(['serve', '--config', config], {}, data);
      children.push(child);
      const [, url] = await child.waitFor(/lookout listening on (http:\/\/\S+)/, 30_000);
      return { child, url };
    };
    const list = async (url: string): Promise<Segment[]> => (await recordings(url, 'a', testStart - 60_000)).segments;

    // First run: two whole segments, then into the middle of the next.
    const first = await serve();
    await until(async () => (await list(first.url)).filter((s) => s.complete).length >= 2, 40_000, 200);
    const count = segmentFiles(dir).length;
    await until(() => segmentFiles(dir).length > count, 10_000, 20);
    await sleep(1_000);
    const cam = (await (await fetch(`${first.url}/api/cameras/a`)).json()) as { status: { pid?: number } };
    const ffmpegPid = cam.status.pid;
    first.child.child.kill('SIGKILL');
    expect(await first.child.exited).toBe('SIGKILL');

    // What the crash left: the file written last is the interrupted one.
    const left = segmentFiles(dir);
    expect(left.length).toBeGreaterThanOrEqual(3);
    const mtime = (f: string) => statSync(path.join(dir, f)).mtimeMs;
    const interrupted = left.reduce((a, b) => (mtime(b) > mtime(a) ? b : a));
    const interruptedBytes = statSync(path.join(dir, interrupted)).size;
    const finished = left.filter((f) => f !== interrupted);
    for (const f of finished) {
      const p = await probeFrames(path.join(dir, f));
      expect(p.errors, describeProbe(f, p)).toBe('');
      expect(p.frames, describeProbe(f, p)).toBeGreaterThanOrEqual(5);
    }
    // About a second in: readable up to its last whole fragment, whatever ffprobe says of the torn end.
    const torn = await probeFrames(path.join(dir, interrupted));
    expect(torn.frames, describeProbe(interrupted, torn)).toBeGreaterThanOrEqual(3);
    // The camera's ffmpeg does not outlive lookout (its output pipe closed).
    if (ffmpegPid) {
      strays.push(ffmpegPid);
      await until(() => !alive(ffmpegPid), 10_000).catch(() => { throw new Error(`ffmpeg ${ffmpegPid} still runs 10 s after lookout was killed`); });
    }

    // Second run on the same folder: the index is made to match the disk.
    const second = await serve();
    const check = async (): Promise<string[]> => {
      const problems: string[] = [];
      const before = segmentFiles(dir);
      const rows = await list(second.url);
      const after = segmentFiles(dir);
      const paths = new Set(rows.map((s) => s.path));
      for (const r of rows) if (!after.includes(r.path)) problems.push(`row without a file: ${r.path}`);
      for (const f of finished) if (!paths.has(f)) problems.push(`finished file without a row: ${f}`);
      if (after.includes(interrupted) !== paths.has(interrupted)) problems.push(`interrupted ${interrupted}: file ${after.includes(interrupted)}, row ${paths.has(interrupted)}`);
      // The new run's files: all listed but perhaps the one being opened this instant.
      const unlisted = before.filter((f) => !paths.has(f) && !left.includes(f));
      if (unlisted.length > 1) problems.push(`new files without rows: ${unlisted.join(', ')}`);
      return problems;
    };
    let problems: string[] = [];
    await until(async () => (problems = await check()).length === 0, 10_000, 200).catch(() => undefined);
    expect(problems).toEqual([]);

    const rows = await list(second.url);
    if (segmentFiles(dir).includes(interrupted)) {
      // Kept: cut at its last whole fragment, so it now plays to its end, and its row says how long it is.
      const file = path.join(dir, interrupted);
      expect(statSync(file).size).toBeLessThanOrEqual(interruptedBytes);
      const p = await probeFrames(file);
      expect(p.errors, describeProbe(`${interrupted} after the restart`, p)).toBe('');
      expect(p.frames).toBeGreaterThanOrEqual(3);
      const row = rows.find((s) => s.path === interrupted)!;
      expect(row.bytes).toBe(statSync(file).size);
      expect(Math.abs(mediaDuration(await packets(file)) - (row.end - row.start) / 1000), `${interrupted}: row ${row.start}–${row.end}`).toBeLessThanOrEqual(0.21);
    }
    // The finished ones are listed whole.
    for (const f of finished) {
      const row = rows.find((s) => s.path === f)!;
      expect(row.complete, f).toBe(true);
      expect(row.bytes, f).toBe(statSync(path.join(dir, f)).size);
    }
    // And recording goes on in the new run.
    await until(async () => (await list(second.url)).some((s) => s.complete && !left.includes(s.path)), 20_000, 200);

    // Stopped cleanly, the database's rows are exactly the files on disk, and every one plays.
    second.child.child.kill('SIGTERM');
    expect(await second.child.exited).toBe(0);
    const files = segmentFiles(dir);
    expect(segmentRowPaths(db)).toEqual(files);
    for (const f of files) {
      const p = await probeFrames(path.join(dir, f));
      expect(p.errors, describeProbe(f, p)).toBe('');
    }
  }, 90_000);
});
