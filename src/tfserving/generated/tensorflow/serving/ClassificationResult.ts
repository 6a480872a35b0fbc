// Original file: protos/tensorflow_serving/apis/classification.proto

import type { Classifications as _tensorflow_serving_Classifications, Classifications__Output as _tensorflow_serving_Classifications__Output } from '../../tensorflow/serving/Classifications.js';

export interface ClassificationResult {
  'classifications'?: (_tensorflow_serving_Classifications)[];
}

export interface ClassificationResult__Output {
  'classifications': (_tensorflow_serving_Classifications__Output)[];
}
