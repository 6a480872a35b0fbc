import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { parseConfig } from '../../src/config/parse.js';
import { packageRoot } from '../../src/util/paths.js';
import { parseFlags, intFlag, UsageError } from '../../src/cli-args.js';
import { tempDir } from '../helpers/cleanup.js';

describe('config', () => {
  it('defaults to the embedded model server on port 8080', () => {
    const c = parseConfig({});
    expect(c.http.port).toBe(8080);
    expect(c.modelServer.address).toBeUndefined();
    expect(c.modelServer.modelName).toBe('detector');
    expect(c.modelServer.signatureName).toBe('serving_default');
    expect(c.modelServer.embedded.model).toBe('centernet');
  });

  it('takes one address, a list, or a dns: name', () => {
    expect(parseConfig({ modelServer: { address: 'tfs:8500' } }).modelServer.address).toEqual(['tfs:8500']);
    expect(parseConfig({ modelServer: { address: ['a:8500', 'b:8500'] } }).modelServer.address).toEqual(['a:8500', 'b:8500']);
  });

  it('names the key and the reason for every mistake', () => {
    const cases: [unknown, RegExp][] = [
      [{ modelServer: { adress: 'x:1' } }, /modelServer.adress: unknown key \(expected one of: address,/],
      [{ http: { port: 'eighty' } }, /http.port: expected a number, got the string "eighty"/],
      [{ http: { port: 70000 } }, /http.port: must be between 0 and 65535, got 70000/],
      [{ modelServer: { embedded: { model: 'yolo' } } }, /modelServer.embedded.model: expected "centernet" or "synthetic", got "yolo"/],
      [{ modelServer: { embedded: { workerNice: 20 } } }, /modelServer.embedded.workerNice: must be between 0 and 19, got 20/],
      [{ modelServer: { address: [] } }, /modelServer.address: is an empty list/],
      [{ modelServer: { address: ['a:1', 5] } }, /modelServer.address\[1\]: expected a non-empty string, got number 5/],
      [{ minScore: 2 }, /minScore: must be between 0 and 1, got 2/],
      [[1, 2], /expected a mapping, got a list/],
    ];
    for (const [doc, message] of cases) {
      expect(() => parseConfig(doc, 'lookout.yaml')).toThrow(message);
    }
  });

  it('reads YAML files and reports unreadable or malformed ones by file', () => {
    const dir = tempDir('lookout-config-');
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, 'modelServer:\n  address: localhost:8500\n  modelName: ssd\nhttp:\n  port: 9000\n');
    const c = loadConfig(good);
    expect(c.modelServer.address).toEqual(['localhost:8500']);
    expect(c.modelServer.modelName).toBe('ssd');
    expect(c.http.port).toBe(9000);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'modelServer: [\n');
    expect(() => loadConfig(bad)).toThrow(ConfigError);
    expect(() => loadConfig(path.join(dir, 'missing.yaml'))).toThrow(/missing.yaml: \(file\): cannot read/);
  });
});

