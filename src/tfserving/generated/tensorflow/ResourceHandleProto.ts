// Original file: protos/tensorflow/core/framework/resource_handle.proto

import type { DataType as _tensorflow_DataType, DataType__Output as _tensorflow_DataType__Output } from '../tensorflow/DataType.js';
import type { TensorShapeProto as _tensorflow_TensorShapeProto, TensorShapeProto__Output as _tensorflow_TensorShapeProto__Output } from '../tensorflow/TensorShapeProto.js';
import type { Long } from '@grpc/proto-loader';

export interface _tensorflow_ResourceHandleProto_DtypeAndShape {
  'dtype'?: (_tensorflow_DataType);
  'shape'?: (_tensorflow_TensorShapeProto | null);
}

export interface _tensorflow_ResourceHandleProto_DtypeAndShape__Output {
  'dtype': (_tensorflow_DataType__Output);
  'shape': (_tensorflow_TensorShapeProto__Output | null);
}

export interface ResourceHandleProto {
  'device'?: (string);
  'container'?: (string);
  'name'?: (string);
  'hash_code'?: (number | string | Long);
  'maybe_type_name'?: (string);
  'dtypes_and_shapes'?: (_tensorflow_ResourceHandleProto_DtypeAndShape)[];
}

export interface ResourceHandleProto__Output {
  'device': (string);
  'container': (string);
  'name': (string);
  'hash_code': (number);
  'maybe_type_name': (string);
  'dtypes_and_shapes': (_tensorflow_ResourceHandleProto_DtypeAndShape__Output)[];
}
