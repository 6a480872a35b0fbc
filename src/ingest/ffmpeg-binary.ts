// Which ffmpeg lookout runs: the system's when one is on PATH (distributions
// build it with more codecs and keep it patched), else the static build that
// ships inside the @ffmpeg-installer npm package, so `npm install` alone suffices.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { LookoutError } from '../util/errors.js';

export interface FfmpegBinary {
  path: string;
  source: 'system' | 'npm' | 'env';
  /** First line of `ffmpeg -version`, e.g. "ffmpeg version 5.1.6-0+deb12u1". */
  version: string;
}

export class FfmpegNotFoundError extends LookoutError {
  readonly code = 'FFMPEG_NOT_FOUND';
}

function versionOf(binary: string): string | undefined {
  const result = spawnSync(binary, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0 || !result.stdout) return undefined;
  // "ffmpeg version 5.1.6-0+deb12u1 Copyright (c) …": the part before the copyright.
  return result.stdout.split('\n')[0].replace(/\s+Copyright.*$/, '').trim();
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function fromNpm(): string | undefined {
  try {
    const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path?: string };
    return installer.path && existsSync(installer.path) ? installer.path : undefined;
  } catch {
    return undefined;
  }
}

let cached: FfmpegBinary | undefined;

/**
 * Finds ffmpeg once: $LOOKOUT_FFMPEG if set, else PATH, else the npm package.
 * Throws FfmpegNotFoundError naming what was tried.
 */
export function resolveFfmpeg(): FfmpegBinary {
  if (cached) return cached;
  const tried: string[] = [];
  const candidates: [string | undefined, FfmpegBinary['source']][] = [
    [process.env.LOOKOUT_FFMPEG, 'env'],
    [onPath('ffmpeg'), 'system'],
    [fromNpm(), 'npm'],
  ];
  for (const [candidate, source] of candidates) {
    if (!candidate) continue;
    const version = versionOf(candidate);
    if (version) {
      cached = { path: candidate, source, version };
      return cached;
    }
    tried.push(`${candidate} (${source}) did not run`);
  }
  throw new FfmpegNotFoundError(
    `no working ffmpeg: ${tried.length ? tried.join('; ') : 'none on PATH and @ffmpeg-installer/ffmpeg is not installed'}. Install ffmpeg or run npm install.`,
  );
}
