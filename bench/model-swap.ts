// bench:model's version-swap section (issue 17 §6): Predict latency while a
// new version of the served model arrives on disk and is swapped in, against
// the same clients' latency in steady state just before, in one run.
// `lookout model-server --model_config_file` runs as a child, as deployed,
// with --file_system_poll_wait_seconds=1; version 2 is copied in under a
// temporary name and renamed, as TF Serving's docs advise. The swap window
// runs from the rename until version 1 has ended, plus SETTLE_S. Two models:
// the real CenterNet ("tensorflow" platform: a TF.js graph model per version,
// so the new version's workers load while the old ones serve, on the same
// cores) and the synthetic one (the mechanism alone).
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinCenternetPath } from '../src/modelserver/centernet.js';
import { TfServingClient } from '../src/tfserving/client.js';
import type { ImageInput } from '../src/types.js';
import { startModelServerChild } from './model-server-child.js';
import type { Row } from './table.js';

const STEADY_S = Number(process.env.BENCH_SWAP_STEADY_SECONDS ?? 10);
const SETTLE_S = 2;

interface Window { requests: number; errors: number; p50: number; p99: number; max: number; rps: number }
export interface SwapResult { model: string; clients: number; steady: Window; swap: Window; swapSeconds: number; answeredBy: Record<string, number>; errorsSeen: string[] }

function windowOf(calls: { at: number; ms: number; ok: boolean }[], from: number, to: number): Window {
  const inside = calls.filter((c) => c.at >= from && c.at < to);
  const ms = inside.filter((c) => c.ok).map((c) => c.ms).sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? NaN;
  return { requests: inside.length, errors: inside.filter((c) => !c.ok).length, p50: q(0.5), p99: q(0.99), max: ms[ms.length - 1] ?? NaN, rps: inside.length / ((to - from) / 1000) };
}

/** One version folder of a model: CenterNet's model.json and shards, or a synthetic.json. */
function writeVersion(dir: string, model: 'centernet' | 'synthetic'): void {
  mkdirSync(dir, { recursive: true });
  if (model === 'synthetic') {
    writeFileSync(path.join(dir, 'synthetic.json'), JSON.stringify({ latencyMs: 20, capacity: 4 }));
    return;
  }
  // model.json names its weight shards relative to itself: the shard keeps its name.
  const json = builtinCenternetPath();
  copyFileSync(json, path.join(dir, 'model.json'));
  const shard = json.replace(/\.json$/, '.bin');
  copyFileSync(shard, path.join(dir, path.basename(shard)));
}

async function one(model: 'centernet' | 'synthetic', image: ImageInput, clients: number): Promise<SwapResult> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lookout-swap-'));
  const base = path.join(root, 'detector');
  writeVersion(path.join(base, '1'), model);
  const configFile = path.join(root, 'models.config');
  writeFileSync(configFile, `model_config_list { config { name: "detector" base_path: "${base}" model_platform: "${model === 'synthetic' ? 'synthetic' : 'tensorflow'}" } }\n`);
  const server = await startModelServerChild([`--model_config_file=${configFile}`, '--file_system_poll_wait_seconds=1', ...(model === 'centernet' ? ['--workers', String(os.availableParallelism())] : [])]);
  const pool = Array.from({ length: clients }, () => new TfServingClient({ address: server.address, modelName: 'detector', deadlineMs: 60_000 }));
  const calls: { at: number; ms: number; ok: boolean; version?: number }[] = [];
  const errorsSeen = new Set<string>();
  let stop = false;
  try {
    await pool[0].waitUntilReady(120_000);
    const loops = pool.map(async (c) => {
      while (!stop) {
        const at = performance.now();
        try {
          const r = await c.detect([image]);
          calls.push({ at, ms: performance.now() - at, ok: true, version: r.modelVersion });
        } catch (err) {
          calls.push({ at, ms: performance.now() - at, ok: false });
          errorsSeen.add((err as Error).message);
        }
      }
    });
    // Warm-up, then the steady window.
    await new Promise((r) => setTimeout(r, 3000));
    const steadyFrom = performance.now();
    await new Promise((r) => setTimeout(r, STEADY_S * 1000));
    const swapFrom = performance.now();
    const tmp = path.join(base, 'incoming-2');
    writeVersion(tmp, model);
    renameSync(tmp, path.join(base, '2'));
    let swapped = 0;
    for (;;) {
      const status = await pool[0].modelStatus().catch(() => []);
      if (status.some((s) => s.version === 1 && s.state === 'END') && status.some((s) => s.version === 2 && s.state === 'AVAILABLE')) {
        swapped = performance.now();
        break;
      }
      if (performance.now() - swapFrom > 120_000) throw new Error(`no swap in 120 s: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const swapTo = performance.now();
    stop = true;
    await Promise.all(loops);
    const answeredBy: Record<string, number> = {};
    for (const c of calls.filter((x) => x.at >= swapFrom && x.at < swapTo && x.ok)) answeredBy[`v${c.version}`] = (answeredBy[`v${c.version}`] ?? 0) + 1;
    return {
      model, clients,
      steady: windowOf(calls, steadyFrom, swapFrom),
      swap: windowOf(calls, swapFrom, swapTo),
      swapSeconds: (swapped - swapFrom) / 1000,
      answeredBy,
      errorsSeen: [...errorsSeen],
    };
  } finally {
    stop = true;
    for (const c of pool) c.close();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function measureSwaps(image: ImageInput): Promise<SwapResult[]> {
  return [await one('centernet', image, 4), await one('synthetic', image, 8)];
}

export function swapHeading(): string {
  return `Predict during a version swap (--model_config_file, --file_system_poll_wait_seconds=1): ${STEADY_S} s steady, then version 2 renamed in; the swap window runs until version 1 has ended + ${SETTLE_S} s`;
}

export function swapRows(results: SwapResult[]): Row[] {
  const w = (x: Window) => `p50 ${x.p50.toFixed(0)} ms, p99 ${x.p99.toFixed(0)} ms (max ${x.max.toFixed(0)}), ${x.rps.toFixed(1)} req/s, ${x.errors} failed of ${x.requests}`;
  return results.flatMap((r): Row[] => [
    [`${r.model}, ${r.clients} clients, steady`, `p99 ${r.steady.p99.toFixed(0)} ms`, w(r.steady), ''],
    [`${r.model}, during the swap (${r.swapSeconds.toFixed(1)} s)`, `p99 ${r.swap.p99.toFixed(0)} ms`, `${w(r.swap)}; answered by ${Object.entries(r.answeredBy).map(([k, v]) => `${k} ${v}`).join(', ')}`, '0 failed'],
    [`${r.model}, swap p99 ÷ steady p99`, (r.swap.p99 / r.steady.p99).toFixed(2), r.errorsSeen.length ? `errors: ${r.errorsSeen.join('; ')}` : '', ''],
  ]);
}

export function swapJson(results: SwapResult[]) {
  const round = (x: Window) => ({ requests: x.requests, errors: x.errors, p50Ms: +x.p50.toFixed(1), p99Ms: +x.p99.toFixed(1), maxMs: +x.max.toFixed(1), rps: +x.rps.toFixed(2) });
  return results.map((r) => ({ model: r.model, clients: r.clients, steady: round(r.steady), swap: round(r.swap), swapSeconds: +r.swapSeconds.toFixed(2), p99Ratio: +(r.swap.p99 / r.steady.p99).toFixed(2), answeredBy: r.answeredBy }));
}
