// The worker pool behind the embedded server, with the real model.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { status } from '@grpc/grpc-js';
import { InferencePool } from '../../src/modelserver/inference-pool.js';
import { builtinCenternetPath } from '../../src/modelserver/centernet.js';
import { cocoLabelMap } from '../../src/tfserving/label-map.js';
import { ServerError, ServerUnavailableError } from '../../src/tfserving/errors.js';
import { BOTTLE_CLIP, decodeFrame } from '../helpers/media.js';

const bottle = decodeFrame(BOTTLE_CLIP, 0);
const frame = { width: bottle.width, height: bottle.height, pixels: bottle.data };
const bottles = (out: { classes: Float32Array; scores: Float32Array; num: number }) =>
  Array.from(out.classes.subarray(0, out.num)).filter((c, i) => c === 44 && out.scores[i] >= 0.3).length;

/** Niceness of each thread of this process, by thread name (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNiceness(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised name, which may itself hold spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[16]);
  });
}

describe('InferencePool', () => {
  let pool: InferencePool;
  beforeAll(async () => {
    pool = new InferencePool({ modelJsonPath: builtinCenternetPath(), classIds: cocoLabelMap().ids(), scoreThreshold: 0.05, workers: 1, maxQueue: 2 });
    await pool.load();
  });
  afterAll(async () => {
    await pool.close();
  });

  it('replaces a worker that dies, failing only the frame it held', async () => {
    // Kill the worker thread from outside mid-frame, as an out-of-memory abort would.
    const slots = (pool as unknown as { slots: { worker: Worker | undefined }[] }).slots;
    const dying = pool.detect([frame], pool.reserve(1));
    await new Promise((r) => setTimeout(r, 20));
    await slots[0].worker?.terminate();
    const err = await dying.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe(status.INTERNAL);
    expect((err as Error).message).toMatch(/inference worker exited/);
    // The next frame waits for the replacement to load, then runs.
    const [out] = await pool.detect([frame], pool.reserve(1));
    expect(bottles(out)).toBeGreaterThanOrEqual(2);
  });

  it('runs its workers at the niceness asked for, and leaves the rest of the process alone', async () => {
    // The suite's pool above runs its worker at the default 10; this one asks for 13.
    expect(threadNiceness().filter((n) => n === 10)).toHaveLength(1);
    expect(threadNiceness().filter((n) => n === 13)).toHaveLength(0);
    const local = new InferencePool({ modelJsonPath: builtinCenternetPath(), classIds: cocoLabelMap().ids(), scoreThreshold: 0.05, workers: 2, nice: 13 });
    await local.load();
    try {
      const during = threadNiceness();
      expect(during.filter((n) => n === 13)).toHaveLength(2);
      // The main thread (the task whose id is the pid) keeps its priority.
      const main = readFileSync('/proc/self/stat', 'utf8');
      expect(Number(main.slice(main.lastIndexOf(')') + 2).split(' ')[16])).toBe(0);
      const [out] = await local.detect([frame], local.reserve(1));
      expect(bottles(out)).toBeGreaterThanOrEqual(2);
    } finally {
      await local.close();
    }
    expect(threadNiceness().filter((n) => n === 13)).toHaveLength(0);
  });

  it('fails frames still queued when it closes, and refuses new ones', async () => {
    const local = new InferencePool({ modelJsonPath: builtinCenternetPath(), classIds: cocoLabelMap().ids(), scoreThreshold: 0.05, workers: 1, maxQueue: 4 });
    await local.load();
    // Observe both outcomes before closing, as the gRPC handler awaiting them does.
    const outcomes = [local.detect([frame], local.reserve(1)), local.detect([frame], local.reserve(1))].map((p) => p.then(() => undefined, (x: unknown) => x));
    await local.close();
    await local.close();
    for (const e of await Promise.all(outcomes)) expect(e).toBeInstanceOf(ServerUnavailableError);
    expect(() => local.reserve(1)).toThrow(ServerUnavailableError);
  });
});
