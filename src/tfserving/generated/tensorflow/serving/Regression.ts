// Original file: protos/tensorflow_serving/apis/regression.proto


export interface Regression {
  'value'?: (number | string);
}

export interface Regression__Output {
  'value': (number);
}
