// The client against servers that answer in each of TF Serving's encodings,
// and against a TF2-style export whose signature takes one image per call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { TfServingClient } from '../../src/tfserving/client.js';
import { tfServingProtos, SIGNATURE_DEF_MAP_TYPE_URL } from '../../src/tfserving/protos.js';
import { floatTensor, readNumericTensor } from '../../src/tfserving/tensor.js';
import { SYNTHETIC_DETECTIONS } from '../../src/modelserver/synthetic-detector.js';
import type { PredictRequest__Output } from '../../src/tfserving/generated/tensorflow/serving/PredictRequest.js';
import type { PredictResponse } from '../../src/tfserving/generated/tensorflow/serving/PredictResponse.js';
import type { GetModelMetadataResponse } from '../../src/tfserving/generated/tensorflow/serving/GetModelMetadataResponse.js';
import type { GetModelStatusResponse } from '../../src/tfserving/generated/tensorflow/serving/GetModelStatusResponse.js';
import type { TensorInfo } from '../../src/tfserving/generated/tensorflow/TensorInfo.js';
import { startModelServer, synthetic, type StartedServer } from '../helpers/servers.js';

const frame = (fill = 0) => ({ kind: 'rgb' as const, width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).fill(fill) });

describe('typed *_val answers and tensor_content answers', () => {
  let typed: StartedServer;
  let packed: StartedServer;
  beforeAll(async () => {
    typed = await startModelServer(synthetic());
    packed = await startModelServer(synthetic({ serializeAsTensorContent: true }));
  });
  afterAll(async () => {
    await typed.server.close();
    await packed.server.close();
  });

  it('the servers really answer in the two encodings', async () => {
    for (const [s, contentBytes, floatVals] of [[typed, 0, 100], [packed, 400, 0]] as const) {
      const c = new TfServingClient({ address: s.address, modelName: 'detector' });
      try {
        const r = await c.predict({ model_spec: { name: 'detector' }, inputs: { inputs: { dtype: 'DT_UINT8', tensor_shape: { dim: [{ size: 1 }, { size: 1 }, { size: 1 }, { size: 3 }] }, tensor_content: Buffer.alloc(3) } } });
        expect(r.outputs.detection_scores.tensor_content.length).toBe(contentBytes);
        expect(r.outputs.detection_scores.float_val.length).toBe(floatVals);
      } finally {
        c.close();
      }
    }
  });

  it('the client decodes both to the same detections, with labels and minScore', async () => {
    const results = [];
    for (const s of [typed, packed]) {
      const c = new TfServingClient({ address: s.address, modelName: 'detector', minScore: 0.5 });
      try {
        results.push((await c.detect([frame(), frame(1)])).detections);
      } finally {
        c.close();
      }
    }
    expect(results[0]).toEqual(results[1]);
    const expected = SYNTHETIC_DETECTIONS.filter((d) => d.score >= 0.5).map((d) => ({
      classId: d.classId, score: Math.fround(d.score), box: d.box.map(Math.fround),
    }));
    for (const perImage of results[0]) {
      expect(perImage.map(({ classId, score, box }) => ({ classId, score, box }))).toEqual(expected);
      expect(perImage.map((d) => d.label)).toEqual(['person', 'bottle']);
    }
  });
});

/**
 * A stand-in for a TF2 Object Detection API export on TF Serving: input
 * "input_tensor" DT_UINT8 [1,-1,-1,3], so one image per call. It answers each
 * image with one detection whose score is the image's first pixel / 255, so
 * the test can tell which answer belongs to which image.
 */
