// Original file: protos/tensorflow_serving/apis/regression.proto

import type { RegressionResult as _tensorflow_serving_RegressionResult, RegressionResult__Output as _tensorflow_serving_RegressionResult__Output } from '../../tensorflow/serving/RegressionResult.js';
import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from '../../tensorflow/serving/ModelSpec.js';

export interface RegressionResponse {
  'result'?: (_tensorflow_serving_RegressionResult | null);
  'model_spec'?: (_tensorflow_serving_ModelSpec | null);
}

export interface RegressionResponse__Output {
  'result': (_tensorflow_serving_RegressionResult__Output | null);
  'model_spec': (_tensorflow_serving_ModelSpec__Output | null);
}
