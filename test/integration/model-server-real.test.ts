// The embedded server with the real CenterNet COCO detector, on frames of the
// bundled clips, through lookout's own client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelServer } from '../../src/modelserver/server.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import { ModelNotFoundError } from '../../src/tfserving/errors.js';
import type { Detection } from '../../src/types.js';
import { BOTTLE_CLIP, PERSON_CLIP, decodeFrame, decodeFrameJpeg } from '../helpers/media.js';

const count = (list: Detection[], label: string, minScore: number) => list.filter((d) => d.label === label && d.score >= minScore).length;

describe('embedded model server, real CenterNet', () => {
  let server: ModelServer;
  let client: TfServingClient;
  let statusWhileLoading: Awaited<ReturnType<TfServingClient['modelStatus']>>;
  let predictWhileLoading: unknown;

  beforeAll(async () => {
    server = new ModelServer({ workers: 2 });
    const port = await server.listen(0, '127.0.0.1');
    client = new TfServingClient({ address: `127.0.0.1:${port}`, modelName: 'detector' });
    // Loading the model takes a second or more; ask at once, as a client that starts with the server would.
    statusWhileLoading = await client.modelStatus();
    predictWhileLoading = await client.detect([decodeFrame(BOTTLE_CLIP, 0)]).catch((err: unknown) => err);
    await server.loaded;
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('reports LOADING, refuses Predict with NOT_FOUND until AVAILABLE, then reports AVAILABLE', async () => {
    expect(statusWhileLoading).toEqual([{ version: 1, state: 'LOADING' }]);
    expect(predictWhileLoading).toBeInstanceOf(ModelNotFoundError);
    expect((predictWhileLoading as ModelNotFoundError).details).toBe('Servable not found for request: Latest(detector)');
    expect(await client.modelStatus()).toEqual([{ version: 1, state: 'AVAILABLE' }]);
    expect(await client.ready()).toBe(true);
  });

  it('finds the bottles in the first frame of bottle-detection.mp4', async () => {
    const { detections, modelVersion } = await client.detect([decodeFrame(BOTTLE_CLIP, 0)]);
    expect(modelVersion).toBe(1);
    expect(count(detections[0], 'bottle', 0.3)).toBeGreaterThanOrEqual(2);
    for (const d of detections[0]) {
      const [ymin, xmin, ymax, xmax] = d.box;
      expect(0 <= ymin && ymin < ymax && ymax <= 1 && 0 <= xmin && xmin < xmax && xmax <= 1).toBe(true);
    }
    // The bottles stand in the middle band of the frame, upright: taller than wide.
    const bottles = detections[0].filter((d) => d.label === 'bottle' && d.score >= 0.3);
    for (const b of bottles) expect((b.box[2] - b.box[0]) * 360).toBeGreaterThan((b.box[3] - b.box[1]) * 640);
  });

  it('finds the person in frame 100 of one-by-one-person-detection.mp4, and none in the empty room of frame 0', async () => {
    const { detections } = await client.detect([decodeFrame(PERSON_CLIP, 100)]);
    expect(count(detections[0], 'person', 0.3)).toBeGreaterThanOrEqual(1);
    const empty = await client.detect([decodeFrame(PERSON_CLIP, 0)]);
    expect(count(empty.detections[0], 'person', 0.5)).toBe(0);
  });

  it('splits a batch back per image, in order', async () => {
    const size = { width: 640, height: 360 };
    const { detections } = await client.detect([decodeFrame(PERSON_CLIP, 100, size), decodeFrame(BOTTLE_CLIP, 0, size), decodeFrame(PERSON_CLIP, 0, size)]);
    expect(detections).toHaveLength(3);
    expect(count(detections[0], 'person', 0.3)).toBeGreaterThanOrEqual(1);
    expect(count(detections[1], 'bottle', 0.3)).toBeGreaterThanOrEqual(2);
    expect(count(detections[1], 'person', 0.5)).toBe(0);
    expect(count(detections[2], 'person', 0.5)).toBe(0);
  });

  it('takes JPEG through the encoded-image signature, and JPEG input on the uint8 signature', async () => {
    const jpegClient = new TfServingClient({ address: client.targets[0], modelName: 'detector', signatureName: 'serving_encoded_image' });
    try {
      const sig = await jpegClient.signature();
      expect(sig).toMatchObject({ encoding: 'jpeg', inputDtype: 'DT_STRING', inputAlias: 'inputs' });
      const viaJpeg = await jpegClient.detect([decodeFrame(BOTTLE_CLIP, 0)]);
      expect(count(viaJpeg.detections[0], 'bottle', 0.3)).toBeGreaterThanOrEqual(2);
    } finally {
      jpegClient.close();
    }
    const decoded = await client.detect([{ kind: 'jpeg', data: decodeFrameJpeg(BOTTLE_CLIP, 0) }]);
    expect(count(decoded.detections[0], 'bottle', 0.3)).toBeGreaterThanOrEqual(2);
  });

  it('accepts any frame size: the server resizes', async () => {
    const { detections } = await client.detect([decodeFrame(BOTTLE_CLIP, 0, { width: 333, height: 187 })]);
    expect(count(detections[0], 'bottle', 0.25)).toBeGreaterThanOrEqual(2);
  });
});
