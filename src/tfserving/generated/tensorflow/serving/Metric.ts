// Original file: protos/tensorflow_serving/apis/model_management.proto

import type { Long } from '@grpc/proto-loader';

export interface Metric {
  'name'?: (string);
  'int64_value_increase'?: (number | string | Long);
  'value_increase'?: "int64_value_increase";
}

export interface Metric__Output {
  'name': (string);
  'int64_value_increase'?: (number);
  'value_increase'?: "int64_value_increase";
}
