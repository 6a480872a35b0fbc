// TF Serving's three text-format config files: the examples of its docs and
// testdata read into the typed configs, and each rule's error worded as TF
// Serving words it, with line:column where the text is at fault.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  batchingFromFlags,
  checkPlatformsUnchanged,
  checkVersionLabels,
  parseBatchingParameters,
  parseModelServerConfig,
  parseMonitoringConfig,
  readBatchingParametersFile,
  readModelServerConfigFile,
  readMonitoringConfigFile,
  ServingConfigError,
  validateModelServerConfig,
} from '../../src/modelserver/serving-config-files.js';
import { parseTextProto, TextFormatError } from '../../src/modelserver/text-proto.js';

const PLATFORMS = { platforms: ['tensorflow', 'tfjs-graph', 'synthetic'] };

/** The error `fn` throws, which must be a ServingConfigError. */
function configError(fn: () => unknown): ServingConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ServingConfigError) return err;
    throw err;
  }
  throw new Error('expected a ServingConfigError');
}

function validated(text: string) {
  const config = parseModelServerConfig(text);
  validateModelServerConfig(config, PLATFORMS);
  return config;
}

const DETECTOR = `
model_config_list {
  config {
    name: 'detector'
    base_path: '/models/detector'
    model_platform: 'tensorflow'
    model_version_policy { specific { versions: 42 versions: 43 } }   # or: latest { num_versions: 2 }  |  all {}
    version_labels { key: 'stable' value: 42 }
    version_labels { key: 'canary' value: 43 }
  }
}`;

