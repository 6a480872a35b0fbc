// Original file: protos/tensorflow_serving/apis/model_management.proto

import type { StatusProto as _tensorflow_serving_StatusProto, StatusProto__Output as _tensorflow_serving_StatusProto__Output } from '../../tensorflow/serving/StatusProto.js';
import type { Metric as _tensorflow_serving_Metric, Metric__Output as _tensorflow_serving_Metric__Output } from '../../tensorflow/serving/Metric.js';

export interface ReloadConfigResponse {
  'status'?: (_tensorflow_serving_StatusProto | null);
  'metric'?: (_tensorflow_serving_Metric)[];
}

export interface ReloadConfigResponse__Output {
  'status': (_tensorflow_serving_StatusProto__Output | null);
  'metric': (_tensorflow_serving_Metric__Output)[];
}
