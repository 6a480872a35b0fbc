// TF Serving's three config files, read from disk: --model_config_file,
// --batching_parameters_file and --monitoring_config_file. Each reader
// returns the typed config or throws a ServingConfigError; a parse error
// keeps TF Serving's wording ("Error parsing text-format …: L:C: …") and
// names the file after it, since a deploy may pass several files.
// The parsers themselves are in model-config-file.ts, batching-file.ts and
// monitoring-file.ts; this is the one place the server imports them from.
import { readFileSync } from 'node:fs';
import { type BatchingParameters, defaultBatchingParameters, defaultBatchThreads, parseBatchingParameters } from './batching-file.js';
import { type ModelConfigRules, type ModelServerConfig, parseModelServerConfig, validateModelServerConfig } from './model-config-file.js';
import { type MonitoringConfig, parseMonitoringConfig } from './monitoring-file.js';
import { invalidConfig, ServingConfigError } from './serving-config-error.js';

export { type ConfigStatusName, ServingConfigError } from './serving-config-error.js';
export {
  checkPlatformsUnchanged,
  checkVersionLabels,
  isAbsolutePathOrUri,
  type LabelState,
  type ModelConfigRules,
  type ModelServerConfig,
  parseModelServerConfig,
  type ServedModelConfig,
  validateModelServerConfig,
  type VersionPolicy,
} from './model-config-file.js';
export {
  BATCHING_DEFAULTS,
  type BatchingParameters,
  defaultBatchingParameters,
  defaultBatchThreads,
  parseBatchingParameters,
  validateBatchingParameters,
} from './batching-file.js';
export { DEFAULT_PROMETHEUS_PATH, type MonitoringConfig, parseMonitoringConfig } from './monitoring-file.js';

/** A config file's text; a file that cannot be read is an error naming it and what it was for. */
export function readConfigText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ServingConfigError('NOT_FOUND', `${what} file ${file} does not exist`);
    throw invalidConfig(`${what} file ${file} cannot be read: ${(err as Error).message}`);
  }
}

/** The parse run on a file's text; a parse error (it has a position) gets the file's name added. */
function fromFile<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ServingConfigError && err.line !== undefined && err.column !== undefined) {
      throw new ServingConfigError(err.status, `${err.details} (in ${file})`, { line: err.line, column: err.column });
    }
    throw err;
  }
}

/** --model_config_file: parsed, then checked by ServerCore::ReloadConfig's rules. */
export function readModelServerConfigFile(file: string, rules: ModelConfigRules): ModelServerConfig {
  const text = readConfigText(file, 'Model config');
  const config = fromFile(file, () => parseModelServerConfig(text));
  validateModelServerConfig(config, rules);
  return config;
}

/** --batching_parameters_file. */
export function readBatchingParametersFile(file: string, cpus = defaultBatchThreads()): BatchingParameters {
  const text = readConfigText(file, 'Batching parameters');
  return fromFile(file, () => parseBatchingParameters(text, cpus));
}

/** --monitoring_config_file. */
export function readMonitoringConfigFile(file: string): MonitoringConfig {
  const text = readConfigText(file, 'Monitoring config');
  return fromFile(file, () => parseMonitoringConfig(text));
}

/**
 * What --enable_batching and --batching_parameters_file ask for together:
 * no batching, the defaults (no file), or the file's parameters. A file
 * without --enable_batching is TF Serving's start-up error.
 */
export function batchingFromFlags(flags: { enableBatching: boolean; batchingParametersFile: string; cpus?: number }): BatchingParameters | undefined {
  const cpus = flags.cpus ?? defaultBatchThreads();
  if (!flags.enableBatching) {
    if (flags.batchingParametersFile !== '') {
      throw invalidConfig('server_options.batching_parameters_file is set without setting server_options.enable_batching to true.');
    }
    return undefined;
  }
  if (flags.batchingParametersFile === '') return defaultBatchingParameters(cpus);
  return readBatchingParametersFile(flags.batchingParametersFile, cpus);
}
