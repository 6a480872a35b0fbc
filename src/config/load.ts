// Where a config comes from: a YAML file (`--config`), or, without one, the
// demo camera on the bundled clip; the environment applies over either.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { mediaDir } from '../util/paths.js';
import { parseWithEnv, type LoadOptions } from './env.js';
import { ConfigError, type LookoutConfig } from './schema.js';

export const DEMO_CLIP = path.join(mediaDir, 'bottle-detection.mp4');

/** The camera `lookout serve` shows when started without a config: the bundled bottle clip, looped. */
export function demoConfig(env: NodeJS.ProcessEnv = {}, options: LoadOptions = {}): LookoutConfig {
  return parseWithEnv({ cameras: [{ id: 'demo', url: DEMO_CLIP, loop: true }] }, 'defaults', env, options);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = {}, options: LoadOptions = {}): LookoutConfig {
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
  return parseWithEnv(doc, file, env, options);
}
