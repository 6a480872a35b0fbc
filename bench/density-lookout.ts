// A whole lookout in the bench's process for bench:density, as `lookout
// serve` starts it (src/app.ts startLookout): HTTP on 127.0.0.1 on a free
// port, the embedded model server, the detection log in a temporary folder,
// no log output. Its cameras are looping file cameras at their own pace.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLookout, type RunningLookout } from '../src/app.js';
import { parseConfig } from '../src/config/parse.js';
import { silentLogger } from '../src/util/logger.js';
import { sleep } from './density-procs.js';

export interface BenchLookoutOptions {
  /** Camera id → file. */
  cameras: Record<string, string>;
  model: 'synthetic' | 'centernet';
  detectFps: number;
  minScore: number;
}

export interface BenchLookout {
  lookout: RunningLookout;
  url: string;
  close(): Promise<void>;
}

export async function startBenchLookout(o: BenchLookoutOptions): Promise<BenchLookout> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-density-store-'));
  const config = parseConfig({
    http: { host: '127.0.0.1', port: 0 },
    store: { path: path.join(dir, 'lookout.db') },
    // The synthetic model answers at once (0 ms), so detection costs only what lookout itself spends on it.
    modelServer: { embedded: o.model === 'synthetic' ? { model: 'synthetic', latencyMs: 0, capacity: 4 } : { model: 'centernet' } },
    scheduler: o.model === 'synthetic' ? { maxInFlight: 4 } : {},
    detection: { detectFps: o.detectFps, minScore: o.minScore },
    cameras: Object.entries(o.cameras).map(([id, url]) => ({ id, url, loop: true, realtime: true })),
  });
  const lookout = await startLookout(config, silentLogger);
  return {
    lookout,
    url: lookout.url,
    close: async () => {
      await lookout.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until every camera streams and has had detections. */
export async function waitReady(b: BenchLookout, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = b.lookout.registry.cameraIds();
    const views = ids.map((id) => b.lookout.registry.view(id));
    if (views.every((v) => v?.status.state === 'streaming' && v.latest !== undefined)) return;
    if (Date.now() > deadline) {
      const states = views.map((v, i) => `${ids[i]}: ${v?.status.state} ${v?.status.lastError ?? ''} detections ${v?.latest ? 'yes' : 'no'}`);
      throw new Error(`cameras not ready in ${timeoutMs} ms: ${states.join('; ')}`);
    }
    await sleep(250);
  }
}

export interface Troubles {
  restarts: number;
  /** Fragments the detection decoders and the JPEG-view decoders skipped, behind by more than their bound. */
  detectSkipped: number;
  jpegSkipped: number;
}

/** Fragments the cameras' decoders skipped, and camera restarts, so far (a run with either is suspect). */
export function troubles(b: BenchLookout): Troubles {
  let restarts = 0;
  let detectSkipped = 0;
  let jpegSkipped = 0;
  for (const id of b.lookout.registry.cameraIds()) {
    const s = b.lookout.registry.view(id)?.status;
    if (!s) continue;
    restarts += s.restarts;
    detectSkipped += s.decoderSkipped.detect;
    jpegSkipped += s.decoderSkipped.live;
  }
  return { restarts, detectSkipped, jpegSkipped };
}

/** Detections made so far, all cameras together (a window's rate shows whether detection kept up). */
export function detectedSoFar(b: BenchLookout): number {
  return b.lookout.registry.cameraIds().reduce((sum, id) => sum + (b.lookout.registry.view(id)?.schedule?.detected ?? 0), 0);
}
