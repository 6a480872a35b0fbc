// Original file: protos/tensorflow/core/example/example.proto

import type { Features as _tensorflow_Features, Features__Output as _tensorflow_Features__Output } from '../tensorflow/Features.js';

export interface Example {
  'features'?: (_tensorflow_Features | null);
}

export interface Example__Output {
  'features': (_tensorflow_Features__Output | null);
}
