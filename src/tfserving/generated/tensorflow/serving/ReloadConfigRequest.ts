// Original file: protos/tensorflow_serving/apis/model_management.proto

import type { ModelServerConfig as _tensorflow_serving_ModelServerConfig, ModelServerConfig__Output as _tensorflow_serving_ModelServerConfig__Output } from '../../tensorflow/serving/ModelServerConfig.js';

export interface ReloadConfigRequest {
  'config'?: (_tensorflow_serving_ModelServerConfig | null);
  'metric_names'?: (string)[];
}

export interface ReloadConfigRequest__Output {
  'config': (_tensorflow_serving_ModelServerConfig__Output | null);
  'metric_names': (string)[];
}
