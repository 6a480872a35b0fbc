// Original file: protos/tensorflow_serving/apis/inference.proto

import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from '../../tensorflow/serving/ModelSpec.js';

export interface InferenceTask {
  'model_spec'?: (_tensorflow_serving_ModelSpec | null);
  'method_name'?: (string);
}

export interface InferenceTask__Output {
  'model_spec': (_tensorflow_serving_ModelSpec__Output | null);
  'method_name': (string);
}
