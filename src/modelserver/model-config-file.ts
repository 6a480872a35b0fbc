// TF Serving's ModelServerConfig (--model_config_file, and the config of a
// ReloadConfig request): the models to serve, each with its base path,
// platform, version policy and version labels. parseModelServerConfig reads
// the text format into a typed config; validateModelServerConfig applies
// ServerCore::ReloadConfig's rules with TF Serving's messages; the rules that
// need the server's state (a platform changed, a label on an unavailable
// version) take that state as arguments. Nothing here loads a model.
import path from 'node:path';
import type { VersionPolicy } from './version-source.js';
import { invalidConfig, parseConfigText, ServingConfigError } from './serving-config-error.js';
import {
  type CheckedMessage,
  type MessageSchema,
  integerField,
  integerFields,
  messageField,
  messageFields,
  numberField,
  stringField,
} from './text-proto-schema.js';

// The one policy type, shared with the version source that applies it.
export type { VersionPolicy };

export interface ServedModelConfig {
  name: string;
  /** The folder holding the numbered version folders, or a URI. */
  basePath: string;
  /** model_platform, or "tensorflow" from the deprecated model_type TENSORFLOW; "" when neither is set. */
  modelPlatform: string;
  versionPolicy: VersionPolicy;
  /** Label → version; a label given twice keeps its last value, as a protobuf map does. */
  versionLabels: Record<string, number>;
}

export interface ModelServerConfig {
  models: ServedModelConfig[];
  /** Neither model_config_list nor custom_model_config was set: TF Serving takes no action for it. */
  noOp: boolean;
}

const POLICY = 'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy';

const latestSchema: MessageSchema = { fullName: `${POLICY}.Latest`, fields: { num_versions: { type: 'uint32' } } };
const allSchema: MessageSchema = { fullName: `${POLICY}.All`, fields: {} };
const specificSchema: MessageSchema = { fullName: `${POLICY}.Specific`, fields: { versions: { type: 'int64', repeated: true } } };

const policySchema: MessageSchema = {
  fullName: POLICY,
  fields: {
    latest: { type: latestSchema, oneof: 'policy_choice' },
    all: { type: allSchema, oneof: 'policy_choice' },
    specific: { type: specificSchema, oneof: 'policy_choice' },
  },
};

const MODEL_TYPES = { MODEL_TYPE_UNSPECIFIED: 0, TENSORFLOW: 1, OTHER: 2 };

const modelConfigSchema: MessageSchema = {
  fullName: 'tensorflow.serving.ModelConfig',
  fields: {
    name: { type: 'string' },
    base_path: { type: 'string' },
    model_type: { type: { enum: 'tensorflow.serving.ModelType', values: MODEL_TYPES } },
    model_platform: { type: 'string' },
    model_version_policy: { type: policySchema },
    version_labels: {
      type: { fullName: 'tensorflow.serving.ModelConfig.VersionLabelsEntry', fields: { key: { type: 'string' }, value: { type: 'int64' } } },
      repeated: true,
    },
    // Request logging: accepted so a deploy's file parses; lookout logs no requests.
    logging_config: { type: { fullName: 'tensorflow.serving.LoggingConfig', fields: {}, opaque: true } },
  },
};

export const modelServerConfigSchema: MessageSchema = {
  fullName: 'tensorflow.serving.ModelServerConfig',
  fields: {
    model_config_list: {
      type: { fullName: 'tensorflow.serving.ModelConfigList', fields: { config: { type: modelConfigSchema, repeated: true } } },
      oneof: 'config',
    },
    custom_model_config: { type: { fullName: 'google.protobuf.Any', fields: {}, opaque: true }, oneof: 'config' },
  },
};

/** An int64 read from the file as a JS number; lookout keeps versions as numbers, so one past 2^53 is refused, not rounded. */
function safeNumber(value: bigint, what: string, at: { line: number; column: number }): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalidConfig(`${what} ${value} (at ${at.line}:${at.column}) is beyond the integers lookout handles exactly (±${Number.MAX_SAFE_INTEGER})`);
  }
  return Number(value);
}

function readPolicy(model: string, message: CheckedMessage | undefined): VersionPolicy {
  const specific = message && messageField(message, 'specific');
  if (specific) return { kind: 'specific', versions: integerFields(specific, 'versions').map((v) => safeNumber(v.value, `Model ${model}: version`, v.at)) };
  if (message && messageField(message, 'all')) return { kind: 'all' };
  // No policy (or an empty one) is Latest; num_versions 0 or unset serves one version, as TF Serving's max(n, 1) does.
  const latest = message && messageField(message, 'latest');
  return { kind: 'latest', numVersions: Math.max(Number((latest && integerField(latest, 'num_versions')) ?? 0n), 1) };
}

