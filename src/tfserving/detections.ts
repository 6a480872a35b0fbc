// Turns the Object Detection API's output tensors into per-image detections.
import type { TensorProto__Output } from './generated/tensorflow/TensorProto.js';
import type { Box, Detection } from '../types.js';
import type { DetectionSignature } from './signature.js';
import type { LabelMap } from './label-map.js';
import { readNumericTensor, TensorDecodeError } from './tensor.js';

export interface DecodeOptions {
  /** Detections scoring below this are left out. */
  minScore: number;
  labelMap: LabelMap;
}

/** Clamps to the 0–1 range normalized boxes live in. */
export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * Splits detection_boxes [N,M,4], detection_scores [N,M], detection_classes
 * [N,M] and num_detections [N] into N lists. Boxes are clamped to 0–1, since
 * models round a little past the image edge; rows with non-finite numbers are
 * dropped rather than drawn.
 */
export function decodeDetections(
  outputs: Record<string, TensorProto__Output>,
  signature: DetectionSignature,
  batch: number,
  options: DecodeOptions,
): Detection[][] {
  const get = (alias: string): TensorProto__Output => {
    const t = outputs[alias];
    if (!t) throw new TensorDecodeError(`response has no "${alias}" output (it has: ${Object.keys(outputs).join(', ') || 'none'})`);
    return t;
  };
  const boxes = readNumericTensor(get(signature.outputs.boxes), signature.outputs.boxes);
  const scores = readNumericTensor(get(signature.outputs.scores), signature.outputs.scores);
  const classes = readNumericTensor(get(signature.outputs.classes), signature.outputs.classes);
  const num = signature.outputs.numDetections && outputs[signature.outputs.numDetections]
    ? readNumericTensor(outputs[signature.outputs.numDetections], signature.outputs.numDetections)
    : undefined;

  const perImage = scores.shape.length === 2 ? scores.shape[1] : scores.values.length / batch;
  if (scores.values.length !== batch * perImage || !Number.isInteger(perImage)) {
    throw new TensorDecodeError(`detection_scores has shape [${scores.shape.join(',')}] for a batch of ${batch}`);
  }
  if (boxes.values.length !== batch * perImage * 4) {
    throw new TensorDecodeError(`detection_boxes has shape [${boxes.shape.join(',')}], expected [${batch},${perImage},4]`);
  }
  if (classes.values.length !== batch * perImage) {
    throw new TensorDecodeError(`detection_classes has shape [${classes.shape.join(',')}], expected [${batch},${perImage}]`);
  }

  const result: Detection[][] = [];
  for (let b = 0; b < batch; b++) {
    const valid = num && num.values.length === batch ? Math.min(perImage, Math.max(0, Math.floor(num.values[b]))) : perImage;
    const list: Detection[] = [];
    for (let i = 0; i < valid; i++) {
      const k = b * perImage + i;
      const score = scores.values[k];
      if (!Number.isFinite(score) || score < options.minScore) continue;
      const classId = Math.round(classes.values[k]);
      const raw = boxes.values.subarray(k * 4, k * 4 + 4);
      if (!raw.every(Number.isFinite)) continue;
      const box: Box = [clamp01(raw[0]), clamp01(raw[1]), clamp01(raw[2]), clamp01(raw[3])];
      if (box[2] <= box[0] || box[3] <= box[1]) continue;
      list.push({ classId, label: options.labelMap.label(classId), score, box });
    }
    list.sort((x, y) => y.score - x.score);
    result.push(list);
  }
  return result;
}
