// What a model server can do to lookout: answer garbage (NaN scores, boxes
// outside 0–1, tensors of the wrong shape, missing outputs), go away and come
// back. lookout runs for real (ffmpeg on a bundled clip) against a gRPC
// server written here to misbehave on purpose, and against the embedded one
// stopped and restarted on its port. No crash, no garbage in the log, state
// shown in /readyz and the camera's stats, and recovery by itself.
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { RunningLookout } from '../../src/app.js';
import { ModelServer } from '../../src/modelserver/server.js';
import { tfServingProtos, SIGNATURE_DEF_MAP_TYPE_URL } from '../../src/tfserving/protos.js';
import { floatTensor } from '../../src/tfserving/tensor.js';
import type { GetModelMetadataResponse } from '../../src/tfserving/generated/tensorflow/serving/GetModelMetadataResponse.js';
import type { GetModelStatusResponse } from '../../src/tfserving/generated/tensorflow/serving/GetModelStatusResponse.js';
import type { PredictResponse } from '../../src/tfserving/generated/tensorflow/serving/PredictResponse.js';
import type { TensorInfo } from '../../src/tfserving/generated/tensorflow/TensorInfo.js';
import { onCleanup } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

type Mode = 'good' | 'nan' | 'outside' | 'short-boxes' | 'missing' | 'huge-count';

