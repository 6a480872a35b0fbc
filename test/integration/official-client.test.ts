// Proves that a gRPC client written only from the official TF Serving protos
// gets correct detections from `lookout model-server`.
//
// The client (test/helpers/facts-client.ts) is built from the official wire
// facts alone and never sees protos/ or src/tfserving/, so any drift in the
// server's field numbers, types, packing, enum values or method paths shows up
// here as garbage or a failed call, even where the server's own client would
// happily agree with it. Outputs are decoded by hand from the raw tensors, as
// a third-party client would, rather than with lookout's tensor helpers.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseModelServerConfig } from '../../src/modelserver/model-config-file.js';
import { ModelServer } from '../../src/modelserver/server.js';
import { decodeFrame, BOTTLE_CLIP, PERSON_CLIP } from '../helpers/media.js';
import { factsClient, SIGNATURE_DEF_MAP_TYPE_URL, type FactsClient, type Message } from '../helpers/facts-client.js';

// COCO label-map ids (what TF Object Detection API models report).
const COCO_PERSON = 1;
const COCO_BOTTLE = 44;
const MIN_SCORE = 0.3;

// gRPC status codes (numerically the same as tensorflow.error.Code in the facts).
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

// ---- Narrowing helpers: responses arrive as unknown-shaped objects ----

