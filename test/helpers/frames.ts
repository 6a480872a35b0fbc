// Frames for unit tests: one solid colour each, so a test can tell which
// picture reached the model, a snapshot or a viewer, and check afterwards
// that nobody wrote into it.
import type { Frame } from '../../src/types.js';

export interface FrameSpec {
  width?: number;
  height?: number;
  /** The one colour of every pixel; by default [seq, 0, 0]. */
  rgb?: readonly [number, number, number];
  /** By default Date.now() (the fake clock's, under fake timers). */
  capturedAt?: number;
  run?: number;
  ptsMs?: number;
}

export function solidFrame(cameraId: string, seq: number, spec: FrameSpec = {}): Frame {
  const width = spec.width ?? 8;
  const height = spec.height ?? 6;
  const [r, g, b] = spec.rgb ?? [seq % 256, 0, 0];
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
  }
  return { cameraId, seq, run: spec.run ?? 1, width, height, data, ptsMs: spec.ptsMs ?? seq * 40, capturedAt: spec.capturedAt ?? Date.now() };
}
