// Where lookout's own files live. The code runs both as TypeScript from src/
// (tests) and compiled from dist/src/ (the CLI), so paths are found from the
// package root rather than from the current module's directory.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === 'lookout') {
        return dir;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`lookout's package.json not found above ${start}`);
    dir = parent;
  }
}

export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** lookout's version, from its package.json (`lookout --version`, the webhooks' User-Agent). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

export const protosDir = path.join(packageRoot, 'protos');
export const assetsDir = path.join(packageRoot, 'assets');
export const mediaDir = path.join(packageRoot, 'media');
export const webDir = path.join(packageRoot, 'web');

/**
 * The compiled JavaScript file for a module under src/. Worker threads need a
 * real .js file; when the caller runs from TypeScript sources (under vitest),
 * this points at the build in dist/, which `npm test` makes first.
 */
export function compiledModule(relativeToSrc: string): string {
  return path.join(packageRoot, 'dist', 'src', relativeToSrc.replace(/\.ts$/, '.js'));
}
