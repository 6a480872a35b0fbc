// The one configuration schema. Parsing is strict: an unknown key, a wrong
// type or a value out of range stops start-up with the key's path and the
// reason, and nothing starts half-configured.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { classifySource, SourceUrlError } from '../ingest/source-url.js';
import { mediaDir } from '../util/paths.js';
import { cocoLabelMap } from '../tfserving/label-map.js';

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
  /** Niceness of the inference worker threads; undefined: the pool's default. */
  workerNice: number | undefined;
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

export interface Size {
  width: number;
  height: number;
}

/** What each camera detects, and how often; cameras override any of it. */
export interface DetectionSettings {
  /** Frames per second sent to the model. */
  detectFps: number;
  /** Frames per second for viewers; 0 turns the live output off. */
  liveFps: number;
  /** Detection frames are scaled down to fit this box, keeping their aspect. */
  size: Size;
  /** Live frames are scaled down to fit this box. */
  liveSize: Size;
  /** Detections below this score are dropped. */
  minScore: number;
  /** Labels to keep; empty keeps all. */
  labels: string[];
}

export interface CameraConfig extends DetectionSettings {
  id: string;
  url: string;
  rtspTransport: 'tcp' | 'udp';
  /** Network read timeout, ms. */
  timeoutMs: number;
  /** Files: play at their native rate (else as fast as possible). */
  realtime: boolean;
  /** Files: start again at the end. */
  loop: boolean;
}

export interface SchedulerConfig {
  maxInFlight: number;
  perCameraInFlight: number;
  maxFrameAgeMs: number;
  maxBatch: number;
  batchTimeoutMs: number;
}

export interface StoreConfig {
  /** false: no detection log (no database, no events, no snapshots). */
  enabled: boolean;
  /** The SQLite file, absolute. */
  path: string;
  /** Where event snapshots are written, absolute. */
  snapshotDir: string;
  retention: {
    /** Records older than this are deleted; null keeps them by age. */
    maxAgeMs: number | null;
    /** The database plus snapshots are kept under this many bytes; null: no size limit. */
    maxBytes: number | null;
  };
}

export interface AuthConfig {
  /** The access token; absent: no auth (the README says when that is fine). */
  token: string | undefined;
  /** Origins besides the page's own that may open the WebSocket (e.g. a dashboard elsewhere). */
  allowedOrigins: string[];
}

export interface LookoutConfig {
  http: { host: string; port: number };
  auth: AuthConfig;
  store: StoreConfig;
  modelServer: ModelServerConfig;
  /** Detections below this score are dropped before any camera's own threshold. */
  minScore: number;
  detection: DetectionSettings;
  cameras: CameraConfig[];
  scheduler: SchedulerConfig;
  /** Folders file cameras may read from; empty allows any. */
  fileRoots: string[];
}

export const DEMO_CLIP = path.join(mediaDir, 'bottle-detection.mp4');

