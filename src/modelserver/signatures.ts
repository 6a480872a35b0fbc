// The signatures the embedded server exposes: those of a model exported by the
// TF Object Detection API, so a client cannot tell it from TF Serving.
import type { SignatureDef } from '../tfserving/generated/tensorflow/SignatureDef.js';
import type { TensorInfo } from '../tfserving/generated/tensorflow/TensorInfo.js';
import { MAX_DETECTIONS } from './centernet.js';

export const DEFAULT_SIGNATURE = 'serving_default';
/** The same detector fed JPEG bytes, as an exporter's encoded_image_string_tensor input. */
export const ENCODED_IMAGE_SIGNATURE = 'serving_encoded_image';
export const INPUT_ALIAS = 'inputs';
export const PREDICT_METHOD_NAME = 'tensorflow/serving/predict';

export const OUTPUT_ALIASES = ['detection_boxes', 'detection_scores', 'detection_classes', 'num_detections'] as const;
export type OutputAlias = (typeof OUTPUT_ALIASES)[number];

function info(name: string, dtype: TensorInfo['dtype'], shape: number[]): TensorInfo {
  return { name, dtype, tensor_shape: { dim: shape.map((size) => ({ size })) } };
}

const outputs: Record<OutputAlias, TensorInfo> = {
  detection_boxes: info('detection_boxes:0', 'DT_FLOAT', [-1, MAX_DETECTIONS, 4]),
  detection_scores: info('detection_scores:0', 'DT_FLOAT', [-1, MAX_DETECTIONS]),
  detection_classes: info('detection_classes:0', 'DT_FLOAT', [-1, MAX_DETECTIONS]),
  num_detections: info('num_detections:0', 'DT_FLOAT', [-1]),
};

export type InputKind = 'uint8' | 'jpeg';

export const SIGNATURES: Record<string, { kind: InputKind; def: SignatureDef }> = {
  [DEFAULT_SIGNATURE]: {
    kind: 'uint8',
    def: { inputs: { [INPUT_ALIAS]: info('image_tensor:0', 'DT_UINT8', [-1, -1, -1, 3]) }, outputs, method_name: PREDICT_METHOD_NAME },
  },
  [ENCODED_IMAGE_SIGNATURE]: {
    kind: 'jpeg',
    def: { inputs: { [INPUT_ALIAS]: info('encoded_image_string_tensor:0', 'DT_STRING', [-1]) }, outputs, method_name: PREDICT_METHOD_NAME },
  },
};
