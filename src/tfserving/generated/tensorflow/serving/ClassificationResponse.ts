// Original file: protos/tensorflow_serving/apis/classification.proto

import type { ClassificationResult as _tensorflow_serving_ClassificationResult, ClassificationResult__Output as _tensorflow_serving_ClassificationResult__Output } from '../../tensorflow/serving/ClassificationResult.js';
import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from '../../tensorflow/serving/ModelSpec.js';

export interface ClassificationResponse {
  'result'?: (_tensorflow_serving_ClassificationResult | null);
  'model_spec'?: (_tensorflow_serving_ModelSpec | null);
}

export interface ClassificationResponse__Output {
  'result': (_tensorflow_serving_ClassificationResult__Output | null);
  'model_spec': (_tensorflow_serving_ModelSpec__Output | null);
}
