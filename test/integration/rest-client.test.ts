// lookout's RestTfServingClient against TF Serving's REST API on the embedded
// model server, real servers on free ports: the same status, signature,
// detections and typed errors as TfServingClient over gRPC, with the
// synthetic model and the real CenterNet, a stopped server, and
// `lookout model-server --rest_api_port`. (rest-api.test.ts has the API itself.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelServer } from '../../src/modelserver/server.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import { RestTfServingClient } from '../../src/tfserving/rest-client.js';
import { InvalidRequestError, ModelNotFoundError, ServerUnavailableError } from '../../src/tfserving/errors.js';
import type { Detection } from '../../src/types.js';
import { BOTTLE_CLIP, PERSON_CLIP, decodeFrame, decodeFrameJpeg } from '../helpers/media.js';
import { startCli } from '../helpers/child.js';
import { startModelServer, synthetic, type StartedServer } from '../helpers/servers.js';
import { call, failure, tiny } from '../helpers/tf-rest.js';

const count = (list: Detection[], label: string, minScore: number) => list.filter((d) => d.label === label && d.score >= minScore).length;

describe('RestTfServingClient against the embedded REST API', () => {
  let s: StartedServer;
  let base: string;

  beforeAll(async () => {
    s = await startModelServer(synthetic());
    base = `http://127.0.0.1:${await s.server.listenRest(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await s?.server.close();
  });

  it('reads status and the signature as the gRPC client does', async () => {
    const rest = new RestTfServingClient({ baseUrl: `${base}/`, modelName: 'detector' });
    const grpcClient = new TfServingClient({ address: s.address, modelName: 'detector' });
    try {
      expect(rest.targets).toEqual([base]);
      expect(await rest.modelStatus()).toEqual([{ version: 1, state: 'AVAILABLE' }]);
      expect(await rest.ready()).toBe(true);
      await rest.waitUntilReady(1_000);
      expect(await rest.signature()).toEqual(await grpcClient.signature());
    } finally {
      rest.close();
      grpcClient.close();
    }
  });

  it('detects with labels from the label map, minScore applied, for both signatures', async () => {
    for (const signatureName of ['serving_default', 'serving_encoded_image']) {
      const rest = new RestTfServingClient({ baseUrl: base, modelName: 'detector', signatureName, minScore: 0.5 });
      const grpcClient = new TfServingClient({ address: s.address, modelName: 'detector', signatureName, minScore: 0.5 });
      try {
        const result = await rest.detect([tiny, tiny]);
        expect(result.modelVersion).toBe(1);
        expect(result.target).toBe(base);
        expect(result.detections.map((list) => list.map((d) => [d.classId, d.label]))).toEqual([[[1, 'person'], [44, 'bottle']], [[1, 'person'], [44, 'bottle']]]);
        expect(result.detections).toEqual((await grpcClient.detect([tiny, tiny])).detections);
      } finally {
        rest.close();
        grpcClient.close();
      }
    }
  });

  it('maps refusals to the typed errors gRPC gives', async () => {
    const nope = new RestTfServingClient({ baseUrl: base, modelName: 'nope' });
    const v7 = new RestTfServingClient({ baseUrl: base, modelName: 'detector', version: 7 });
    const badSig = new RestTfServingClient({ baseUrl: base, modelName: 'detector', signatureName: 'nope' });
    try {
      const e1 = await failure(nope.detect([tiny]));
      expect(e1).toBeInstanceOf(ModelNotFoundError);
      expect(e1.details).toBe('Servable not found for request: Latest(nope)');
      expect(await failure(nope.modelStatus())).toMatchObject({ codeName: 'NOT_FOUND', details: 'Could not find any versions of model nope' });
      expect(await nope.ready()).toBe(false);
      expect(await failure(v7.detect([tiny]))).toMatchObject({ codeName: 'NOT_FOUND', details: 'Servable not found for request: Specific(detector, 7)' });
      const e3 = await failure(badSig.detect([tiny]));
      expect(e3).toBeInstanceOf(InvalidRequestError);
      expect(e3.details).toMatch(/^Serving signature key "nope" not found\. The model has: serving_default, serving_encoded_image/);
    } finally {
      nope.close();
      v7.close();
      badSig.close();
    }
  });

  it('answers CANCELLED once closed', async () => {
    const rest = new RestTfServingClient({ baseUrl: base, modelName: 'detector' });
    rest.close();
    rest.close();
    expect(await failure(rest.detect([tiny]))).toMatchObject({ codeName: 'CANCELLED', details: 'client is closed' });
  });
});

describe('RestTfServingClient and a stopped server', () => {
  it('maps refused and cut connections to ServerUnavailableError, as gRPC UNAVAILABLE', async () => {
    const s = await startModelServer(synthetic());
    const base = `http://127.0.0.1:${await s.server.listenRest(0, '127.0.0.1')}`;
    const rest = new RestTfServingClient({ baseUrl: base, modelName: 'detector', deadlineMs: 2_000 });
    try {
      expect((await rest.detect([tiny])).detections[0]).toHaveLength(3);
      await s.server.close();
      for (let i = 0; i < 2; i++) {
        const down = await failure(rest.detect([tiny]));
        expect(down).toBeInstanceOf(ServerUnavailableError);
        expect(down.codeName).toBe('UNAVAILABLE');
        expect(down.retryable).toBe(true);
      }
      expect(await failure(rest.modelStatus())).toBeInstanceOf(ServerUnavailableError);
      expect(await rest.ready()).toBe(false);
      const waited = await failure(rest.waitUntilReady(300));
      expect(waited.codeName).toBe('DEADLINE_EXCEEDED');
      expect(waited.details).toMatch(/UNAVAILABLE/);
    } finally {
      rest.close();
      await s.server.close();
    }
  });
});

