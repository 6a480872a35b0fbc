// Original file: protos/tensorflow_serving/apis/input.proto

import type { Example as _tensorflow_Example, Example__Output as _tensorflow_Example__Output } from '../../tensorflow/Example.js';

export interface ExampleListWithContext {
  'examples'?: (_tensorflow_Example)[];
  'context'?: (_tensorflow_Example | null);
}

export interface ExampleListWithContext__Output {
  'examples': (_tensorflow_Example__Output)[];
  'context': (_tensorflow_Example__Output | null);
}
