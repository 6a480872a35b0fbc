// Original file: protos/tensorflow_serving/config/file_system_storage_path_source.proto

import type { Long } from '@grpc/proto-loader';

export interface _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_All {
}

export interface _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_All__Output {
}

export interface _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_Latest {
  'num_versions'?: (number);
}

export interface _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_Latest__Output {
  'num_versions': (number);
}

export interface _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy {
  'latest'?: (_tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_Latest | null);
  'all'?: (_tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_All | null);
  'specific'?: (_tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_Specific | null);
  'policy_choice'?: "latest"|"all"|"specific";
}

export interface _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy__Output {
  'latest'?: (_tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_Latest__Output | null);
  'all'?: (_tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_All__Output | null);
  'specific'?: (_tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_Specific__Output | null);
  'policy_choice'?: "latest"|"all"|"specific";
}

export interface _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_Specific {
  'versions'?: (number | string | Long)[];
}

export interface _tensorflow_serving_FileSystemStoragePathSourceConfig_ServableVersionPolicy_Specific__Output {
  'versions': (number)[];
}

export interface FileSystemStoragePathSourceConfig {
}

export interface FileSystemStoragePathSourceConfig__Output {
}
