// Loads lookout's TF Serving protos once, for grpc-js (services and message
// codecs) and for protobufjs (the SignatureDefMap packed inside an Any).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { protosDir } from '../util/paths.js';
import type { ProtoGrpcType as PredictionProto } from './generated/prediction_service.js';
import type { ProtoGrpcType as ModelProto } from './generated/model_service.js';
import type { SignatureDefMap__Output } from './generated/tensorflow/serving/SignatureDefMap.js';
import type { SignatureDefMap } from './generated/tensorflow/serving/SignatureDefMap.js';

export const serviceProtoFiles = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
];

/** The decoding options of protos/loader-options.json, shared with the type generator. */
interface LoaderOptions {
  keepCase: boolean;
  longs: string;
  enums: string;
  bytes: string;
  defaults: boolean;
  oneofs: boolean;
}

function loaderOptions(): protoLoader.Options {
  const file = path.join(protosDir, 'loader-options.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as LoaderOptions;
  const types = { Number, String, Buffer } as const;
  const pick = <K extends keyof typeof types>(key: keyof LoaderOptions, allowed: readonly K[]): (typeof types)[K] => {
    const value = raw[key];
    if (!allowed.includes(value as K)) throw new Error(`${file}: ${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return types[value as K];
  };
  return {
    keepCase: raw.keepCase,
    longs: pick('longs', ['Number', 'String']),
    enums: pick('enums', ['String']),
    bytes: pick('bytes', ['Buffer']),
    defaults: raw.defaults,
    oneofs: raw.oneofs,
    includeDirs: [protosDir],
  };
}

export interface TfServingProtos {
  prediction: PredictionProto;
  model: ModelProto;
  packageDefinition: protoLoader.PackageDefinition;
  /** Packs a SignatureDefMap for GetModelMetadataResponse.metadata["signature_def"]. */
  encodeSignatureDefMap(map: SignatureDefMap): Buffer;
  /** Unpacks metadata["signature_def"], with the same field shapes grpc-js gives. */
  decodeSignatureDefMap(bytes: Uint8Array): SignatureDefMap__Output;
}

export const SIGNATURE_DEF_MAP_TYPE_URL = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';

let loaded: TfServingProtos | undefined;

export function tfServingProtos(): TfServingProtos {
  if (loaded) return loaded;
  const options = loaderOptions();
  const packageDefinition = protoLoader.loadSync(serviceProtoFiles, options);
  const grpcObject = grpc.loadPackageDefinition(packageDefinition);

  const root = new protobuf.Root();
  // Imports resolve against protos/; google/protobuf/* are protobufjs's built-in copies.
  root.resolvePath = (_origin, target) =>
    path.isAbsolute(target) || target.startsWith('google/protobuf/') ? target : path.join(protosDir, target);
  root.loadSync(path.join(protosDir, 'tensorflow_serving/apis/get_model_metadata.proto'), { keepCase: options.keepCase });
  root.resolveAll();
  const mapType = root.lookupType('tensorflow.serving.SignatureDefMap');
  const conversion: protobuf.IConversionOptions = {
    longs: options.longs,
    enums: options.enums,
    bytes: options.bytes,
    defaults: options.defaults,
    oneofs: options.oneofs,
  };

  loaded = {
    prediction: grpcObject as unknown as PredictionProto,
    model: grpcObject as unknown as ModelProto,
    packageDefinition,
    encodeSignatureDefMap(map) {
      const message = mapType.fromObject(map as Record<string, unknown>);
      return Buffer.from(mapType.encode(message).finish());
    },
    decodeSignatureDefMap(bytes) {
      return mapType.toObject(mapType.decode(bytes), conversion) as SignatureDefMap__Output;
    },
  };
  return loaded;
}
