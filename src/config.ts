// The one configuration schema. Parsing is strict: an unknown key, a wrong
// type or a value out of range stops start-up with the key's path and the
// reason, and nothing starts half-configured.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly key: string, readonly reason: string, readonly source = 'config') {
    super(`${source}: ${key}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export interface EmbeddedModelConfig {
  /** "centernet" (real COCO detector) or "synthetic". */
  model: 'centernet' | 'synthetic';
  modelBasePath: string | undefined;
  workers: number | undefined;
  maxQueue: number | undefined;
  scoreThreshold: number;
  latencyMs: number;
  capacity: number;
}

export interface ModelServerConfig {
  /** TF Serving's gRPC address(es); absent means lookout starts its embedded server. */
  address: string[] | undefined;
  modelName: string;
  signatureName: string;
  deadlineMs: number;
  embedded: EmbeddedModelConfig;
}

export interface LookoutConfig {
  http: { host: string; port: number };
  modelServer: ModelServerConfig;
  /** Detections below this score are dropped everywhere. */
  minScore: number;
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly source: string) {}

  fail(key: string, reason: string): never {
    throw new ConfigError(key, reason, this.source);
  }

  object(value: unknown, key: string, allowed: readonly string[]): Obj {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(key, `expected a mapping, got ${describe(value)}`);
    for (const k of Object.keys(value)) {
      if (!allowed.includes(k)) this.fail(key ? `${key}.${k}` : k, `unknown key (expected one of: ${allowed.join(', ')})`);
    }
    return value as Obj;
  }

  string(value: unknown, key: string, fallback: string): string {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || value.length === 0) this.fail(key, `expected a non-empty string, got ${describe(value)}`);
    return value;
  }

  number(value: unknown, key: string, fallback: number, min: number, max: number, integer = false): number {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(key, `expected a number, got ${describe(value)}`);
    if (integer && !Number.isInteger(value)) this.fail(key, `expected an integer, got ${value}`);
    if (value < min || value > max) this.fail(key, `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  optionalNumber(value: unknown, key: string, min: number, max: number): number | undefined {
    return value === undefined || value === null ? undefined : this.number(value, key, 0, min, max, true);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${typeof value === 'object' ? '' : String(value)}`.trim();
}

/** Checks and completes a parsed config document. */
export function parseConfig(doc: unknown, source = 'config'): LookoutConfig {
  const r: Reader = new Reader(source);
  const top = r.object(doc, '', ['http', 'modelServer', 'minScore']);
  const http = r.object(top.http, 'http', ['host', 'port']);
  const ms = r.object(top.modelServer, 'modelServer', ['address', 'modelName', 'signatureName', 'deadlineMs', 'embedded']);
  const emb = r.object(ms.embedded, 'modelServer.embedded', ['model', 'modelBasePath', 'workers', 'maxQueue', 'scoreThreshold', 'latencyMs', 'capacity']);

  let address: string[] | undefined;
  if (ms.address !== undefined && ms.address !== null) {
    const list = Array.isArray(ms.address) ? ms.address : [ms.address];
    address = list.map((a, i) => r.string(a, Array.isArray(ms.address) ? `modelServer.address[${i}]` : 'modelServer.address', ''));
    if (address.length === 0) r.fail('modelServer.address', 'is an empty list; leave it out to use the embedded model server');
  }
  const modelName = r.string(emb.model, 'modelServer.embedded.model', 'centernet');
  if (modelName !== 'centernet' && modelName !== 'synthetic') {
    r.fail('modelServer.embedded.model', `expected "centernet" or "synthetic", got ${JSON.stringify(modelName)}`);
  }
  const model: EmbeddedModelConfig['model'] = modelName;

  return {
    http: {
      host: r.string(http.host, 'http.host', '0.0.0.0'),
      port: r.number(http.port, 'http.port', 8080, 0, 65535, true),
    },
    modelServer: {
      address,
      modelName: r.string(ms.modelName, 'modelServer.modelName', 'detector'),
      signatureName: r.string(ms.signatureName, 'modelServer.signatureName', 'serving_default'),
      deadlineMs: r.number(ms.deadlineMs, 'modelServer.deadlineMs', 10_000, 1, 600_000, true),
      embedded: {
        model,
        modelBasePath: emb.modelBasePath === undefined ? undefined : r.string(emb.modelBasePath, 'modelServer.embedded.modelBasePath', ''),
        workers: r.optionalNumber(emb.workers, 'modelServer.embedded.workers', 1, 64),
        maxQueue: r.optionalNumber(emb.maxQueue, 'modelServer.embedded.maxQueue', 0, 10_000),
        scoreThreshold: r.number(emb.scoreThreshold, 'modelServer.embedded.scoreThreshold', 0.05, 0, 1),
        latencyMs: r.number(emb.latencyMs, 'modelServer.embedded.latencyMs', 20, 0, 600_000),
        capacity: r.number(emb.capacity, 'modelServer.embedded.capacity', 1, 1, 1024, true),
      },
    },
    minScore: r.number(top.minScore, 'minScore', 0.3, 0, 1),
  };
}

export function loadConfig(file: string): LookoutConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('(file)', `cannot read: ${(err as Error).message}`, file);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError('(yaml)', (err as Error).message.split('\n')[0], file);
  }
  return parseConfig(doc, file);
}
