// Original file: protos/tensorflow_serving/config/model_server_config.proto

export const ModelType = {
  MODEL_TYPE_UNSPECIFIED: 'MODEL_TYPE_UNSPECIFIED',
  TENSORFLOW: 'TENSORFLOW',
  OTHER: 'OTHER',
} as const;

export type ModelType =
  | 'MODEL_TYPE_UNSPECIFIED'
  | 0
  | 'TENSORFLOW'
  | 1
  | 'OTHER'
  | 2

export type ModelType__Output = typeof ModelType[keyof typeof ModelType]
