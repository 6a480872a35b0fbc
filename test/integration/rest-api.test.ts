// TF Serving's REST API on the embedded model server, spoken by a plain fetch
// with TF Serving's JSON shapes against real servers on free ports: the same
// answers and the same errors as gRPC, and its limits, queue and deadline as
// both fetch and lookout's RestTfServingClient meet them.
// (rest-client.test.ts has the client against it: detections, errors, the CLI flag.)
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODIES, MAX_BODY_BYTES } from '../../src/modelserver/rest-api.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import { RestTfServingClient } from '../../src/tfserving/rest-client.js';
import { CancelledError, DeadlineExceededError, ServerBusyError } from '../../src/tfserving/errors.js';
import { BOTTLE_CLIP, decodeFrameJpeg } from '../helpers/media.js';
import { startModelServer, synthetic, type StartedServer } from '../helpers/servers.js';
import { call, failure, nested, tiny, type Json } from '../helpers/tf-rest.js';

const f32 = Math.fround;

describe('REST API of the embedded server, synthetic model', () => {
  let s: StartedServer;
  let base: string;

  beforeAll(async () => {
    s = await startModelServer(synthetic());
    const port = await s.server.listenRest(0, '127.0.0.1');
    expect(s.server.restPort).toBe(port);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await s?.server.close();
  });

  it('answers model status as GetModelStatusResponse in protobuf JSON', async () => {
    const expected = { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] };
    const all = await call(base, 'GET', '/v1/models/detector');
    expect(all.status).toBe(200);
    expect(all.type).toBe('application/json');
    expect(all.json).toEqual(expected);
    expect((await call(base, 'GET', '/v1/models/detector/versions/1')).json).toEqual(expected);
    expect(await call(base, 'GET', '/v1/models/detector/versions/2')).toMatchObject({ status: 404, json: { error: 'Could not find version 2 of model detector' } });
    expect(await call(base, 'GET', '/v1/models/nope')).toMatchObject({ status: 404, json: { error: 'Could not find any versions of model nope' } });
    // GetModelStatus ignores version_label (PARITY §2.3): a status GET through /labels/L answers for every version, known label or not.
    expect(await call(base, 'GET', '/v1/models/detector/labels/stable')).toMatchObject({ status: 200, json: expected });
    expect(await call(base, 'GET', '/v1/models')).toMatchObject({ status: 400, json: { error: 'Missing model name in request.' } });
  });

  it('answers metadata with the SignatureDefMap in protobuf JSON (dtype names, sizes as strings)', async () => {
    const { status, json } = await call(base, 'GET', '/v1/models/detector/metadata');
    expect(status).toBe(200);
    expect(json.model_spec).toEqual({ name: 'detector', signature_name: '', version: '1' });
    const defs = ((json.metadata as Json).signature_def as Json).signature_def as Record<string, Json>;
    expect(Object.keys(defs).sort()).toEqual(['serving_default', 'serving_encoded_image']);
    const dims = (...sizes: string[]) => ({ dim: sizes.map((size) => ({ size, name: '' })), unknown_rank: false });
    expect(defs.serving_default.inputs).toEqual({ inputs: { dtype: 'DT_UINT8', tensor_shape: dims('-1', '-1', '-1', '3'), name: 'image_tensor:0' } });
    expect(defs.serving_encoded_image.inputs).toEqual({ inputs: { dtype: 'DT_STRING', tensor_shape: dims('-1'), name: 'encoded_image_string_tensor:0' } });
    expect(defs.serving_default.method_name).toBe('tensorflow/serving/predict');
    expect((defs.serving_default.outputs as Json).detection_boxes).toEqual({ dtype: 'DT_FLOAT', tensor_shape: dims('-1', '100', '4'), name: 'detection_boxes:0' });
    expect((defs.serving_default.outputs as Json).num_detections).toEqual({ dtype: 'DT_FLOAT', tensor_shape: dims('-1'), name: 'num_detections:0' });
    expect(await call(base, 'GET', '/v1/models/detector/versions/3/metadata')).toMatchObject({ status: 404, json: { error: 'Servable not found for request: Specific(detector, 3)' } });
  });

  it('predicts in row format from nested uint8 lists: one object per image with every output', async () => {
    const body = JSON.stringify({ signature_name: 'serving_default', instances: [nested(tiny), nested(tiny)] });
    const { status, json, text } = await call(base, 'POST', '/v1/models/detector:predict', body);
    expect(status).toBe(200);
    const rows = json.predictions as Array<Record<string, number[] | number[][] | number>>;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['detection_boxes', 'detection_classes', 'detection_scores', 'num_detections']);
      expect(row.num_detections).toBe(3);
      expect((row.detection_classes as number[]).slice(0, 4)).toEqual([1, 44, 62, 0]);
      expect((row.detection_scores as number[]).slice(0, 3).map(f32)).toEqual([0.9, 0.75, 0.35].map(f32));
      expect((row.detection_boxes as number[][])[1].map(f32)).toEqual([0.4, 0.55, 0.85, 0.7].map(f32));
      expect(row.detection_boxes).toHaveLength(100);
    }
    // Floats as TF Serving writes them: shortest float32 form, ".0" on whole numbers.
    expect(text).toContain('"num_detections":3.0');
    expect(text).toContain('[0.1,0.1,0.9,0.4]');
  });

  it('predicts in columnar format from b64 JPEG on serving_encoded_image, and from a named input', async () => {
    const jpeg = decodeFrameJpeg(BOTTLE_CLIP, 0).toString('base64');
    const columnar = await call(base, 'POST', '/v1/models/detector/versions/1:predict', JSON.stringify({ signature_name: 'serving_encoded_image', inputs: [{ b64: jpeg }, { b64: jpeg }, { b64: jpeg }] }));
    expect(columnar.status).toBe(200);
    const outputs = columnar.json.outputs as Record<string, unknown[]>;
    expect(outputs.num_detections).toEqual([3, 3, 3]);
    expect(outputs.detection_scores).toHaveLength(3);
    expect(outputs.detection_boxes[2]).toHaveLength(100);
    const named = await call(base, 'POST', '/v1/models/detector:predict', JSON.stringify({ signature_name: 'serving_encoded_image', inputs: { inputs: [{ b64: jpeg }] } }));
    expect((named.json.outputs as Json).num_detections).toEqual([3]);
    const namedRows = await call(base, 'POST', '/v1/models/detector:predict', JSON.stringify({ instances: [{ inputs: nested(tiny) }] }));
    expect((namedRows.json.predictions as Json[])[0].num_detections).toBe(3);
  });

  it.each([
    ['unknown model', '/v1/models/nope:predict', '{"instances": [[[[1,2,3]]]]}', 404, 'Servable not found for request: Latest(nope)'],
    ['unknown version', '/v1/models/detector/versions/7:predict', '{"instances": [[[[1,2,3]]]]}', 404, 'Servable not found for request: Specific(detector, 7)'],
    ['unknown label', '/v1/models/detector/labels/canary:predict', '{"instances": [[[[1,2,3]]]]}', 400, 'Unrecognized servable version label: canary'],
    ['unknown signature', '/v1/models/detector:predict', '{"signature_name": "nope", "instances": [1]}', 400, 'Serving signature name: "nope" not found in signature def'],
    ['bad JSON', '/v1/models/detector:predict', '{"instances": [1, 2', 400, "JSON Parse error: Missing a comma or ']' after an array element. at offset: 19"],
    ['empty body', '/v1/models/detector:predict', '', 400, 'JSON Parse error: The document is empty'],
    ['no tensor', '/v1/models/detector:predict', '{"signature_name": "serving_default"}', 400, "Missing 'inputs' or 'instances' key"],
    ['string for uint8', '/v1/models/detector:predict', '{"instances": [[[["a", 2, 3]]]]}', 400,
      `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "a" Type: String is not of expected type: uint8 (input inputs)`],
    ['b64 for uint8', '/v1/models/detector:predict', '{"inputs": [{"b64": "AQID"}]}', 400, 'JSON Value: {"b64": "AQID"} Type: Object is not of expected type: uint8 (input inputs)'],
    ['number for string', '/v1/models/detector:predict', '{"signature_name": "serving_encoded_image", "instances": [7]}', 400,
      `Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 7 Type: Number is not of expected type: string (input inputs)`],
    ['no channel axis', '/v1/models/detector:predict', '{"instances": [[[1, 2], [3, 4]]]}', 400, 'inputs must have shape [batch, height, width, 3]; got [1,2,2]'],
    ['undecodable image', '/v1/models/detector:predict', '{"signature_name": "serving_encoded_image", "instances": [{"b64": "AQID"}]}', 400, 'inputs[0]: cannot decode image: '],
    ['uppercase verb', '/v1/models/detector:PREDICT', '{}', 400, 'Malformed request: POST /v1/models/detector:PREDICT'],
    ['classify on a detector', '/v1/models/detector:classify', '{"examples": []}', 400, 'Expected one or two output Tensors, found 4'],
    ['regress on an unknown model', '/v1/models/other:regress', '{"examples": []}', 404, 'Servable not found for request: Latest(other)'],
    ['classify naming a signature the model lacks', '/v1/models/detector:classify', '{"signature_name": "nope", "examples": []}', 400, 'No signature was found with the name: nope'],
    ['regress with an empty body, before the model is looked up', '/v1/models/other:regress', '', 400, 'JSON Parse error: The document is empty'],
  ])('refuses %s with TF Serving\'s status and message', async (_what, path, body, status, message) => {
    const answer = await call(base, 'POST', path, body);
    expect(answer.status).toBe(status);
    expect(answer.type).toBe('application/json');
    expect(answer.json.error).toEqual(expect.stringContaining(message));
    if (!message.endsWith(': ')) expect(answer.json.error).toBe(message);
  });

  it('answers 404 outside /v1 and 400 for a GET on a predict path', async () => {
    expect((await call(base, 'GET', '/healthz')).status).toBe(404);
    expect(await call(base, 'GET', '/v1/models/detector:predict')).toMatchObject({ status: 400, json: { error: 'Malformed request: GET /v1/models/detector:predict' } });
  });

  it('refuses a body over the request limit with 413 before reading it', async () => {
    const port = Number(new URL(base).port);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/models/detector:predict', headers: { 'Content-Length': String(MAX_BODY_BYTES + 1) } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"instances": [');
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: `request body of ${MAX_BODY_BYTES + 1} bytes exceeds this server's limit of ${MAX_BODY_BYTES} bytes` });
  });

  it('reads at most MAX_BODIES predict bodies at once: one more is refused with 429, and room comes back', async () => {
    const port = Number(new URL(base).port);
    // Requests whose bodies never finish arriving hold their places.
    const stuck = Array.from({ length: MAX_BODIES }, () => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/models/detector:predict', headers: { 'Content-Length': '100000' } });
      req.on('error', () => undefined);
      req.write('{"instances": [');
      return req;
    });
    await new Promise((r) => setTimeout(r, 300));
    const refused = await call(base, 'POST', '/v1/models/detector:predict', '{"instances": [[[[1,2,3]]]]}');
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ error: expect.stringMatching(/too many predict requests being read/) });
    for (const req of stuck) req.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect((await call(base, 'POST', '/v1/models/detector:predict', '{"instances": [[[[1,2,3]]]]}')).status).toBe(200);
  });

  it('keeps gRPC answering the same model alongside', async () => {
    const client = new TfServingClient({ address: s.address, modelName: 'detector' });
    try {
      const { detections } = await client.detect([tiny]);
      expect(detections[0].map((d) => d.label)).toEqual(['person', 'bottle', 'chair']);
    } finally {
      client.close();
    }
  });
});

