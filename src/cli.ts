#!/usr/bin/env -S node --initial-old-space-size=128
// lookout's command line: `serve` runs the server, `model-server` runs the
// embedded TF-Serving-compatible model server alone, `detect` runs detection
// once over a video.
import { ConfigError, EMBEDDED_MODELS, isEmbeddedModel, type LookoutConfig } from './config/schema.js';
import { demoConfig, loadConfig } from './config/load.js';
import { intFlag, numberFlag, parseFlags, stringFlag, UsageError } from './cli-args.js';
import { exitCodeOf, isBug, isLookoutError } from './util/errors.js';
import { stderrLogger as log } from './util/logger.js';
import { packageVersion } from './util/paths.js';
import { startLookout } from './app.js';
import { ModelServer, type ModelServerOptions } from './modelserver/server.js';
import { SERVED_PLATFORMS } from './modelserver/version-detectors.js';
import type { BatchingOptions } from './modelserver/batching.js';
import { batchingFromFlags, readModelServerConfigFile, readMonitoringConfigFile } from './modelserver/serving-config-files.js';
import { TfServingError } from './tfserving/errors.js';
import { DETECT_HELP, detectCommand } from './offline/detect-command.js';
import { USER_HELP, userCommand } from './auth/user-command.js';

const HELP = `lookout — realtime video detection over TensorFlow Serving's gRPC API

Usage:
  lookout serve [--config FILE] [--port N] [--host ADDR]
      The HTTP server (default port 8080) and the cameras. Without a config it
      runs a demo camera on a bundled clip; without modelServer.address it
      starts the embedded model server. Without --host (http.host) it listens
      on this machine only (127.0.0.1 and ::1) and needs no login; any other
      address needs a user (lookout user add), auth.token or a trusted proxy.

${USER_HELP}
  lookout model-server [--port 8500] [--host 0.0.0.0] [--model_name detector]
                       [--model_base_path DIR] [--model centernet|synthetic]
                       [--workers N] [--worker_nice 0-19] [--max_queue N]
                       [--score_threshold S]
                       [--latency-ms L] [--per-frame-ms P] [--capacity C]
                       [--enable_serialization_as_tensor_content]
                       [--rest_api_port N] [--rest_api_timeout_in_ms T]
                       [--enable_batching[=true|false]] [--batching_parameters_file F]
                       [--monitoring_config_file F]
                       [--model_config_file F] [--model_config_file_poll_wait_seconds S]
                       [--file_system_poll_wait_seconds S] [--max_num_load_retries N]
                       [--load_retry_interval_micros U]
      A TF-Serving-compatible gRPC server with a COCO detector on the CPU.
      --rest_api_port also serves TF Serving's REST API (/v1/models/…) on
      port N (0 picks a free port; without it, no REST).
      --enable_batching merges requests of all clients into batches (TF
      Serving's BatchingParameters text file); --monitoring_config_file serves
      TF Serving's Prometheus metrics on the REST port.
      --model_config_file serves the models of a TF Serving ModelServerConfig
      (platforms "tensorflow": TF.js graph models, and "synthetic"), each
      model's new versions loaded from disk (every S seconds, default 1) and
      swapped in without failing a request; the file is read again every
      --model_config_file_poll_wait_seconds (0, the default: never).
      --model synthetic answers fixed detections after L + P × batch ms,
      C requests at once.

${DETECT_HELP}
  lookout --version | --help
`;

const version = packageVersion;

/** Closes `close` on SIGINT/SIGTERM, then exits 0; a second signal exits at once. */
function onShutdownSignal(close: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info(`${signal}: shutting down`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

async function serve(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } });
  const configFile = stringFlag(flags, 'config');
  // Without a config: the demo camera on the bundled clip, and the embedded model server.
  const config: LookoutConfig = configFile ? loadConfig(configFile, process.env) : demoConfig(process.env);
  const port = intFlag(flags, 'port', 0, 65535);
  if (port !== undefined) config.http.port = port;
  const host = stringFlag(flags, 'host');
  if (host !== undefined) config.http.host = host;

  const running = await startLookout(config, log);
  onShutdownSignal(running.close);
  // Scripts and tests read this line to find the port.
  console.log(`lookout listening on ${running.url}`);
  if (running.embedded) {
    running.embedded.loaded.then(
      () => log.info('ready: the model is AVAILABLE'),
      (err: Error) => log.error(`the embedded model did not load: ${err.message}`),
    );
  }
}