function rec(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: expected an object, got ${String(value)}`);
  return value as Record<string, unknown>;
}

function arr(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected an array, got ${String(value)}`);
  return value;
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new Error(`${what}: expected a number, got ${String(value)}`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: expected a string, got ${String(value)}`);
  return value;
}

/** The dims of a TensorShapeProto (int64 sizes arrive as numbers: toObject uses longs: Number). */
function dims(shape: unknown, what: string): number[] {
  return arr(rec(shape, what).dim, `${what}.dim`).map((d, i) => num(rec(d, `${what}.dim[${i}]`).size, `${what}.dim[${i}].size`));
}

// ---- Requests and hand decoding ----

interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A PredictRequest carrying one RGB frame as DT_UINT8 [1, H, W, 3] in tensor_content. */
function imageRequest(frame: RgbFrame, spec: { name?: string; signature_name?: string; version_label?: string; version?: { value: number } } = {}): Message {
  return {
    model_spec: { ...spec, name: spec.name ?? 'detector', signature_name: spec.signature_name ?? 'serving_default' },
    inputs: {
      inputs: {
        dtype: 'DT_UINT8',
        tensor_shape: { dim: [{ size: 1 }, { size: frame.height }, { size: frame.width }, { size: 3 }] },
        tensor_content: frame.data,
      },
    },
  };
}

interface Detection {
  /** [ymin, xmin, ymax, xmax], normalised to the frame, as the TF OD API returns them. */
  box: number[];
  score: number;
  classId: number;
}

/**
 * A float output tensor, read from float_val (the server answers with typed
 * *_val fields by default, as TF Serving does unless started with
 * serialize_as_tensor_content), checked against its declared shape.
 */
function floatOutput(outputs: Record<string, unknown>, alias: string): { shape: number[]; values: number[] } {
  const tensor = rec(outputs[alias], `outputs.${alias}`);
  expect(tensor.dtype, `${alias} dtype`).toBe('DT_FLOAT');
  const values = arr(tensor.float_val, `${alias}.float_val`).map((v, i) => num(v, `${alias}.float_val[${i}]`));
  const shape = dims(tensor.tensor_shape, `${alias}.tensor_shape`);
  expect(values.length, `${alias}: float_val length matches shape [${shape.join(',')}]`).toBe(shape.reduce((a, b) => a * b, 1));
  return { shape, values };
}

/** The first num_detections rows of a one-image PredictResponse. */
function detectionsOf(response: Message): Detection[] {
  const outputs = rec(response.outputs, 'outputs');
  const count = floatOutput(outputs, 'num_detections');
  const boxes = floatOutput(outputs, 'detection_boxes');
  const scores = floatOutput(outputs, 'detection_scores');
  const classes = floatOutput(outputs, 'detection_classes');
  expect(count.shape).toEqual([1]);
  const rows = scores.shape[1];
  expect(boxes.shape).toEqual([1, rows, 4]);
  expect(classes.shape).toEqual([1, rows]);
  const n = count.values[0];
  expect(Number.isInteger(n) && n >= 0 && n <= rows, `num_detections ${n} within 0..${rows}`).toBe(true);
  return Array.from({ length: n }, (_, i) => ({
    box: boxes.values.slice(i * 4, i * 4 + 4),
    score: scores.values[i],
    classId: classes.values[i],
  }));
}

/** Every box must be a real, normalised rectangle. */
function expectSaneBoxes(found: Detection[]): void {
  for (const { box } of found) {
    const [ymin, xmin, ymax, xmax] = box;
    for (const v of box) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(ymin).toBeLessThan(ymax);
    expect(xmin).toBeLessThan(xmax);
  }
}

/** The gRPC status code a call failed with (and fails the test if it succeeded). */
async function failureCode(call: Promise<Message>): Promise<number> {
  const err: unknown = await call.then(
    () => new Error('call succeeded, expected it to fail'),
    (e: unknown) => e,
  );
  return num(rec(err, 'error').code, 'error.code');
}

// ---- The tests ----

describe('a client built only from the official TF Serving wire facts', () => {
  let server: ModelServer;
  let client: FactsClient;

  // The real CenterNet loads in a worker thread; allow for a slow machine.
  beforeAll(async () => {
    server = new ModelServer({ workers: 1 });
    const port = await server.listen(0, '127.0.0.1');
    await server.loaded;
    client = factsClient(`127.0.0.1:${port}`);
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('is built from the facts, leaving out only the unexpanded TypeSpecProto', () => {
    // Guards the premise: if the client silently lost fields, the tests below could pass for the wrong reason.
    expect(client.skipped).toEqual(['tensorflow.TensorInfo.CompositeTensor.type_spec (tensorflow.TypeSpecProto)']);
    const tensor = client.root.lookupType('tensorflow.TensorProto');
    expect(tensor.fields.float_val.id).toBe(5);
    expect(tensor.fields.float_val.packed).toBe(true);
    expect(client.root.lookupEnum('tensorflow.serving.ModelVersionStatus.State').values.AVAILABLE).toBe(30);
  });

  it('GetModelStatus reports version 1 AVAILABLE', async () => {
    const response = await client.getModelStatus({ model_spec: { name: 'detector' } });
    const statuses = arr(response.model_version_status, 'model_version_status');
    expect(statuses).toHaveLength(1);
    const status = rec(statuses[0], 'model_version_status[0]');
    expect(status.version).toBe(1);
    expect(status.state).toBe('AVAILABLE');
    expect(rec(status.status, 'status').error_code).toBe('OK');
  });

  it('GetModelMetadata returns the detection SignatureDefMap in an Any', async () => {
    const response = await client.getModelMetadata({ model_spec: { name: 'detector' }, metadata_field: ['signature_def'] });
    const spec = rec(response.model_spec, 'model_spec');
    expect(spec.name).toBe('detector');
    expect(rec(spec.version, 'model_spec.version').value).toBe(1);

    const any = rec(rec(response.metadata, 'metadata').signature_def, 'metadata.signature_def');
    expect(any.type_url).toBe(SIGNATURE_DEF_MAP_TYPE_URL);
    const signatures = rec(client.decodeSignatureDefMap(any).signature_def, 'signature_def');
    const serving = rec(signatures.serving_default, 'serving_default');
    expect(serving.method_name).toBe('tensorflow/serving/predict');

    const input = rec(rec(serving.inputs, 'inputs').inputs, 'inputs.inputs');
    expect(input.dtype).toBe('DT_UINT8');
    expect(dims(input.tensor_shape, 'inputs.tensor_shape')).toEqual([-1, -1, -1, 3]);

    const outputs = rec(serving.outputs, 'outputs');
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['detection_boxes', 'detection_scores', 'detection_classes', 'num_detections']),
    );
    for (const [alias, info] of Object.entries(outputs)) expect(rec(info, alias).dtype, alias).toBe('DT_FLOAT');
  });

  it('Predict finds the bottles in a bottle frame', async () => {
    const frame = decodeFrame(BOTTLE_CLIP, 0);
    const response = await client.predict(imageRequest(frame));
    expect(str(rec(response.model_spec, 'model_spec').signature_name, 'signature_name')).toBe('serving_default');
    const found = detectionsOf(response);
    const bottles = found.filter((d) => d.classId === COCO_BOTTLE && d.score >= MIN_SCORE);
    expect(bottles.length, JSON.stringify(found.slice(0, 10))).toBeGreaterThanOrEqual(2);
    expectSaneBoxes(found);
  });

  it('Predict finds the person in a person frame', async () => {
    const frame = decodeFrame(PERSON_CLIP, 100);
    const found = detectionsOf(await client.predict(imageRequest(frame)));
    const people = found.filter((d) => d.classId === COCO_PERSON && d.score >= MIN_SCORE);
    expect(people.length, JSON.stringify(found.slice(0, 10))).toBeGreaterThanOrEqual(1);
    expectSaneBoxes(found);
  });

  it('fails with the status codes TF Serving uses', async () => {
    // Errors are checked before the image is looked at, so a tiny frame will do.
    const tiny: RgbFrame = { width: 2, height: 2, data: Buffer.alloc(2 * 2 * 3) };
    expect(await failureCode(client.predict(imageRequest(tiny, { name: 'nope' })))).toBe(NOT_FOUND);
    expect(await failureCode(client.predict(imageRequest(tiny, { signature_name: 'nope' })))).toBe(FAILED_PRECONDITION);

    const floatInput: Message = {
      model_spec: { name: 'detector', signature_name: 'serving_default' },
      inputs: {
        inputs: {
          dtype: 'DT_FLOAT',
          tensor_shape: { dim: [{ size: 1 }, { size: 2 }, { size: 2 }, { size: 3 }] },
          float_val: new Array<number>(12).fill(0.5),
        },
      },
    };
    expect(await failureCode(client.predict(floatInput))).toBe(INVALID_ARGUMENT);
  });
});

/** Version folders of the synthetic platform under a temporary base path (the model config file's own test covers the rest). */
function syntheticVersions(versions: number[]): string {
  const base = mkdtempSync(path.join(os.tmpdir(), 'lookout-facts-models-'));
  for (const v of versions) {
    mkdirSync(path.join(base, String(v)));
    writeFileSync(path.join(base, String(v), 'synthetic.json'), '{"latencyMs": 1, "capacity": 2}');
  }
  return base;
}

describe('a client built from the facts alone, against lookout model-server with a model config', () => {
  let server: ModelServer;
  let client: FactsClient;
  let base: string;
  const tiny: RgbFrame = { width: 2, height: 2, data: Buffer.alloc(2 * 2 * 3) };
  const versionOf = (response: Message) => num(rec(rec(response.model_spec, 'model_spec').version, 'model_spec.version').value, 'version');

  beforeAll(async () => {
    base = syntheticVersions([1, 2]);
    const config = parseModelServerConfig(`model_config_list { config { name: "people" base_path: "${base}" model_platform: "synthetic"
      model_version_policy { all {} } version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 } } }`);
    server = new ModelServer({ modelConfig: { config }, fileSystemPollSeconds: 0.2 });
    const port = await server.listen(0, '127.0.0.1');
    await server.loaded;
    client = factsClient(`127.0.0.1:${port}`);
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('routes Predict by version_label and by version, and GetModelStatus lists every version, highest first', async () => {
    expect(versionOf(await client.predict(imageRequest(tiny, { name: 'people', version_label: 'stable' })))).toBe(1);
    expect(versionOf(await client.predict(imageRequest(tiny, { name: 'people', version_label: 'canary' })))).toBe(2);
    expect(versionOf(await client.predict(imageRequest(tiny, { name: 'people', version: { value: 1 } })))).toBe(1);
    expect(versionOf(await client.predict(imageRequest(tiny, { name: 'people' })))).toBe(2);
    expect(await failureCode(client.predict(imageRequest(tiny, { name: 'people', version_label: 'beta' })))).toBe(INVALID_ARGUMENT);
    const statuses = arr((await client.getModelStatus({ model_spec: { name: 'people' } })).model_version_status, 'model_version_status');
    expect(statuses.map((s) => [rec(s, 'status').version, rec(s, 'status').state])).toEqual([[2, 'AVAILABLE'], [1, 'AVAILABLE']]);
  });

  it('HandleReloadConfigRequest moves a label, answering OK, and refuses a relative base path with INVALID_ARGUMENT', async () => {
    const people = { name: 'people', base_path: base, model_platform: 'synthetic', model_version_policy: { all: {} } };
    const moved = await client.handleReloadConfigRequest({ config: { model_config_list: { config: [{ ...people, version_labels: { stable: 2 } }] } } });
    expect(rec(moved.status, 'status').error_code).toBe('OK');
    expect(versionOf(await client.predict(imageRequest(tiny, { name: 'people', version_label: 'stable' })))).toBe(2);
    expect(await failureCode(client.handleReloadConfigRequest({ config: { model_config_list: { config: [{ ...people, base_path: 'people' }] } } }))).toBe(INVALID_ARGUMENT);
  });
});