describe('cameras in the config', () => {
  it('fills each camera from the detection defaults, and lets it override them', () => {
    const c = parseConfig({
      detection: { detectFps: 3, size: '320x320', labels: ['person'] },
      cameras: [
        { id: 'porch', url: 'rtsp://user:pw@cam/s', rtspTransport: 'udp' },
        { id: 'drive', url: '/srv/clip.mp4', loop: true, detectFps: 10, size: { width: 640, height: 480 }, labels: [] },
        { id: 'off', url: 'rtsp://cam/x', enabled: false },
      ],
      scheduler: { maxInFlight: 4, maxBatch: 8, batchTimeoutMs: 20 },
    });
    expect(c.cameras.map((x) => x.id)).toEqual(['porch', 'drive']);
    expect(c.cameras[0]).toMatchObject({ rtspTransport: 'udp', detectFps: 3, size: { width: 320, height: 320 }, labels: ['person'], liveFps: 15, timeoutMs: 10000 });
    expect(c.cameras[1]).toMatchObject({ loop: true, detectFps: 10, size: { width: 640, height: 480 }, labels: [] });
    expect(c.scheduler).toEqual({ maxInFlight: 4, perCameraInFlight: 1, maxFrameAgeMs: 2000, maxBatch: 8, batchTimeoutMs: 20 });
  });

  it('records around events by default, with the top-level record as every camera\'s defaults, beside the log', () => {
    const c = parseConfig({
      store: { path: '/srv/lookout/lookout.db' },
      record: { preSeconds: 8 },
      cameras: [{ id: 'a', url: 'rtsp://x/s' }, { id: 'b', url: 'rtsp://y/s', record: { mode: 'continuous', retainDays: 2 } }],
    });
    expect(c.store.recordingsDir).toBe('/srv/lookout/recordings');
    expect(c.cameras[0]?.record).toEqual({ mode: 'events', preSeconds: 8, postSeconds: 5, segmentSeconds: 10, retainDays: 7, eventRetainDays: 30, graceSeconds: 30 });
    expect(c.cameras[1]?.record).toMatchObject({ mode: 'continuous', preSeconds: 8, retainDays: 2 });
  });

  it('names the camera and the key of every mistake', () => {
    const cases: [unknown, RegExp][] = [
      [{ cameras: [{ id: 'a', url: 'rtsp://x/s' }, { id: 'b', url: 'rtsp://y/s', detectFps: 0 }] }, /cameras\[1\] \(id "b"\)\.detectFps: must be between 0\.05 and 60, got 0/],
      [{ cameras: [{ id: 'a', url: 'concat:/etc/passwd' }] }, /cameras\[0\] \(id "a"\)\.url: protocol "concat:" is not allowed/],
      [{ cameras: [{ id: 'a', url: '-i x' }] }, /cameras\[0\] \(id "a"\)\.url: url starts with "-"/],
      [{ cameras: [{ id: 'a', url: 'rtsp://x/s', fps: 5 }] }, /cameras\[0\]\.fps: unknown key/],
      [{ cameras: [{ id: 'a b', url: 'rtsp://x/s' }] }, /cameras\[0\]\.id: expected 1 to 64 letters/],
      [{ cameras: [{ id: 'a', url: 'rtsp://x/s' }, { id: 'a', url: 'rtsp://y/s' }] }, /cameras\[1\] \(id "a"\)\.id: is used by another camera/],
      [{ cameras: [{ id: 'a', url: 'rtsp://x/s', size: '640' }] }, /\.size: expected WIDTHxHEIGHT/],
      [{ cameras: [{ id: 'a', url: 'rtsp://x/s', labels: ['persn'] }] }, /\.labels\[0\]: unknown label "persn"/],
      [{ cameras: [{ id: 'a', url: 'rtsp://x/s', rtspTransport: 'http' }] }, /\.rtspTransport: expected "tcp" or "udp"/],
      [{ cameras: [{ id: 'a', url: '/etc/passwd' }], fileRoots: ['/srv/media'] }, /outside the allowed folders/],
      [{ scheduler: { maxBatch: 0 } }, /scheduler\.maxBatch: must be between 1 and 64, got 0/],
      [{ cameras: { id: 'a' } }, /cameras: expected a list of cameras/],
      [{ cameras: [{ id: 'a', url: 'rtsp://x/s', record: { mode: 'always' } }] }, /cameras\[0\] \(id "a"\)\.record\.mode: expected one of off, events, continuous; got "always"/],
      [{ record: { segmentSeconds: 0.5 } }, /^lookout\.yaml: record\.segmentSeconds: must be between 1 and 600, got 0\.5/],
      [{ record: { keep: 1 } }, /record\.keep: unknown key/],
    ];
    for (const [doc, message] of cases) expect(() => parseConfig(doc, 'lookout.yaml'), String(message)).toThrow(message);
  });

  it('keeps the cameras the API changed in the data folder by default, store or no store, or where camerasFile says', () => {
    expect(parseConfig({ store: { path: '/srv/lookout/log.db' } }).camerasFile).toBe('/srv/lookout/cameras.json');
    expect(parseConfig({ store: { enabled: false, path: '/srv/lookout/log.db' } }).camerasFile).toBe('/srv/lookout/cameras.json');
    expect(parseConfig({ camerasFile: '/etc/lookout/cameras.json' }).camerasFile).toBe('/etc/lookout/cameras.json');
    expect(() => parseConfig({ camerasFile: 3 })).toThrow(/camerasFile: expected a non-empty string/);
  });

  it('reads this replica\'s shard with the config, naming a bad variable', async () => {
    const { demoConfig } = await import('../../src/config/load.js');
    expect(demoConfig({}).shard).toBeUndefined();
    expect(demoConfig({ LOOKOUT_SHARD_COUNT: '3', POD_NAME: 'lookout-2' }).shard).toEqual({ index: 2, count: 3 });
    expect(() => demoConfig({ LOOKOUT_SHARD_COUNT: '3', LOOKOUT_SHARD_INDEX: '3' })).toThrow(/^environment LOOKOUT_SHARD_INDEX: shard index 3 is not below/);
    expect(demoConfig({ LOOKOUT_CAMERAS_FILE: '/tmp/c.json' }).camerasFile).toBe('/tmp/c.json');
    // `lookout detect` runs no cameras of the config: it neither reads nor trips over the shard.
    expect(demoConfig({ LOOKOUT_SHARD_INDEX: '1' }, { shard: false }).shard).toBeUndefined();
  });

  it('runs a demo camera on the bundled clip without a config', async () => {
    const { demoConfig, DEMO_CLIP } = await import('../../src/config/load.js');
    expect(demoConfig().cameras).toMatchObject([{ id: 'demo', url: DEMO_CLIP, loop: true, realtime: true }]);
  });
});

