// FfmpegProcess's own lifecycle, against the real ffmpeg.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFfmpeg, type FfmpegBinary } from '../../src/ingest/ffmpeg-binary.js';
import { sourcePlan } from '../../src/ingest/ffmpeg-args.js';
import { FfmpegProcess } from '../../src/ingest/ffmpeg-process.js';
import { classifySource } from '../../src/ingest/source-url.js';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { allProcs, type ProcInfo } from '../helpers/procfs.js';
import { alive, sleep, until } from '../helpers/wait.js';

/** How long each capability probe (ffmpeg -formats, -encoders) takes to answer. */
const PROBE_MS = 1_500;

/**
 * An "ffmpeg" that is the real one, except that it answers fluent-ffmpeg's
 * capability probes slowly, as a loaded machine does, and writes each call
 * to a log: "probe -formats", …, then "spawn PID" when it is run for real
 * (if it lives long enough to say so).
 */
function slowProbingFfmpeg(): { binary: FfmpegBinary; calls: () => string[] } {
  const real = resolveFfmpeg();
  const dir = tempDir('lookout-slow-ffmpeg-');
  const log = path.join(dir, 'calls');
  const script = path.join(dir, 'ffmpeg');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(log, '');
  writeFileSync(script, [
    '#!/bin/sh',
    'case "$1" in',
    `  -formats|-encoders|-codecs|-filters) echo "probe $1" >> ${quote(log)}; sleep ${PROBE_MS / 1000} ;;`,
    `  *) echo "spawn $$" >> ${quote(log)} ;;`,
    'esac',
    `exec ${quote(real.path)} "$@"`,
    '',
  ].join('\n'), { mode: 0o755 });
  return {
    binary: { ...real, path: script },
    calls: () => readFileSync(log, 'utf8').split('\n').filter((l) => l.length > 0),
  };
}

/** Every process below `pid`. */
function descendants(pid: number): ProcInfo[] {
  const procs = allProcs();
  const found: ProcInfo[] = [];
  const walk = (parent: number): void => {
    for (const p of procs.filter((x) => x.ppid === parent)) {
      found.push(p);
      walk(p.pid);
    }
  };
  walk(pid);
  return found;
}

describe('FfmpegProcess', () => {
  it('kills an ffmpeg that spawns only after stop() gave up waiting for it', async () => {
    // fluent-ffmpeg runs `ffmpeg -formats` and `ffmpeg -encoders` before it
    // spawns ffmpeg; here they take 1.5 s each, so stop() gives up waiting
    // (after twice its grace) before ffmpeg exists. The spawn must then kill
    // its own child: before, this ffmpeg looped for ever, owned by no one.
    const ffmpeg = slowProbingFfmpeg();
    const proc = new FfmpegProcess(ffmpeg.binary, sourcePlan({
      ...classifySource(BOTTLE_CLIP, []),
      rtspTransport: 'tcp',
      timeoutMs: 10_000,
      realtime: true,
      loop: true,
      detect: { fps: 5, maxWidth: 320, maxHeight: 320 },
    }, 5));
    // If it is not killed, the test must not leave it looping.
    onCleanup(() => {
      const pid = proc.processId;
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    });

    const asked = Date.now();
    await proc.stop(250);
    const stopMs = Date.now() - asked;
    // stop() returned while the first probe was still running: nothing spawned yet.
    expect(proc.processId).toBeUndefined();
    expect(proc.state).toBe('abandoned');
    expect(ffmpeg.calls()).toEqual(['probe -formats']);
    expect(stopMs).toBeLessThan(PROBE_MS);

    // The probes end and fluent-ffmpeg spawns ffmpeg, long after stop() returned.
    await until(() => proc.processId !== undefined, 20_000, 5);
    const spawnedAt = Date.now();
    const pid = proc.processId;
    expect(Date.now() - asked).toBeGreaterThanOrEqual(2 * PROBE_MS);
    expect(ffmpeg.calls().slice(0, 2)).toEqual(['probe -formats', 'probe -encoders']);
    // Killed at once: a looping ffmpeg left alone would run for ever.
    const exit = await Promise.race([proc.exited, sleep(2_000).then(() => undefined)]);
    expect(exit, `ffmpeg ${pid} still running 2 s after its spawn`).toBeDefined();
    expect(exit?.signal).toBe('SIGKILL');
    expect(Date.now() - spawnedAt).toBeLessThan(1_000);
    // If it got as far as the real ffmpeg, that was after stop() returned (checked above) and it is the process killed.
    const spawns = ffmpeg.calls().filter((c) => c.startsWith('spawn'));
    expect(spawns.every((c) => c === `spawn ${pid}`)).toBe(true);

    // Nothing of it is left: not the ffmpeg, not a probe, not a shell.
    expect(alive(pid)).toBe(false);
    await until(() => descendants(process.pid).every((p) => !p.cmdline.some((a) => a.includes(ffmpeg.binary.path) || a.includes(BOTTLE_CLIP))), 5_000)
      .catch((err: Error) => { throw new Error(`${err.message}: ${JSON.stringify(descendants(process.pid).map((p) => p.cmdline.join(' ')))}`); });
  });
});
