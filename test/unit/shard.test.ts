import { describe, expect, it } from 'vitest';
import { camerasForShard, shardOf } from '../../src/cameras/shard.js';
import { shardFromEnv, ShardConfigError } from '../../src/config/shard.js';
import type { ShardConfig } from '../../src/config/schema.js';

const cameras = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `cam-${i}`, url: `rtsp://192.0.2.${i % 250}/stream` }));

function assignment(list: { id: string }[], count: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let index = 0; index < count; index++) {
    for (const cam of camerasForShard(list, { index, count })) {
      expect(out.has(cam.id), `${cam.id} on two shards`).toBe(false);
      out.set(cam.id, index);
    }
  }
  return out;
}

function envError(env: NodeJS.ProcessEnv): ShardConfigError {
  try {
    shardFromEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ShardConfigError);
    return err as ShardConfigError;
  }
  throw new Error(`no error for ${JSON.stringify(env)}`);
}

describe('camerasForShard', () => {
  it('puts every camera on exactly one shard, keeping the configured order', () => {
    const list = cameras(100);
    const owner = assignment(list, 4);
    expect(owner.size).toBe(100);
    const shard1 = camerasForShard(list, { index: 1, count: 4 });
    expect(shard1.map((c) => c.id)).toEqual(list.filter((c) => owner.get(c.id) === 1).map((c) => c.id));
  });

  it('is stable: the same ids give the same shards, whatever the order or the other cameras', () => {
    const list = cameras(50);
    const a = assignment(list, 3);
    const b = assignment([...list].reverse().slice(0, 30), 3);
    for (const [id, shard] of b) expect(shard).toBe(a.get(id));
    // Pinned values: a change of hash would move every deployed camera.
    expect(['cam-0', 'cam-1', 'cam-2', 'porch', 'front-door', 'driveway', 'garage'].map((id) => shardOf(id, 4))).toEqual([0, 2, 3, 3, 3, 1, 1]);
  });

  it('balances 100 cameras over 4 shards roughly evenly', () => {
    const sizes = [0, 0, 0, 0];
    for (const shard of assignment(cameras(100), 4).values()) sizes[shard]++;
    // 25 each on average; a binomial standard deviation is about 4.3.
    for (const size of sizes) expect(size).toBeGreaterThanOrEqual(15);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(35);
  });

  it('moving from 4 to 5 shards moves about 1/5 of the cameras, all to the new shard', () => {
    const list = cameras(1000);
    const before = assignment(list, 4);
    const after = assignment(list, 5);
    let moved = 0;
    for (const [id, shard] of after) {
      if (shard !== before.get(id)) {
        moved++;
        expect(shard, `${id} moved between old shards`).toBe(4);
      }
    }
    // Expected 200; modulo hashing would move about 800.
    expect(moved).toBeGreaterThan(150);
    expect(moved).toBeLessThan(250);
  });

  it('one shard runs everything', () => {
    expect(camerasForShard(cameras(7), { index: 0, count: 1 })).toHaveLength(7);
  });

  it('refuses an impossible shard', () => {
    const bad: ShardConfig[] = [{ index: 4, count: 4 }, { index: -1, count: 4 }, { index: 0, count: 0 }, { index: 0.5, count: 2 }];
    for (const shard of bad) expect(() => camerasForShard(cameras(3), shard)).toThrow(RangeError);
  });
});

describe('shardFromEnv', () => {
  it('is off without LOOKOUT_SHARD_COUNT', () => {
    expect(shardFromEnv({})).toBeUndefined();
    expect(shardFromEnv({ HOSTNAME: 'lookout-2', POD_NAME: 'lookout-2' })).toBeUndefined();
    expect(shardFromEnv({ LOOKOUT_SHARD_COUNT: '' })).toBeUndefined();
  });

  it('takes LOOKOUT_SHARD_INDEX first, then POD_NAME, then HOSTNAME', () => {
    expect(shardFromEnv({ LOOKOUT_SHARD_COUNT: '4', LOOKOUT_SHARD_INDEX: '1', POD_NAME: 'lookout-3' })).toEqual({ index: 1, count: 4 });
    expect(shardFromEnv({ LOOKOUT_SHARD_COUNT: '4', POD_NAME: 'lookout-3', HOSTNAME: 'lookout-0' })).toEqual({ index: 3, count: 4 });
    expect(shardFromEnv({ LOOKOUT_SHARD_COUNT: '4', HOSTNAME: 'lookout-2' })).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv({ LOOKOUT_SHARD_COUNT: ' 12 ', POD_NAME: 'my-lookout-west-11' })).toEqual({ index: 11, count: 12 });
    expect(shardFromEnv({ LOOKOUT_SHARD_COUNT: '1', POD_NAME: 'lookout-0' })).toEqual({ index: 0, count: 1 });
  });

  it('names the variable in every error', () => {
    const cases: [NodeJS.ProcessEnv, string, RegExp][] = [
      [{ LOOKOUT_SHARD_COUNT: '0', LOOKOUT_SHARD_INDEX: '0' }, 'LOOKOUT_SHARD_COUNT', /between 1 and/],
      [{ LOOKOUT_SHARD_COUNT: '-1', LOOKOUT_SHARD_INDEX: '0' }, 'LOOKOUT_SHARD_COUNT', /whole number/],
      [{ LOOKOUT_SHARD_COUNT: '2.5', LOOKOUT_SHARD_INDEX: '0' }, 'LOOKOUT_SHARD_COUNT', /whole number/],
      [{ LOOKOUT_SHARD_COUNT: 'three', LOOKOUT_SHARD_INDEX: '0' }, 'LOOKOUT_SHARD_COUNT', /"three"/],
      [{ LOOKOUT_SHARD_COUNT: '1e3', LOOKOUT_SHARD_INDEX: '0' }, 'LOOKOUT_SHARD_COUNT', /whole number/],
      [{ LOOKOUT_SHARD_INDEX: '1' }, 'LOOKOUT_SHARD_COUNT', /is not set/],
      [{ LOOKOUT_SHARD_COUNT: '4', LOOKOUT_SHARD_INDEX: '4' }, 'LOOKOUT_SHARD_INDEX', /not below LOOKOUT_SHARD_COUNT 4/],
      [{ LOOKOUT_SHARD_COUNT: '4', LOOKOUT_SHARD_INDEX: 'x1' }, 'LOOKOUT_SHARD_INDEX', /whole number/],
      [{ LOOKOUT_SHARD_COUNT: '4', LOOKOUT_SHARD_INDEX: '0x1' }, 'LOOKOUT_SHARD_INDEX', /whole number/],
      [{ LOOKOUT_SHARD_COUNT: '4', POD_NAME: 'lookout-7' }, 'POD_NAME', /index 7 is not below/],
      [{ LOOKOUT_SHARD_COUNT: '4', POD_NAME: 'lookout-7d9f-abcde' }, 'POD_NAME', /-ORDINAL/],
      [{ LOOKOUT_SHARD_COUNT: '4', HOSTNAME: 'laptop' }, 'HOSTNAME', /-ORDINAL/],
      [{ LOOKOUT_SHARD_COUNT: '4' }, 'LOOKOUT_SHARD_INDEX', /neither POD_NAME nor HOSTNAME/],
    ];
    for (const [env, key, reason] of cases) {
      const err = envError(env);
      expect(err.key, JSON.stringify(env)).toBe(key);
      expect(err.code).toBe('SHARD_CONFIG_INVALID');
      expect(err.message.startsWith(`environment ${key}: `)).toBe(true);
      expect(err.message, JSON.stringify(env)).toMatch(reason);
    }
  });
});
