// The detector of one model version found through a model config file, by
// its model_platform:
//   - "tensorflow": the version folder holds a TensorFlow.js graph model in
//     the CenterNet layout (model.json and its weight shards), run in worker
//     threads as the single-model server runs it. A TF Serving deploy names
//     this platform; its SavedModels must be converted first (docs/deploy.md).
//   - "synthetic": lookout's stand-in detector (tests, benchmarks); an
//     optional synthetic.json in the version folder sets its latencyMs,
//     perFrameMs and capacity, else the server's own settings apply.
// With --enable_batching each version gets its batching in front.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cocoLabelMap, type LabelMap } from '../tfserving/label-map.js';
import { BatchingDetector, type BatchingOptions } from './batching.js';
import type { Detector } from './detector.js';
import { InferencePool } from './inference-pool.js';
import { SyntheticDetector } from './synthetic-detector.js';

/** The model_platform values lookout runs; any other is refused with TF's "requests unsupported platform". */
export const SERVED_PLATFORMS = ['tensorflow', 'synthetic'] as const;

export interface VersionDetectorOptions {
  workers?: number;
  workerNice?: number;
  maxQueue?: number;
  scoreThreshold?: number;
  labelMap?: LabelMap;
  latencyMs?: number;
  perFrameMs?: number;
  capacity?: number;
  batching?: BatchingOptions;
}

function syntheticSettings(dir: string, o: VersionDetectorOptions): { latencyMs: number; perFrameMs?: number; capacity: number } {
  const file = path.join(dir, 'synthetic.json');
  const own = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const num = (key: string, fallback: number | undefined): number | undefined => {
    const v = own[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !(v >= 0)) throw new Error(`${file}: ${key} must be a number ≥ 0, got ${JSON.stringify(v)}`);
    return v;
  };
  return { latencyMs: num('latencyMs', o.latencyMs ?? 20) ?? 20, perFrameMs: num('perFrameMs', o.perFrameMs), capacity: Math.max(1, Math.round(num('capacity', o.capacity ?? 1) ?? 1)) };
}

/** Builds and loads one version's detector; rejects with why it cannot (the version then ends in error, as in TF). */
export async function loadVersionDetector(platform: string, dir: string, o: VersionDetectorOptions): Promise<Detector> {
  let detector: Detector;
  if (platform === 'synthetic') {
    detector = new SyntheticDetector({ ...syntheticSettings(dir, o), maxQueue: o.maxQueue });
  } else if (platform === 'tensorflow') {
    const modelJsonPath = path.join(dir, 'model.json');
    if (!existsSync(modelJsonPath)) {
      throw new Error(`Could not find a TensorFlow.js graph model (model.json) at ${dir}; lookout runs TF.js graph models, so a SavedModel must be converted first`);
    }
    detector = new InferencePool({
      modelJsonPath,
      // The model knows 80 class indexes; they map in order onto the label map's ids.
      classIds: (o.labelMap ?? cocoLabelMap()).ids(),
      scoreThreshold: o.scoreThreshold ?? 0.05,
      workers: o.workers,
      nice: o.workerNice,
      maxQueue: o.maxQueue,
    });
  } else {
    throw new Error(`platform ${platform} cannot be run here`);
  }
  if (o.batching) detector = new BatchingDetector(detector, o.batching);
  try {
    await detector.load();
  } catch (err) {
    await detector.close();
    throw err;
  }
  return detector;
}
