// Original file: protos/tensorflow_serving/apis/classification.proto

import type { Class as _tensorflow_serving_Class, Class__Output as _tensorflow_serving_Class__Output } from '../../tensorflow/serving/Class.js';

export interface Classifications {
  'classes'?: (_tensorflow_serving_Class)[];
}

export interface Classifications__Output {
  'classes': (_tensorflow_serving_Class__Output)[];
}
