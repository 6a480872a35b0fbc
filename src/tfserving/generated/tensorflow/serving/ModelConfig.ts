// Original file: protos/tensorflow_serving/config/model_server_config.proto

import type { ModelType as _tensorflow_serving_ModelType, ModelType__Output as _tensorflow_serving_ModelType__Output } from '../../tensorflow/serving/ModelType.js';
import type { LoggingConfig as _tensorflow_serving_LoggingConfig, LoggingConfig__Output as _tensorflow_serving_LoggingConfig__Output } from '../../tensorflow/serving/LoggingConfig.js';
import type { _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy, _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy__Output } from '../../tensorflow/serving/FileSystemStoragePathSourceConfig.js';
import type { Long } from '@grpc/proto-loader';

export interface ModelConfig {
  'name'?: (string);
  'base_path'?: (string);
  'model_type'?: (_tensorflow_serving_ModelType);
  'model_platform'?: (string);
  'logging_config'?: (_tensorflow_serving_LoggingConfig | null);
  'model_version_policy'?: (_tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy | null);
  'version_labels'?: ({[key: string]: number | string | Long});
}

export interface ModelConfig__Output {
  'name': (string);
  'base_path': (string);
  'model_type': (_tensorflow_serving_ModelType__Output);
  'model_platform': (string);
  'logging_config': (_tensorflow_serving_LoggingConfig__Output | null);
  'model_version_policy': (_tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy__Output | null);
  'version_labels': ({[key: string]: number});
}
