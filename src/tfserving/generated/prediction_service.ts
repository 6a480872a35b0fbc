import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from './google/protobuf/Any.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from './google/protobuf/BoolValue.js';
import type { BytesValue as _google_protobuf_BytesValue, BytesValue__Output as _google_protobuf_BytesValue__Output } from './google/protobuf/BytesValue.js';
import type { DoubleValue as _google_protobuf_DoubleValue, DoubleValue__Output as _google_protobuf_DoubleValue__Output } from './google/protobuf/DoubleValue.js';
import type { FloatValue as _google_protobuf_FloatValue, FloatValue__Output as _google_protobuf_FloatValue__Output } from './google/protobuf/FloatValue.js';
import type { Int32Value as _google_protobuf_Int32Value, Int32Value__Output as _google_protobuf_Int32Value__Output } from './google/protobuf/Int32Value.js';
import type { Int64Value as _google_protobuf_Int64Value, Int64Value__Output as _google_protobuf_Int64Value__Output } from './google/protobuf/Int64Value.js';
import type { StringValue as _google_protobuf_StringValue, StringValue__Output as _google_protobuf_StringValue__Output } from './google/protobuf/StringValue.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from './google/protobuf/UInt32Value.js';
import type { UInt64Value as _google_protobuf_UInt64Value, UInt64Value__Output as _google_protobuf_UInt64Value__Output } from './google/protobuf/UInt64Value.js';
import type { ResourceHandleProto as _tensorflow_ResourceHandleProto, ResourceHandleProto__Output as _tensorflow_ResourceHandleProto__Output } from './tensorflow/ResourceHandleProto.js';
import type { SignatureDef as _tensorflow_SignatureDef, SignatureDef__Output as _tensorflow_SignatureDef__Output } from './tensorflow/SignatureDef.js';
import type { TensorInfo as _tensorflow_TensorInfo, TensorInfo__Output as _tensorflow_TensorInfo__Output } from './tensorflow/TensorInfo.js';
import type { TensorProto as _tensorflow_TensorProto, TensorProto__Output as _tensorflow_TensorProto__Output } from './tensorflow/TensorProto.js';
import type { TensorShapeProto as _tensorflow_TensorShapeProto, TensorShapeProto__Output as _tensorflow_TensorShapeProto__Output } from './tensorflow/TensorShapeProto.js';
import type { VariantTensorDataProto as _tensorflow_VariantTensorDataProto, VariantTensorDataProto__Output as _tensorflow_VariantTensorDataProto__Output } from './tensorflow/VariantTensorDataProto.js';
import type { GetModelMetadataRequest as _tensorflow_serving_GetModelMetadataRequest, GetModelMetadataRequest__Output as _tensorflow_serving_GetModelMetadataRequest__Output } from './tensorflow/serving/GetModelMetadataRequest.js';
import type { GetModelMetadataResponse as _tensorflow_serving_GetModelMetadataResponse, GetModelMetadataResponse__Output as _tensorflow_serving_GetModelMetadataResponse__Output } from './tensorflow/serving/GetModelMetadataResponse.js';
import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from './tensorflow/serving/ModelSpec.js';
import type { PredictRequest as _tensorflow_serving_PredictRequest, PredictRequest__Output as _tensorflow_serving_PredictRequest__Output } from './tensorflow/serving/PredictRequest.js';
import type { PredictResponse as _tensorflow_serving_PredictResponse, PredictResponse__Output as _tensorflow_serving_PredictResponse__Output } from './tensorflow/serving/PredictResponse.js';
import type { PredictStreamedOptions as _tensorflow_serving_PredictStreamedOptions, PredictStreamedOptions__Output as _tensorflow_serving_PredictStreamedOptions__Output } from './tensorflow/serving/PredictStreamedOptions.js';
import type { PredictionServiceClient as _tensorflow_serving_PredictionServiceClient, PredictionServiceDefinition as _tensorflow_serving_PredictionServiceDefinition } from './tensorflow/serving/PredictionService.js';
import type { SignatureDefMap as _tensorflow_serving_SignatureDefMap, SignatureDefMap__Output as _tensorflow_serving_SignatureDefMap__Output } from './tensorflow/serving/SignatureDefMap.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      Any: MessageTypeDefinition<_google_protobuf_Any, _google_protobuf_Any__Output>
      BoolValue: MessageTypeDefinition<_google_protobuf_BoolValue, _google_protobuf_BoolValue__Output>
      BytesValue: MessageTypeDefinition<_google_protobuf_BytesValue, _google_protobuf_BytesValue__Output>
      DoubleValue: MessageTypeDefinition<_google_protobuf_DoubleValue, _google_protobuf_DoubleValue__Output>
      FloatValue: MessageTypeDefinition<_google_protobuf_FloatValue, _google_protobuf_FloatValue__Output>
      Int32Value: MessageTypeDefinition<_google_protobuf_Int32Value, _google_protobuf_Int32Value__Output>
      Int64Value: MessageTypeDefinition<_google_protobuf_Int64Value, _google_protobuf_Int64Value__Output>
      StringValue: MessageTypeDefinition<_google_protobuf_StringValue, _google_protobuf_StringValue__Output>
      UInt32Value: MessageTypeDefinition<_google_protobuf_UInt32Value, _google_protobuf_UInt32Value__Output>
      UInt64Value: MessageTypeDefinition<_google_protobuf_UInt64Value, _google_protobuf_UInt64Value__Output>
    }
  }
  tensorflow: {
    DataType: EnumTypeDefinition
    ResourceHandleProto: MessageTypeDefinition<_tensorflow_ResourceHandleProto, _tensorflow_ResourceHandleProto__Output>
    SignatureDef: MessageTypeDefinition<_tensorflow_SignatureDef, _tensorflow_SignatureDef__Output>
    TensorInfo: MessageTypeDefinition<_tensorflow_TensorInfo, _tensorflow_TensorInfo__Output>
    TensorProto: MessageTypeDefinition<_tensorflow_TensorProto, _tensorflow_TensorProto__Output>
    TensorShapeProto: MessageTypeDefinition<_tensorflow_TensorShapeProto, _tensorflow_TensorShapeProto__Output>
    VariantTensorDataProto: MessageTypeDefinition<_tensorflow_VariantTensorDataProto, _tensorflow_VariantTensorDataProto__Output>
    serving: {
      GetModelMetadataRequest: MessageTypeDefinition<_tensorflow_serving_GetModelMetadataRequest, _tensorflow_serving_GetModelMetadataRequest__Output>
      GetModelMetadataResponse: MessageTypeDefinition<_tensorflow_serving_GetModelMetadataResponse, _tensorflow_serving_GetModelMetadataResponse__Output>
      ModelSpec: MessageTypeDefinition<_tensorflow_serving_ModelSpec, _tensorflow_serving_ModelSpec__Output>
      PredictRequest: MessageTypeDefinition<_tensorflow_serving_PredictRequest, _tensorflow_serving_PredictRequest__Output>
      PredictResponse: MessageTypeDefinition<_tensorflow_serving_PredictResponse, _tensorflow_serving_PredictResponse__Output>
      PredictStreamedOptions: MessageTypeDefinition<_tensorflow_serving_PredictStreamedOptions, _tensorflow_serving_PredictStreamedOptions__Output>
      PredictionService: SubtypeConstructor<typeof grpc.Client, _tensorflow_serving_PredictionServiceClient> & { service: _tensorflow_serving_PredictionServiceDefinition }
      SignatureDefMap: MessageTypeDefinition<_tensorflow_serving_SignatureDefMap, _tensorflow_serving_SignatureDefMap__Output>
    }
  }
}

