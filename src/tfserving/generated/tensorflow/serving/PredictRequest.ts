// Original file: protos/tensorflow_serving/apis/predict.proto

import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from '../../tensorflow/serving/ModelSpec.js';
import type { TensorProto as _tensorflow_TensorProto, TensorProto__Output as _tensorflow_TensorProto__Output } from '../../tensorflow/TensorProto.js';
import type { PredictStreamedOptions as _tensorflow_serving_PredictStreamedOptions, PredictStreamedOptions__Output as _tensorflow_serving_PredictStreamedOptions__Output } from '../../tensorflow/serving/PredictStreamedOptions.js';
import type { Long } from '@grpc/proto-loader';

// Original file: protos/tensorflow_serving/apis/predict.proto

export const _tensorflow_serving_PredictRequest_RequestOptions_DeterministicMode = {
  DETERMINISTIC_MODE_UNSPECIFIED: 'DETERMINISTIC_MODE_UNSPECIFIED',
  FIXED_DECODER_SLOT: 'FIXED_DECODER_SLOT',
} as const;

export type _tensorflow_serving_PredictRequest_RequestOptions_DeterministicMode =
  | 'DETERMINISTIC_MODE_UNSPECIFIED'
  | 0
  | 'FIXED_DECODER_SLOT'
  | 1

export type _tensorflow_serving_PredictRequest_RequestOptions_DeterministicMode__Output = typeof _tensorflow_serving_PredictRequest_RequestOptions_DeterministicMode[keyof typeof _tensorflow_serving_PredictRequest_RequestOptions_DeterministicMode]

export interface _tensorflow_serving_PredictRequest_RequestOptions {
  'client_id'?: (Buffer | Uint8Array | string);
  'deterministic_mode'?: (_tensorflow_serving_PredictRequest_RequestOptions_DeterministicMode);
  'return_additional_arrays_from_prefill'?: (boolean);
  'return_stoptokens'?: (number | string | Long)[];
  'max_cache_length'?: (number | string | Long);
  'return_all_stoptokens'?: (boolean);
  '_client_id'?: "client_id";
  '_deterministic_mode'?: "deterministic_mode";
  '_return_additional_arrays_from_prefill'?: "return_additional_arrays_from_prefill";
  '_max_cache_length'?: "max_cache_length";
  '_return_all_stoptokens'?: "return_all_stoptokens";
}

export interface _tensorflow_serving_PredictRequest_RequestOptions__Output {
  'client_id'?: (Buffer);
  'deterministic_mode'?: (_tensorflow_serving_PredictRequest_RequestOptions_DeterministicMode__Output);
  'return_additional_arrays_from_prefill'?: (boolean);
  'return_stoptokens': (number)[];
  'max_cache_length'?: (number);
  'return_all_stoptokens'?: (boolean);
  '_client_id'?: "client_id";
  '_deterministic_mode'?: "deterministic_mode";
  '_return_additional_arrays_from_prefill'?: "return_additional_arrays_from_prefill";
  '_max_cache_length'?: "max_cache_length";
  '_return_all_stoptokens'?: "return_all_stoptokens";
}

export interface PredictRequest {
  'model_spec'?: (_tensorflow_serving_ModelSpec | null);
  'inputs'?: ({[key: string]: _tensorflow_TensorProto});
  'output_filter'?: (string)[];
  'predict_streamed_options'?: (_tensorflow_serving_PredictStreamedOptions | null);
  'client_id'?: (Buffer | Uint8Array | string);
  'request_options'?: (_tensorflow_serving_PredictRequest_RequestOptions | null);
  '_client_id'?: "client_id";
  '_request_options'?: "request_options";
}

export interface PredictRequest__Output {
  'model_spec': (_tensorflow_serving_ModelSpec__Output | null);
  'inputs': ({[key: string]: _tensorflow_TensorProto__Output});
  'output_filter': (string)[];
  'predict_streamed_options': (_tensorflow_serving_PredictStreamedOptions__Output | null);
  'client_id'?: (Buffer);
  'request_options'?: (_tensorflow_serving_PredictRequest_RequestOptions__Output | null);
  '_client_id'?: "client_id";
  '_request_options'?: "request_options";
}