const CAMERA_KEYS = ['id', 'url', 'rtspTransport', 'timeoutMs', 'realtime', 'loop', 'detectFps', 'liveFps', 'size', 'liveSize', 'minScore', 'labels', 'enabled'] as const;
const DETECTION_KEYS = ['detectFps', 'liveFps', 'size', 'liveSize', 'minScore', 'labels'] as const;

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

  boolean(value: unknown, key: string, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') this.fail(key, `expected true or false, got ${describe(value)}`);
    return value;
  }

  /** "640x360", or { width, height }. */
  size(value: unknown, key: string, fallback: Size): Size {
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'string') {
      const m = /^(\d{1,5})x(\d{1,5})$/.exec(value.trim());
      if (!m) this.fail(key, `expected WIDTHxHEIGHT such as 640x360, got ${describe(value)}`);
      return this.checkSize({ width: Number(m[1]), height: Number(m[2]) }, key);
    }
    const o = this.object(value, key, ['width', 'height']);
    return this.checkSize({ width: this.number(o.width, `${key}.width`, 0, 16, 8192, true), height: this.number(o.height, `${key}.height`, 0, 16, 8192, true) }, key);
  }

  private checkSize(size: Size, key: string): Size {
    if (size.width < 16 || size.height < 16 || size.width > 8192 || size.height > 8192) this.fail(key, `each side must be 16 to 8192 pixels, got ${size.width}x${size.height}`);
    return size;
  }

  labels(value: unknown, key: string, fallback: string[]): string[] {
    if (value === undefined || value === null) return fallback;
    if (!Array.isArray(value)) this.fail(key, `expected a list of labels, got ${describe(value)}`);
    const known = new Set(cocoLabelMap().ids().map((id) => cocoLabelMap().label(id)));
    return value.map((v, i) => {
      const label = this.string(v, `${key}[${i}]`, '');
      if (!known.has(label)) this.fail(`${key}[${i}]`, `unknown label ${JSON.stringify(label)} (the label map has e.g. person, car, bottle)`);
      return label;
    });
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
  const top = r.object(doc, '', ['http', 'modelServer', 'minScore', 'detection', 'cameras', 'scheduler', 'fileRoots', 'store', 'auth']);
  const auth = r.object(top.auth, 'auth', ['token', 'allowedOrigins']);
  const token = auth.token === undefined || auth.token === null ? undefined : r.string(auth.token, 'auth.token', '');
  if (token !== undefined && token.length < 16) r.fail('auth.token', `is ${token.length} characters long; use at least 16 (e.g. openssl rand -hex 24)`);
  let allowedOrigins: string[] = [];
  if (auth.allowedOrigins !== undefined && auth.allowedOrigins !== null) {
    if (!Array.isArray(auth.allowedOrigins)) r.fail('auth.allowedOrigins', `expected a list of origins, got ${describe(auth.allowedOrigins)}`);
    allowedOrigins = auth.allowedOrigins.map((o, i) => {
      const origin = r.string(o, `auth.allowedOrigins[${i}]`, '');
      if (!/^https?:\/\/[^/\s]+$/.test(origin)) r.fail(`auth.allowedOrigins[${i}]`, `expected an origin like https://dash.example.com, got ${JSON.stringify(origin)}`);
      return origin;
    });
  }
  const http = r.object(top.http, 'http', ['host', 'port']);
  const ms = r.object(top.modelServer, 'modelServer', ['address', 'modelName', 'signatureName', 'deadlineMs', 'embedded']);
  const emb = r.object(ms.embedded, 'modelServer.embedded', ['model', 'modelBasePath', 'workers', 'workerNice', 'maxQueue', 'scoreThreshold', 'latencyMs', 'capacity']);

  let address: string[] | undefined;
  if (ms.address !== undefined && ms.address !== null) {
    const list = Array.isArray(ms.address) ? ms.address : [ms.address];
    address = list.map((a, i) => r.string(a, Array.isArray(ms.address) ? `modelServer.address[${i}]` : 'modelServer.address', ''));
    if (address.length === 0) r.fail('modelServer.address', 'is an empty list; leave it out to use the embedded model server');
    const urls = address.filter((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a) && !/^(dns|ipv4|ipv6|unix):/i.test(a));
    for (const u of urls) {
      if (!/^https?:\/\/[^/\s]+\/?$/i.test(u)) r.fail('modelServer.address', `${JSON.stringify(u)}: a REST address is http(s)://host:port, with no path`);
    }
    if (urls.length > 0 && address.length > 1) {
      r.fail('modelServer.address', 'an http(s):// address (TF Serving\'s REST API) stands alone: give one, or gRPC host:port addresses to balance over');
    }
  }
  const modelName = r.string(emb.model, 'modelServer.embedded.model', 'centernet');
  if (modelName !== 'centernet' && modelName !== 'synthetic') {
    r.fail('modelServer.embedded.model', `expected "centernet" or "synthetic", got ${JSON.stringify(modelName)}`);
  }
  const model: EmbeddedModelConfig['model'] = modelName;

  const det = r.object(top.detection, 'detection', DETECTION_KEYS);
  const detection: DetectionSettings = {
    detectFps: r.number(det.detectFps, 'detection.detectFps', 5, 0.05, 60),
    liveFps: r.number(det.liveFps, 'detection.liveFps', 15, 0, 60),
    size: r.size(det.size, 'detection.size', { width: 640, height: 640 }),
    liveSize: r.size(det.liveSize, 'detection.liveSize', { width: 1280, height: 720 }),
    minScore: r.number(det.minScore, 'detection.minScore', 0.4, 0, 1),
    labels: r.labels(det.labels, 'detection.labels', []),
  };
  let fileRoots: string[] = [];
  if (top.fileRoots !== undefined && top.fileRoots !== null) {
    if (!Array.isArray(top.fileRoots)) r.fail('fileRoots', `expected a list of folders, got ${describe(top.fileRoots)}`);
    fileRoots = top.fileRoots.map((f, i) => path.resolve(r.string(f, `fileRoots[${i}]`, '')));
  }
  const sch = r.object(top.scheduler, 'scheduler', ['maxInFlight', 'perCameraInFlight', 'maxFrameAgeMs', 'maxBatch', 'batchTimeoutMs']);
  const scheduler: SchedulerConfig = {
    maxInFlight: r.number(sch.maxInFlight, 'scheduler.maxInFlight', 2, 1, 1024, true),
    perCameraInFlight: r.number(sch.perCameraInFlight, 'scheduler.perCameraInFlight', 1, 1, 64, true),
    maxFrameAgeMs: r.number(sch.maxFrameAgeMs, 'scheduler.maxFrameAgeMs', 2_000, 1, 600_000, true),
    maxBatch: r.number(sch.maxBatch, 'scheduler.maxBatch', 1, 1, 64, true),
    batchTimeoutMs: r.number(sch.batchTimeoutMs, 'scheduler.batchTimeoutMs', 0, 0, 10_000, true),
  };
  let cameras: CameraConfig[];
  if (top.cameras === undefined || top.cameras === null) {
    cameras = [];
  } else {
    if (!Array.isArray(top.cameras)) r.fail('cameras', `expected a list of cameras, got ${describe(top.cameras)}`);
    const seen = new Set<string>();
    cameras = [];
    top.cameras.forEach((entry, i) => {
      const cam = parseCamera(r, entry, `cameras[${i}]`, detection, fileRoots);
      if (!cam) return;
      if (seen.has(cam.id)) r.fail(`cameras[${i}] (id ${JSON.stringify(cam.id)}).id`, 'is used by another camera; ids must be unique');
      seen.add(cam.id);
      cameras.push(cam);
    });
  }

  return {
    auth: { token, allowedOrigins },
    store: parseStore(r, top.store),
    detection,
    cameras,
    scheduler,
    fileRoots,
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
        workerNice: r.optionalNumber(emb.workerNice, 'modelServer.embedded.workerNice', 0, 19),
        maxQueue: r.optionalNumber(emb.maxQueue, 'modelServer.embedded.maxQueue', 0, 10_000),
        scoreThreshold: r.number(emb.scoreThreshold, 'modelServer.embedded.scoreThreshold', 0.05, 0, 1),
        latencyMs: r.number(emb.latencyMs, 'modelServer.embedded.latencyMs', 20, 0, 600_000),
        capacity: r.number(emb.capacity, 'modelServer.embedded.capacity', 1, 1, 1024, true),
      },
    },
    minScore: r.number(top.minScore, 'minScore', 0.3, 0, 1),
  };
}

