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
import type { FileSystemStoragePathSourceConfig as _tensorflow_serving_FileSystemStoragePathSourceConfig, FileSystemStoragePathSourceConfig__Output as _tensorflow_serving_FileSystemStoragePathSourceConfig__Output } from './tensorflow/serving/FileSystemStoragePathSourceConfig.js';
import type { GetModelStatusRequest as _tensorflow_serving_GetModelStatusRequest, GetModelStatusRequest__Output as _tensorflow_serving_GetModelStatusRequest__Output } from './tensorflow/serving/GetModelStatusRequest.js';
import type { GetModelStatusResponse as _tensorflow_serving_GetModelStatusResponse, GetModelStatusResponse__Output as _tensorflow_serving_GetModelStatusResponse__Output } from './tensorflow/serving/GetModelStatusResponse.js';
import type { LogCollectorConfig as _tensorflow_serving_LogCollectorConfig, LogCollectorConfig__Output as _tensorflow_serving_LogCollectorConfig__Output } from './tensorflow/serving/LogCollectorConfig.js';
import type { LoggingConfig as _tensorflow_serving_LoggingConfig, LoggingConfig__Output as _tensorflow_serving_LoggingConfig__Output } from './tensorflow/serving/LoggingConfig.js';
import type { Metric as _tensorflow_serving_Metric, Metric__Output as _tensorflow_serving_Metric__Output } from './tensorflow/serving/Metric.js';
import type { ModelConfig as _tensorflow_serving_ModelConfig, ModelConfig__Output as _tensorflow_serving_ModelConfig__Output } from './tensorflow/serving/ModelConfig.js';
import type { ModelConfigList as _tensorflow_serving_ModelConfigList, ModelConfigList__Output as _tensorflow_serving_ModelConfigList__Output } from './tensorflow/serving/ModelConfigList.js';
import type { ModelServerConfig as _tensorflow_serving_ModelServerConfig, ModelServerConfig__Output as _tensorflow_serving_ModelServerConfig__Output } from './tensorflow/serving/ModelServerConfig.js';
import type { ModelServiceClient as _tensorflow_serving_ModelServiceClient, ModelServiceDefinition as _tensorflow_serving_ModelServiceDefinition } from './tensorflow/serving/ModelService.js';
import type { ModelSpec as _tensorflow_serving_ModelSpec, ModelSpec__Output as _tensorflow_serving_ModelSpec__Output } from './tensorflow/serving/ModelSpec.js';
import type { ModelVersionStatus as _tensorflow_serving_ModelVersionStatus, ModelVersionStatus__Output as _tensorflow_serving_ModelVersionStatus__Output } from './tensorflow/serving/ModelVersionStatus.js';
import type { PerTaskSamplingConfig as _tensorflow_serving_PerTaskSamplingConfig, PerTaskSamplingConfig__Output as _tensorflow_serving_PerTaskSamplingConfig__Output } from './tensorflow/serving/PerTaskSamplingConfig.js';
import type { ReloadConfigRequest as _tensorflow_serving_ReloadConfigRequest, ReloadConfigRequest__Output as _tensorflow_serving_ReloadConfigRequest__Output } from './tensorflow/serving/ReloadConfigRequest.js';
import type { ReloadConfigResponse as _tensorflow_serving_ReloadConfigResponse, ReloadConfigResponse__Output as _tensorflow_serving_ReloadConfigResponse__Output } from './tensorflow/serving/ReloadConfigResponse.js';
import type { SamplingConfig as _tensorflow_serving_SamplingConfig, SamplingConfig__Output as _tensorflow_serving_SamplingConfig__Output } from './tensorflow/serving/SamplingConfig.js';
import type { StatusProto as _tensorflow_serving_StatusProto, StatusProto__Output as _tensorflow_serving_StatusProto__Output } from './tensorflow/serving/StatusProto.js';

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
    error: {
      Code: EnumTypeDefinition
    }
    serving: {
      FileSystemStoragePathSourceConfig: MessageTypeDefinition<_tensorflow_serving_FileSystemStoragePathSourceConfig, _tensorflow_serving_FileSystemStoragePathSourceConfig__Output>
      GetModelStatusRequest: MessageTypeDefinition<_tensorflow_serving_GetModelStatusRequest, _tensorflow_serving_GetModelStatusRequest__Output>
      GetModelStatusResponse: MessageTypeDefinition<_tensorflow_serving_GetModelStatusResponse, _tensorflow_serving_GetModelStatusResponse__Output>
      LogCollectorConfig: MessageTypeDefinition<_tensorflow_serving_LogCollectorConfig, _tensorflow_serving_LogCollectorConfig__Output>
      LoggingConfig: MessageTypeDefinition<_tensorflow_serving_LoggingConfig, _tensorflow_serving_LoggingConfig__Output>
      Metric: MessageTypeDefinition<_tensorflow_serving_Metric, _tensorflow_serving_Metric__Output>
      ModelConfig: MessageTypeDefinition<_tensorflow_serving_ModelConfig, _tensorflow_serving_ModelConfig__Output>
      ModelConfigList: MessageTypeDefinition<_tensorflow_serving_ModelConfigList, _tensorflow_serving_ModelConfigList__Output>
      ModelServerConfig: MessageTypeDefinition<_tensorflow_serving_ModelServerConfig, _tensorflow_serving_ModelServerConfig__Output>
      ModelService: SubtypeConstructor<typeof grpc.Client, _tensorflow_serving_ModelServiceClient> & { service: _tensorflow_serving_ModelServiceDefinition }
      ModelSpec: MessageTypeDefinition<_tensorflow_serving_ModelSpec, _tensorflow_serving_ModelSpec__Output>
      ModelType: EnumTypeDefinition
      ModelVersionStatus: MessageTypeDefinition<_tensorflow_serving_ModelVersionStatus, _tensorflow_serving_ModelVersionStatus__Output>
      PerTaskSamplingConfig: MessageTypeDefinition<_tensorflow_serving_PerTaskSamplingConfig, _tensorflow_serving_PerTaskSamplingConfig__Output>
      ReloadConfigRequest: MessageTypeDefinition<_tensorflow_serving_ReloadConfigRequest, _tensorflow_serving_ReloadConfigRequest__Output>
      ReloadConfigResponse: MessageTypeDefinition<_tensorflow_serving_ReloadConfigResponse, _tensorflow_serving_ReloadConfigResponse__Output>
      SamplingConfig: MessageTypeDefinition<_tensorflow_serving_SamplingConfig, _tensorflow_serving_SamplingConfig__Output>
      StatusProto: MessageTypeDefinition<_tensorflow_serving_StatusProto, _tensorflow_serving_StatusProto__Output>
    }
  }
}