async function startTf2Server() {
  const calls: { batch: number; outputFilter: string[] }[] = [];
  const protos = tfServingProtos();
  const server = new grpc.Server();
  const info = (dtype: TensorInfo['dtype'], dims: number[]): TensorInfo => ({ dtype, tensor_shape: { dim: dims.map((size) => ({ size })) } });
  server.addService(protos.prediction.tensorflow.serving.PredictionService.service, {
    GetModelMetadata: (_call: grpc.ServerUnaryCall<unknown, GetModelMetadataResponse>, cb: grpc.sendUnaryData<GetModelMetadataResponse>) => {
      const map = protos.encodeSignatureDefMap({
        signature_def: {
          serving_default: {
            method_name: 'tensorflow/serving/predict',
            inputs: { input_tensor: info('DT_UINT8', [1, -1, -1, 3]) },
            outputs: {
              detection_boxes: info('DT_FLOAT', [1, 100, 4]),
              detection_scores: info('DT_FLOAT', [1, 100]),
              detection_classes: info('DT_FLOAT', [1, 100]),
              num_detections: info('DT_FLOAT', [1]),
              raw_detection_scores: info('DT_FLOAT', [1, -1, 91]),
            },
          },
        },
      });
      cb(null, { model_spec: { name: 'ssd', version: { value: 3 } }, metadata: { signature_def: { type_url: SIGNATURE_DEF_MAP_TYPE_URL, value: map } } });
    },
    Predict: (call: grpc.ServerUnaryCall<PredictRequest__Output, PredictResponse>, cb: grpc.sendUnaryData<PredictResponse>) => {
      const input = call.request.inputs.input_tensor;
      const pixels = readNumericTensor(input, 'input_tensor');
      calls.push({ batch: pixels.shape[0], outputFilter: call.request.output_filter });
      if (pixels.shape[0] !== 1) {
        cb({ code: grpc.status.INVALID_ARGUMENT, details: 'input_tensor batch must be 1' });
        return;
      }
      const score = pixels.values[0] / 255;
      cb(null, {
        model_spec: { name: 'ssd', version: { value: 3 }, signature_name: 'serving_default' },
        outputs: {
          detection_boxes: floatTensor([1, 1, 4], Float32Array.from([0.1, 0.1, 0.5, 0.5]), false),
          detection_scores: floatTensor([1, 1], Float32Array.from([score]), false),
          // Classes sent as tensor_content while the rest use float_val: a reader must take either per tensor.
          detection_classes: floatTensor([1, 1], Float32Array.from([3]), true),
          num_detections: floatTensor([1], Float32Array.from([1]), false),
        },
      });
    },
  });
  server.addService(protos.model.tensorflow.serving.ModelService.service, {
    GetModelStatus: (_call: grpc.ServerUnaryCall<unknown, GetModelStatusResponse>, cb: grpc.sendUnaryData<GetModelStatusResponse>) => {
      cb(null, { model_version_status: [{ version: 3, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { address: `127.0.0.1:${port}`, calls, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

describe('a TF2-style export (batch fixed at 1)', () => {
  it('sends several images as parallel single-image calls and keeps their order', async () => {
    const tf2 = await startTf2Server();
    const c = new TfServingClient({ address: tf2.address, modelName: 'ssd' });
    try {
      expect(await c.ready()).toBe(true);
      const sig = await c.signature();
      expect(sig).toMatchObject({ inputAlias: 'input_tensor', maxBatch: 1, modelVersion: 3 });
      const { detections, modelVersion } = await c.detect([frame(51), frame(102), frame(204)]);
      expect(modelVersion).toBe(3);
      expect(tf2.calls.map((x) => x.batch)).toEqual([1, 1, 1]);
      // Only the four outputs lookout reads are asked for, not raw_detection_scores.
      expect(tf2.calls[0].outputFilter).toEqual(['detection_boxes', 'detection_scores', 'detection_classes', 'num_detections']);
      expect(detections.map((d) => d[0].score)).toEqual([0.2, 0.4, 0.8].map(Math.fround));
      expect(detections[0][0]).toMatchObject({ classId: 3, label: 'car' });
    } finally {
      c.close();
      await tf2.close();
    }
  });
});
