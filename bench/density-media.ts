// The clips bench:density runs on, made at run time in a temporary folder,
// and the offline reference detections the drawn boxes are compared with:
//   - a 1080p30 H.264 "camera" upscaled from the bundled walking-person clip
//     (libx264 at about 4 Mbit/s, a keyframe every 2 s, no B-frames, as most
//     cameras send);
//   - a 10 s piece of that clip at its own 768x432 10 fps (re-encoded without
//     B-frames), with a person walking out and back in;
//   - `lookout detect --fps 0` over that piece: every frame's detections.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { mediaDir, packageRoot } from '../src/util/paths.js';

export const PERSON_CLIP = path.join(mediaDir, 'one-by-one-person-detection.mp4');
/** The piece of PERSON_CLIP used as the moving-object camera: the person walks out at ~17 s and back in at ~22.5 s. */
export const WALK_START_S = 16;
export const WALK_SECONDS = 10;

export interface ClipInfo {
  file: string;
  bytes: number;
  frames: number;
  fps: number;
  /** frames ÷ fps: what a loop adds to the timeline. */
  durationS: number;
}

/** Runs ffmpeg to its end; rejects with its last stderr lines when it fails. Resolves with stderr. */
export function runFfmpeg(args: string[]): Promise<string> {
  const ffmpeg = resolveFfmpeg();
  return new Promise((resolve, reject) => {
    const p = spawn(ffmpeg.path, ['-hide_banner', '-nostdin', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d: string) => {
      err = (err + d).slice(-20_000);
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(err) : reject(new Error(`ffmpeg ${args.join(' ')} exited ${code}: ${err.slice(-800)}`))));
  });
}

/** Frames, frame rate and bytes of a clip's video, read by ffmpeg itself (no ffprobe needed). */
export async function clipInfo(file: string): Promise<ClipInfo> {
  const err = await runFfmpeg(['-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-']);
  const frames = [...err.matchAll(/frame=\s*(\d+)/g)].pop();
  const fps = /Video:.*?, (\d+(?:\.\d+)?) fps/.exec(err);
  if (!frames || !fps) throw new Error(`cannot read frames and fps of ${file}`);
  const n = Number(frames[1]);
  const rate = Number(fps[1]);
  return { file, bytes: statSync(file).size, frames: n, fps: rate, durationS: n / rate };
}

/** The 1080p30 camera clip: `seconds` of PERSON_CLIP upscaled, as a typical camera encodes. */
export async function make1080p(dir: string, seconds: number): Promise<ClipInfo> {
  const file = path.join(dir, 'camera-1080p30.mp4');
  await runFfmpeg([
    '-loglevel', 'error', '-y', '-i', PERSON_CLIP, '-t', String(seconds), '-an',
    '-vf', 'scale=1920:1080:flags=bicubic,fps=30',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
    '-b:v', '4M', '-maxrate', '4M', '-bufsize', '8M',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-bf', '0',
    '-movflags', '+faststart', file,
  ]);
  return clipInfo(file);
}

/**
 * The walking piece at the clip's own 768x432 and 10 fps, re-encoded without
 * B-frames (as the 1080p clip, like most cameras) so that its timeline starts
 * at 0 and each loop adds exactly frames ÷ fps: the bundled clip has B-frames,
 * and a stream copy of it starts at 0.1 s and ends on an extra keyframe.
 */
export async function makeWalk(dir: string): Promise<ClipInfo> {
  const file = path.join(dir, 'walk-768x432-10fps.mp4');
  await runFfmpeg([
    '-loglevel', 'error', '-y', '-ss', String(WALK_START_S), '-i', PERSON_CLIP, '-frames:v', String(WALK_SECONDS * 10), '-an',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p',
    '-g', '10', '-keyint_min', '10', '-sc_threshold', '0', '-bf', '0', '-movflags', '+faststart', file,
  ]);
  return clipInfo(file);
}

export interface RefBox {
  label: string;
  score: number;
  box: [number, number, number, number];
}

/**
 * `lookout detect --fps 0` over the clip with the real CenterNet: every
 * frame's detections, by frame index (frameId is `1:<ms into the video>`).
 */
export async function offlineDetections(clip: ClipInfo, dir: string, minScore: number): Promise<Map<number, RefBox[]>> {
  const out = path.join(dir, 'offline.jsonl');
  const cli = path.join(packageRoot, 'dist/src/cli.js');
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [cli, 'detect', clip.file, '--fps', '0', '--model', 'centernet', '--min-score', String(minScore), '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d: string) => {
      err = (err + d).slice(-4000);
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`lookout detect exited ${code}: ${err}`))));
  });
  const byFrame = new Map<number, RefBox[]>();
  for (let i = 0; i < clip.frames; i++) byFrame.set(i, []);
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { frameId: string; label: string; score: number; box: [number, number, number, number] };
    const ms = Number(r.frameId.split(':')[1]);
    const index = Math.round((ms * clip.fps) / 1000);
    byFrame.get(index)?.push({ label: r.label, score: r.score, box: r.box });
  }
  return byFrame;
}

/** A time on the camera's looping timeline → the clip's frame index (each loop adds the clip's duration). */
export function frameIndex(clip: ClipInfo, seconds: number): number {
  const n = Math.round(seconds * clip.fps);
  return ((n % clip.frames) + clip.frames) % clip.frames;
}
