// Original file: protos/tensorflow_serving/apis/inference.proto

import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from '../../tensorflow/serving/ModelSpec.js';
import type { ClassificationResult as _tensorflow_serving_ClassificationResult, ClassificationResult__Output as _tensorflow_serving_ClassificationResult__Output } from '../../tensorflow/serving/ClassificationResult.js';
import type { RegressionResult as _tensorflow_serving_RegressionResult, RegressionResult__Output as _tensorflow_serving_RegressionResult__Output } from '../../tensorflow/serving/RegressionResult.js';

export interface InferenceResult {
  'model_spec'?: (_tensorflow_serving_ModelSpec | null);
  'classification_result'?: (_tensorflow_serving_ClassificationResult | null);
  'regression_result'?: (_tensorflow_serving_RegressionResult | null);
  'result'?: "classification_result"|"regression_result";
}

export interface InferenceResult__Output {
  'model_spec': (_tensorflow_serving_ModelSpec__Output | null);
  'classification_result'?: (_tensorflow_serving_ClassificationResult__Output | null);
  'regression_result'?: (_tensorflow_serving_RegressionResult__Output | null);
  'result'?: "classification_result"|"regression_result";
}
