// Every refusal of the embedded server carries TF Serving's status code and
// wording, and reaches the caller as a typed error keeping code and details.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { tfServingProtos } from '../../src/tfserving/protos.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import {
  CancelledError, DeadlineExceededError, InvalidRequestError, ModelNotFoundError, ServerBusyError,
  ServerError, ServerUnavailableError, TfServingError,
} from '../../src/tfserving/errors.js';
import { uint8Tensor, floatTensor } from '../../src/tfserving/tensor.js';
import type { PredictRequest } from '../../src/tfserving/generated/tensorflow/serving/PredictRequest.js';
import { startModelServer, synthetic, type StartedServer } from '../helpers/servers.js';

const frame = { kind: 'rgb' as const, width: 8, height: 6, data: new Uint8Array(8 * 6 * 3) };
const image = (n = 1) => uint8Tensor([n, 6, 8, 3], new Uint8Array(n * 8 * 6 * 3));

async function failure(p: Promise<unknown>): Promise<TfServingError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof TfServingError)) throw new Error(`expected a TfServingError, got ${String(err)}`);
  return err;
}

describe('embedded model server: errors as TF Serving gives them', () => {
  let s: StartedServer;
  let client: TfServingClient;
  const request = (extra: Partial<PredictRequest>): PredictRequest => ({
    model_spec: { name: 'detector' }, inputs: { inputs: image() }, ...extra,
  });

  beforeAll(async () => {
    s = await startModelServer(synthetic());
    client = new TfServingClient({ address: s.address, modelName: 'detector' });
  });
  afterAll(async () => {
    client.close();
    await s.server.close();
  });

  it('NOT_FOUND for an unknown model or version', async () => {
    const other = new TfServingClient({ address: s.address, modelName: 'nope' });
    const v7 = new TfServingClient({ address: s.address, modelName: 'detector', version: 7 });
    try {
      const e1 = await failure(other.predict(request({ model_spec: { name: 'nope' } })));
      expect(e1).toBeInstanceOf(ModelNotFoundError);
      expect(e1.code).toBe(grpc.status.NOT_FOUND);
      expect(e1.details).toBe('Servable not found for request: Latest(nope)');
      const e2 = await failure(v7.detect([frame]));
      expect(e2).toBeInstanceOf(ModelNotFoundError);
      expect(e2.details).toBe('Servable not found for request: Specific(detector, 7)');
      const e3 = await failure(other.modelStatus());
      expect(e3.details).toBe('Could not find any versions of model nope');
      const e4 = await failure(v7.modelStatus());
      expect(e4.details).toBe('Could not find version 7 of model detector');
      expect(await other.ready()).toBe(false);
    } finally {
      other.close();
      v7.close();
    }
  });

  it('INVALID_ARGUMENT for a missing name or an unknown version label', async () => {
    const e1 = await failure(client.predict(request({ model_spec: { name: '' } })));
    expect(e1).toBeInstanceOf(InvalidRequestError);
    expect(e1.details).toBe('ModelSpec has no name specified.');
    const e2 = await failure(client.predict(request({ model_spec: { name: 'detector', version_label: 'canary' } })));
    expect(e2.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e2.details).toBe('Unrecognized servable version label: canary');
  });

  it('FAILED_PRECONDITION for an unknown signature', async () => {
    const e = await failure(client.predict(request({ model_spec: { name: 'detector', signature_name: 'nope' } })));
    expect(e.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(e.details).toBe('Serving signature key "nope" not found.');
    const c = new TfServingClient({ address: s.address, modelName: 'detector', signatureName: 'nope' });
    try {
      const e2 = await failure(c.detect([frame]));
      expect(e2.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(e2.details).toMatch(/The model has: serving_default, serving_encoded_image/);
    } finally {
      c.close();
    }
  });

  it('INVALID_ARGUMENT for a bad dtype, shape, alias, size or output filter', async () => {
    const cases: [Partial<PredictRequest>, RegExp][] = [
      [{ inputs: { inputs: floatTensor([1, 6, 8, 3], new Float32Array(144), true) } }, /Expects arg\[0\] to be uint8 but float is provided/],
      [{ inputs: { inputs: uint8Tensor([6, 8, 3], new Uint8Array(144)) } }, /must have shape \[batch, height, width, 3\]; got \[6,8,3\]/],
      [{ inputs: { inputs: uint8Tensor([1, 6, 8, 4], new Uint8Array(192)) } }, /got \[1,6,8,4\]/],
      [{ inputs: { images: image() } }, /input size does not match signature: 1!=1 len\(\{images\}\) != len\(\{inputs\}\)\. Sent extra: \{images\}\. Missing but required: \{inputs\}/],
      [{ inputs: {} }, /Signature input alias: inputs not found in request/],
      [{ inputs: { inputs: image(), extra: image() } }, /Sent extra: \{extra\}/],
      [{ inputs: { inputs: { dtype: 'DT_UINT8', tensor_shape: { dim: [{ size: 1 }, { size: 6 }, { size: 8 }, { size: 3 }] }, tensor_content: Buffer.alloc(10) } } }, /tensor parsing error: inputs \(tensor_content has 10 bytes; shape \[1,6,8,3\] needs 144\)/],
      [{ inputs: { inputs: uint8Tensor([0, 6, 8, 3], new Uint8Array(0)) } }, /the batch dimension is 0/],
      [{ inputs: { inputs: uint8Tensor([1, 1, 9000, 3], new Uint8Array(27000)) } }, /image size 9000x1 is outside 1..8192/],
      [{ output_filter: ['detection_masks'] }, /output tensor alias not found in signature: detection_masks/],
      [{ output_filter: ['detection_boxes', 'detection_boxes'] }, /duplicate output tensor alias: detection_boxes/],
    ];
    for (const [extra, message] of cases) {
      const e = await failure(client.predict(request(extra)));
      expect(e, String(message)).toBeInstanceOf(InvalidRequestError);
      expect(e.code, String(message)).toBe(grpc.status.INVALID_ARGUMENT);
      expect(e.details).toMatch(message);
    }
  });

  it('refuses a tiny request that claims a huge image before expanding it', async () => {
    const e = await failure(client.predict(request({
      inputs: { inputs: { dtype: 'DT_UINT8', tensor_shape: { dim: [{ size: 4 }, { size: 8192 }, { size: 8192 }, { size: 3 }] }, int_val: [7] } },
    })));
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/is 805306368 bytes; this server takes at most 268435456 per request/);
  });

  it('accepts uint8 pixels sent one per int_val, as a naive client sends them', async () => {
    const response = await client.predict(request({
      inputs: { inputs: { dtype: 'DT_UINT8', tensor_shape: { dim: [{ size: 1 }, { size: 2 }, { size: 2 }, { size: 3 }] }, int_val: new Array(12).fill(128) } },
      output_filter: ['num_detections'],
    }));
    expect(Object.keys(response.outputs)).toEqual(['num_detections']);
    expect(response.outputs.num_detections.float_val).toEqual([3]);
    expect(response.model_spec).toMatchObject({ name: 'detector', version: { value: 1 }, signature_name: 'serving_default' });
    // A shorter list repeats its last value, as TensorFlow reads it.
    const short = await client.predict(request({
      inputs: { inputs: { dtype: 'DT_UINT8', tensor_shape: { dim: [{ size: 1 }, { size: 2 }, { size: 2 }, { size: 3 }] }, int_val: [1, 2, 3] } },
      output_filter: ['num_detections'],
    }));
    expect(short.outputs.num_detections.float_val).toEqual([3]);
  });

  it('GetModelMetadata refuses what TF Serving refuses', async () => {
    const raw = new grpc.Client(s.address, grpc.credentials.createInsecure());
    const { tfServingProtos } = await import('../../src/tfserving/protos.js');
    const def = tfServingProtos().prediction.tensorflow.serving.PredictionService.service.GetModelMetadata;
    const call = (req: object) => new Promise<grpc.ServiceError>((resolve, reject) => {
      raw.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, req, (err) => (err ? resolve(err) : reject(new Error('expected an error'))));
    });
    try {
      expect((await call({ metadata_field: ['signature_def'] })).details).toBe('Missing ModelSpec');
      expect((await call({ model_spec: { name: 'detector' } })).details).toMatch(/must specify at least one metadata_field/);
      const e = await call({ model_spec: { name: 'detector' }, metadata_field: ['labels'] });
      expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(e.details).toBe('Metadata field labels is not supported');
    } finally {
      raw.close();
    }
  });

  it('answers Classify, Regress and MultiInference as TF Serving does for a detector (a predict signature only)', async () => {
    const Service = tfServingProtos().prediction.tensorflow.serving.PredictionService;
    const raw = new Service(s.address, grpc.credentials.createInsecure());
    type Answer = { code: number; details: string };
    const ask = (method: 'Classify' | 'Regress' | 'MultiInference', request: object) => new Promise<Answer>((resolve) => {
      (raw[method] as (r: object, cb: (e: grpc.ServiceError | null) => void) => void).call(raw, request, (e) => resolve({ code: e?.code ?? 0, details: e?.details ?? '' }));
    });
    const input = { example_list: { examples: [{ features: { feature: { x: { float_list: { value: [1] } } } } }] } };
    try {
      // The detector's signature has one input and four outputs: TF Serving's pre-processing refuses them (the method-name check is off by default).
      expect(await ask('Classify', { model_spec: { name: 'detector' }, input })).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'Expected one or two output Tensors, found 4' });
      expect(await ask('Regress', { model_spec: { name: 'detector' }, input })).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'Expected one output Tensor.' });
      expect(await ask('Classify', { model_spec: { name: 'detector', signature_name: 'nosuch' }, input })).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'No signature was found with the name: nosuch' });
      expect(await ask('Classify', { model_spec: { name: 'other' }, input })).toEqual({ code: grpc.status.NOT_FOUND, details: 'Servable not found for request: Latest(other)' });
      expect(await ask('Classify', { input })).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'Missing ModelSpec' });
      // MultiInference: the first task's model looked up, then that task fails (signature, method, outputs) before any other is read.
      expect(await ask('MultiInference', { tasks: [{ model_spec: { name: 'nosuch' }, method_name: 'x' }], input })).toEqual({ code: grpc.status.NOT_FOUND, details: 'Servable not found for request: Latest(nosuch)' });
      expect(await ask('MultiInference', { tasks: [], input })).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'ModelSpec has no name specified.' });
      expect(await ask('MultiInference', { tasks: [{ model_spec: { name: 'detector', signature_name: 'foo' }, method_name: 'tensorflow/serving/classify' }], input }))
        .toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'Requested signature not found in model graph: foo' });
      expect(await ask('MultiInference', { tasks: [{ model_spec: { name: 'detector' }, method_name: 'tensorflow/serving/predict' }], input }))
        .toEqual({ code: grpc.status.UNIMPLEMENTED, details: 'Unsupported signature method_name: tensorflow/serving/predict' });
      expect(await ask('MultiInference', { tasks: [{ model_spec: { name: 'detector' }, method_name: 'tensorflow/serving/classify' }, { model_spec: { name: 'other' }, method_name: 'tensorflow/serving/regress' }], input }))
        .toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'Expected one or two output Tensors, found 4' });
    } finally {
      raw.close();
    }
  });
});

