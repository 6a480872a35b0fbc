// Sharding cameras over several lookout replicas (a Kubernetes StatefulSet):
// every replica reads the same camera list and keeps only its own share, so
// each camera is decoded, detected and logged by exactly one replica.
//
// Which share is decided by rendezvous hashing (highest random weight, HRW):
// each camera scores every shard with a hash of (camera id, shard index) and
// goes to the shard with the highest score. Compared with `hash(id) % count`,
// changing the replica count from N to N+1 moves only the cameras the new
// shard now wins (about 1/(N+1) of them) instead of nearly all of them, and
// the others stay where they were: their streams, trackers and detection logs
// are not reshuffled over every replica. Nothing is stored: every replica
// computes the same answer from the id alone.
//
// Pure functions, no I/O: the caller reads the environment once at start-up.

export interface Shard {
  /** This replica's shard, 0 ≤ index < count. */
  index: number;
  /** How many shards (replicas) share the cameras. */
  count: number;
}

export class ShardConfigError extends Error {
  readonly code = 'SHARD_CONFIG_INVALID';
  constructor(readonly key: string, readonly reason: string) {
    super(`${key}: ${reason}`);
    this.name = 'ShardConfigError';
  }
}

/** More shards than this is a typo, not a deployment. */
export const MAX_SHARDS = 10_000;

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
export function shardFromEnv(env: NodeJS.ProcessEnv): Shard | undefined {
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

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

function fnv1a(bytes: Uint8Array, seed: number): number {
  let h = seed;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME);
  return h >>> 0;
}

/**
 * The score of `shard` for a camera: FNV-1a 32-bit over the id's UTF-8 bytes
 * and then the shard's 4 bytes, finished with MurmurHash3's fmix32. FNV alone
 * barely mixes its last bytes, and HRW compares scores that differ only in
 * them; the finalizer spreads every input bit over the whole word.
 */
function score(idHash: number, shard: number): number {
  let h = idHash;
  for (let i = 0; i < 4; i++) h = Math.imul(h ^ ((shard >>> (8 * i)) & 0xff), FNV_PRIME);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw new RangeError(`shard count must be an integer between 1 and ${MAX_SHARDS}, got ${count}`);
}

/** The shard (0 ≤ shard < count) that runs the camera with this id; the same on every replica. */
export function shardOf(id: string, count: number): number {
  checkCount(count);
  const idHash = fnv1a(encoder.encode(id), FNV_OFFSET);
  let best = 0;
  let bestScore = -1;
  for (let shard = 0; shard < count; shard++) {
    const s = score(idHash, shard);
    // Strictly greater: a tie goes to the lower index, the same everywhere.
    if (s > bestScore) {
      best = shard;
      bestScore = s;
    }
  }
  return best;
}

/** The cameras this shard runs, in their configured order. */
export function camerasForShard<T extends { id: string }>(cameras: T[], shard: Shard): T[] {
  checkCount(shard.count);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(`shard index must be an integer from 0 to ${shard.count - 1}, got ${shard.index}`);
  }
  return cameras.filter((camera) => shardOf(camera.id, shard.count) === shard.index);
}
