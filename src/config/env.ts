// Settings the environment overrides (a container's usual way in), over the
// file's or the defaults'. Values are read as YAML scalars, so numbers and
// true/false need no quoting; LOOKOUT_MODEL_SERVER takes a comma-separated
// list. A wrong value names the variable, not the key it sets. The replica's
// shard (shard.ts) comes from the environment only.
import { parse as parseYaml } from 'yaml';
import { parseConfig } from './parse.js';
import type { Obj } from './reader.js';
import { ConfigError, type LookoutConfig } from './schema.js';
import { shardFromEnv } from './shard.js';

export interface LoadOptions {
  /** false: no replica shard (a command that runs no cameras of the config, as `detect`). Default true. */
  shard?: boolean;
}

export const ENV_KEYS: Readonly<Record<string, string>> = {
  LOOKOUT_HTTP_HOST: 'http.host',
  LOOKOUT_HTTP_PORT: 'http.port',
  LOOKOUT_TOKEN: 'auth.token',
  LOOKOUT_AUTH_ENABLED: 'auth.enabled',
  LOOKOUT_USERS_FILE: 'auth.usersFile',
  LOOKOUT_MODEL_SERVER: 'modelServer.address',
  LOOKOUT_MODEL_NAME: 'modelServer.modelName',
  LOOKOUT_SIGNATURE_NAME: 'modelServer.signatureName',
  LOOKOUT_EMBEDDED_MODEL: 'modelServer.embedded.model',
  LOOKOUT_MIN_SCORE: 'minScore',
  LOOKOUT_STORE_ENABLED: 'store.enabled',
  LOOKOUT_STORE_PATH: 'store.path',
  LOOKOUT_RETENTION_DAYS: 'store.retention.maxAgeDays',
  LOOKOUT_RETENTION_GB: 'store.retention.maxSizeGB',
  LOOKOUT_CAMERAS_FILE: 'camerasFile',
  LOOKOUT_MQTT_URL: 'notify.mqtt.url',
  LOOKOUT_MQTT_USERNAME: 'notify.mqtt.username',
  LOOKOUT_MQTT_PASSWORD: 'notify.mqtt.password',
};

/** Read as they are, never as YAML (a password of "yes" or "0123" is a string). */
const VERBATIM = new Set(['LOOKOUT_TOKEN', 'LOOKOUT_USERS_FILE', 'LOOKOUT_MQTT_URL', 'LOOKOUT_MQTT_USERNAME', 'LOOKOUT_MQTT_PASSWORD']);

function withEnv(doc: unknown, env: NodeJS.ProcessEnv): { doc: unknown; used: Map<string, string> } {
  const used = new Map<string, string>();
  const root: Obj = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? structuredClone(doc as Obj) : {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const parts = key.split('.');
    let at: Obj = root;
    for (const p of parts.slice(0, -1)) {
      if (typeof at[p] !== 'object' || at[p] === null || Array.isArray(at[p])) at[p] = {};
      at = at[p] as Obj;
    }
    // Secrets and addresses stay strings; the rest read as YAML scalars (8080, true, 0.5).
    const value = VERBATIM.has(name) ? raw : name === 'LOOKOUT_MODEL_SERVER' ? raw.split(',').map((a) => a.trim()) : (parseYaml(raw) as unknown);
    at[parts[parts.length - 1]] = value;
    used.set(key, name);
  }
  return { doc: root, used };
}

/** parseConfig over the document with the environment applied; an error in an env value names the variable. */
export function parseWithEnv(doc: unknown, source: string, env: NodeJS.ProcessEnv, options: LoadOptions = {}): LookoutConfig {
  const applied = withEnv(doc, env);
  try {
    return { ...parseConfig(applied.doc, source), shard: options.shard === false ? undefined : shardFromEnv(env) };
  } catch (err) {
    if (err instanceof ConfigError) {
      const name = [...applied.used].find(([key]) => err.key === key || err.key.startsWith(`${key}[`))?.[1];
      if (name) throw new ConfigError(err.key, err.reason, `environment ${name}`);
    }
    throw err;
  }
}