describe('REST limits, queue and deadline', () => {
  let s: StartedServer;
  let base: string;
  /** A call the deadline ended still holds the only slot until its 400 ms are over. */
  const idle = () => new Promise((r) => setTimeout(r, 450));

  beforeAll(async () => {
    s = await startModelServer(synthetic({ latencyMs: 400, capacity: 1, maxQueue: 0 }));
    base = `http://127.0.0.1:${await s.server.listenRest(0, '127.0.0.1', { timeoutMs: 150, maxBodyBytes: 4096 })}`;
  });
  afterAll(async () => {
    await s?.server.close();
  });

  it('answers 504 when the call outlives --rest_api_timeout_in_ms, 429 when the queue is full, 413 over the body limit', async () => {
    const body = JSON.stringify({ instances: [nested({ width: 2, height: 2, data: new Uint8Array(12) })] });
    const late = await call(base, 'POST', '/v1/models/detector:predict', body);
    expect(late).toMatchObject({ status: 504, json: { error: 'Deadline Exceeded' } });
    // Once the timed-out call is done, one more fills the only slot and the next is refused at once.
    await idle();
    const [first, second] = await Promise.all([
      call(base, 'POST', '/v1/models/detector:predict', body),
      new Promise((r) => setTimeout(r, 50)).then(() => call(base, 'POST', '/v1/models/detector:predict', body)),
    ]);
    // Whichever got the slot outlives the deadline; the other finds the queue full.
    const [held, refused] = first.status === 429 ? [second, first] : [first, second];
    expect([held.status, refused.status]).toEqual([504, 429]);
    expect(String(refused.json.error)).toMatch(/^inference queue is full/);
    const big = await call(base, 'POST', '/v1/models/detector:predict', `{"instances": [${'0,'.repeat(3000)}0]}`);
    expect(big).toMatchObject({ status: 413, json: { error: "request body of 6018 bytes exceeds this server's limit of 4096 bytes" } });
    // Without a Content-Length (chunked), the limit applies as the body arrives.
    const parts = ['{"instances": [', '0,'.repeat(1500), '0,'.repeat(1500), '0]}'].map((t) => new TextEncoder().encode(t));
    const stream = new ReadableStream<Uint8Array>({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } });
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit & { duplex: 'half' };
    const chunked = await fetch(`${base}/v1/models/detector:predict`, init);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toEqual({ error: "request body exceeds this server's limit of 4096 bytes" });
  });

  it('reaches RestTfServingClient as the typed errors the scheduler reads: busy, deadline, cancelled', async () => {
    const client = new RestTfServingClient({ baseUrl: base, modelName: 'detector', deadlineMs: 100 });
    const patient = new RestTfServingClient({ baseUrl: base, modelName: 'detector', deadlineMs: 5_000 });
    try {
      await idle();
      const late = await failure(client.detect([tiny]));
      expect(late).toBeInstanceOf(DeadlineExceededError);
      expect(late.codeName).toBe('DEADLINE_EXCEEDED');
      await patient.signature();
      await idle();
      const two = await Promise.all([failure(patient.detect([tiny])), new Promise((r) => setTimeout(r, 50)).then(() => failure(patient.detect([tiny])))]);
      // The one that got the slot meets the server's own 150 ms deadline (504); the other is refused (429).
      const busy = two.find((e) => e instanceof ServerBusyError);
      expect(busy?.codeName).toBe('RESOURCE_EXHAUSTED');
      expect(two.find((e) => e !== busy)).toBeInstanceOf(DeadlineExceededError);
      await idle();
      const controller = new AbortController();
      const aborted = patient.detect([tiny], { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      expect(await failure(aborted)).toBeInstanceOf(CancelledError);
    } finally {
      client.close();
      patient.close();
    }
  });
});
