// Original file: protos/tensorflow/core/protobuf/meta_graph.proto

import type { TensorInfo as _tensorflow_TensorInfo, TensorInfo__Output as _tensorflow_TensorInfo__Output } from '../tensorflow/TensorInfo.js';
import type { TensorProto as _tensorflow_TensorProto, TensorProto__Output as _tensorflow_TensorProto__Output } from '../tensorflow/TensorProto.js';

export interface SignatureDef {
  'inputs'?: ({[key: string]: _tensorflow_TensorInfo});
  'outputs'?: ({[key: string]: _tensorflow_TensorInfo});
  'method_name'?: (string);
  'defaults'?: ({[key: string]: _tensorflow_TensorProto});
}

export interface SignatureDef__Output {
  'inputs': ({[key: string]: _tensorflow_TensorInfo__Output});
  'outputs': ({[key: string]: _tensorflow_TensorInfo__Output});
  'method_name': (string);
  'defaults': ({[key: string]: _tensorflow_TensorProto__Output});
}