/**
 * Where the detection log lives. Relative paths are taken from the working
 * directory lookout starts in; the default, ./data/lookout.db with
 * ./data/snapshots beside it, keeps a demo's events across restarts.
 */
function parseStore(r: Reader, value: unknown): StoreConfig {
  const st = r.object(value, 'store', ['enabled', 'path', 'snapshotDir', 'retention']);
  const ret = r.object(st.retention, 'store.retention', ['maxAgeDays', 'maxSizeGB']);
  const file = path.resolve(r.string(st.path, 'store.path', path.join('data', 'lookout.db')));
  const snapshotDir = st.snapshotDir === undefined || st.snapshotDir === null
    ? path.join(path.dirname(file), 'snapshots')
    : path.resolve(r.string(st.snapshotDir, 'store.snapshotDir', ''));
  // null turns a limit off; absent takes the default.
  const days = ret.maxAgeDays === null ? null : r.number(ret.maxAgeDays, 'store.retention.maxAgeDays', 30, 0.001, 36_500);
  const gb = ret.maxSizeGB === null ? null : r.number(ret.maxSizeGB, 'store.retention.maxSizeGB', 10, 0.001, 1_000_000);
  return {
    enabled: r.boolean(st.enabled, 'store.enabled', true),
    path: file,
    snapshotDir,
    retention: {
      maxAgeMs: days === null ? null : Math.round(days * 86_400_000),
      maxBytes: gb === null ? null : Math.round(gb * 1024 ** 3),
    },
  };
}

