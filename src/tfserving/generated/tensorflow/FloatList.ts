// Original file: protos/tensorflow/core/example/feature.proto


export interface FloatList {
  'value'?: (number | string)[];
}

export interface FloatList__Output {
  'value': (number)[];
}