describe('REST with the real CenterNet', () => {
  let server: ModelServer;
  let grpcAddress: string;
  let base: string;

  beforeAll(async () => {
    server = new ModelServer({ workers: 2 });
    grpcAddress = `127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    base = `http://127.0.0.1:${await server.listenRest(0, '127.0.0.1')}`;
    await server.loaded;
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('finds the bottles of frame 0 of bottle-detection.mp4 from b64 JPEG, in row and columnar format', async () => {
    const jpeg = decodeFrameJpeg(BOTTLE_CLIP, 0).toString('base64');
    const bottles = (classes: number[], scores: number[]) => classes.filter((c, i) => c === 44 && scores[i] >= 0.3).length;
    const row = await call(base, 'POST', '/v1/models/detector:predict', JSON.stringify({ signature_name: 'serving_encoded_image', instances: [{ b64: jpeg }] }));
    expect(row.status).toBe(200);
    const p = (row.json.predictions as Array<Record<string, number[]>>)[0];
    expect(bottles(p.detection_classes, p.detection_scores)).toBeGreaterThanOrEqual(2);
    const columnar = await call(base, 'POST', '/v1/models/detector:predict', JSON.stringify({ signature_name: 'serving_encoded_image', inputs: [{ b64: jpeg }] }));
    const o = columnar.json.outputs as Record<string, number[][]>;
    expect(bottles(o.detection_classes[0], o.detection_scores[0])).toBe(bottles(p.detection_classes, p.detection_scores));
    expect(o.detection_scores[0]).toEqual(p.detection_scores);
  });

  it('gives RestTfServingClient the same detections as TfServingClient over gRPC, frame for frame', async () => {
    const size = { width: 640, height: 360 };
    const frames = [decodeFrame(BOTTLE_CLIP, 0), decodeFrame(PERSON_CLIP, 100, size)];
    for (const signatureName of ['serving_default', 'serving_encoded_image']) {
      const rest = new RestTfServingClient({ baseUrl: base, modelName: 'detector', signatureName, minScore: 0.1 });
      const grpcClient = new TfServingClient({ address: grpcAddress, modelName: 'detector', signatureName, minScore: 0.1 });
      try {
        const viaRest = await rest.detect(frames);
        const viaGrpc = await grpcClient.detect(frames);
        expect(viaRest.detections).toEqual(viaGrpc.detections);
        expect(count(viaRest.detections[0], 'bottle', 0.3)).toBeGreaterThanOrEqual(2);
        expect(count(viaRest.detections[1], 'person', 0.3)).toBeGreaterThanOrEqual(1);
      } finally {
        rest.close();
        grpcClient.close();
      }
    }
  });
});

describe('lookout model-server --rest_api_port', () => {
  it('prints the gRPC line unchanged and a REST line, serves both, and exits 0 on SIGTERM', async () => {
    const ms = startCli(['model-server', '--port', '0', '--host', '127.0.0.1', '--model', 'synthetic', '--latency-ms', '1', '--rest_api_port=0']);
    try {
      const [, grpcPort] = await ms.waitFor(/lookout model-server: gRPC listening on 127\.0\.0\.1:(\d+), model "detector" version 1\n/);
      const [, restPort] = await ms.waitFor(/lookout model-server: REST listening on 127\.0\.0\.1:(\d+)\n/);
      expect(restPort).not.toBe(grpcPort);
      const rest = new RestTfServingClient({ baseUrl: `http://127.0.0.1:${restPort}`, modelName: 'detector' });
      try {
        await rest.waitUntilReady(10_000);
        expect((await rest.detect([tiny])).detections[0].map((d) => d.label)).toEqual(['person', 'bottle', 'chair']);
      } finally {
        rest.close();
      }
      expect(await ms.stop('SIGTERM')).toBe(0);
    } finally {
      await ms.stop('SIGKILL');
    }
  });

  it('serves no REST without the flag, and refuses a bad port with exit code 2', async () => {
    const plain = startCli(['model-server', '--port', '0', '--host', '127.0.0.1', '--model', 'synthetic']);
    try {
      await plain.waitFor(/gRPC listening on/);
      await new Promise((r) => setTimeout(r, 200));
      expect(plain.stdout()).not.toMatch(/REST/);
    } finally {
      await plain.stop('SIGKILL');
    }
    const bad = startCli(['model-server', '--rest_api_port', 'eighty']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--rest-api-port: expected an integer from 0 to 65535, got "eighty"/);
  });
});
