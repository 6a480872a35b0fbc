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
// Pure functions, no I/O: config/shard.ts reads this replica's shard from the
// environment with the rest of the config.
import type { ShardConfig } from '../config/schema.js';
import { MAX_SHARDS } from '../config/shard.js';

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
export function camerasForShard<T extends { id: string }>(cameras: T[], shard: ShardConfig): T[] {
  checkCount(shard.count);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(`shard index must be an integer from 0 to ${shard.count - 1}, got ${shard.index}`);
  }
  return cameras.filter((camera) => shardOf(camera.id, shard.count) === shard.index);
}
