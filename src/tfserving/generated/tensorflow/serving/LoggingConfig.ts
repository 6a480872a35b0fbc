// Original file: protos/tensorflow_serving/config/logging_config.proto

import type { LogCollectorConfig as _tensorflow_serving_LogCollectorConfig, LogCollectorConfig__Output as _tensorflow_serving_LogCollectorConfig__Output } from '../../tensorflow/serving/LogCollectorConfig.js';
import type { SamplingConfig as _tensorflow_serving_SamplingConfig, SamplingConfig__Output as _tensorflow_serving_SamplingConfig__Output } from '../../tensorflow/serving/SamplingConfig.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../google/protobuf/Any.js';

export interface LoggingConfig {
  'log_collector_config'?: (_tensorflow_serving_LogCollectorConfig | null);
  'sampling_config'?: (_tensorflow_serving_SamplingConfig | null);
  'custom_logging_config'?: (_google_protobuf_Any | null);
}

export interface LoggingConfig__Output {
  'log_collector_config': (_tensorflow_serving_LogCollectorConfig__Output | null);
  'sampling_config': (_tensorflow_serving_SamplingConfig__Output | null);
  'custom_logging_config': (_google_protobuf_Any__Output | null);
}