describe('command-line flags', () => {
  it('accepts TF Serving underscores and lookout dashes, with = or a space', () => {
    const spec = { 'model-name': { type: 'string' as const }, 'latency-ms': { type: 'string' as const }, port: { type: 'string' as const } };
    expect(parseFlags(['--model_name=ssd', '--latency-ms', '5', '--port', '0'], spec)).toEqual({ 'model-name': 'ssd', 'latency-ms': '5', port: '0' });
  });

  it('takes TF Serving\'s boolean flags as --flag, --flag=true or --flag=false, the last one given winning', () => {
    const spec = { 'enable-batching': { type: 'boolean' as const }, port: { type: 'string' as const } };
    expect(parseFlags(['--enable_batching'], spec)).toEqual({ 'enable-batching': true });
    expect(parseFlags(['--enable_batching=true', '--port=1'], spec)).toEqual({ 'enable-batching': true, port: '1' });
    expect(parseFlags(['--enable_batching', '--enable_batching=false'], spec)).toEqual({});
    expect(parseFlags(['--enable_batching=false', '--enable-batching=1'], spec)).toEqual({ 'enable-batching': true });
    expect(() => parseFlags(['--enable_batching=maybe'], spec)).toThrow(UsageError);
  });

  it('refuses unknown flags, stray arguments and bad numbers, naming them', () => {
    const spec = { port: { type: 'string' as const } };
    expect(() => parseFlags(['--prot', '1'], spec)).toThrow(UsageError);
    expect(() => parseFlags(['extra'], spec)).toThrow(/unexpected argument "extra"/);
    expect(() => intFlag({ port: 'abc' }, 'port', 0, 65535)).toThrow(/--port: expected an integer from 0 to 65535, got "abc"/);
  });

  it('takes overrides from the environment, and names the variable when one is wrong', () => {
    const dir = tempDir('lookout-env-');
    const file = path.join(dir, 'lookout.yaml');
    writeFileSync(file, 'http:\n  port: 8080\nmodelServer:\n  modelName: ssd\n');
    const c = loadConfig(file, { LOOKOUT_HTTP_PORT: '9090', LOOKOUT_MODEL_SERVER: 'a:8500, b:8500', LOOKOUT_TOKEN: '0123456789abcdef0123', LOOKOUT_STORE_PATH: '/var/lib/lookout/x.db' });
    expect(c.http.port).toBe(9090);
    expect(c.modelServer.modelName).toBe('ssd');
    expect(c.modelServer.address).toEqual(['a:8500', 'b:8500']);
    expect(c.auth.token).toBe('0123456789abcdef0123');
    expect(c.store.path).toBe('/var/lib/lookout/x.db');
    expect(() => loadConfig(file, { LOOKOUT_HTTP_PORT: 'eighty' })).toThrow(/environment LOOKOUT_HTTP_PORT: http\.port: expected a number/);
    expect(() => loadConfig(file, { LOOKOUT_TOKEN: 'short' })).toThrow(/environment LOOKOUT_TOKEN: auth\.token: is 5 characters long/);
    // The file's own mistakes still name the file.
    writeFileSync(file, 'http:\n  prot: 1\n');
    expect(() => loadConfig(file, { LOOKOUT_HTTP_PORT: '9090' })).toThrow(/lookout\.yaml: http\.prot: unknown key/);
  });

  it('accepts the documented lookout.example.yaml as it stands', () => {
    const c = loadConfig(path.join(packageRoot, 'lookout.example.yaml'));
    expect(c.cameras.map((cam) => cam.id)).toEqual(['front-door', 'demo']);
    expect(c.cameras[0]).toMatchObject({ labels: ['person'], minScore: 0.5, rtspTransport: 'tcp' });
    expect(c.store.retention).toEqual({ maxAgeMs: 30 * 86_400_000, maxBytes: 10 * 1024 ** 3 });
    expect(c.auth.token).toBeUndefined();
  });
});
