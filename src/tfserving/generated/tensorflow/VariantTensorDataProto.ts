// Original file: protos/tensorflow/core/framework/tensor.proto

import type { TensorProto as _tensorflow_TensorProto, TensorProto__Output as _tensorflow_TensorProto__Output } from '../tensorflow/TensorProto.js';

export interface VariantTensorDataProto {
  'type_name'?: (string);
  'metadata'?: (Buffer | Uint8Array | string);
  'tensors'?: (_tensorflow_TensorProto)[];
}

export interface VariantTensorDataProto__Output {
  'type_name': (string);
  'metadata': (Buffer);
  'tensors': (_tensorflow_TensorProto__Output)[];
}