async function modelServer(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'model-name': { type: 'string' },
    'model-base-path': { type: 'string' },
    model: { type: 'string' },
    workers: { type: 'string' },
    'worker-nice': { type: 'string' },
    'max-queue': { type: 'string' },
    'score-threshold': { type: 'string' },
    'latency-ms': { type: 'string' },
    'per-frame-ms': { type: 'string' },
    capacity: { type: 'string' },
    'enable-serialization-as-tensor-content': { type: 'boolean' },
    'rest-api-port': { type: 'string' },
    'rest-api-timeout-in-ms': { type: 'string' },
    'enable-batching': { type: 'boolean' },
    'batching-parameters-file': { type: 'string' },
    'monitoring-config-file': { type: 'string' },
    'model-config-file': { type: 'string' },
    'model-config-file-poll-wait-seconds': { type: 'string' },
    'file-system-poll-wait-seconds': { type: 'string' },
    'max-num-load-retries': { type: 'string' },
    'load-retry-interval-micros': { type: 'string' },
  });
  const files = servingFiles(flags);
  const modelConfig = modelConfigFlags(flags);
  const model = stringFlag(flags, 'model') ?? 'centernet';
  if (!isEmbeddedModel(model)) throw new UsageError(`--model: expected ${EMBEDDED_MODELS.join(' or ')}, got ${JSON.stringify(model)}`);
  const port = intFlag(flags, 'port', 0, 65535) ?? 8500;
  const host = stringFlag(flags, 'host') ?? '0.0.0.0';
  // Unlike TF Serving, where 0 turns REST off, 0 picks a free port here (as --port 0 does); leave the flag out for no REST.
  const restPort = intFlag(flags, 'rest-api-port', 0, 65535);
  const restTimeoutMs = intFlag(flags, 'rest-api-timeout-in-ms', 1, 3_600_000);
  const server = new ModelServer({
    modelName: stringFlag(flags, 'model-name') ?? 'detector',
    model,
    modelBasePath: stringFlag(flags, 'model-base-path'),
    workers: intFlag(flags, 'workers', 1, 64),
    workerNice: intFlag(flags, 'worker-nice', 0, 19),
    maxQueue: intFlag(flags, 'max-queue', 0, 10_000),
    scoreThreshold: numberFlag(flags, 'score-threshold', 0, 1),
    latencyMs: numberFlag(flags, 'latency-ms', 0, 600_000),
    perFrameMs: numberFlag(flags, 'per-frame-ms', 0, 600_000),
    capacity: intFlag(flags, 'capacity', 1, 1024),
    serializeAsTensorContent: flags['enable-serialization-as-tensor-content'] === true,
    ...files,
    ...modelConfig,
    log: (m) => log.info(m),
  });
  const bound = await server.listen(port, host);
  onShutdownSignal(() => server.close());
  const restBound = restPort === undefined ? undefined : await server.listenRest(restPort, host, { timeoutMs: restTimeoutMs });
  // Scripts and tests read these lines to find the ports.
  console.log(modelConfig.modelConfig
    ? `lookout model-server: gRPC listening on ${host}:${bound}, models ${server.modelName} from ${modelConfig.modelConfig.file}`
    : `lookout model-server: gRPC listening on ${host}:${bound}, model "${server.modelName}" version ${server.version}`);
  if (restBound !== undefined) console.log(`lookout model-server: REST listening on ${host}:${restBound}`);
  server.loaded.catch((err: Error) => {
    log.error(`model did not load: ${err.message}`);
    process.exitCode = 1;
  });
}

/**
 * --model_config_file and its polls. The file is read and checked now: one
 * that does not parse, or breaks a rule (a platform lookout cannot run, a
 * relative base path), stops start-up naming the flag, as TF Serving exits.
 */
