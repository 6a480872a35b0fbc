// Original file: protos/tensorflow_serving/apis/classification.proto


export interface Class {
  'label'?: (string);
  'score'?: (number | string);
}

export interface Class__Output {
  'label': (string);
  'score': (number);
}
