// Original file: protos/tensorflow_serving/apis/prediction_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClassificationRequest as _tensorflow_serving_ClassificationRequest, ClassificationRequest__Output as _tensorflow_serving_ClassificationRequest__Output } from '../../tensorflow/serving/ClassificationRequest.js';
import type { ClassificationResponse as _tensorflow_serving_ClassificationResponse, ClassificationResponse__Output as _tensorflow_serving_ClassificationResponse__Output } from '../../tensorflow/serving/ClassificationResponse.js';
import type { GetModelMetadataRequest as _tensorflow_serving_GetModelMetadataRequest, GetModelMetadataRequest__Output as _tensorflow_serving_GetModelMetadataRequest__Output } from '../../tensorflow/serving/GetModelMetadataRequest.js';
import type { GetModelMetadataResponse as _tensorflow_serving_GetModelMetadataResponse, GetModelMetadataResponse__Output as _tensorflow_serving_GetModelMetadataResponse__Output } from '../../tensorflow/serving/GetModelMetadataResponse.js';
import type { MultiInferenceRequest as _tensorflow_serving_MultiInferenceRequest, MultiInferenceRequest__Output as _tensorflow_serving_MultiInferenceRequest__Output } from '../../tensorflow/serving/MultiInferenceRequest.js';
import type { MultiInferenceResponse as _tensorflow_serving_MultiInferenceResponse, MultiInferenceResponse__Output as _tensorflow_serving_MultiInferenceResponse__Output } from '../../tensorflow/serving/MultiInferenceResponse.js';
import type { PredictRequest as _tensorflow_serving_PredictRequest, PredictRequest__Output as _tensorflow_serving_PredictRequest__Output } from '../../tensorflow/serving/PredictRequest.js';
import type { PredictResponse as _tensorflow_serving_PredictResponse, PredictResponse__Output as _tensorflow_serving_PredictResponse__Output } from '../../tensorflow/serving/PredictResponse.js';
import type { RegressionRequest as _tensorflow_serving_RegressionRequest, RegressionRequest__Output as _tensorflow_serving_RegressionRequest__Output } from '../../tensorflow/serving/RegressionRequest.js';
import type { RegressionResponse as _tensorflow_serving_RegressionResponse, RegressionResponse__Output as _tensorflow_serving_RegressionResponse__Output } from '../../tensorflow/serving/RegressionResponse.js';

export interface PredictionServiceClient extends grpc.Client {
  Classify(argument: _tensorflow_serving_ClassificationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_ClassificationResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _tensorflow_serving_ClassificationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_ClassificationResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _tensorflow_serving_ClassificationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_ClassificationResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _tensorflow_serving_ClassificationRequest, callback: grpc.requestCallback<_tensorflow_serving_ClassificationResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _tensorflow_serving_ClassificationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_ClassificationResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _tensorflow_serving_ClassificationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_ClassificationResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _tensorflow_serving_ClassificationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_ClassificationResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _tensorflow_serving_ClassificationRequest, callback: grpc.requestCallback<_tensorflow_serving_ClassificationResponse__Output>): grpc.ClientUnaryCall;
  
  GetModelMetadata(argument: _tensorflow_serving_GetModelMetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_GetModelMetadataResponse__Output>): grpc.ClientUnaryCall;
  GetModelMetadata(argument: _tensorflow_serving_GetModelMetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_GetModelMetadataResponse__Output>): grpc.ClientUnaryCall;
  GetModelMetadata(argument: _tensorflow_serving_GetModelMetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_GetModelMetadataResponse__Output>): grpc.ClientUnaryCall;
  GetModelMetadata(argument: _tensorflow_serving_GetModelMetadataRequest, callback: grpc.requestCallback<_tensorflow_serving_GetModelMetadataResponse__Output>): grpc.ClientUnaryCall;
  getModelMetadata(argument: _tensorflow_serving_GetModelMetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_GetModelMetadataResponse__Output>): grpc.ClientUnaryCall;
  getModelMetadata(argument: _tensorflow_serving_GetModelMetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_GetModelMetadataResponse__Output>): grpc.ClientUnaryCall;
  getModelMetadata(argument: _tensorflow_serving_GetModelMetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_GetModelMetadataResponse__Output>): grpc.ClientUnaryCall;
  getModelMetadata(argument: _tensorflow_serving_GetModelMetadataRequest, callback: grpc.requestCallback<_tensorflow_serving_GetModelMetadataResponse__Output>): grpc.ClientUnaryCall;
  
