// Original file: protos/tensorflow/core/protobuf/meta_graph.proto

import type { DataType as _tensorflow_DataType, DataType__Output as _tensorflow_DataType__Output } from '../tensorflow/DataType.js';
import type { TensorShapeProto as _tensorflow_TensorShapeProto, TensorShapeProto__Output as _tensorflow_TensorShapeProto__Output } from '../tensorflow/TensorShapeProto.js';

export interface _tensorflow_TensorInfo_CooSparse {
  'values_tensor_name'?: (string);
  'indices_tensor_name'?: (string);
  'dense_shape_tensor_name'?: (string);
}

export interface _tensorflow_TensorInfo_CooSparse__Output {
  'values_tensor_name': (string);
  'indices_tensor_name': (string);
  'dense_shape_tensor_name': (string);
}

export interface TensorInfo {
  'name'?: (string);
  'dtype'?: (_tensorflow_DataType);
  'tensor_shape'?: (_tensorflow_TensorShapeProto | null);
  'coo_sparse'?: (_tensorflow_TensorInfo_CooSparse | null);
  'encoding'?: "name"|"coo_sparse";
}

export interface TensorInfo__Output {
  'name'?: (string);
  'dtype': (_tensorflow_DataType__Output);
  'tensor_shape': (_tensorflow_TensorShapeProto__Output | null);
  'coo_sparse'?: (_tensorflow_TensorInfo_CooSparse__Output | null);
  'encoding'?: "name"|"coo_sparse";
}
