// Original file: protos/tensorflow_serving/config/model_server_config.proto

import type { ModelConfig as _tensorflow_serving_ModelConfig, ModelConfig__Output as _tensorflow_serving_ModelConfig__Output } from '../../tensorflow/serving/ModelConfig.js';

export interface ModelConfigList {
  'config'?: (_tensorflow_serving_ModelConfig)[];
}

export interface ModelConfigList__Output {
  'config': (_tensorflow_serving_ModelConfig__Output)[];
}
