// Original file: protos/tensorflow_serving/apis/regression.proto

import type { Regression as _tensorflow_serving_Regression, Regression__Output as _tensorflow_serving_Regression__Output } from '../../tensorflow/serving/Regression.js';

export interface RegressionResult {
  'regressions'?: (_tensorflow_serving_Regression)[];
}

export interface RegressionResult__Output {
  'regressions': (_tensorflow_serving_Regression__Output)[];
}
