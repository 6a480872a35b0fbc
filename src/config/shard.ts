// Which share of the cameras this replica runs (a StatefulSet of lookouts;
// cameras/shard.ts decides which cameras a share holds), read from the
// environment with the rest of the config (load.ts), so a malformed setting
// stops start-up like any other config error.
import { LookoutError } from '../util/errors.js';
import type { ShardConfig } from './schema.js';

/** More shards than this is a typo, not a deployment. */
export const MAX_SHARDS = 10_000;

/** A shard setting in the environment that is wrong; `key` names the variable. */
export class ShardConfigError extends LookoutError {
  readonly code = 'SHARD_CONFIG_INVALID';
  constructor(readonly key: string, readonly reason: string) {
    super(`environment ${key}: ${reason}`);
  }
}

const DECIMAL = /^\d{1,9}$/;
/** A StatefulSet pod's name is `<statefulset name>-<ordinal>`. */
const POD_ORDINAL = /-(\d{1,9})$/;

function present(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

function describe(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/**
 * This replica's shard from the environment, or undefined when
 * LOOKOUT_SHARD_COUNT is not set (no sharding: every camera runs here).
 *
 * - LOOKOUT_SHARD_COUNT: the number of replicas, an integer ≥ 1.
 * - LOOKOUT_SHARD_INDEX: this replica's index, 0 ≤ index < count; when absent,
 *   the ordinal suffix of a StatefulSet pod's name in POD_NAME (set from the
 *   downward API's metadata.name), else in HOSTNAME: `lookout-3` → 3.
 *
 * Throws ShardConfigError naming the variable for anything malformed: a
 * replica that guessed its shard would run some cameras twice and others never.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv): ShardConfig | undefined {
  const rawCount = env.LOOKOUT_SHARD_COUNT;
  const rawIndex = env.LOOKOUT_SHARD_INDEX;
  if (!present(rawCount)) {
    if (present(rawIndex)) throw new ShardConfigError('LOOKOUT_SHARD_COUNT', `is not set, but LOOKOUT_SHARD_INDEX is (${describe(rawIndex)}); set both, or neither to run every camera here`);
    return undefined;
  }
  const countText = rawCount.trim();
  if (!DECIMAL.test(countText)) throw new ShardConfigError('LOOKOUT_SHARD_COUNT', `expected a whole number of replicas such as 3, got ${describe(rawCount)}`);
  const count = Number(countText);
  if (count < 1 || count > MAX_SHARDS) throw new ShardConfigError('LOOKOUT_SHARD_COUNT', `must be between 1 and ${MAX_SHARDS}, got ${count}`);

  let key: string;
  let index: number;
  if (present(rawIndex)) {
    key = 'LOOKOUT_SHARD_INDEX';
    const text = rawIndex.trim();
    if (!DECIMAL.test(text)) throw new ShardConfigError(key, `expected a whole number such as 0, got ${describe(rawIndex)}`);
    index = Number(text);
  } else {
    const fromPod = present(env.POD_NAME);
    key = fromPod ? 'POD_NAME' : 'HOSTNAME';
    const name = (fromPod ? env.POD_NAME : env.HOSTNAME)?.trim();
    if (!name) {
      throw new ShardConfigError('LOOKOUT_SHARD_INDEX', 'is not set, and neither POD_NAME nor HOSTNAME names a StatefulSet pod (NAME-ORDINAL) to take the index from');
    }
    const m = POD_ORDINAL.exec(name);
    if (!m) throw new ShardConfigError(key, `expected a StatefulSet pod name ending in -ORDINAL such as lookout-0 (or set LOOKOUT_SHARD_INDEX), got ${describe(name)}`);
    index = Number(m[1]);
  }
  if (index >= count) {
    throw new ShardConfigError(key, `shard index ${index} is not below LOOKOUT_SHARD_COUNT ${count}; the StatefulSet's replicas and LOOKOUT_SHARD_COUNT must be equal`);
  }
  return { index, count };
}