  MultiInference(argument: _tensorflow_serving_MultiInferenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_MultiInferenceResponse__Output>): grpc.ClientUnaryCall;
  MultiInference(argument: _tensorflow_serving_MultiInferenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_MultiInferenceResponse__Output>): grpc.ClientUnaryCall;
  MultiInference(argument: _tensorflow_serving_MultiInferenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_MultiInferenceResponse__Output>): grpc.ClientUnaryCall;
  MultiInference(argument: _tensorflow_serving_MultiInferenceRequest, callback: grpc.requestCallback<_tensorflow_serving_MultiInferenceResponse__Output>): grpc.ClientUnaryCall;
  multiInference(argument: _tensorflow_serving_MultiInferenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_MultiInferenceResponse__Output>): grpc.ClientUnaryCall;
  multiInference(argument: _tensorflow_serving_MultiInferenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_MultiInferenceResponse__Output>): grpc.ClientUnaryCall;
  multiInference(argument: _tensorflow_serving_MultiInferenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_MultiInferenceResponse__Output>): grpc.ClientUnaryCall;
  multiInference(argument: _tensorflow_serving_MultiInferenceRequest, callback: grpc.requestCallback<_tensorflow_serving_MultiInferenceResponse__Output>): grpc.ClientUnaryCall;
  
  Predict(argument: _tensorflow_serving_PredictRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_PredictResponse__Output>): grpc.ClientUnaryCall;
  Predict(argument: _tensorflow_serving_PredictRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_PredictResponse__Output>): grpc.ClientUnaryCall;
  Predict(argument: _tensorflow_serving_PredictRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_PredictResponse__Output>): grpc.ClientUnaryCall;
  Predict(argument: _tensorflow_serving_PredictRequest, callback: grpc.requestCallback<_tensorflow_serving_PredictResponse__Output>): grpc.ClientUnaryCall;
  predict(argument: _tensorflow_serving_PredictRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_PredictResponse__Output>): grpc.ClientUnaryCall;
  predict(argument: _tensorflow_serving_PredictRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_PredictResponse__Output>): grpc.ClientUnaryCall;
  predict(argument: _tensorflow_serving_PredictRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_PredictResponse__Output>): grpc.ClientUnaryCall;
  predict(argument: _tensorflow_serving_PredictRequest, callback: grpc.requestCallback<_tensorflow_serving_PredictResponse__Output>): grpc.ClientUnaryCall;
  
  Regress(argument: _tensorflow_serving_RegressionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_RegressionResponse__Output>): grpc.ClientUnaryCall;
  Regress(argument: _tensorflow_serving_RegressionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_RegressionResponse__Output>): grpc.ClientUnaryCall;
  Regress(argument: _tensorflow_serving_RegressionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_RegressionResponse__Output>): grpc.ClientUnaryCall;
  Regress(argument: _tensorflow_serving_RegressionRequest, callback: grpc.requestCallback<_tensorflow_serving_RegressionResponse__Output>): grpc.ClientUnaryCall;
  regress(argument: _tensorflow_serving_RegressionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_RegressionResponse__Output>): grpc.ClientUnaryCall;
  regress(argument: _tensorflow_serving_RegressionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tensorflow_serving_RegressionResponse__Output>): grpc.ClientUnaryCall;
  regress(argument: _tensorflow_serving_RegressionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tensorflow_serving_RegressionResponse__Output>): grpc.ClientUnaryCall;
  regress(argument: _tensorflow_serving_RegressionRequest, callback: grpc.requestCallback<_tensorflow_serving_RegressionResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface PredictionServiceHandlers extends grpc.UntypedServiceImplementation {
  Classify: grpc.handleUnaryCall<_tensorflow_serving_ClassificationRequest__Output, _tensorflow_serving_ClassificationResponse>;
  
  GetModelMetadata: grpc.handleUnaryCall<_tensorflow_serving_GetModelMetadataRequest__Output, _tensorflow_serving_GetModelMetadataResponse>;
  
  MultiInference: grpc.handleUnaryCall<_tensorflow_serving_MultiInferenceRequest__Output, _tensorflow_serving_MultiInferenceResponse>;
  
  Predict: grpc.handleUnaryCall<_tensorflow_serving_PredictRequest__Output, _tensorflow_serving_PredictResponse>;
  
  Regress: grpc.handleUnaryCall<_tensorflow_serving_RegressionRequest__Output, _tensorflow_serving_RegressionResponse>;
  
}

export interface PredictionServiceDefinition extends grpc.ServiceDefinition {
  Classify: MethodDefinition<_tensorflow_serving_ClassificationRequest, _tensorflow_serving_ClassificationResponse, _tensorflow_serving_ClassificationRequest__Output, _tensorflow_serving_ClassificationResponse__Output>
  GetModelMetadata: MethodDefinition<_tensorflow_serving_GetModelMetadataRequest, _tensorflow_serving_GetModelMetadataResponse, _tensorflow_serving_GetModelMetadataRequest__Output, _tensorflow_serving_GetModelMetadataResponse__Output>
  MultiInference: MethodDefinition<_tensorflow_serving_MultiInferenceRequest, _tensorflow_serving_MultiInferenceResponse, _tensorflow_serving_MultiInferenceRequest__Output, _tensorflow_serving_MultiInferenceResponse__Output>
  Predict: MethodDefinition<_tensorflow_serving_PredictRequest, _tensorflow_serving_PredictResponse, _tensorflow_serving_PredictRequest__Output, _tensorflow_serving_PredictResponse__Output>
  Regress: MethodDefinition<_tensorflow_serving_RegressionRequest, _tensorflow_serving_RegressionResponse, _tensorflow_serving_RegressionRequest__Output, _tensorflow_serving_RegressionResponse__Output>
}
