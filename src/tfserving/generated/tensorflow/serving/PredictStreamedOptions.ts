// Original file: protos/tensorflow_serving/apis/predict.proto


// Original file: protos/tensorflow_serving/apis/predict.proto

export const _tensorflow_serving_PredictStreamedOptions_RequestState = {
  NONE: 'NONE',
  SPLIT: 'SPLIT',
  END_SPLIT: 'END_SPLIT',
  CANCEL: 'CANCEL',
} as const;

export type _tensorflow_serving_PredictStreamedOptions_RequestState =
  | 'NONE'
  | 0
  | 'SPLIT'
  | 1
  | 'END_SPLIT'
  | 2
  | 'CANCEL'
  | 3

export type _tensorflow_serving_PredictStreamedOptions_RequestState__Output = typeof _tensorflow_serving_PredictStreamedOptions_RequestState[keyof typeof _tensorflow_serving_PredictStreamedOptions_RequestState]

export interface PredictStreamedOptions {
  'request_state'?: (_tensorflow_serving_PredictStreamedOptions_RequestState);
  'split_dimensions'?: ({[key: string]: number});
  'return_single_response'?: (boolean);
}

export interface PredictStreamedOptions__Output {
  'request_state': (_tensorflow_serving_PredictStreamedOptions_RequestState__Output);
  'split_dimensions': ({[key: string]: number});
  'return_single_response': (boolean);
}
