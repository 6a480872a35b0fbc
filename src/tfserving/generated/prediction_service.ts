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
import type { BytesList as _tensorflow_BytesList, BytesList__Output as _tensorflow_BytesList__Output } from './tensorflow/BytesList.js';
import type { Example as _tensorflow_Example, Example__Output as _tensorflow_Example__Output } from './tensorflow/Example.js';
import type { Feature as _tensorflow_Feature, Feature__Output as _tensorflow_Feature__Output } from './tensorflow/Feature.js';
import type { Features as _tensorflow_Features, Features__Output as _tensorflow_Features__Output } from './tensorflow/Features.js';
import type { FloatList as _tensorflow_FloatList, FloatList__Output as _tensorflow_FloatList__Output } from './tensorflow/FloatList.js';
import type { Int64List as _tensorflow_Int64List, Int64List__Output as _tensorflow_Int64List__Output } from './tensorflow/Int64List.js';
import type { ResourceHandleProto as _tensorflow_ResourceHandleProto, ResourceHandleProto__Output as _tensorflow_ResourceHandleProto__Output } from './tensorflow/ResourceHandleProto.js';
import type { SignatureDef as _tensorflow_SignatureDef, SignatureDef__Output as _tensorflow_SignatureDef__Output } from './tensorflow/SignatureDef.js';
import type { TensorInfo as _tensorflow_TensorInfo, TensorInfo__Output as _tensorflow_TensorInfo__Output } from './tensorflow/TensorInfo.js';
import type { TensorProto as _tensorflow_TensorProto, TensorProto__Output as _tensorflow_TensorProto__Output } from './tensorflow/TensorProto.js';
import type { TensorShapeProto as _tensorflow_TensorShapeProto, TensorShapeProto__Output as _tensorflow_TensorShapeProto__Output } from './tensorflow/TensorShapeProto.js';
import type { VariantTensorDataProto as _tensorflow_VariantTensorDataProto, VariantTensorDataProto__Output as _tensorflow_VariantTensorDataProto__Output } from './tensorflow/VariantTensorDataProto.js';
import type { Class as _tensorflow_serving_Class, Class__Output as _tensorflow_serving_Class__Output } from './tensorflow/serving/Class.js';
import type { ClassificationRequest as _tensorflow_serving_ClassificationRequest, ClassificationRequest__Output as _tensorflow_serving_ClassificationRequest__Output } from './tensorflow/serving/ClassificationRequest.js';
import type { ClassificationResponse as _tensorflow_serving_ClassificationResponse, ClassificationResponse__Output as _tensorflow_serving_ClassificationResponse__Output } from './tensorflow/serving/ClassificationResponse.js';
import type { ClassificationResult as _tensorflow_serving_ClassificationResult, ClassificationResult__Output as _tensorflow_serving_ClassificationResult__Output } from './tensorflow/serving/ClassificationResult.js';
import type { Classifications as _tensorflow_serving_Classifications, Classifications__Output as _tensorflow_serving_Classifications__Output } from './tensorflow/serving/Classifications.js';
import type { ExampleList as _tensorflow_serving_ExampleList, ExampleList__Output as _tensorflow_serving_ExampleList__Output } from './tensorflow/serving/ExampleList.js';
import type { ExampleListWithContext as _tensorflow_serving_ExampleListWithContext, ExampleListWithContext__Output as _tensorflow_serving_ExampleListWithContext__Output } from './tensorflow/serving/ExampleListWithContext.js';
import type { GetModelMetadataRequest as _tensorflow_serving_GetModelMetadataRequest, GetModelMetadataRequest__Output as _tensorflow_serving_GetModelMetadataRequest__Output } from './tensorflow/serving/GetModelMetadataRequest.js';
import type { GetModelMetadataResponse as _tensorflow_serving_GetModelMetadataResponse, GetModelMetadataResponse__Output as _tensorflow_serving_GetModelMetadataResponse__Output } from './tensorflow/serving/GetModelMetadataResponse.js';
import type { InferenceResult as _tensorflow_serving_InferenceResult, InferenceResult__Output as _tensorflow_serving_InferenceResult__Output } from './tensorflow/serving/InferenceResult.js';
import type { InferenceTask as _tensorflow_serving_InferenceTask, InferenceTask__Output as _tensorflow_serving_InferenceTask__Output } from './tensorflow/serving/InferenceTask.js';
import type { Input as _tensorflow_serving_Input, Input__Output as _tensorflow_serving_Input__Output } from './tensorflow/serving/Input.js';
import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from './tensorflow/serving/ModelSpec.js';
import type { MultiInferenceRequest as _tensorflow_serving_MultiInferenceRequest, MultiInferenceRequest__Output as _tensorflow_serving_MultiInferenceRequest__Output } from './tensorflow/serving/MultiInferenceRequest.js';
import type { MultiInferenceResponse as _tensorflow_serving_MultiInferenceResponse, MultiInferenceResponse__Output as _tensorflow_serving_MultiInferenceResponse__Output } from './tensorflow/serving/MultiInferenceResponse.js';
import type { PredictRequest as _tensorflow_serving_PredictRequest, PredictRequest__Output as _tensorflow_serving_PredictRequest__Output } from './tensorflow/serving/PredictRequest.js';
import type { PredictResponse as _tensorflow_serving_PredictResponse, PredictResponse__Output as _tensorflow_serving_PredictResponse__Output } from './tensorflow/serving/PredictResponse.js';
import type { PredictStreamedOptions as _tensorflow_serving_PredictStreamedOptions, PredictStreamedOptions__Output as _tensorflow_serving_PredictStreamedOptions__Output } from './tensorflow/serving/PredictStreamedOptions.js';
import type { PredictionServiceClient as _tensorflow_serving_PredictionServiceClient, PredictionServiceDefinition as _tensorflow_serving_PredictionServiceDefinition } from './tensorflow/serving/PredictionService.js';
import type { Regression as _tensorflow_serving_Regression, Regression__Output as _tensorflow_serving_Regression__Output } from './tensorflow/serving/Regression.js';
import type { RegressionRequest as _tensorflow_serving_RegressionRequest, RegressionRequest__Output as _tensorflow_serving_RegressionRequest__Output } from './tensorflow/serving/RegressionRequest.js';
import type { RegressionResponse as _tensorflow_serving_RegressionResponse, RegressionResponse__Output as _tensorflow_serving_RegressionResponse__Output } from './tensorflow/serving/RegressionResponse.js';
import type { RegressionResult as _tensorflow_serving_RegressionResult, RegressionResult__Output as _tensorflow_serving_RegressionResult__Output } from './tensorflow/serving/RegressionResult.js';
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
    BytesList: MessageTypeDefinition<_tensorflow_BytesList, _tensorflow_BytesList__Output>
    DataType: EnumTypeDefinition
    Example: MessageTypeDefinition<_tensorflow_Example, _tensorflow_Example__Output>
    Feature: MessageTypeDefinition<_tensorflow_Feature, _tensorflow_Feature__Output>
    Features: MessageTypeDefinition<_tensorflow_Features, _tensorflow_Features__Output>
    FloatList: MessageTypeDefinition<_tensorflow_FloatList, _tensorflow_FloatList__Output>
    Int64List: MessageTypeDefinition<_tensorflow_Int64List, _tensorflow_Int64List__Output>
    ResourceHandleProto: MessageTypeDefinition<_tensorflow_ResourceHandleProto, _tensorflow_ResourceHandleProto__Output>
    SignatureDef: MessageTypeDefinition<_tensorflow_SignatureDef, _tensorflow_SignatureDef__Output>
    TensorInfo: MessageTypeDefinition<_tensorflow_TensorInfo, _tensorflow_TensorInfo__Output>
    TensorProto: MessageTypeDefinition<_tensorflow_TensorProto, _tensorflow_TensorProto__Output>
    TensorShapeProto: MessageTypeDefinition<_tensorflow_TensorShapeProto, _tensorflow_TensorShapeProto__Output>
    VariantTensorDataProto: MessageTypeDefinition<_tensorflow_VariantTensorDataProto, _tensorflow_VariantTensorDataProto__Output>
    serving: {
      Class: MessageTypeDefinition<_tensorflow_serving_Class, _tensorflow_serving_Class__Output>
      ClassificationRequest: MessageTypeDefinition<_tensorflow_serving_ClassificationRequest, _tensorflow_serving_ClassificationRequest__Output>
      ClassificationResponse: MessageTypeDefinition<_tensorflow_serving_ClassificationResponse, _tensorflow_serving_ClassificationResponse__Output>
      ClassificationResult: MessageTypeDefinition<_tensorflow_serving_ClassificationResult, _tensorflow_serving_ClassificationResult__Output>
      Classifications: MessageTypeDefinition<_tensorflow_serving_Classifications, _tensorflow_serving_Classifications__Output>
      ExampleList: MessageTypeDefinition<_tensorflow_serving_ExampleList, _tensorflow_serving_ExampleList__Output>
      ExampleListWithContext: MessageTypeDefinition<_tensorflow_serving_ExampleListWithContext, _tensorflow_serving_ExampleListWithContext__Output>
      GetModelMetadataRequest: MessageTypeDefinition<_tensorflow_serving_GetModelMetadataRequest, _tensorflow_serving_GetModelMetadataRequest__Output>
      GetModelMetadataResponse: MessageTypeDefinition<_tensorflow_serving_GetModelMetadataResponse, _tensorflow_serving_GetModelMetadataResponse__Output>
      InferenceResult: MessageTypeDefinition<_tensorflow_serving_InferenceResult, _tensorflow_serving_InferenceResult__Output>
      InferenceTask: MessageTypeDefinition<_tensorflow_serving_InferenceTask, _tensorflow_serving_InferenceTask__Output>
      Input: MessageTypeDefinition<_tensorflow_serving_Input, _tensorflow_serving_Input__Output>
      ModelSpec: MessageTypeDefinition<_tensorflow_serving_ModelSpec, _tensorflow_serving_ModelSpec__Output>
      MultiInferenceRequest: MessageTypeDefinition<_tensorflow_serving_MultiInferenceRequest, _tensorflow_serving_MultiInferenceRequest__Output>
      MultiInferenceResponse: MessageTypeDefinition<_tensorflow_serving_MultiInferenceResponse, _tensorflow_serving_MultiInferenceResponse__Output>
      PredictRequest: MessageTypeDefinition<_tensorflow_serving_PredictRequest, _tensorflow_serving_PredictRequest__Output>
      PredictResponse: MessageTypeDefinition<_tensorflow_serving_PredictResponse, _tensorflow_serving_PredictResponse__Output>
      PredictStreamedOptions: MessageTypeDefinition<_tensorflow_serving_PredictStreamedOptions, _tensorflow_serving_PredictStreamedOptions__Output>
      PredictionService: SubtypeConstructor<typeof grpc.Client, _tensorflow_serving_PredictionServiceClient> & { service: _tensorflow_serving_PredictionServiceDefinition }
      Regression: MessageTypeDefinition<_tensorflow_serving_Regression, _tensorflow_serving_Regression__Output>
      RegressionRequest: MessageTypeDefinition<_tensorflow_serving_RegressionRequest, _tensorflow_serving_RegressionRequest__Output>
      RegressionResponse: MessageTypeDefinition<_tensorflow_serving_RegressionResponse, _tensorflow_serving_RegressionResponse__Output>
      RegressionResult: MessageTypeDefinition<_tensorflow_serving_RegressionResult, _tensorflow_serving_RegressionResult__Output>
      SignatureDefMap: MessageTypeDefinition<_tensorflow_serving_SignatureDefMap, _tensorflow_serving_SignatureDefMap__Output>
    }
  }
}