/** A TF Serving stand-in whose Predict answers according to `mode`. */
async function startGarbageServer() {
  const state = { mode: 'good' as Mode, calls: 0 };
  const protos = tfServingProtos();
  const server = new grpc.Server();
  const info = (dims: number[]): TensorInfo => ({ dtype: 'DT_FLOAT', tensor_shape: { dim: dims.map((size) => ({ size })) } });
  server.addService(protos.prediction.tensorflow.serving.PredictionService.service, {
    GetModelMetadata: (_c: unknown, cb: grpc.sendUnaryData<GetModelMetadataResponse>) => {
      const map = protos.encodeSignatureDefMap({ signature_def: { serving_default: {
        method_name: 'tensorflow/serving/predict',
        inputs: { inputs: { dtype: 'DT_UINT8', tensor_shape: { dim: [{ size: -1 }, { size: -1 }, { size: -1 }, { size: 3 }] } } },
        outputs: { detection_boxes: info([-1, 2, 4]), detection_scores: info([-1, 2]), detection_classes: info([-1, 2]), num_detections: info([-1]) },
      } } });
      cb(null, { model_spec: { name: 'detector', version: { value: 1 } }, metadata: { signature_def: { type_url: SIGNATURE_DEF_MAP_TYPE_URL, value: map } } });
    },
    Predict: (_c: unknown, cb: grpc.sendUnaryData<PredictResponse>) => {
      state.calls++;
      const m = state.mode;
      const boxes = m === 'outside' ? [-0.5, -2, 1.7, 0.4, 0.9, 0.8, 0.1, 0.2] : [0.1, 0.1, 0.6, 0.4, 0.2, 0.5, 0.7, 0.9];
      const scores = m === 'nan' ? [NaN, 0.8] : [0.9, 0.8];
      const outputs: PredictResponse['outputs'] = {
        detection_boxes: m === 'short-boxes' ? floatTensor([1, 2, 3], Float32Array.from(boxes.slice(0, 6)), false) : floatTensor([1, 2, 4], Float32Array.from(boxes), false),
        detection_scores: floatTensor([1, 2], Float32Array.from(scores), false),
        detection_classes: floatTensor([1, 2], Float32Array.from([1, 44]), false),
        num_detections: floatTensor([1], Float32Array.from([m === 'huge-count' ? 1e9 : 2]), false),
      };
      if (m === 'missing' && outputs) delete outputs.detection_scores;
      cb(null, { model_spec: { name: 'detector', version: { value: 1 }, signature_name: 'serving_default' }, outputs });
    },
  });
  server.addService(protos.model.tensorflow.serving.ModelService.service, {
    GetModelStatus: (_c: unknown, cb: grpc.sendUnaryData<GetModelStatusResponse>) => {
      cb(null, { model_version_status: [{ version: 1, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  onCleanup(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return { state, address: `127.0.0.1:${port}` };
}

async function start(address: string): Promise<RunningLookout> {
  return startTestLookout({
    modelServer: { address, modelName: 'detector', deadlineMs: 2_000 },
    detection: { detectFps: 5, liveFps: 5, minScore: 0.3 },
    cameras: [{ id: 'shelf', url: BOTTLE_CLIP, loop: true }],
  });
}

interface Cam { state: string; schedule: { detected: number; dropped: Record<string, number> } }
const cam = async (base: string) => (await (await fetch(`${base}/api/cameras/shelf`)).json()) as Cam;

describe('a model server that answers garbage', () => {
  it('keeps NaN scores and out-of-range boxes out of what it shows and records, fails malformed answers per call, and carries on', async () => {
    const garbage = await startGarbageServer();
    const lookout = await start(garbage.address);
    const base = lookout.url;
    await until(() => (lookout.registry.latestDetections('shelf')?.detections.length ?? 0) === 2, 30_000);

    garbage.state.mode = 'nan';
    await until(() => lookout.registry.latestDetections('shelf')?.detections.length === 1, 10_000);
    expect(lookout.registry.latestDetections('shelf')?.detections[0]).toMatchObject({ label: 'bottle' });

    garbage.state.mode = 'outside';
    await until(() => lookout.registry.latestDetections('shelf')?.detections[0]?.box[0] === 0, 10_000);
    for (const d of lookout.registry.latestDetections('shelf')?.detections ?? []) {
      expect(d.box.every((v) => v >= 0 && v <= 1)).toBe(true);
    }

    // Malformed answers: each call fails alone and is counted; the camera streams on.
    for (const mode of ['short-boxes', 'missing'] as const) {
      garbage.state.mode = mode;
      const before = (await cam(base)).schedule.dropped.error;
      await until(async () => (await cam(base)).schedule.dropped.error > before + 2, 15_000)
        .catch((err: Error) => { throw new Error(`${mode}: ${err.message}`); });
      expect((await cam(base)).state).toBe('streaming');
    }
    // A num_detections far past the tensors' length is read as what the tensors hold.
    garbage.state.mode = 'huge-count';
    const calls = garbage.state.calls;
    await until(() => garbage.state.calls > calls + 3, 10_000);
    await until(() => lookout.registry.latestDetections('shelf')?.detections.length === 2, 10_000);
    garbage.state.mode = 'good';
    const detected = (await cam(base)).schedule.detected;
    await until(async () => (await cam(base)).schedule.detected > detected + 3, 15_000);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // Nothing outside 0–1 and no NaN ever reached the log.
    await lookout.store?.writer.flush();
    const rows = (await (await fetch(`${base}/api/detections?format=jsonl`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { score: number | null; box: number[] });
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.every((r) => typeof r.score === 'number' && r.score >= 0 && r.score <= 1 && r.box.every((v) => v >= 0 && v <= 1))).toBe(true);
  }, 120_000);
});

describe('a model server that goes away', () => {
  it('shows it down in /readyz and the camera stats, keeps the cameras streaming, and resumes by itself when it returns', async () => {
    const first = new ModelServer({ model: 'synthetic', latencyMs: 5, capacity: 2 });
    const port = await first.listen(0, '127.0.0.1');
    const lookout = await start(`127.0.0.1:${port}`);
    const base = lookout.url;
    await until(async () => (await cam(base)).schedule.detected > 3, 30_000);

    await first.close();
    await until(async () => (await fetch(`${base}/readyz`)).status === 503, 15_000);
    await until(() => lookout.registry.modelState().state === 'open', 15_000);
    const body = (await (await fetch(`${base}/api/cameras`)).json()) as { model: { state: string; lastError: string } };
    expect(body.model.state).toBe('open');
    expect(body.model.lastError).toMatch(/UNAVAILABLE|connect|refused/i);
    expect((await cam(base)).state).toBe('streaming');

    // Back on the same port: detection resumes without anyone touching lookout.
    const second = new ModelServer({ model: 'synthetic', latencyMs: 5, capacity: 2 });
    await second.listen(port, '127.0.0.1');
    onCleanup(() => second.close());
    const detected = (await cam(base)).schedule.detected;
    await until(async () => (await cam(base)).schedule.detected > detected + 3, 30_000);
    await until(async () => (await fetch(`${base}/readyz`)).status === 200, 15_000);
    expect(lookout.registry.modelState().state).toBe('closed');
  }, 120_000);

  it('with a model 10 times slower, keeps memory bounded by dropping frames it cannot send, and counts them', async () => {
    const slow = new ModelServer({ model: 'synthetic', latencyMs: 1_000, capacity: 1 });
    const port = await slow.listen(0, '127.0.0.1');
    onCleanup(() => slow.close());
    const lookout = await start(`127.0.0.1:${port}`);
    const base = lookout.url;
    await until(async () => (await cam(base)).schedule.detected >= 2, 30_000);
    const rss0 = process.memoryUsage().rss;
    await until(async () => (await cam(base)).schedule.dropped.superseded > 20, 30_000);
    const c = await cam(base);
    // 5 fps offered, 1 answered a second: the rest is superseded, never queued.
    expect(c.schedule.dropped.superseded).toBeGreaterThan(c.schedule.detected);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
    expect(c.state).toBe('streaming');
  }, 120_000);
});
