// Model versions on disk, laid out as TF Serving lays out SavedModels:
//   BASE/1/model.json (+ weight shards), BASE/2/model.json, ...
// The newest version is served, as TF Serving's default "latest" policy does.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { LookoutError } from '../util/errors.js';
import { builtinCenternetPath } from './centernet.js';

export class ModelRepositoryError extends LookoutError {
  readonly code = 'MODEL_BASE_PATH_INVALID';
}

export interface ModelVersion {
  version: number;
  /** The TFJS graph model's model.json. */
  modelJsonPath: string;
}

/** Numbered version directories under base that hold a model.json, oldest first. */
export function listVersions(base: string): ModelVersion[] {
  let entries: string[];
  try {
    if (!statSync(base).isDirectory()) throw new ModelRepositoryError(`--model_base_path ${base} is not a directory`);
    entries = readdirSync(base);
  } catch (err) {
    if (err instanceof ModelRepositoryError) throw err;
    throw new ModelRepositoryError(`--model_base_path ${base} cannot be read: ${(err as Error).message}`);
  }
  return entries
    .filter((name) => /^\d+$/.test(name))
    .map((name) => ({ version: Number(name), modelJsonPath: path.join(base, name, 'model.json') }))
    .filter((v) => v.version > 0 && existsSync(v.modelJsonPath))
    .sort((a, b) => a.version - b.version);
}

/**
 * The version to serve: the newest under base, or, with no base, the
 * CenterNet that ships with lookout's dependencies, as version 1.
 */
export function resolveServedVersion(base: string | undefined): ModelVersion {
  if (base === undefined) return { version: 1, modelJsonPath: builtinCenternetPath() };
  const versions = listVersions(base);
  const newest = versions[versions.length - 1];
  if (!newest) throw new ModelRepositoryError(`--model_base_path ${base} holds no version directory with a model.json (expected ${path.join(base, '1', 'model.json')})`);
  return newest;
}
