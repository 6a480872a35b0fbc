// Original file: protos/tensorflow/core/example/feature.proto

import type { Long } from '@grpc/proto-loader';

export interface Int64List {
  'value'?: (number | string | Long)[];
}

export interface Int64List__Output {
  'value': (number)[];
}
