// Original file: protos/tensorflow_serving/apis/input.proto

import type { Example as _tensorflow_Example, Example__Output as _tensorflow_Example__Output } from '../../tensorflow/Example.js';

export interface ExampleList {
  'examples'?: (_tensorflow_Example)[];
}

export interface ExampleList__Output {
  'examples': (_tensorflow_Example__Output)[];
}
