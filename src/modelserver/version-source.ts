// Which versions of each model should be served, read from disk as TF
// Serving's FileSystemStoragePathSource reads them: the numbered children of
// a model's base path, cut down by its version policy, handed to the version
// manager on every poll (--file_system_poll_wait_seconds, 1 s by default in
// the binary). Errors and warnings use TF Serving's wording where it is known,
// so an operator's log searches keep working.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '../tfserving/errors.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** ModelConfig.model_version_policy: `latest { num_versions }`, `all {}`, `specific { versions }`. */
export type VersionPolicy =
  | { kind: 'latest'; numVersions: number }
  | { kind: 'all' }
  | { kind: 'specific'; versions: number[] };

/** TF Serving's default policy: the newest version only. */
export const DEFAULT_VERSION_POLICY: VersionPolicy = { kind: 'latest', numVersions: 1 };

export interface ModelSource {
  name: string;
  basePath: string;
  policy?: VersionPolicy;
}

export interface AspiredVersion {
  version: number;
  /** The version's directory, what the loader loads. */
  dir: string;
}

/** Where discovered versions go: the version manager. */
export interface AspiredVersionsTarget {
  setAspiredVersions(model: string, versions: AspiredVersion[]): void;
}

/**
 * A child's version number, or undefined when its name is no non-negative
 * int64 (TF ignores such children: `tmp`, `1.partial`, `-1`). Numbers past
 * 2^53 cannot be told apart here, so they are ignored too.
 */
export function parseVersion(name: string): number | undefined {
  if (!/^\d+$/.test(name)) return undefined;
  const n = Number(name);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The policy applied to the versions found, highest first. */
export function applyPolicy(
  found: AspiredVersion[],
  policy: VersionPolicy,
  warn: (message: string) => void = () => undefined,
  model = '',
): AspiredVersion[] {
  const sorted = [...found].sort((a, b) => b.version - a.version);
  switch (policy.kind) {
    case 'all':
      return sorted;
    case 'latest':
      // TF treats num_versions 0 (unset) as 1.
      return sorted.slice(0, Math.max(1, policy.numVersions));
    case 'specific': {
      const byVersion = new Map(sorted.map((v) => [v.version, v]));
      const out: AspiredVersion[] = [];
      for (const version of new Set(policy.versions)) {
        const hit = byVersion.get(version);
        if (hit) out.push(hit);
        else warn(`Version ${version} of servable ${model} was not found in the file system`);
      }
      return out.sort((a, b) => b.version - a.version);
    }
  }
}

/**
 * One model's aspired versions, read now. Throws INVALID_ARGUMENT "Could not
 * find base path …" when the base path does not exist; an existing empty one
 * aspires nothing (with TF's warning), which unloads every version.
 */
export async function discoverVersions(source: ModelSource, log: Logger = silentLogger): Promise<AspiredVersion[]> {
  const { name, basePath } = source;
  let children: string[];
  try {
    if (!(await stat(basePath)).isDirectory()) throw new Error('not a directory');
    children = await readdir(basePath);
  } catch {
    throw invalidArgument(`Could not find base path ${basePath} for servable ${name}`);
  }
  const byVersion = new Map<number, AspiredVersion>();
  for (const child of children) {
    const version = parseVersion(child);
    if (version === undefined) continue;
    const earlier = byVersion.get(version);
    if (earlier) {
      // `1` and `0001` are one version to TF too; it keeps one and warns.
      log.warn(`Multiple versions found for servable ${name}: ${path.basename(earlier.dir)} and ${child} are both version ${version}; serving ${path.basename(earlier.dir)}`);
      continue;
    }
    byVersion.set(version, { version, dir: path.join(basePath, child) });
  }
  if (byVersion.size === 0) {
    log.warn(`No versions of servable ${name} found under base path ${basePath}. Did you forget to name your leaf directory as a number (eg. '/1/')?`);
    return [];
  }
  return applyPolicy([...byVersion.values()], source.policy ?? DEFAULT_VERSION_POLICY, (m) => log.warn(m), name);
}

function sameSource(a: ModelSource, b: ModelSource): boolean {
  return a.name === b.name && a.basePath === b.basePath && JSON.stringify(a.policy ?? DEFAULT_VERSION_POLICY) === JSON.stringify(b.policy ?? DEFAULT_VERSION_POLICY);
}

export interface VersionPollerOptions {
  models: ModelSource[];
  target: AspiredVersionsTarget;
  /** --file_system_poll_wait_seconds: 1 by default; 0 polls once; negative never polls by itself (pollNow() still does). */
  pollSeconds?: number;
  log?: Logger;
}

/**
 * Polls every model's base path and hands the aspired versions to the
 * manager. As in TF, one model whose base path is missing aborts the whole
 * cycle: no model gets updates until every base path is back.
 */
export class VersionPoller {
  private models: ModelSource[];
  private readonly target: AspiredVersionsTarget;
  private readonly pollSeconds: number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  /** Polls run one after another: a slow disk never has two cycles racing. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(options: VersionPollerOptions) {
    this.models = [...options.models];
    this.target = options.target;
    this.pollSeconds = options.pollSeconds ?? 1;
    this.log = options.log ?? silentLogger;
  }

  /** Polls now and then every pollSeconds; resolves after the first cycle (whether or not it aborted). */
  async start(): Promise<void> {
    if (this.started || this.closed) return;
    this.started = true;
    await this.pollNow();
    this.schedule();
  }

  /** The models to poll from now on (a new model config); a cycle already running hands nothing for models dropped or changed. */
  setModels(models: ModelSource[]): void {
    this.models = [...models];
  }

  /**
   * One poll cycle, after any cycle already running. Resolves true when every
   * model's versions were handed over, false when the cycle was aborted.
   */
  pollNow(): Promise<boolean> {
    const run = this.chain.then(() => this.cycle());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops polling; idempotent. A cycle already running hands nothing over. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.closed || this.pollSeconds <= 0) return;
    // One timer at a time, set again after each cycle, so cycles never pile up.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pollNow().finally(() => this.schedule());
    }, this.pollSeconds * 1000);
    this.timer.unref();
  }

  private async cycle(): Promise<boolean> {
    if (this.closed) return false;
    const sources = this.models;
    const found: AspiredVersion[][] = [];
    for (const source of sources) {
      try {
        found.push(await discoverVersions(source, this.log));
      } catch (err) {
        this.log.error(`FileSystemStoragePathSource encountered a filesystem access error: ${(err as Error & { details?: string }).details ?? (err as Error).message}`);
        return false;
      }
    }
    if (this.closed) return false;
    sources.forEach((source, i) => {
      // The config may have changed while the disk was read: hand over only what is still configured as read.
      if (!this.models.some((m) => sameSource(m, source))) return;
      this.target.setAspiredVersions(source.name, found[i]);
    });
    return true;
  }
}
