// TF Serving's BatchingParameters (--batching_parameters_file): most fields
// are wrapper messages (`max_batch_size { value: 128 }`), so "unset" differs
// from zero and an unset field takes the batch scheduler's default.
import { availableParallelism } from 'node:os';
import { invalidConfig, parseConfigText } from './serving-config-error.js';
import { type CheckedMessage, type MessageSchema, boolField, integerField, integerFields, messageField, stringField } from './text-proto-schema.js';

export interface BatchingParameters {
  /** The largest batch (and the largest single request without splitting). */
  maxBatchSize: number;
  /** How long a batch's first request waits for company before the batch runs. */
  batchTimeoutMicros: number;
  /** Batches a queue holds before it answers UNAVAILABLE. */
  maxEnqueuedBatches: number;
  numBatchThreads: number;
  threadPoolName: string;
  /** Sizes a formed batch is padded up to; empty means any size. */
  allowedBatchSizes: number[];
  padVariableLengthInputs: boolean;
  enableLargeBatchSplitting: boolean;
  /** With splitting on, the size batches are cut to. */
  maxExecutionBatchSize: number;
}

const int64Value: MessageSchema = { fullName: 'google.protobuf.Int64Value', fields: { value: { type: 'int64' } } };
const stringValue: MessageSchema = { fullName: 'google.protobuf.StringValue', fields: { value: { type: 'string' } } };
const boolValue: MessageSchema = { fullName: 'google.protobuf.BoolValue', fields: { value: { type: 'bool' } } };

export const batchingParametersSchema: MessageSchema = {
  fullName: 'tensorflow.serving.BatchingParameters',
  fields: {
    max_batch_size: { type: int64Value },
    batch_timeout_micros: { type: int64Value },
    max_enqueued_batches: { type: int64Value },
    num_batch_threads: { type: int64Value },
    thread_pool_name: { type: stringValue },
    allowed_batch_sizes: { type: 'int64', repeated: true },
    pad_variable_length_inputs: { type: 'bool' },
    enable_large_batch_splitting: { type: boolValue },
    max_execution_batch_size: { type: int64Value },
  },
};

/** The scheduler's defaults for fields the file leaves unset. */
export const BATCHING_DEFAULTS = {
  maxBatchSize: 1000,
  batchTimeoutMicros: 0,
  maxEnqueuedBatches: 10,
  threadPoolName: 'batch_threads',
  /** What the server names the pool when --enable_batching comes with no file. */
  serverThreadPoolName: 'model_server_batch_threads',
} as const;

/** The CPU count, as TF's MaxParallelism gives the default num_batch_threads. */
export function defaultBatchThreads(): number {
  return availableParallelism();
}

function int64Wrapper(params: CheckedMessage, name: string): number | undefined {
  const wrapper = messageField(params, name);
  if (!wrapper) return undefined;
  const value = integerField(wrapper, 'value') ?? 0n;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalidConfig(`${name} ${value} is beyond the integers lookout handles exactly (±${Number.MAX_SAFE_INTEGER})`);
  }
  return Number(value);
}

/** --enable_batching with no --batching_parameters_file: every default, the server's pool name. */
export function defaultBatchingParameters(cpus = defaultBatchThreads()): BatchingParameters {
  return {
    maxBatchSize: BATCHING_DEFAULTS.maxBatchSize,
    batchTimeoutMicros: BATCHING_DEFAULTS.batchTimeoutMicros,
    maxEnqueuedBatches: BATCHING_DEFAULTS.maxEnqueuedBatches,
    numBatchThreads: cpus,
    threadPoolName: BATCHING_DEFAULTS.serverThreadPoolName,
    allowedBatchSizes: [],
    padVariableLengthInputs: false,
    enableLargeBatchSplitting: false,
    maxExecutionBatchSize: BATCHING_DEFAULTS.maxBatchSize,
  };
}

/**
 * A BatchingParameters in text format, defaults filled in and checked.
 * `cpus` stands in for the machine's CPU count (num_batch_threads' default).
 */
export function parseBatchingParameters(text: string, cpus = defaultBatchThreads()): BatchingParameters {
  const params = parseConfigText(text, batchingParametersSchema);
  const maxBatchSize = int64Wrapper(params, 'max_batch_size') ?? BATCHING_DEFAULTS.maxBatchSize;
  const allowed = integerFields(params, 'allowed_batch_sizes').map((entry) => Number(entry.value));
  const poolName = messageField(params, 'thread_pool_name');
  const splitting = messageField(params, 'enable_large_batch_splitting');
  const result: BatchingParameters = {
    maxBatchSize,
    batchTimeoutMicros: int64Wrapper(params, 'batch_timeout_micros') ?? BATCHING_DEFAULTS.batchTimeoutMicros,
    maxEnqueuedBatches: int64Wrapper(params, 'max_enqueued_batches') ?? BATCHING_DEFAULTS.maxEnqueuedBatches,
    numBatchThreads: int64Wrapper(params, 'num_batch_threads') ?? cpus,
    threadPoolName: poolName ? stringField(poolName, 'value') : BATCHING_DEFAULTS.threadPoolName,
    allowedBatchSizes: allowed,
    padVariableLengthInputs: boolField(params, 'pad_variable_length_inputs'),
    enableLargeBatchSplitting: splitting ? boolField(splitting, 'value') : false,
    // Unset, batches are cut to max_batch_size (lookout's choice; it matters only with splitting on).
    maxExecutionBatchSize: int64Wrapper(params, 'max_execution_batch_size') ?? maxBatchSize,
  };
  validateBatchingParameters(result);
  return result;
}

/** The values a scheduler can run with; INVALID_ARGUMENT for the first that it cannot. */
export function validateBatchingParameters(p: BatchingParameters): void {
  const positive: [string, number][] = [
    ['max_batch_size', p.maxBatchSize],
    ['max_enqueued_batches', p.maxEnqueuedBatches],
    ['num_batch_threads', p.numBatchThreads],
    ['max_execution_batch_size', p.maxExecutionBatchSize],
  ];
  for (const [name, value] of positive) {
    if (value < 1) throw invalidConfig(`${name} must be at least 1; the batching parameters give ${value}`);
  }
  if (p.batchTimeoutMicros < 0) throw invalidConfig(`batch_timeout_micros cannot be negative; the batching parameters give ${p.batchTimeoutMicros}`);
  const sizes = p.allowedBatchSizes;
  sizes.forEach((size, i) => {
    if (size < 1) throw invalidConfig(`allowed_batch_sizes entries must be at least 1; entry ${i} is ${size}`);
    if (i > 0 && size <= sizes[i - 1]) {
      throw invalidConfig(`allowed_batch_sizes must be increasing; entry ${i} (${size}) does not exceed entry ${i - 1} (${sizes[i - 1]})`);
    }
  });
  const last = sizes[sizes.length - 1];
  if (last !== undefined && last !== p.maxBatchSize) {
    throw invalidConfig(`Last entry in allowed_batch_sizes must match max_batch_size; last entry was ${last}; expected ${p.maxBatchSize}`);
  }
}
