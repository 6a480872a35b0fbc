// The one configuration schema: what every setting is, as the rest of
// lookout reads it once parse.ts has checked and completed it. Types only,
// and the error every part of the config reports.
import type { ClassifiedSource } from '../ingest/source-url.js';
import { LookoutError } from '../util/errors.js';
import type { ModelChoice } from '../types.js';
import type { NetworkRange } from './source-networks.js';

export type { ModelChoice };

/** A setting that is wrong: names the key (a dotted path), the reason, and where it came from. */
export class ConfigError extends LookoutError {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly key: string, readonly reason: string, readonly source = 'config') {
    super(`${source}: ${key}: ${reason}`);
  }

  override fields(): Record<string, unknown> {
    return { key: this.key };
  }
}

/** The models the embedded server runs: the real COCO detector, or fixed synthetic answers. */
export const EMBEDDED_MODELS = ['centernet', 'synthetic'] as const;
export type EmbeddedModel = (typeof EMBEDDED_MODELS)[number];

/** The one check of an embedded model's name (config, `serve`, `model-server` and `detect` flags). */
export function isEmbeddedModel(name: string): name is EmbeddedModel {
  return (EMBEDDED_MODELS as readonly string[]).includes(name);
}

export interface EmbeddedModelConfig {
  /** "centernet" (real COCO detector) or "synthetic". */
  model: EmbeddedModel;
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
  /** Frames per second of the annotated JPEG view (decoded only while watched that way); 0 turns it off. */
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

export const RECORD_MODES = ['off', 'events', 'continuous'] as const;
export type RecordMode = (typeof RECORD_MODES)[number];

/** What of a camera's own video is kept on disk, and for how long (docs/recordings.md). */
export interface RecordSettings {
  /** off; events: only what surrounds an event; continuous: everything. */
  mode: RecordMode;
  preSeconds: number;
  postSeconds: number;
  /** A new file at the first keyframe after this many seconds. */
  segmentSeconds: number;
  /** Segments with no event in them are deleted after this. */
  retainDays: number;
  /** Segments with an event in them are deleted after this. */
  eventRetainDays: number;
  /** events mode: a segment with no event is deleted this long after its end plus preSeconds (an event may still start). */
  graceSeconds: number;
}

/** Motion detection and gating (docs/motion.md): which frames, and which parts of them, the model is given. */
export interface MotionConfig {
  /** false: every detection frame goes to the model whole, as without motion detection. */
  enabled: boolean;
  /** Grey-level difference (0–255) from the background that counts as change. */
  threshold: number;
  /** Least changed area of a motion box, as a fraction of the frame. */
  minArea: number;
  /** Polygons (normalized points) where change is ignored: a clock, waving trees. */
  masks: Point[][];
  /** Learning the background after a (re)start or a global change, before motion counts. */
  warmupSeconds: number;
  /** A frame with more than this fraction changed is a global change (lights, IR switch): re-calibrate. */
  recalibrate: number;
  /** Tracked objects that do not move are looked at again this often. */
  refreshSeconds: number;
}

/** Regions (docs/motion.md): the model is given squares around motion and tracked objects, at full resolution. */
export interface RegionsConfig {
  /** false: whenever something moves, the whole frame goes to the model, scaled to fit `size`. */
  enabled: boolean;
  /** The whole frame still goes to the model this often, so an object that never moves is found. */
  fullFrameSeconds: number;
  /** Regions per frame at most; more are merged. */
  maxRegions: number;
}

/** What every camera starts from: the config's `detection` and `record`. */
export interface CameraDefaults extends DetectionSettings {
  record: RecordSettings;
  filters: ObjectFilters;
  motion: MotionConfig;
  regions: RegionsConfig;
}

/** A point in normalized picture coordinates: x from the left, y from the top, both 0–1. */
export type Point = [number, number];

/** Which point of a box stands for the object in zones and on lines (docs/analytics.md). */
export const ANCHORS = ['bottom-center', 'center', 'top-center'] as const;
export type Anchor = (typeof ANCHORS)[number];

/** A named area of a camera's picture: who is in it, who entered, who stays. */
export interface ZoneConfig {
  name: string;
  /** At least 3 points, a simple polygon. */
  points: Point[];
  /** Labels that count in the zone; empty: every label. */
  labels: string[];
  /** A track inside this long is loitering; null: never. */
  loiterSeconds: number | null;
  /** Consecutive frames a track must be inside (or outside) before it enters (or exits). */
  inertia: number;
  anchor: Anchor;
}

/** A named counting line; "in" is crossing from the left of points[0]→points[1] to its right, as seen on the picture. */
export interface LineConfig {
  name: string;
  points: [Point, Point];
  labels: string[];
  anchor: Anchor;
}

/** What a label's detections must be to count (docs/analytics.md); areas are fractions of the frame, ratio is width ÷ height in pixels. */
export interface ObjectFilter {
  minScore: number;
  /** A track becomes an event once the median of its scores reaches this. */
  threshold: number;
  minArea: number;
  maxArea: number;
  minRatio: number;
  maxRatio: number;
}

/** Filters by label; "*" applies to labels without their own. */
export type ObjectFilters = Record<string, ObjectFilter>;

/** Where a camera's objects are and what of them counts (docs/analytics.md). */
export interface CameraAnalytics {
  zones: ZoneConfig[];
  lines: LineConfig[];
  /** Polygons where detections are ignored. */
  masks: Point[][];
  filters: ObjectFilters;
}

export interface CameraConfig extends DetectionSettings {
  id: string;
  /** null: the default model (modelServer.modelName). */
  model: ModelChoice | null;
  url: string;
  /** What the url names, checked once when the camera was parsed (ingest/source-url.ts). */
  source: ClassifiedSource;
  rtspTransport: 'tcp' | 'udp';
  /** Network read timeout, ms. */
  timeoutMs: number;
  /** Files: play at their native rate (else as fast as possible). */
  realtime: boolean;
  /** Files: start again at the end. */
  loop: boolean;
  record: RecordSettings;
  zones: ZoneConfig[];
  lines: LineConfig[];
  masks: Point[][];
  /** The config's filters with the camera's own over them, label by label. */
  filters: ObjectFilters;
  /** The filter keys the camera set itself (what cameras.json keeps). */
  ownFilters: Record<string, Partial<ObjectFilter>>;
  motion: MotionConfig;
  regions: RegionsConfig;
  /** The url came over the API, not the config file: checked before every connection (ingest/source-guard.ts). */
  urlFromApi?: boolean;
}

export const NOTIFY_PHASES = ['start', 'update', 'end', 'enter', 'exit', 'loiter', 'crossing'] as const;
export type NotifyPhase = (typeof NOTIFY_PHASES)[number];

/** MQTT (docs/notify.md): events, counts and occupancy, Home Assistant discovery. */
export interface MqttConfig {
  /** mqtt://, mqtts://, ws:// or wss://host[:port]. */
  url: string;
  username: string | undefined;
  password: string | undefined;
  topicPrefix: string;
  clientId: string;
  /** Publish Home Assistant discovery configs under discoveryPrefix. */
  discovery: boolean;
  discoveryPrefix: string;
  /** Messages held while the broker is away; more are dropped (counted). */
  maxQueue: number;
  /** mqtts: refuse a broker whose certificate does not verify (default true). */
  rejectUnauthorized: boolean;
  /** mqtts: a PEM file of the CA that signed the broker's certificate. */
  caFile: string | undefined;
}

/** One webhook receiver (docs/notify.md). */
export interface WebhookConfig {
  url: string;
  /** Signs each body (X-Lookout-Signature); never logged. */
  secret: string | undefined;
  phases: NotifyPhase[];
  /** Empty: any. */
  cameras: string[];
  labels: string[];
  zones: string[];
  lines: string[];
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  maxQueue: number;
}

export interface NotifyConfig {
  mqtt: MqttConfig | undefined;
  webhooks: WebhookConfig[];
  /** How receivers reach this lookout (snapshot and clip links); default: the address it listens on. */
  baseUrl: string | undefined;
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
  /** Where the cameras' recordings are written, absolute. */
  recordingsDir: string;
  retention: {
    /** Records older than this are deleted; null keeps them by age. */
    maxAgeMs: number | null;
    /** The database, snapshots and recordings are kept under this many bytes; null: no size limit. */
    maxBytes: number | null;
    /** Between retention passes; undefined: every 5 minutes. */
    intervalMs?: number;
  };
}

export interface AuthConfig {
  /** true: login always; false: never (a warning at every start); undefined: when a user, the token or a trusted proxy is configured. */
  enabled: boolean | undefined;
  /** The shared access token, an admin's (LOOKOUT_TOKEN). */
  token: string | undefined;
  /** Users, sessions and API tokens (SQLite); beside the detection log by default. */
  usersFile: string;
  /** How long a session lasts unused; each use (at most every 10 minutes) extends it. */
  sessionHours: number;
  /** Origins besides the page's own that may open the WebSocket or send a logged-in browser's changes (e.g. a dashboard elsewhere). */
  allowedOrigins: string[];
  /** A reverse proxy that authenticates (Authelia, oauth2-proxy, …) and says who the user is in headers. */
  trustedProxy: TrustedProxyConfig | undefined;
}

export interface TrustedProxyConfig {
  /** Addresses or CIDR blocks the proxy connects from; the headers of anyone else are ignored. */
  addresses: NetworkRange[];
  /** Lower-cased header names. */
  userHeader: string;
  roleHeader: string;
  /** A role header holding one of these (comma- or space-separated groups) makes the user an admin; anyone else is a viewer. */
  adminValues: string[];
}

/** This replica's share of the cameras (a StatefulSet of lookouts; see cameras/shard.ts). */
export interface ShardConfig {
  /** This replica's shard, 0 ≤ index < count. */
  index: number;
  /** How many shards (replicas) share the cameras. */
  count: number;
}

export interface LookoutConfig {
  /** host undefined: loopback only (127.0.0.1 and ::1). */
  http: { host: string | undefined; port: number };
  auth: AuthConfig;
  store: StoreConfig;
  modelServer: ModelServerConfig;
  /** Detections below this score are dropped before any camera's own threshold. */
  minScore: number;
  detection: DetectionSettings;
  /** Every camera's `record` defaults. */
  record: RecordSettings;
  /** Every camera's object filters, by label, before its own. */
  filters: ObjectFilters;
  /** Every camera's `motion` and `regions` defaults. */
  motion: MotionConfig;
  regions: RegionsConfig;
  notify: NotifyConfig;
  cameras: CameraConfig[];
  scheduler: SchedulerConfig;
  /** Folders file cameras may read from; empty allows any. */
  fileRoots: string[];
  /** Where cameras added over the API may connect although the guard forbids it (loopback, link-local, own addresses). */
  allowedSourceNetworks: NetworkRange[];
  /**
   * Where cameras added, changed or removed through the API are kept
   * (cameras/overrides-file.ts), absolute; by default beside the detection
   * log, in the data folder, whether the log is on or not.
   */
  camerasFile: string;
  /** Absent: this lookout runs every camera. Set from the environment (config/shard.ts). */
  shard: ShardConfig | undefined;
}
