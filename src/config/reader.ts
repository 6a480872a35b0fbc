// Reading a parsed YAML/JSON document strictly: each helper checks one value
// against what the key expects and fails with a ConfigError naming the key's
// path and the reason. Absent (or null) takes the fallback.
import { cocoLabelMap } from '../tfserving/label-map.js';
import { ConfigError, type Size } from './schema.js';

export type Obj = Record<string, unknown>;

export class Reader {
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

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${typeof value === 'object' ? '' : String(value)}`.trim();
}
