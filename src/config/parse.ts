// Checks and completes a config document: an unknown key, a wrong type or a
// value out of range stops start-up with the key's path and the reason, and
// nothing starts half-configured. Defaults live here, next to each key.
import path from 'node:path';
import { parseCamera, parseDetection } from './camera.js';
import { describe, Reader } from './reader.js';
import { parseFilters } from './analytics.js';
import { parseAuth } from './auth.js';
import { parseNotify } from './notify.js';
import { parseRecord } from './record.js';
import { parseMotion, parseRegions } from './motion.js';
import { parseSourceNetworks } from './source-networks.js';
import { EMBEDDED_MODELS, isEmbeddedModel, type CameraConfig, type CameraDefaults, type EmbeddedModelConfig, type LookoutConfig, type ModelServerConfig, type SchedulerConfig, type StoreConfig } from './schema.js';

const TOP_KEYS = ['http', 'modelServer', 'minScore', 'detection', 'record', 'filters', 'motion', 'regions', 'notify', 'cameras', 'scheduler', 'fileRoots', 'store', 'auth', 'camerasFile', 'allowedSourceNetworks'];

/** Checks and completes a parsed config document. */
export function parseConfig(doc: unknown, source = 'config'): LookoutConfig {
  const r: Reader = new Reader(source);
  const top = r.object(doc, '', TOP_KEYS);
  const http = r.object(top.http, 'http', ['host', 'port']);
  const detection = parseDetection(r, top.detection);
  const record = parseRecord(r, top.record, 'record');
  const filters = parseFilters(r, top.filters, 'filters');
  const motion = parseMotion(r, top.motion, 'motion');
  const regions = parseRegions(r, top.regions, 'regions');
  let fileRoots: string[] = [];
  if (top.fileRoots !== undefined && top.fileRoots !== null) {
    if (!Array.isArray(top.fileRoots)) r.fail('fileRoots', `expected a list of folders, got ${describe(top.fileRoots)}`);
    fileRoots = top.fileRoots.map((f, i) => path.resolve(r.string(f, `fileRoots[${i}]`, '')));
  }
  const store = parseStore(r, top.store);
  return {
    auth: parseAuth(r, top.auth, store.path),
    store,
    detection,
    record,
    filters,
    motion,
    regions,
    notify: parseNotify(r, top.notify),
    cameras: parseCameras(r, top.cameras, { ...detection, record, filters, motion, regions }, fileRoots),
    scheduler: parseScheduler(r, top.scheduler),
    fileRoots,
    allowedSourceNetworks: parseSourceNetworks(r, top.allowedSourceNetworks),
    http: {
      // Absent: loopback only, so a fresh start is reachable from this machine alone.
      host: http.host === undefined || http.host === null ? undefined : r.string(http.host, 'http.host', ''),
      port: r.number(http.port, 'http.port', 8080, 0, 65535, true),
    },
    modelServer: parseModelServer(r, top.modelServer),
    minScore: r.number(top.minScore, 'minScore', 0.3, 0, 1),
    // The data folder: beside the detection log, whether the log is on or not.
    camerasFile: top.camerasFile === undefined || top.camerasFile === null
      ? path.join(path.dirname(store.path), 'cameras.json')
      : path.resolve(r.string(top.camerasFile, 'camerasFile', '')),
    shard: undefined,
  };
}

function parseModelServer(r: Reader, value: unknown): ModelServerConfig {
  const ms = r.object(value, 'modelServer', ['address', 'modelName', 'signatureName', 'deadlineMs', 'embedded']);
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
  const model = r.string(emb.model, 'modelServer.embedded.model', 'centernet');
  if (!isEmbeddedModel(model)) r.fail('modelServer.embedded.model', `expected ${EMBEDDED_MODELS.map((m) => JSON.stringify(m)).join(' or ')}, got ${JSON.stringify(model)}`);
  const embedded: EmbeddedModelConfig = {
    model,
    modelBasePath: emb.modelBasePath === undefined ? undefined : r.string(emb.modelBasePath, 'modelServer.embedded.modelBasePath', ''),
    workers: r.optionalNumber(emb.workers, 'modelServer.embedded.workers', 1, 64),
    workerNice: r.optionalNumber(emb.workerNice, 'modelServer.embedded.workerNice', 0, 19),
    maxQueue: r.optionalNumber(emb.maxQueue, 'modelServer.embedded.maxQueue', 0, 10_000),
    scoreThreshold: r.number(emb.scoreThreshold, 'modelServer.embedded.scoreThreshold', 0.05, 0, 1),
    latencyMs: r.number(emb.latencyMs, 'modelServer.embedded.latencyMs', 20, 0, 600_000),
    capacity: r.number(emb.capacity, 'modelServer.embedded.capacity', 1, 1, 1024, true),
  };
  return {
    address,
    modelName: r.string(ms.modelName, 'modelServer.modelName', 'detector'),
    signatureName: r.string(ms.signatureName, 'modelServer.signatureName', 'serving_default'),
    deadlineMs: r.number(ms.deadlineMs, 'modelServer.deadlineMs', 10_000, 1, 600_000, true),
    embedded,
  };
}

