// Original file: protos/tensorflow_serving/apis/inference.proto

import type { InferenceTask as _tensorflow_serving_InferenceTask, InferenceTask__Output as _tensorflow_serving_InferenceTask__Output } from '../../tensorflow/serving/InferenceTask.js';
import type { Input as _tensorflow_serving_Input, Input__Output as _tensorflow_serving_Input__Output } from '../../tensorflow/serving/Input.js';

export interface MultiInferenceRequest {
  'tasks'?: (_tensorflow_serving_InferenceTask)[];
  'input'?: (_tensorflow_serving_Input | null);
}

export interface MultiInferenceRequest__Output {
  'tasks': (_tensorflow_serving_InferenceTask__Output)[];
  'input': (_tensorflow_serving_Input__Output | null);
}
