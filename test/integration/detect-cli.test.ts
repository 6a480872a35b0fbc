// `lookout detect` as a user runs it: a real child process, real ffmpeg on
// the bundled clips, the embedded model server (the real CenterNet, or the
// synthetic model where only the plumbing is under test).
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { progressLine } from '../../src/offline/detect-command.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { CLI, startCli, type RunningChild } from '../helpers/child.js';
import { tempDir } from '../helpers/cleanup.js';

const running: RunningChild[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop('SIGKILL');
});
function cli(args: string[]): RunningChild {
  const c = startCli(args);
  running.push(c);
  return c;
}

interface Line { camera: string; time: number; frameId: string; label: string; classId: number; score: number; box: number[]; trackId: number | null }
const parse = (text: string): Line[] => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);

describe('lookout detect', () => {
  it('finds the bottles of the bottle clip with the real model, tracked, in frame order, as JSONL', async () => {
    const out = path.join(tempDir('lookout-detect-'), 'detections.jsonl');
    const c = cli(['detect', BOTTLE_CLIP, '--fps', '1', '--out', out, '--camera', 'shelf']);
    expect(await c.exited).toBe(0);
    const lines = parse(readFileSync(out, 'utf8'));
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['camera', 'time', 'frameId', 'label', 'classId', 'score', 'box', 'trackId']);
      expect(l.camera).toBe('shelf');
      expect(l.box.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
    const bottles = lines.filter((l) => l.label === 'bottle');
    expect(bottles.length).toBeGreaterThan(lines.length / 2);
    // Frame order: positions (the frameId's ms) never go back, and time follows them.
    const pos = lines.map((l) => Number(l.frameId.split(':')[1]));
    expect(pos).toEqual([...pos].sort((a, b) => a - b));
    expect(lines[lines.length - 1].time - lines[0].time).toBe(pos[pos.length - 1] - pos[0]);
    // The same bottle keeps its track id from one second to the next.
    const ids = new Set(bottles.map((b) => b.trackId));
    expect(ids.size).toBeLessThan(bottles.length / 3);
    expect(c.stderr()).toMatch(/detect: \d+ frames, \d+ detections, \d+ tracked objects/);
  });

  it('writes to standard output, one record per detection of every frame at the asked rate', async () => {
    const c = cli(['detect', BOTTLE_CLIP, '--fps', '2', '--model', 'synthetic', '--min-score', '0']);
    expect(await c.exited).toBe(0);
    const lines = parse(c.stdout());
    const frames = new Set(lines.map((l) => l.frameId));
    // The clip is 39.85 s long: 2 frames a second, nothing dropped.
    expect(frames.size).toBeGreaterThanOrEqual(79);
    expect(frames.size).toBeLessThanOrEqual(81);
    expect(lines.length).toBe(frames.size * 3);
    expect(new Set(lines.map((l) => l.label))).toEqual(new Set(['person', 'bottle', 'chair']));
  });

  it('exits non-zero with a message naming the input it cannot read, and leaves no output file', async () => {
    const dir = tempDir('lookout-detect-');
    const out = path.join(dir, 'x.jsonl');
    const missing = cli(['detect', path.join(dir, 'nope.mp4'), '--out', out]);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toMatch(/cannot read .*nope\.mp4: no such file/);
    expect(existsSync(out)).toBe(false);

    const refused = cli(['detect', 'concat:a.mp4|b.mp4', '--model', 'synthetic']);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/protocol "concat:" is not allowed/);

    // A file that exists but is no video: ffmpeg's own reason.
    const junk = path.join(dir, 'junk.mp4');
    spawnSync('sh', ['-c', `head -c 5000 /dev/urandom > ${junk}`]);
    const bad = cli(['detect', junk, '--model', 'synthetic']);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(/cannot read .*junk\.mp4: .*(Invalid data|moov atom)/);
  });

  it('shows a progress bar with frames, fps and ETA on a terminal', () => {
    // util-linux's script(1) gives the command a pseudo-terminal, as a person's shell would.
    const run = spawnSync('script', ['-qec', `${process.execPath} ${CLI} detect ${BOTTLE_CLIP} --fps 4 --model synthetic --out /dev/null`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\[#+\.*\]\s+\d+%\s+\d+ frames\s+[\d.]+ fps\s+ETA \d+:\d\d/);
    expect(run.stdout).toMatch(/\[#{24}\] 100%\s+1\d\d frames/);
  });

  it('formats progress with and without a known length', () => {
    expect(progressLine({ frames: 50, detections: 7, positionMs: 10_000, durationMs: 40_000, elapsedMs: 5_000 }, 8))
      .toBe('[##......]  25%  50 frames  10.0 fps  ETA 0:15  7 detections');
    expect(progressLine({ frames: 10, detections: 0, positionMs: 65_000, durationMs: undefined, elapsedMs: 2_000 }))
      .toBe('10 frames  5.0 fps  at 1:05  0 detections');
  });
});