function modelConfigFlags(flags: Record<string, string | boolean | undefined>): Pick<ModelServerOptions, 'modelConfig' | 'fileSystemPollSeconds' | 'maxLoadRetries' | 'loadRetryIntervalMs'> {
  const file = stringFlag(flags, 'model-config-file');
  // Negative values are TF's "never" (its tests use them).
  const fileSystemPollSeconds = numberFlag(flags, 'file-system-poll-wait-seconds', -1, 86_400);
  const pollSeconds = numberFlag(flags, 'model-config-file-poll-wait-seconds', -1, 86_400) ?? 0;
  if (file === undefined) {
    if (flags['model-config-file-poll-wait-seconds'] !== undefined) log.warn('--model_config_file_poll_wait_seconds has no effect without --model_config_file');
    return fileSystemPollSeconds === undefined ? {} : { fileSystemPollSeconds };
  }
  if (flags['model-name'] !== undefined || flags['model-base-path'] !== undefined) {
    throw new UsageError('--model_config_file and --model_name/--model_base_path exclude each other: the config file names the models');
  }
  let config;
  try {
    config = readModelServerConfigFile(file, { platforms: SERVED_PLATFORMS });
  } catch (err) {
    if (err instanceof TfServingError) throw new ConfigError('--model_config_file', err.details, 'model-server');
    throw err;
  }
  const maxLoadRetries = intFlag(flags, 'max-num-load-retries', 0, 1000);
  const retryMicros = intFlag(flags, 'load-retry-interval-micros', 0, 86_400_000_000);
  return {
    modelConfig: { config, file, pollSeconds },
    ...(fileSystemPollSeconds === undefined ? {} : { fileSystemPollSeconds }),
    ...(maxLoadRetries === undefined ? {} : { maxLoadRetries }),
    ...(retryMicros === undefined ? {} : { loadRetryIntervalMs: retryMicros / 1000 }),
  };
}

/**
 * TF Serving's batching and monitoring files, as its flags name them; a file
 * that does not parse stops start-up naming the flag, the line and the field.
 */
function servingFiles(flags: Record<string, string | boolean | undefined>): { batching?: BatchingOptions; monitoringPath?: string } {
  const read = <T>(flag: string, work: () => T): T => {
    try {
      return work();
    } catch (err) {
      if (err instanceof TfServingError) throw new ConfigError(`--${flag}`, err.details, 'model-server');
      throw err;
    }
  };
  const params = read('batching_parameters_file', () => batchingFromFlags({ enableBatching: flags['enable-batching'] === true, batchingParametersFile: stringFlag(flags, 'batching-parameters-file') ?? '' }));
  // Parsed and kept, but not done: say so rather than let a deploy believe it.
  if (params?.enableLargeBatchSplitting) log.warn('batching: enable_large_batch_splitting is not supported; a request larger than max_batch_size is refused');
  if (params?.padVariableLengthInputs) log.warn('batching: pad_variable_length_inputs has no effect here (frames of one batch are padded to one size anyway)');
  const monitoringFile = stringFlag(flags, 'monitoring-config-file');
  const monitoring = monitoringFile === undefined ? undefined : read('monitoring_config_file', () => readMonitoringConfigFile(monitoringFile));
  return {
    ...(params ? { batching: { maxBatchSize: params.maxBatchSize, batchTimeoutMicros: params.batchTimeoutMicros, maxEnqueuedBatches: params.maxEnqueuedBatches, numBatchThreads: params.numBatchThreads, allowedBatchSizes: params.allowedBatchSizes } } : {}),
    ...(monitoring?.prometheus.enable ? { monitoringPath: monitoring.prometheus.path } : {}),
  };
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': return serve(rest);
    case 'model-server': return modelServer(rest);
    case 'detect': return detectCommand(rest, log);
    case 'user': return userCommand(rest);
    case '--version': case '-v': console.log(version()); return;
    case undefined: case '--help': case '-h': case 'help': process.stdout.write(HELP); return;
    default: throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // lookout's own errors say what was wrong: the message, and the exit code
  // their code's row gives (2: you asked for something wrong). Anything else
  // is a bug, shown with its stack.
  if (isLookoutError(err) && !isBug(err.code)) {
    process.stderr.write(`lookout: ${err.message}\n${err.code === 'USAGE' ? `\n${HELP}` : ''}`);
    process.exit(exitCodeOf(err.code));
  }
  process.stderr.write(`lookout: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
