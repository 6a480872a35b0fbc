// Original file: protos/tensorflow_serving/apis/classification.proto

import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from '../../tensorflow/serving/ModelSpec.js';
import type { Input as _tensorflow_serving_Input, Input__Output as _tensorflow_serving_Input__Output } from '../../tensorflow/serving/Input.js';

export interface ClassificationRequest {
  'model_spec'?: (_tensorflow_serving_ModelSpec | null);
  'input'?: (_tensorflow_serving_Input | null);
}

export interface ClassificationRequest__Output {
  'model_spec': (_tensorflow_serving_ModelSpec__Output | null);
  'input': (_tensorflow_serving_Input__Output | null);
}
