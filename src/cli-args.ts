// Command-line flags. TF Serving spells its flags with underscores
// (--model_name, --model_base_path) and lookout's docs use dashes
// (--latency-ms); both spellings are accepted, as --flag value or --flag=value.
import { parseArgs } from 'node:util';
import { LookoutError } from './util/errors.js';

/** A command line that asks for something wrong: exits 2 with the help. */
export class UsageError extends LookoutError {
  readonly code = 'USAGE';
}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export function parseFlags(argv: readonly string[], spec: FlagSpec): Record<string, string | boolean | undefined> {
  return parseCommand(argv, spec, 0).flags;
}

/** Flags, and at most `maxPositionals` plain arguments (a command's operands). */
export function parseCommand(argv: readonly string[], spec: FlagSpec, maxPositionals: number): { flags: Record<string, string | boolean | undefined>; positionals: string[] } {
  // TF Serving's boolean flags are written --flag, --flag=true or --flag=false, and the last one given
  // wins (gflags); node's parser knows --flag alone, so each boolean flag goes in once, as its last word says.
  const booleans = new Map<string, boolean>();
  const normalized = argv.flatMap((arg) => {
    if (!arg.startsWith('--')) return [arg];
    const eq = arg.indexOf('=');
    const name = (eq === -1 ? arg.slice(2) : arg.slice(2, eq)).replace(/_/g, '-');
    const value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (spec[name]?.type === 'boolean' && (value === undefined || /^(true|1|false|0)$/i.test(value))) {
      booleans.set(name, value === undefined || /^(true|1)$/i.test(value));
      return [];
    }
    return [`--${name}${value === undefined ? '' : `=${value}`}`];
  });
  for (const [name, on] of booleans) if (on) normalized.push(`--${name}`);
  try {
    const { values, positionals } = parseArgs({ args: normalized, options: spec, strict: true, allowPositionals: true });
    if (positionals.length > maxPositionals) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[maxPositionals])}`);
    return { flags: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function intFlag(values: Record<string, string | boolean | undefined>, name: string, min: number, max: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function numberFlag(values: Record<string, string | boolean | undefined>, name: string, min: number, max: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function stringFlag(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length === 0) throw new UsageError(`--${name}: expected a value`);
  return raw;
}