const CAMERA_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** One entry of `cameras`; errors name its index and id. Returns undefined for `enabled: false`. */
function parseCamera(r: Reader, entry: unknown, at: string, defaults: DetectionSettings, fileRoots: string[], keys: readonly string[] = CAMERA_KEYS): CameraConfig | undefined {
  const raw = r.object(entry, at, keys);
  const id = r.string(raw.id, at ? `${at}.id` : 'id', '');
  if (!CAMERA_ID.test(id)) r.fail(at ? `${at}.id` : 'id', `expected 1 to 64 letters, digits, "-" or "_", starting with a letter or digit; got ${describe(raw.id)}`);
  const key = (k: string) => (at ? `${at} (id ${JSON.stringify(id)}).${k}` : k);
  const url = r.string(raw.url, key('url'), '');
  try {
    classifySource(url, fileRoots);
  } catch (err) {
    if (err instanceof SourceUrlError) r.fail(key('url'), err.message);
    throw err;
  }
  if (!r.boolean(raw.enabled, key('enabled'), true)) return undefined;
  const transport = r.string(raw.rtspTransport, key('rtspTransport'), 'tcp');
  if (transport !== 'tcp' && transport !== 'udp') r.fail(key('rtspTransport'), `expected "tcp" or "udp", got ${JSON.stringify(transport)}`);
  return {
    id,
    url,
    rtspTransport: transport,
    timeoutMs: r.number(raw.timeoutMs, key('timeoutMs'), 10_000, 500, 600_000, true),
    realtime: r.boolean(raw.realtime, key('realtime'), true),
    loop: r.boolean(raw.loop, key('loop'), false),
    detectFps: r.number(raw.detectFps, key('detectFps'), defaults.detectFps, 0.05, 60),
    liveFps: r.number(raw.liveFps, key('liveFps'), defaults.liveFps, 0, 60),
    size: r.size(raw.size, key('size'), defaults.size),
    liveSize: r.size(raw.liveSize, key('liveSize'), defaults.liveSize),
    minScore: r.number(raw.minScore, key('minScore'), defaults.minScore, 0, 1),
    labels: r.labels(raw.labels, key('labels'), defaults.labels),
  };
}

/**
 * One camera as an API request gives it (the keys of a config entry but
 * `enabled`); errors name the key alone. Throws ConfigError.
 */
export function parseCameraEntry(entry: unknown, defaults: DetectionSettings, fileRoots: string[], source = 'camera'): CameraConfig {
  const camera = parseCamera(new Reader(source), entry, '', defaults, fileRoots, CAMERA_KEYS.filter((k) => k !== 'enabled'));
  if (!camera) throw new ConfigError('enabled', 'not accepted here', source);
  return camera;
}

/** A camera's settings in the form a config entry or an API request gives them. */
export function cameraEntry(c: CameraConfig): Record<string, unknown> {
  return {
    id: c.id, url: c.url, rtspTransport: c.rtspTransport, timeoutMs: c.timeoutMs, realtime: c.realtime, loop: c.loop,
    detectFps: c.detectFps, liveFps: c.liveFps, size: { ...c.size }, liveSize: { ...c.liveSize }, minScore: c.minScore, labels: [...c.labels],
  };
}

/** The camera `lookout serve` shows when started without a config: the bundled bottle clip, looped. */
export function demoConfig(env: NodeJS.ProcessEnv = {}): LookoutConfig {
  return parseWithEnv({ cameras: [{ id: 'demo', url: DEMO_CLIP, loop: true }] }, 'defaults', env);
}

/**
 * Settings the environment overrides (a container's usual way in), over the
 * file's. Values are read as YAML scalars, so numbers and true/false need no
 * quoting; LOOKOUT_MODEL_SERVER takes a comma-separated list.
 */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  LOOKOUT_HTTP_HOST: 'http.host',
  LOOKOUT_HTTP_PORT: 'http.port',
  LOOKOUT_TOKEN: 'auth.token',
  LOOKOUT_MODEL_SERVER: 'modelServer.address',
  LOOKOUT_MODEL_NAME: 'modelServer.modelName',
  LOOKOUT_SIGNATURE_NAME: 'modelServer.signatureName',
  LOOKOUT_EMBEDDED_MODEL: 'modelServer.embedded.model',
  LOOKOUT_MIN_SCORE: 'minScore',
  LOOKOUT_STORE_ENABLED: 'store.enabled',
  LOOKOUT_STORE_PATH: 'store.path',
  LOOKOUT_RETENTION_DAYS: 'store.retention.maxAgeDays',
  LOOKOUT_RETENTION_GB: 'store.retention.maxSizeGB',
};

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
    const value = name === 'LOOKOUT_TOKEN' ? raw : name === 'LOOKOUT_MODEL_SERVER' ? raw.split(',').map((a) => a.trim()) : (parseYaml(raw) as unknown);
    at[parts[parts.length - 1]] = value;
    used.set(key, name);
  }
  return { doc: root, used };
}

/** parseConfig over the document with the environment applied; an error in an env value names the variable. */
function parseWithEnv(doc: unknown, source: string, env: NodeJS.ProcessEnv): LookoutConfig {
  const applied = withEnv(doc, env);
  try {
    return parseConfig(applied.doc, source);
  } catch (err) {
    if (err instanceof ConfigError) {
      const name = [...applied.used].find(([key]) => err.key === key || err.key.startsWith(`${key}[`))?.[1];
      if (name) throw new ConfigError(err.key, err.reason, `environment ${name}`);
    }
    throw err;
  }
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = {}): LookoutConfig {
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
  return parseWithEnv(doc, file, env);
}
