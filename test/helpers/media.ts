// Frames from the bundled clips, decoded by the same ffmpeg lookout uses.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { mediaDir } from '../../src/util/paths.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import type { ImageInput } from '../../src/types.js';

export const BOTTLE_CLIP = path.join(mediaDir, 'bottle-detection.mp4');
export const PERSON_CLIP = path.join(mediaDir, 'one-by-one-person-detection.mp4');

type Rgb = Extract<ImageInput, { kind: 'rgb' }>;

/** Frame `index` (0-based) of a clip as RGB24, optionally scaled. */
export function decodeFrame(file: string, index: number, size?: { width: number; height: number }): Rgb {
  const filters = [`select=eq(n\\,${index})`];
  if (size) filters.push(`scale=${size.width}:${size.height}`);
  const probe = spawnSync(resolveFfmpeg().path, [
    '-v', 'error', '-i', file, '-vf', filters.join(','), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ], { maxBuffer: 64 * 1024 * 1024 });
  if (probe.status !== 0) throw new Error(`ffmpeg failed on ${file}: ${probe.stderr.toString()}`);
  const data = probe.stdout;
  const dims = size ?? sizeOf(file);
  if (data.length !== dims.width * dims.height * 3) throw new Error(`expected ${dims.width}x${dims.height} RGB from ${file}, got ${data.length} bytes`);
  return { kind: 'rgb', width: dims.width, height: dims.height, data };
}

/** Frame `index` as a JPEG, as a camera snapshot or an HTTP upload would carry it. */
export function decodeFrameJpeg(file: string, index: number): Buffer {
  const out = spawnSync(resolveFfmpeg().path, [
    '-v', 'error', '-i', file, '-vf', `select=eq(n\\,${index})`, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1',
  ], { maxBuffer: 64 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`ffmpeg failed on ${file}: ${out.stderr.toString()}`);
  return out.stdout;
}

const sizes: Record<string, { width: number; height: number }> = {
  [BOTTLE_CLIP]: { width: 640, height: 360 },
  [PERSON_CLIP]: { width: 768, height: 432 },
};

function sizeOf(file: string): { width: number; height: number } {
  const size = sizes[file];
  if (!size) throw new Error(`unknown clip ${file}; pass a size`);
  return size;
}