describe('load, deadlines and cancellation', () => {
  it('RESOURCE_EXHAUSTED when the queue is full, at once rather than after a wait', async () => {
    const s = await startModelServer(synthetic({ latencyMs: 400, capacity: 1, maxQueue: 0 }));
    const c = new TfServingClient({ address: s.address, modelName: 'detector' });
    try {
      await c.signature();
      let firstDone = false;
      const first = c.detect([frame]).finally(() => { firstDone = true; });
      await new Promise((r) => setTimeout(r, 50));
      const e = await failure(c.detect([frame]));
      // Refused while the first request still runs: the second never waited its turn.
      expect(firstDone).toBe(false);
      expect(e).toBeInstanceOf(ServerBusyError);
      expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(e.retryable).toBe(true);
      expect(e.details).toMatch(/inference queue is full/);
      await expect(first).resolves.toBeDefined();
      expect(s.server.stats().rejected).toBe(1);
    } finally {
      c.close();
      await s.server.close();
    }
  });

  it('DEADLINE_EXCEEDED when the model is slower than the deadline', async () => {
    const s = await startModelServer(synthetic({ latencyMs: 2_000, capacity: 1 }));
    const c = new TfServingClient({ address: s.address, modelName: 'detector', deadlineMs: 150 });
    try {
      const e = await failure(c.detect([frame]));
      expect(e).toBeInstanceOf(DeadlineExceededError);
      expect(e.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(e.method).toBe('Predict');
    } finally {
      c.close();
      await s.server.close();
    }
  });

  it('an aborted call fails with CANCELLED, and a queued one is never computed', async () => {
    const s = await startModelServer(synthetic({ latencyMs: 300, capacity: 1 }));
    const c = new TfServingClient({ address: s.address, modelName: 'detector' });
    try {
      await c.signature();
      const running = c.detect([frame]);
      const controller = new AbortController();
      const queued = c.detect([frame], { signal: controller.signal });
      await new Promise((r) => setTimeout(r, 50));
      controller.abort();
      const e = await failure(queued);
      expect(e).toBeInstanceOf(CancelledError);
      await running;
      // The server learns of the cancel through gRPC; give it a moment to reach the queue.
      for (let i = 0; i < 50 && s.server.stats().cancelled === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(s.server.stats()).toMatchObject({ running: 0, waiting: 0, completed: 1, cancelled: 1 });
    } finally {
      c.close();
      await s.server.close();
    }
  });

  it('one caller giving up does not cancel the signature lookup the others share', async () => {
    const s = await startModelServer(synthetic({ latencyMs: 1 }));
    const c = new TfServingClient({ address: s.address, modelName: 'detector' });
    try {
      const controller = new AbortController();
      const quitter = c.detect([frame], { signal: controller.signal });
      const patient = c.detect([frame]);
      controller.abort();
      expect(await failure(quitter)).toBeInstanceOf(CancelledError);
      expect((await patient).detections[0]).toHaveLength(3);
    } finally {
      c.close();
      await s.server.close();
    }
  });

  it('close() during start-up leaves nothing bound or running', async () => {
    const { ModelServer } = await import('../../src/modelserver/server.js');
    // Closed while binding: listen fails, the port is released.
    const early = new ModelServer({ model: 'synthetic' });
    const listening = early.listen(0, '127.0.0.1').then(() => 'listened', (e: unknown) => e);
    await early.close();
    expect(await listening).toBeInstanceOf(TfServingError);
    // Closed while the real model loads: no load failure is reported, loaded rejects as closed.
    const logged: string[] = [];
    const loading = new ModelServer({ workers: 1, log: (line) => logged.push(line) });
    const port = await loading.listen(0, '127.0.0.1');
    const outcome = loading.loaded.then(() => 'loaded', (e: Error) => e.message);
    await Promise.all([loading.close(), loading.close()]);
    expect(await outcome).toMatch(/model server closed/);
    expect(loading.modelState).toMatchObject({ state: 'END' });
    expect(loading.modelState.error).toBeUndefined();
    expect(logged).toEqual([]);
    const probe = new TfServingClient({ address: `127.0.0.1:${port}`, modelName: 'detector', deadlineMs: 1_000 });
    try {
      expect(await failure(probe.modelStatus())).toBeInstanceOf(ServerUnavailableError);
    } finally {
      probe.close();
    }
  });

  it('UNAVAILABLE when nothing listens at the address', async () => {
    const s = await startModelServer(synthetic());
    const address = s.address;
    await s.server.close();
    const c = new TfServingClient({ address, modelName: 'detector', deadlineMs: 2_000 });
    try {
      const e = await failure(c.modelStatus());
      expect(e).toBeInstanceOf(ServerUnavailableError);
      expect(e.code).toBe(grpc.status.UNAVAILABLE);
      expect(await c.ready()).toBe(false);
    } finally {
      c.close();
    }
  });

  it('a closed client refuses calls instead of hanging', async () => {
    const s = await startModelServer(synthetic());
    const c = new TfServingClient({ address: s.address, modelName: 'detector' });
    c.close();
    c.close();
    const e = await failure(c.modelStatus());
    expect(e).toBeInstanceOf(CancelledError);
    expect(e.code).toBe(grpc.status.CANCELLED);
    await s.server.close();
  });
});
