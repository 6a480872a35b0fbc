// Original file: protos/tensorflow/core/example/feature.proto


export interface BytesList {
  'value'?: (Buffer | Uint8Array | string)[];
}

export interface BytesList__Output {
  'value': (Buffer)[];
}