describe('ModelServerConfig', () => {
  it('reads the documented example: a specific policy and two labels', () => {
    expect(validated(DETECTOR)).toEqual({
      noOp: false,
      models: [
        {
          name: 'detector',
          basePath: '/models/detector',
          modelPlatform: 'tensorflow',
          versionPolicy: { kind: 'specific', versions: [42, 43] },
          versionLabels: { stable: 42, canary: 43 },
        },
      ],
    });
  });

  it('reads latest (0 and unset are 1), all, and the default policy', () => {
    const config = validated(`
      model_config_list: {
        config: { name: "a", base_path: "/m/a", model_platform: "tensorflow", model_version_policy: { latest: { num_versions: 2 } } },
        config: { name: "b"; base_path: "gs://bucket/b"; model_platform: "synthetic"; model_version_policy { all {} } };
        config < name: "c" base_path: "s3://x/c" model_platform: "tfjs-graph" model_version_policy { latest { num_versions: 0 } } >
        config { name: "d" base_path: "/m/d" model_platform: "tensorflow" model_version_policy { latest {} } }
        config { name: "e" base_path: "/m/e" model_platform: "tensorflow" }
      }`);
    expect(config.models.map((m) => [m.name, m.versionPolicy])).toEqual([
      ['a', { kind: 'latest', numVersions: 2 }],
      ['b', { kind: 'all' }],
      ['c', { kind: 'latest', numVersions: 1 }],
      ['d', { kind: 'latest', numVersions: 1 }],
      ['e', { kind: 'latest', numVersions: 1 }],
    ]);
    expect(config.models[4].versionLabels).toEqual({});
  });

  it('takes the list form of repeated fields, and a label given twice keeps its last value', () => {
    const [model] = validated(`model_config_list { config [{
      name: 'm' base_path: '/m' model_platform: 'tensorflow'
      model_version_policy { specific { versions: [1, 2, 0x3] } }
      version_labels: [{ key: 'stable' value: 1 }, { key: 'stable' value: 2 }]
    }] }`).models;
    expect(model.versionPolicy).toEqual({ kind: 'specific', versions: [1, 2, 3] });
    expect(model.versionLabels).toEqual({ stable: 2 });
  });

  it('takes an empty file as a no-op, and an empty list as "serve nothing"', () => {
    expect(validated('# nothing here\n')).toEqual({ models: [], noOp: true });
    expect(validated('model_config_list {}')).toEqual({ models: [], noOp: false });
  });

  it('reads the deprecated model_type TENSORFLOW as the tensorflow platform', () => {
    const [model] = validated('model_config_list { config { name: "m" base_path: "/m" model_type: TENSORFLOW } }').models;
    expect(model.modelPlatform).toBe('tensorflow');
    const both = configError(() => parseModelServerConfig('model_config_list { config { name: "m" model_type: 1 model_platform: "tensorflow" } }'));
    expect(both.status).toBe('INVALID_ARGUMENT');
  });

  it('refuses custom_model_config as ReloadConfig does', () => {
    const err = configError(() => parseModelServerConfig('custom_model_config { [type.googleapis.com/my.Config] { x: 1 } }'));
    expect(err.status).toBe('INVALID_ARGUMENT');
    expect(err.details).toBe('ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported');
  });

  it('names an unknown field, its message type and where it is', () => {
    const err = configError(() => parseModelServerConfig('model_config_list {\n  config {\n    name: "m"\n    foo: 1\n  }\n}'));
    expect(err.status).toBe('INVALID_ARGUMENT');
    expect(err.details).toBe(
      'Error parsing text-format tensorflow.serving.ModelServerConfig: 4:5: Message type "tensorflow.serving.ModelConfig" has no field named "foo".',
    );
    expect([err.line, err.column]).toEqual([4, 5]);
    expect(err.message).toMatch(/^INVALID_ARGUMENT: Error parsing text-format/);
    expect(configError(() => parseModelServerConfig('model_config_lists {}')).details).toMatch(
      /: 1:1: Message type "tensorflow.serving.ModelServerConfig" has no field named "model_config_lists"\.$/,
    );
  });

  it('reports a syntax error at its line and column', () => {
    expect(configError(() => parseModelServerConfig('model_config_list {\n  config {\n    name: "m"\n  }\n')).details).toBe(
      'Error parsing text-format tensorflow.serving.ModelServerConfig: 5:1: Expected "}", found end of input.',
    );
    expect(configError(() => parseModelServerConfig('model_config_list { config { name "m" } }')).details).toMatch(/: 1:35: Expected ":" or "\{"/);
  });

  it('checks types, repeats and oneofs as protobuf does', () => {
    const bad: [string, RegExp][] = [
      ['model_config_list { config { name: 5 } }', /1:36: Field "name" takes a value of type string/],
      ['model_config_list { config { name: "a" name: "b" } }', /1:40: Field "name" .* given more than once/],
      ['model_config_list { config { model_version_policy { latest {} all {} } } }', /1:63: Field "all" and field "latest" are both members of oneof "policy_choice"/],
      ['model_config_list { config { model_version_policy { latest { num_versions: -1 } } } }', /-1 is out of range for field "num_versions"/],
      ['model_config_list { config { model_type: PYTORCH } }', /Enum tensorflow.serving.ModelType has no value named "PYTORCH"/],
      ['model_config_list { config { model_version_policy: 3 } }', /is a message .*write it as model_version_policy \{ … \}/],
      ['model_config_list { config { version_labels { key: "a" value: 9223372036854775808 } } }', /out of range for field "value" \(int64/],
      ['model_config_list {} custom_model_config {}', /1:22: Field "custom_model_config" and field "model_config_list" are both members of oneof "config"/],
    ];
    for (const [text, message] of bad) expect(configError(() => parseModelServerConfig(text)).details).toMatch(message);
  });

  it('applies ReloadConfig rules with TF Serving messages', () => {
    const model = (name: string, basePath: string, platform: string) => `config { name: '${name}' base_path: '${basePath}' model_platform: '${platform}' }`;
    const rule = (...models: string[]) => configError(() => validated(`model_config_list { ${models.join(' ')} }`));
    const dup = rule(model('a', 'relative', 'x'), model('a', '/m', 'tensorflow'));
    expect([dup.status, dup.details]).toEqual(['INVALID_ARGUMENT', 'Illegal to list model a multiple times in config list']);
    expect(rule(model('a', 'models/a', 'tensorflow')).details).toBe('Expected model a to have an absolute path or URI; got base_path()=models/a');
    expect(rule(model('a', '', 'tensorflow')).details).toBe('Expected model a to have an absolute path or URI; got base_path()=');
    expect(rule(model('a', '/m/a', '')).details).toBe(
      'Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is a',
    );
    expect(rule(model('a', '/m/a', 'onnx')).details).toBe('Model a requests unsupported platform onnx');
  });

  it("refuses a change of a served model's platform", () => {
    const served = validated(DETECTOR);
    const next = validated(DETECTOR.replace("model_platform: 'tensorflow'", "model_platform: 'synthetic'"));
    expect(configError(() => checkPlatformsUnchanged(served, next)).details).toMatch(/^Illegal to change a model's platform/);
    expect(() => checkPlatformsUnchanged(served, served)).not.toThrow();
  });

  it('lets labels point only at available versions, unless the flag allows a new label', () => {
    const config = validated(DETECTOR);
    const state = (available: number[], current: Record<string, number>, allow: boolean) => ({
      isAvailable: (_model: string, v: number) => available.includes(v),
      currentLabels: () => current,
      allowUnavailableForNewLabels: allow,
    });
    const err = configError(() => checkVersionLabels(config, state([42], {}, false)));
    expect([err.status, err.details]).toEqual([
      'FAILED_PRECONDITION',
      'Request to assign label to version 43 of model detector, which is not currently available for inference',
    ]);
    expect(() => checkVersionLabels(config, state([42, 43], {}, false))).not.toThrow();
    expect(() => checkVersionLabels(config, state([42], {}, true))).not.toThrow();
    // canary already points at 41: moving it to an unavailable version is refused even with the flag.
    expect(() => checkVersionLabels(config, state([42], { canary: 41 }, true))).toThrow(/version 43 of model detector/);
  });
});

describe('BatchingParameters', () => {
  const EXAMPLE = `
    max_batch_size { value: 128 }
    batch_timeout_micros { value: 0 }
    max_enqueued_batches { value: 1000000 }
    num_batch_threads { value: 8 }
    allowed_batch_sizes: 32
    allowed_batch_sizes: 128
    pad_variable_length_inputs: true
  `;

  it('reads the documented example', () => {
    expect(parseBatchingParameters(EXAMPLE, 2)).toEqual({
      maxBatchSize: 128,
      batchTimeoutMicros: 0,
      maxEnqueuedBatches: 1000000,
      numBatchThreads: 8,
      threadPoolName: 'batch_threads',
      allowedBatchSizes: [32, 128],
      padVariableLengthInputs: true,
      enableLargeBatchSplitting: false,
      maxExecutionBatchSize: 128,
    });
  });

  it('fills unset fields with the scheduler defaults, num_batch_threads from the CPU count', () => {
    expect(parseBatchingParameters('', 6)).toMatchObject({ maxBatchSize: 1000, batchTimeoutMicros: 0, maxEnqueuedBatches: 10, numBatchThreads: 6 });
    expect(
      parseBatchingParameters('thread_pool_name { value: "p" } enable_large_batch_splitting { value: true } max_execution_batch_size { value: 250 }', 1),
    ).toMatchObject({ threadPoolName: 'p', enableLargeBatchSplitting: true, maxExecutionBatchSize: 250 });
  });

  it('checks allowed_batch_sizes against max_batch_size with TF Serving message', () => {
    const mismatch = configError(() => parseBatchingParameters(EXAMPLE.replace('max_batch_size { value: 128 }', 'max_batch_size { value: 64 }'), 2));
    expect([mismatch.status, mismatch.details]).toEqual(['INVALID_ARGUMENT', 'Last entry in allowed_batch_sizes must match max_batch_size; last entry was 128; expected 64']);
    // Unset, max_batch_size is 1000.
    expect(configError(() => parseBatchingParameters('allowed_batch_sizes: [8, 16]', 2)).details).toBe(
      'Last entry in allowed_batch_sizes must match max_batch_size; last entry was 16; expected 1000',
    );
    expect(configError(() => parseBatchingParameters('max_batch_size { value: 8 } allowed_batch_sizes: [4, 4, 8]', 2)).details).toMatch(
      /allowed_batch_sizes must be increasing; entry 1 \(4\)/,
    );
    expect(() => parseBatchingParameters('num_batch_threads { value: 0 }', 2)).toThrow(/num_batch_threads must be at least 1/);
  });

  it('wants the wrapper form of wrapper fields', () => {
    expect(configError(() => parseBatchingParameters('max_batch_size: 128', 2)).details).toMatch(
      /^Error parsing text-format tensorflow.serving.BatchingParameters: 1:17: Field "max_batch_size" is a message \(google.protobuf.Int64Value\)/,
    );
  });

  it('follows --enable_batching and --batching_parameters_file together', () => {
    expect(batchingFromFlags({ enableBatching: false, batchingParametersFile: '' })).toBeUndefined();
    expect(batchingFromFlags({ enableBatching: true, batchingParametersFile: '', cpus: 3 })).toMatchObject({ threadPoolName: 'model_server_batch_threads', numBatchThreads: 3 });
    expect(configError(() => batchingFromFlags({ enableBatching: false, batchingParametersFile: '/b.txt' })).details).toBe(
      'server_options.batching_parameters_file is set without setting server_options.enable_batching to true.',
    );
  });
});

describe('MonitoringConfig', () => {
  it('reads the example, and an empty or missing path as the default', () => {
    expect(parseMonitoringConfig('prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }')).toEqual({
      prometheus: { enable: true, path: '/monitoring/prometheus/metrics' },
    });
    expect(parseMonitoringConfig('prometheus_config { enable: t path: "/metrics" }').prometheus).toEqual({ enable: true, path: '/metrics' });
    expect(parseMonitoringConfig('prometheus_config { enable: True path: "" }').prometheus.path).toBe('/monitoring/prometheus/metrics');
    expect(parseMonitoringConfig('prometheus_config: { enable: false }').prometheus).toEqual({ enable: false, path: '/monitoring/prometheus/metrics' });
    expect(parseMonitoringConfig('').prometheus.enable).toBe(false);
    expect(configError(() => parseMonitoringConfig('prometheus_config { enable: yes }')).details).toMatch(/1:29: Field "enable" takes a value of type bool/);
  });
});

describe('the text format', () => {
  const value = (text: string) => parseTextProto(text).fields[0].value;

  it('reads both quote styles, C escapes and adjacent strings as one', () => {
    expect(value(`s: 'it\\'s' "\\"q\\""`)).toMatchObject({ kind: 'string', value: `it's"q"` });
    expect(value(String.raw`s: "\n\t\\\x41\101\u00e9\U0001F600"`)).toMatchObject({ value: '\n\t\\AAé😀', validUtf8: true });
    expect(value(String.raw`s: "\xff"`)).toMatchObject({ validUtf8: false });
  });

  it('reads integers (bigint-exact), floats, signs and identifiers', () => {
    expect(value('n: 9223372036854775807')).toMatchObject({ kind: 'integer', value: 9223372036854775807n });
    expect(value('n: -0x10')).toMatchObject({ kind: 'integer', value: -16n });
    expect(value('n: 017')).toMatchObject({ kind: 'integer', value: 15n });
    expect(value('n: 1.5e3f')).toMatchObject({ kind: 'float', value: 1500 });
    expect(value('n: -inf')).toMatchObject({ kind: 'identifier', name: 'inf', negative: true });
  });

  it('keeps each field with its line and column, comments skipped', () => {
    const tree = parseTextProto('# top\na {  # open\n  b: 1 ; c: [2, 3],\n}\n');
    expect(tree.fields[0]).toMatchObject({ name: 'a', line: 2, column: 1 });
    const inner = tree.fields[0].value;
    if (inner.kind !== 'message') throw new Error('a is a message');
    expect(inner.fields.map((f) => [f.name, f.line, f.column])).toEqual([['b', 3, 3], ['c', 3, 10], ['c', 3, 17]]);
  });

  it('reports syntax errors with line:column first', () => {
    const error = (text: string) => {
      try {
        parseTextProto(text);
      } catch (err) {
        if (err instanceof TextFormatError) return err.message;
      }
      return 'no error';
    };
    expect(error('a { }\n}')).toBe('2:1: Expected a field name, found "}".');
    expect(error('a { b: 1 >')).toBe('1:10: Expected "}", found ">".');
    expect(error('a: "open\n"')).toMatch(/^1:9: String literal opened at 1:4/);
    expect(error('a: [1 2]')).toBe('1:7: Expected ",", found "2".');
    expect(error('a: 09')).toMatch(/^1:4: /);
    expect(error('a: 1x')).toMatch(/^1:5: /);
    expect(error('a: "\\q"')).toMatch(/^1:5: Unknown escape/);
    expect(error('a:')).toBe('1:3: Expected a value (string, number or identifier), found end of input.');
  });
});

describe('the files on disk', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tf-config-'));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads each file, and names a missing file or a bad one', () => {
    expect(readModelServerConfigFile(file('models.config', DETECTOR), PLATFORMS).models[0].name).toBe('detector');
    expect(readBatchingParametersFile(file('batching.txt', 'max_batch_size { value: 4 }'), 2).maxBatchSize).toBe(4);
    expect(readMonitoringConfigFile(file('monitoring.txt', 'prometheus_config { enable: true }')).prometheus.enable).toBe(true);
    const missing = configError(() => readModelServerConfigFile(path.join(dir, 'nope.config'), PLATFORMS));
    expect(missing.status).toBe('NOT_FOUND');
    expect(missing.details).toContain(path.join(dir, 'nope.config'));
    const bad = file('bad.config', 'model_config_list { config { nme: "x" } }');
    expect(configError(() => readModelServerConfigFile(bad, PLATFORMS)).details).toBe(
      `Error parsing text-format tensorflow.serving.ModelServerConfig: 1:30: Message type "tensorflow.serving.ModelConfig" has no field named "nme". (in ${bad})`,
    );
    expect(configError(() => readModelServerConfigFile(file('rel.config', 'model_config_list { config { name: "x" base_path: "x" } }'), PLATFORMS)).details).toBe(
      'Expected model x to have an absolute path or URI; got base_path()=x',
    );
  });
});
