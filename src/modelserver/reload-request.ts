// ModelService/HandleReloadConfigRequest: the config in the request, read as
// the text file is read, applied through the same path as the file poller
// (ModelFleet.reload, one at a time). As TF Serving, the outcome is both in
// the response's status and, when it failed, the call's own gRPC status
// (PARITY §1.5). A server without a model config file has no fleet to reload.
import { status as Status } from '@grpc/grpc-js';
import { errorForStatus, invalidArgument, TfServingError } from '../tfserving/errors.js';
import type { ModelConfig__Output } from '../tfserving/generated/tensorflow/serving/ModelConfig.js';
import type { ModelServerConfig__Output } from '../tfserving/generated/tensorflow/serving/ModelServerConfig.js';
import type { ReloadConfigRequest__Output } from '../tfserving/generated/tensorflow/serving/ReloadConfigRequest.js';
import type { ReloadConfigResponse } from '../tfserving/generated/tensorflow/serving/ReloadConfigResponse.js';
import type { ModelServerConfig, ServedModelConfig } from './model-config-file.js';
import type { ModelFleet } from './model-fleet.js';
import type { VersionPolicy } from './version-source.js';

function policyOf(m: ModelConfig__Output): VersionPolicy {
  const p = m.model_version_policy;
  if (p?.all) return { kind: 'all' };
  if (p?.specific) return { kind: 'specific', versions: p.specific.versions.map(Number) };
  return { kind: 'latest', numVersions: Math.max(1, Number(p?.latest?.num_versions ?? 0)) };
}

function platformOf(m: ModelConfig__Output): string {
  const type = String(m.model_type ?? 'MODEL_TYPE_UNSPECIFIED');
  if (type === 'MODEL_TYPE_UNSPECIFIED' || type === '0') return m.model_platform;
  if (m.model_platform !== '') throw invalidArgument(`Model ${m.name} sets both the deprecated model_type and model_platform; set only model_platform`);
  if (type !== 'TENSORFLOW' && type !== '1') throw invalidArgument(`Model ${m.name}: model_type ${type} names no platform; set model_platform instead`);
  return 'tensorflow';
}

/** A ModelServerConfig message as the config file reader gives it; custom_model_config is refused as TF refuses it. */
export function configFromMessage(config: ModelServerConfig__Output | null): ModelServerConfig {
  if (config?.custom_model_config) {
    throw invalidArgument('ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported');
  }
  const list = config?.model_config_list;
  if (!list) return { models: [], noOp: true };
  const models = list.config.map((m): ServedModelConfig => ({
    name: m.name,
    basePath: m.base_path,
    modelPlatform: platformOf(m),
    versionPolicy: policyOf(m),
    versionLabels: Object.fromEntries(Object.entries(m.version_labels ?? {}).map(([k, v]) => [k, Number(v)])),
  }));
  return { models, noOp: false };
}

/** The RPC: applies the config and answers with its status; a failure is also the call's error. */
export async function handleReloadConfig(fleet: ModelFleet | undefined, request: ReloadConfigRequest__Output): Promise<ReloadConfigResponse> {
  if (!fleet) throw errorForStatus(Status.FAILED_PRECONDITION, 'This server serves one model (--model_name, --model_base_path); start it with --model_config_file to reload its config');
  try {
    await fleet.reload(configFromMessage(request.config));
  } catch (err) {
    // grpc-js sends a failed call's status without a body: the error's code and words are the answer.
    throw err instanceof TfServingError ? err : errorForStatus(Status.UNKNOWN, (err as Error).message);
  }
  // metric_names: TF reports the named metrics' increase; lookout's metrics are not TF's registry, so none are reported.
  return { status: { error_code: 'OK', error_message: '' }, metric: [] };
}