function parseScheduler(r: Reader, value: unknown): SchedulerConfig {
  const sch = r.object(value, 'scheduler', ['maxInFlight', 'perCameraInFlight', 'maxFrameAgeMs', 'maxBatch', 'batchTimeoutMs']);
  return {
    maxInFlight: r.number(sch.maxInFlight, 'scheduler.maxInFlight', 2, 1, 1024, true),
    perCameraInFlight: r.number(sch.perCameraInFlight, 'scheduler.perCameraInFlight', 1, 1, 64, true),
    maxFrameAgeMs: r.number(sch.maxFrameAgeMs, 'scheduler.maxFrameAgeMs', 2_000, 1, 600_000, true),
    maxBatch: r.number(sch.maxBatch, 'scheduler.maxBatch', 1, 1, 64, true),
    batchTimeoutMs: r.number(sch.batchTimeoutMs, 'scheduler.batchTimeoutMs', 0, 0, 10_000, true),
  };
}

function parseCameras(r: Reader, value: unknown, detection: CameraDefaults, fileRoots: string[]): CameraConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) r.fail('cameras', `expected a list of cameras, got ${describe(value)}`);
  const seen = new Set<string>();
  const cameras: CameraConfig[] = [];
  value.forEach((entry, i) => {
    const cam = parseCamera(r, entry, `cameras[${i}]`, detection, fileRoots);
    if (!cam) return;
    if (seen.has(cam.id)) r.fail(`cameras[${i}] (id ${JSON.stringify(cam.id)}).id`, 'is used by another camera; ids must be unique');
    seen.add(cam.id);
    cameras.push(cam);
  });
  return cameras;
}

/**
 * Where the detection log lives. Relative paths are taken from the working
 * directory lookout starts in; the default, ./data/lookout.db with
 * ./data/snapshots beside it, keeps a demo's events across restarts.
 */
function parseStore(r: Reader, value: unknown): StoreConfig {
  const st = r.object(value, 'store', ['enabled', 'path', 'snapshotDir', 'recordingsDir', 'retention']);
  const ret = r.object(st.retention, 'store.retention', ['maxAgeDays', 'maxSizeGB', 'intervalSeconds']);
  const file = path.resolve(r.string(st.path, 'store.path', path.join('data', 'lookout.db')));
  const snapshotDir = st.snapshotDir === undefined || st.snapshotDir === null
    ? path.join(path.dirname(file), 'snapshots')
    : path.resolve(r.string(st.snapshotDir, 'store.snapshotDir', ''));
  const recordingsDir = st.recordingsDir === undefined || st.recordingsDir === null
    ? path.join(path.dirname(file), 'recordings')
    : path.resolve(r.string(st.recordingsDir, 'store.recordingsDir', ''));
  // null turns a limit off; absent takes the default.
  const days = ret.maxAgeDays === null ? null : r.number(ret.maxAgeDays, 'store.retention.maxAgeDays', 30, 0.001, 36_500);
  const gb = ret.maxSizeGB === null ? null : r.number(ret.maxSizeGB, 'store.retention.maxSizeGB', 10, 0.001, 1_000_000);
  return {
    enabled: r.boolean(st.enabled, 'store.enabled', true),
    path: file,
    snapshotDir,
    recordingsDir,
    retention: {
      maxAgeMs: days === null ? null : Math.round(days * 86_400_000),
      maxBytes: gb === null ? null : Math.round(gb * 1024 ** 3),
      ...(ret.intervalSeconds === undefined || ret.intervalSeconds === null ? {} : { intervalMs: r.number(ret.intervalSeconds, 'store.retention.intervalSeconds', 300, 1, 86_400) * 1000 }),
    },
  };
}
