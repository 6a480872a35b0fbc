// Original file: protos/tensorflow_serving/config/logging_config.proto


export interface PerTaskSamplingConfig {
  'dc'?: (string);
  'task_index'?: (number);
  'sampling_rate'?: (number | string);
  '_task_index'?: "task_index";
}

export interface PerTaskSamplingConfig__Output {
  'dc': (string);
  'task_index'?: (number);
  'sampling_rate': (number);
  '_task_index'?: "task_index";
}
