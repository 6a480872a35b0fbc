import { describe, expect, it } from 'vitest';
import { detectionSignature, SignatureError } from '../../src/tfserving/signature.js';
import { decodeDetections } from '../../src/tfserving/detections.js';
import { cocoLabelMap } from '../../src/tfserving/label-map.js';
import type { SignatureDef__Output } from '../../src/tfserving/generated/tensorflow/SignatureDef.js';
import type { TensorInfo__Output } from '../../src/tfserving/generated/tensorflow/TensorInfo.js';
import type { TensorProto__Output } from '../../src/tfserving/generated/tensorflow/TensorProto.js';

function info(dtype: TensorInfo__Output['dtype'], dims: number[]): TensorInfo__Output {
  return { name: 'x:0', dtype, tensor_shape: { dim: dims.map((size) => ({ size, name: '' })), unknown_rank: false }, coo_sparse: null, encoding: 'name' };
}
const outputs = {
  detection_boxes: info('DT_FLOAT', [-1, 100, 4]),
  detection_scores: info('DT_FLOAT', [-1, 100]),
  detection_classes: info('DT_FLOAT', [-1, 100]),
  num_detections: info('DT_FLOAT', [-1]),
  raw_detection_boxes: info('DT_FLOAT', [-1, -1, 4]),
};
function sig(input: TensorInfo__Output, alias = 'inputs'): SignatureDef__Output {
  return { inputs: { [alias]: input }, outputs, method_name: 'tensorflow/serving/predict', defaults: {} };
}
function tensor(dims: number[], values: number[]): TensorProto__Output {
  return {
    dtype: 'DT_FLOAT', tensor_shape: { dim: dims.map((size) => ({ size, name: '' })), unknown_rank: false }, version_number: 0,
    tensor_content: Buffer.alloc(0), float_val: values, double_val: [], int_val: [], string_val: [], scomplex_val: [], int64_val: [],
    bool_val: [], dcomplex_val: [], half_val: [], resource_handle_val: [], variant_val: [], uint32_val: [], uint64_val: [], float8_val: Buffer.alloc(0),
  };
}

describe('signature discovery', () => {
  it('recognizes the three Object Detection API input kinds and the TF2 batch of 1', () => {
    const tf1 = detectionSignature('serving_default', sig(info('DT_UINT8', [-1, -1, -1, 3])), 1);
    expect(tf1).toMatchObject({ encoding: 'uint8', inputAlias: 'inputs', maxBatch: Number.POSITIVE_INFINITY });
    expect(tf1.outputs).toEqual({ boxes: 'detection_boxes', scores: 'detection_scores', classes: 'detection_classes', numDetections: 'num_detections' });
    expect(detectionSignature('s', sig(info('DT_UINT8', [1, -1, -1, 3]), 'input_tensor'), 1)).toMatchObject({ encoding: 'uint8', inputAlias: 'input_tensor', maxBatch: 1 });
    expect(detectionSignature('s', sig(info('DT_STRING', [-1])), 1).encoding).toBe('jpeg');
    expect(detectionSignature('s', sig(info('DT_FLOAT', [-1, -1, -1, 3])), 1).encoding).toBe('float');
  });

  it('explains signatures it cannot drive', () => {
    expect(() => detectionSignature('s', sig(info('DT_INT64', [-1])), 1)).toThrow(/input "inputs" is DT_INT64 \[-1\]/);
    const noBoxes = { ...sig(info('DT_UINT8', [-1, -1, -1, 3])), outputs: { detection_scores: outputs.detection_scores } };
    expect(() => detectionSignature('s', noBoxes, 1)).toThrow(SignatureError);
  });
});

describe('decoding detections', () => {
  const signature = detectionSignature('serving_default', sig(info('DT_UINT8', [-1, -1, -1, 3])), 1);
  it('splits a batch per image, honours num_detections and minScore, clamps boxes', () => {
    const boxes = [
      0.1, 0.2, 0.5, 0.6, /**/ 0.2, 0.2, 0.3, 0.3, /**/ 0.9, 0.9, 1.0, 1.0,
      -0.01, 0.0, 0.5, 1.02, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 0,
    ];
    const result = decodeDetections({
      detection_boxes: tensor([2, 3, 4], boxes),
      detection_scores: tensor([2, 3], [0.9, 0.2, 0.8, 0.7, 0, 0]),
      detection_classes: tensor([2, 3], [44, 1, 1, 1, 0, 0]),
      num_detections: tensor([2], [2, 1]),
    }, signature, 2, { minScore: 0.3, labelMap: cocoLabelMap() });
    expect(result).toHaveLength(2);
    // Image 0: the 0.2 detection is under minScore; the third row is past num_detections.
    // Values travel as float32, so compare them at float32 precision.
    const f = Math.fround;
    expect(result[0]).toEqual([{ classId: 44, label: 'bottle', score: f(0.9), box: [f(0.1), f(0.2), f(0.5), f(0.6)] }]);
    expect(result[1]).toEqual([{ classId: 1, label: 'person', score: f(0.7), box: [0, 0, 0.5, 1] }]);
  });

  it('names the output that is missing or misshapen', () => {
    expect(() => decodeDetections({}, signature, 1, { minScore: 0, labelMap: cocoLabelMap() })).toThrow(/no "detection_boxes" output/);
    expect(() => decodeDetections({
      detection_boxes: tensor([1, 2, 4], new Array(8).fill(0)),
      detection_scores: tensor([1, 3], [0, 0, 0]),
      detection_classes: tensor([1, 3], [0, 0, 0]),
    }, signature, 1, { minScore: 0, labelMap: cocoLabelMap() })).toThrow(/detection_boxes has shape \[1,2,4\], expected \[1,3,4\]/);
  });
});
