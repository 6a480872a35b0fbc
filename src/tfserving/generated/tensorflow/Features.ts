// Original file: protos/tensorflow/core/example/feature.proto

import type { Feature as _tensorflow_Feature, Feature__Output as _tensorflow_Feature__Output } from '../tensorflow/Feature.js';

export interface Features {
  'feature'?: ({[key: string]: _tensorflow_Feature});
}

export interface Features__Output {
  'feature': ({[key: string]: _tensorflow_Feature__Output});
}
