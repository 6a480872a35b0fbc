// Original file: protos/tensorflow_serving/config/logging_config.proto


export interface LogCollectorConfig {
  'type'?: (string);
  'filename_prefix'?: (string);
}

export interface LogCollectorConfig__Output {
  'type': (string);
  'filename_prefix': (string);
}
