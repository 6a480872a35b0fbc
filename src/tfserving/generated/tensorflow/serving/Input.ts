// Original file: protos/tensorflow_serving/apis/input.proto

import type { ExampleList as _tensorflow_serving_ExampleList, ExampleList__Output as _tensorflow_serving_ExampleList__Output } from '../../tensorflow/serving/ExampleList.js';
import type { ExampleListWithContext as _tensorflow_serving_ExampleListWithContext, ExampleListWithContext__Output as _tensorflow_serving_ExampleListWithContext__Output } from '../../tensorflow/serving/ExampleListWithContext.js';

export interface Input {
  'example_list'?: (_tensorflow_serving_ExampleList | null);
  'example_list_with_context'?: (_tensorflow_serving_ExampleListWithContext | null);
  'kind'?: "example_list"|"example_list_with_context";
}

export interface Input__Output {
  'example_list'?: (_tensorflow_serving_ExampleList__Output | null);
  'example_list_with_context'?: (_tensorflow_serving_ExampleListWithContext__Output | null);
  'kind'?: "example_list"|"example_list_with_context";
}
