// bench:analytics's model for the pipeline runs: lookout's synthetic
// detector (same slots, same latency, same gRPC front end as the embedded
// one) whose boxes walk. The embedded synthetic model answers every frame
// with the same three fixed boxes: its objects never move, so after the first
// seconds nothing enters, leaves or crosses anything and no notice is sent —
// a run "with notifications" would send none. Here the answer is the walking
// scene (analytics-scene.ts) at the wall clock, served by the project's own
// ServedModel and GrpcService in this process, as the embedded server is in
// lookout's: lookout reaches it at modelServer.address.
import { GrpcService } from '../src/modelserver/grpc-service.js';
import { emptyOutput, type DetectorOutput } from '../src/modelserver/centernet.js';
import type { Detector, DetectorStats, RgbFrame } from '../src/modelserver/detector.js';
import type { Reservation } from '../src/modelserver/bounded-executor.js';
import { ServedModel } from '../src/modelserver/served-model.js';
import { SyntheticDetector } from '../src/modelserver/synthetic-detector.js';
import { sceneAt } from './analytics-scene.js';

export interface WalkingModel {
  address: string;
  description: string;
  close(): Promise<void>;
}

class WalkingDetector implements Detector {
  private readonly inner: SyntheticDetector;
  readonly description: string;

  constructor(latencyMs: number, capacity: number) {
    this.inner = new SyntheticDetector({ latencyMs, capacity });
    this.description = `synthetic detector with walking boxes (${latencyMs} ms per request, capacity ${capacity})`;
  }

  load(): Promise<void> {
    return this.inner.load();
  }

  reserve(frames: number): Reservation {
    return this.inner.reserve(frames);
  }

  async detect(frames: readonly RgbFrame[], reservation: Reservation, signal?: AbortSignal): Promise<DetectorOutput[]> {
    // The synthetic detector's slot and delay, then the scene as it is now.
    await this.inner.detect(frames, reservation, signal);
    const objects = sceneAt(Date.now() / 1000);
    return frames.map(() => {
      const out = emptyOutput();
      objects.forEach((o, i) => {
        out.boxes.set(o.box, i * 4);
        out.scores[i] = o.score;
        out.classes[i] = o.classId;
      });
      out.num = objects.length;
      return out;
    });
  }

  stats(): DetectorStats {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export async function startWalkingModel(latencyMs: number, capacity: number): Promise<WalkingModel> {
  const detector = new WalkingDetector(latencyMs, capacity);
  // "detector", version 1: the names lookout asks for by default.
  const model = new ServedModel('detector', 1, detector, () => undefined);
  const grpc = new GrpcService(model, false);
  const port = await grpc.bind(0, '127.0.0.1');
  model.startLoading();
  await model.loaded;
  return {
    address: `127.0.0.1:${port}`,
    description: detector.description,
    async close() {
      model.stop();
      await grpc.close(1_000);
      await model.close();
    },
  };
}