function readPlatform(config: CheckedMessage, name: string): string {
  const platform = stringField(config, 'model_platform');
  const modelType = numberField(config, 'model_type');
  if (modelType === MODEL_TYPES.MODEL_TYPE_UNSPECIFIED) return platform;
  // The deprecated model_type stands for a platform only on its own, and only TENSORFLOW names one.
  if (platform !== '') throw invalidConfig(`Model ${name} sets both the deprecated model_type and model_platform; set only model_platform`);
  if (modelType !== MODEL_TYPES.TENSORFLOW) throw invalidConfig(`Model ${name}: model_type ${modelType} names no platform; set model_platform instead`);
  return 'tensorflow';
}

function readModel(config: CheckedMessage): ServedModelConfig {
  const name = stringField(config, 'name');
  const labels = messageFields(config, 'version_labels').map((entry): [string, number] => {
    const value = integerFields(entry, 'value')[0];
    return [stringField(entry, 'key'), value ? safeNumber(value.value, `Model ${name}: label version`, value.at) : 0];
  });
  return {
    name,
    basePath: stringField(config, 'base_path'),
    modelPlatform: readPlatform(config, name),
    versionPolicy: readPolicy(name, messageField(config, 'model_version_policy')),
    versionLabels: Object.fromEntries(labels),
  };
}

/**
 * A ModelServerConfig in text format. Syntax and schema errors are
 * INVALID_ARGUMENT "Error parsing text-format tensorflow.serving.ModelServerConfig: L:C: …";
 * custom_model_config is refused as ReloadConfig refuses it.
 */
export function parseModelServerConfig(text: string): ModelServerConfig {
  const root = parseConfigText(text, modelServerConfigSchema);
  if (messageField(root, 'custom_model_config')) {
    throw invalidConfig('ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported');
  }
  const list = messageField(root, 'model_config_list');
  if (!list) return { models: [], noOp: true };
  return { models: messageFields(list, 'config').map(readModel), noOp: false };
}

/** A base path TF Serving takes: an absolute path, or a URI (gs://, s3://, hdfs://…). */
export function isAbsolutePathOrUri(basePath: string): boolean {
  return path.isAbsolute(basePath) || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(basePath);
}

export interface ModelConfigRules {
  /** The model_platform values lookout can run, e.g. ['tensorflow', 'tfjs-graph', 'synthetic']. */
  platforms: readonly string[];
}

/**
 * ServerCore::ReloadConfig's checks of a config on its own, in its order:
 * duplicate names over the whole list first, then each base path, then each
 * model's platform. All are INVALID_ARGUMENT.
 */
export function validateModelServerConfig(config: ModelServerConfig, rules: ModelConfigRules): void {
  const seen = new Set<string>();
  for (const model of config.models) {
    if (seen.has(model.name)) throw invalidConfig(`Illegal to list model ${model.name} multiple times in config list`);
    seen.add(model.name);
  }
  for (const model of config.models) {
    if (!isAbsolutePathOrUri(model.basePath)) {
      throw invalidConfig(`Expected model ${model.name} to have an absolute path or URI; got base_path()=${model.basePath}`);
    }
  }
  for (const model of config.models) {
    if (model.modelPlatform === '') {
      throw invalidConfig(`Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is ${model.name}`);
    }
    if (!rules.platforms.includes(model.modelPlatform)) throw invalidConfig(`Model ${model.name} requests unsupported platform ${model.modelPlatform}`);
  }
}

/** A model still listed must keep its platform (checked against the config being served). */
export function checkPlatformsUnchanged(served: ModelServerConfig, next: ModelServerConfig): void {
  const before = new Map(served.models.map((m) => [m.name, m.modelPlatform]));
  for (const model of next.models) {
    const was = before.get(model.name);
    if (was !== undefined && was !== model.modelPlatform) {
      throw invalidConfig(`Illegal to change a model's platform. Model ${model.name} is served on platform ${was}; the new config asks for ${model.modelPlatform}`);
    }
  }
}

export interface LabelState {
  /** Whether the version is AVAILABLE now. */
  isAvailable(model: string, version: number): boolean;
  /** The labels the model has now (none for a new model). */
  currentLabels(model: string): Record<string, number>;
  /** --allow_version_labels_for_unavailable_models (default false). */
  allowUnavailableForNewLabels: boolean;
}

/**
 * Version labels are checked before any model is loaded: each must point to
 * an AVAILABLE version (FAILED_PRECONDITION otherwise). With the flag, a
 * label that points nowhere else yet may name a version not loaded yet.
 */
export function checkVersionLabels(config: ModelServerConfig, state: LabelState): void {
  for (const model of config.models) {
    const current = state.currentLabels(model.name);
    for (const [label, version] of Object.entries(model.versionLabels)) {
      const pointsElsewhere = Object.hasOwn(current, label) && current[label] !== version;
      if (state.allowUnavailableForNewLabels && !pointsElsewhere) continue;
      if (!state.isAvailable(model.name, version)) {
        throw new ServingConfigError(
          'FAILED_PRECONDITION',
          `Request to assign label to version ${version} of model ${model.name}, which is not currently available for inference`,
        );
      }
    }
  }
}
