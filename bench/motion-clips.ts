// Clips for motion gating, made from the bundled ones by ffmpeg when needed
// (bench:motion and the motion tests): a still scene (one frame of the
// bottle clip, re-encoded as H.264, so any difference between its frames is
// codec noise), the same with the light going up part-way, and a small
// person at 4K (the walking-person clip scaled down onto a black 3840×2160
// picture). Each is written once into the given folder, with its index first
// (+faststart) so that an RTSP server could serve it too.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { mediaDir } from '../src/util/paths.js';

export const BOTTLES = path.join(mediaDir, 'bottle-detection.mp4');
export const PEOPLE = path.join(mediaDir, 'one-by-one-person-detection.mp4');

function ffmpeg(args: string[]): void {
  const out = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${out.stderr}`);
}

const H264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '60', '-movflags', '+faststart'];

function once(file: string, make: () => void): string {
  if (!existsSync(file)) make();
  return file;
}

/** The bottle clip's picture at 31.2 s (three bottles the detector scores 0.58–0.71), still for `seconds` at 30 fps (640×360): three bottles on a table, nothing moving. */
export function stillClip(dir: string, seconds = 60): string {
  return once(path.join(dir, `still-${seconds}s.mp4`), () => {
    const png = path.join(dir, 'still.png');
    ffmpeg(['-ss', '31.2', '-i', BOTTLES, '-frames:v', '1', png]);
    ffmpeg(['-loop', '1', '-i', png, '-t', String(seconds), '-r', '30', ...H264, path.join(dir, `still-${seconds}s.mp4`)]);
  });
}

/** The still clip whose light goes up by a quarter at `at` seconds (lights switched on). */
export function lightClip(dir: string, seconds = 20, at = 8): string {
  return once(path.join(dir, `light-${seconds}s-${at}.mp4`), () => {
    const still = stillClip(dir, seconds);
    ffmpeg(['-i', still, '-vf', `eq=brightness=0.25:enable='gte(t,${at})'`, ...H264, path.join(dir, `light-${seconds}s-${at}.mp4`)]);
  });
}

/** Where the small person clip's picture sits in its 4K frame (pixels), and its size. */
export const SMALL_PERSON = { x: 1600, y: 900, width: 512, height: 288, frame: { width: 3840, height: 2160 } };

/**
 * The walking-person clip from `start` for `seconds`, scaled to 512×288 (two
 * thirds) and placed on a black 3840×2160 picture at SMALL_PERSON: a person
 * about 80 px tall in 4K, 13 px once the whole frame is fitted into 640.
 */
export function smallPersonClip(dir: string, start = 8, seconds = 12): string {
  const file = path.join(dir, `person-4k-${start}-${seconds}.mp4`);
  return once(file, () => {
    const { x, y, width, height, frame } = SMALL_PERSON;
    ffmpeg(['-ss', String(start), '-t', String(seconds), '-i', PEOPLE, '-an', '-vf', `scale=${width}:${height},pad=${frame.width}:${frame.height}:${x}:${y}:black`, ...H264, '-preset', 'ultrafast', file]);
  });
}
