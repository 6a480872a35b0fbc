// One camera's settings: as a config file's `cameras` entry, as an API
// request's body, and back (cameras.json keeps entries in this form). The one
// place a camera's url is checked (ingest/source-url.ts decides what ffmpeg
// may read); the result travels with the camera as `source`.
import { classifySource, SourceUrlError } from '../ingest/source-url.js';
import { describe, Reader } from './reader.js';
import { FILTER_KEYS, parseFilters, parseShapes, shapesEntry } from './analytics.js';
import { parseRecord } from './record.js';
import { motionEntry, parseMotion, parseRegions } from './motion.js';
import { ConfigError, type CameraConfig, type CameraDefaults, type DetectionSettings, type LookoutConfig, type ModelChoice } from './schema.js';

export const CAMERA_KEYS = ['id', 'url', 'model', 'rtspTransport', 'timeoutMs', 'realtime', 'loop', 'detectFps', 'liveFps', 'size', 'liveSize', 'minScore', 'labels', 'record', 'zones', 'lines', 'masks', 'filters', 'motion', 'regions', 'enabled'] as const;
export const DETECTION_KEYS = ['detectFps', 'liveFps', 'size', 'liveSize', 'minScore', 'labels'] as const;

const CAMERA_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The defaults every camera starts from (the config's `detection`). */
export function parseDetection(r: Reader, value: unknown): DetectionSettings {
  const det = r.object(value, 'detection', DETECTION_KEYS);
  return {
    detectFps: r.number(det.detectFps, 'detection.detectFps', 5, 0.05, 60),
    liveFps: r.number(det.liveFps, 'detection.liveFps', 15, 0, 60),
    size: r.size(det.size, 'detection.size', { width: 640, height: 640 }),
    liveSize: r.size(det.liveSize, 'detection.liveSize', { width: 1280, height: 720 }),
    minScore: r.number(det.minScore, 'detection.minScore', 0.4, 0, 1),
    labels: r.labels(det.labels, 'detection.labels', []),
  };
}

/** One entry of `cameras`; errors name its index and id. Returns undefined for `enabled: false`. */
export function parseCamera(r: Reader, entry: unknown, at: string, defaults: CameraDefaults, fileRoots: readonly string[], keys: readonly string[] = CAMERA_KEYS): CameraConfig | undefined {
  const raw = r.object(entry, at, keys);
  const id = r.string(raw.id, at ? `${at}.id` : 'id', '');
  if (!CAMERA_ID.test(id)) r.fail(at ? `${at}.id` : 'id', `expected 1 to 64 letters, digits, "-" or "_", starting with a letter or digit; got ${describe(raw.id)}`);
  const key = (k: string) => (at ? `${at} (id ${JSON.stringify(id)}).${k}` : k);
  const url = r.string(raw.url, key('url'), '');
  let source;
  try {
    source = classifySource(url, fileRoots);
  } catch (err) {
    if (err instanceof SourceUrlError) r.fail(key('url'), err.message);
    throw err;
  }
  if (!r.boolean(raw.enabled, key('enabled'), true)) return undefined;
  const transport = r.string(raw.rtspTransport, key('rtspTransport'), 'tcp');
  if (transport !== 'tcp' && transport !== 'udp') r.fail(key('rtspTransport'), `expected "tcp" or "udp", got ${JSON.stringify(transport)}`);
  return {
    id,
    model: parseModelChoice(r, raw.model, key('model')),
    url,
    source,
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
    record: parseRecord(r, raw.record, key('record'), defaults.record),
    ...parseShapes(r, raw, key),
    filters: parseFilters(r, raw.filters, key('filters'), defaults.filters),
    ownFilters: ownFilters(raw.filters),
    motion: parseMotion(r, raw.motion, key('motion'), defaults.motion),
    regions: parseRegions(r, raw.regions, key('regions'), defaults.regions),
  };
}

/** A camera's `model`: a name (TF Serving's model name), and a version or a version label, not both. */
function parseModelChoice(r: Reader, value: unknown, at: string): ModelChoice | null {
  if (value === undefined || value === null) return null;
  const o = r.object(value, at, ['name', 'version', 'label']);
  const name = r.string(o.name, `${at}.name`, '');
  if (name === '') r.fail(`${at}.name`, 'expected the name of a model the model server serves');
  if (!/^[^/:\s]{1,128}$/.test(name)) r.fail(`${at}.name`, `expected a model name without "/", ":" or spaces, got ${JSON.stringify(name)}`);
  const version = r.optionalNumber(o.version, `${at}.version`, 1, Number.MAX_SAFE_INTEGER);
  const label = o.label === undefined || o.label === null ? undefined : r.string(o.label, `${at}.label`, '');
  if (label !== undefined && !/^[A-Za-z0-9_]{1,128}$/.test(label)) r.fail(`${at}.label`, `expected letters, digits or "_" (TF Serving's version labels), got ${JSON.stringify(label)}`);
  if (version !== undefined && label !== undefined) r.fail(at, 'give version or label, not both');
  return { name, ...(version !== undefined ? { version } : {}), ...(label !== undefined ? { label } : {}) };
}

/** The filter keys a camera set itself (already checked by parseFilters), kept so cameras.json holds its own, not the config's. */
function ownFilters(value: unknown): CameraConfig['ownFilters'] {
  if (typeof value !== 'object' || value === null) return {};
  const out: CameraConfig['ownFilters'] = {};
  for (const [label, f] of Object.entries(value as Record<string, unknown>)) {
    if (typeof f !== 'object' || f === null) continue;
    out[label] = Object.fromEntries(FILTER_KEYS.filter((k) => typeof (f as Record<string, unknown>)[k] === 'number').map((k) => [k, (f as Record<string, number>)[k]]));
  }
  return out;
}

/** What a config's cameras start from. */
export function cameraDefaults(config: Pick<LookoutConfig, 'detection' | 'record' | 'filters' | 'motion' | 'regions'>): CameraDefaults {
  return { ...config.detection, record: config.record, filters: config.filters, motion: config.motion, regions: config.regions };
}

/**
 * One camera as an API request gives it (the keys of a config entry but
 * `enabled`); errors name the key alone. Throws ConfigError.
 */
export function parseCameraEntry(entry: unknown, defaults: CameraDefaults, fileRoots: readonly string[], source = 'camera'): CameraConfig {
  const camera = parseCamera(new Reader(source), entry, '', defaults, fileRoots, CAMERA_KEYS.filter((k) => k !== 'enabled'));
  if (!camera) throw new ConfigError('enabled', 'not accepted here', source);
  return camera;
}

/** A camera's settings in the form a config entry or an API request gives them. */
export function cameraEntry(c: CameraConfig): Record<string, unknown> {
  return {
    id: c.id, url: c.url, ...(c.model ? { model: { ...c.model } } : {}), rtspTransport: c.rtspTransport, timeoutMs: c.timeoutMs, realtime: c.realtime, loop: c.loop,
    detectFps: c.detectFps, liveFps: c.liveFps, size: { ...c.size }, liveSize: { ...c.liveSize }, minScore: c.minScore, labels: [...c.labels],
    record: { ...c.record },
    ...shapesEntry(c),
    filters: Object.fromEntries(Object.entries(c.ownFilters).map(([label, f]) => [label, { ...f }])),
    motion: motionEntry(c.motion),
    regions: { ...c.regions },
  };
}
