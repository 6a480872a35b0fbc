// Original file: protos/tensorflow_serving/apis/inference.proto

import type { InferenceResult as _tensorflow_serving_InferenceResult, InferenceResult__Output as _tensorflow_serving_InferenceResult__Output } from '../../tensorflow/serving/InferenceResult.js';

export interface MultiInferenceResponse {
  'results'?: (_tensorflow_serving_InferenceResult)[];
}

export interface MultiInferenceResponse__Output {
  'results': (_tensorflow_serving_InferenceResult__Output)[];
}
