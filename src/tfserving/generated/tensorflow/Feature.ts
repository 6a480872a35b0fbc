// Original file: protos/tensorflow/core/example/feature.proto

import type { BytesList as _tensorflow_BytesList, BytesList__Output as _tensorflow_BytesList__Output } from '../tensorflow/BytesList.js';
import type { FloatList as _tensorflow_FloatList, FloatList__Output as _tensorflow_FloatList__Output } from '../tensorflow/FloatList.js';
import type { Int64List as _tensorflow_Int64List, Int64List__Output as _tensorflow_Int64List__Output } from '../tensorflow/Int64List.js';

export interface Feature {
  'bytes_list'?: (_tensorflow_BytesList | null);
  'float_list'?: (_tensorflow_FloatList | null);
  'int64_list'?: (_tensorflow_Int64List | null);
  'kind'?: "bytes_list"|"float_list"|"int64_list";
}

export interface Feature__Output {
  'bytes_list'?: (_tensorflow_BytesList__Output | null);
  'float_list'?: (_tensorflow_FloatList__Output | null);
  'int64_list'?: (_tensorflow_Int64List__Output | null);
  'kind'?: "bytes_list"|"float_list"|"int64_list";
}
