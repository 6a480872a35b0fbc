// Original file: protos/tensorflow_serving/apis/predict.proto

import type { TensorProto as _tensorflow_TensorProto, TensorProto__Output as _tensorflow_TensorProto__Output } from '../../tensorflow/TensorProto.js';
import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from '../../tensorflow/serving/ModelSpec.js';

export interface PredictResponse {
  'outputs'?: ({[key: string]: _tensorflow_TensorProto});
  'model_spec'?: (_tensorflow_serving_ModelSpec | null);
}

export interface PredictResponse__Output {
  'outputs': ({[key: string]: _tensorflow_TensorProto__Output});
  'model_spec': (_tensorflow_serving_ModelSpec__Output | null);
}
