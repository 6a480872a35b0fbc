import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';
import { parseFlags, intFlag, UsageError } from '../../src/cli-args.js';

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
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-config-'));
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

describe('command-line flags', () => {
  it('accepts TF Serving underscores and lookout dashes, with = or a space', () => {
    const spec = { 'model-name': { type: 'string' as const }, 'latency-ms': { type: 'string' as const }, port: { type: 'string' as const } };
    expect(parseFlags(['--model_name=ssd', '--latency-ms', '5', '--port', '0'], spec)).toEqual({ 'model-name': 'ssd', 'latency-ms': '5', port: '0' });
  });

  it('refuses unknown flags, stray arguments and bad numbers, naming them', () => {
    const spec = { port: { type: 'string' as const } };
    expect(() => parseFlags(['--prot', '1'], spec)).toThrow(UsageError);
    expect(() => parseFlags(['extra'], spec)).toThrow(/unexpected argument "extra"/);
    expect(() => intFlag({ port: 'abc' }, 'port', 0, 65535)).toThrow(/--port: expected an integer from 0 to 65535, got "abc"/);
  });
});
