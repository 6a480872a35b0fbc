// Original file: protos/tensorflow_serving/config/logging_config.proto

import type { PerTaskSamplingConfig as _tensorflow_serving_PerTaskSamplingConfig, PerTaskSamplingConfig__Output as _tensorflow_serving_PerTaskSamplingConfig__Output } from '../../tensorflow/serving/PerTaskSamplingConfig.js';

// Original file: protos/tensorflow_serving/config/logging_config.proto

export const _tensorflow_serving_SamplingConfig_Attributes = {
  ATTR_DEFAULT: 'ATTR_DEFAULT',
  ATTR_REQUEST_ORIGIN: 'ATTR_REQUEST_ORIGIN',
  ATTR_REQUEST_CRITICALITY: 'ATTR_REQUEST_CRITICALITY',
} as const;

export type _tensorflow_serving_SamplingConfig_Attributes =
  | 'ATTR_DEFAULT'
  | 0
  | 'ATTR_REQUEST_ORIGIN'
  | 1
  | 'ATTR_REQUEST_CRITICALITY'
  | 2

export type _tensorflow_serving_SamplingConfig_Attributes__Output = typeof _tensorflow_serving_SamplingConfig_Attributes[keyof typeof _tensorflow_serving_SamplingConfig_Attributes]

export interface SamplingConfig {
  'sampling_rate'?: (number | string);
  'attributes'?: (number);
  'per_task_sampling_configs'?: (_tensorflow_serving_PerTaskSamplingConfig)[];
}

export interface SamplingConfig__Output {
  'sampling_rate': (number);
  'attributes': (number);
  'per_task_sampling_configs': (_tensorflow_serving_PerTaskSamplingConfig__Output)[];
}
