// What the recordings tests share (docs/recordings.md): ffprobe as a user runs
// it on a segment or a clip, the segment files on disk and the name each
// should have, the recordings API read back, the rows in the database, and
// the wall-clock time a segment's first prft box says it was recorded.
import Database from 'better-sqlite3';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { requireOrSkip } from './skip.js';
import type { RecordingsJson, SegmentJson, Span } from '../../src/http/recording-routes.js';

// ---------------------------------------------------------------- ffprobe

let ffprobe: string | null | undefined;

/** ffprobe beside the ffmpeg lookout runs, else the first on PATH; null when there is none. */
export function ffprobePath(): string | null {
  if (ffprobe !== undefined) return ffprobe;
  const candidates = [path.join(path.dirname(resolveFfmpeg().path), 'ffprobe'),
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'ffprobe'))];
  ffprobe = candidates.find((c) => existsSync(c) && spawnSync(c, ['-version'], { timeout: 10_000 }).status === 0) ?? null;
  return ffprobe;
}

/** Whether to skip for want of ffprobe (under CI=true: a failure instead). */
export function skipFfprobe(): boolean {
  return requireOrSkip('the recordings tests', ffprobePath() ? undefined : 'ffprobe is not installed (apt-get install ffmpeg)');
}

/** Why a tmpfs cannot be mounted here, if it cannot (the disk-full tests need root). */
export function mountSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  return spawnSync('mount', ['--version']).status === 0 ? undefined : 'no mount command';
}

export interface Probe {
  /** Video frames ffprobe decoded, reading the whole file. */
  frames: number;
  /** What ffprobe said at -v error: empty when the file read to its end without error. */
  errors: string;
  status: number | null;
}

/**
 * Runs ffprobe without blocking the event loop (a blocked loop leaves fetch's
 * idle keep-alive sockets unclosed past the server's timeout, and the next
 * request on one is reset).
 */
function runFfprobe(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(ffprobePath()!, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = (err as NodeJS.ErrnoException & { code?: unknown } | null)?.code;
      resolve({ status: err ? (typeof code === 'number' ? code : null) : 0, stdout, stderr, ...(err && !stderr ? { error: err.message } : {}) });
    });
  });
}

/** `ffprobe -v error -count_frames`: decodes every frame of the first video stream. */
export async function probeFrames(file: string): Promise<Probe> {
  const r = await runFfprobe(['-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
  const frames = Number.parseInt(r.stdout.trim().split('\n')[0] ?? '', 10);
  return { frames: Number.isFinite(frames) ? frames : 0, errors: r.stderr.trim() || (r.error ?? ''), status: r.status };
}

export interface Packet {
  /** Presentation time, seconds of media time. */
  pts: number;
  dts: number;
  duration: number;
  key: boolean;
}

/** The first video stream's packets in file order (no decoding). */
export async function packets(file: string): Promise<Packet[]> {
  const r = await runFfprobe(['-v', 'error', '-select_streams', 'v:0',
    '-show_entries', 'packet=pts_time,dts_time,duration_time,flags', '-of', 'csv=p=0', file]);
  if (r.status !== 0) throw new Error(`ffprobe failed on ${file}: ${r.stderr || r.error}`);
  return r.stdout.trim().split('\n').filter(Boolean).map((line) => {
    const [pts, dts, duration, flags] = line.split(',');
    return { pts: Number(pts), dts: Number(dts), duration: Number(duration) || 0, key: (flags ?? '').includes('K') };
  });
}

/** Media seconds from the first frame's start to the last frame's end, by the packets' timestamps. */
export function mediaDuration(pk: Packet[]): number {
  if (pk.length === 0) return 0;
  const start = Math.min(...pk.map((p) => p.pts));
  const end = Math.max(...pk.map((p) => p.pts + p.duration));
  return end - start;
}

/** Presentation times in display order. */
export function sortedPts(pk: Packet[]): number[] {
  return pk.map((p) => p.pts).sort((a, b) => a - b);
}

/** A probe's outcome in words, for an assertion's message. */
export function describeProbe(name: string, p: Probe): string {
  return `${name}: ${p.frames} frames, exit ${p.status}, ffprobe said: ${p.errors || '(nothing)'}`;
}

// ---------------------------------------------------------------- files

/** Every .mp4 under `dir`, as paths relative to it with forward slashes, sorted. */
export function segmentFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    if (!existsSync(abs)) return;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && entry.name.endsWith('.mp4')) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

export const fileSize = (file: string): number => statSync(file).size;

const LAYOUT = /^([^/]+)\/(\d{4})-(\d{2})-(\d{2})\/(\d{2})\/(\d{2})\.(\d{2})(?:-\d+)?\.mp4$/;

/** The wall-clock second a segment's path names (UTC), and its camera; null when the path is not of the layout. */
export function parseSegmentPath(rel: string): { camera: string; second: number } | null {
  const m = LAYOUT.exec(rel);
  if (!m) return null;
  const [, camera, y, mo, d, h, mi, s] = m;
  return { camera, second: Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) };
}

/** `<camera>/<YYYY-MM-DD>/<HH>/<MM.SS>` for a start time, without the `-n` and `.mp4`. */
export function expectedStem(camera: string, start: number): string {
  const iso = new Date(start).toISOString(); // 2025-11-30T02:33:20.123Z
  return `${camera}/${iso.slice(0, 10)}/${iso.slice(11, 13)}/${iso.slice(14, 16)}.${iso.slice(17, 19)}`;
}

/** Top-level boxes of an MP4, as (type, offset, size). */
export function topBoxes(data: Buffer): { type: string; offset: number; size: number }[] {
  const boxes: { type: string; offset: number; size: number }[] = [];
  let off = 0;
  while (off + 8 <= data.length) {
    let size = data.readUInt32BE(off);
    const type = data.toString('latin1', off + 4, off + 8);
    if (size === 1) {
      if (off + 16 > data.length) break;
      size = Number(data.readBigUInt64BE(off + 8));
    } else if (size === 0) size = data.length - off;
    if (size < 8) break;
    boxes.push({ type, offset: off, size });
    off += size;
  }
  return boxes;
}

const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** The wall-clock times (ms) the file's prft boxes give, in file order. */
export function prftTimes(file: string): number[] {
  const data = readFileSync(file);
  return topBoxes(data).filter((b) => b.type === 'prft' && b.offset + 8 + 16 <= data.length).map((b) => {
    // FullBox: version(1) flags(3), reference_track_ID(4), ntp_timestamp(8), media_time(4|8).
    const body = b.offset + 8;
    const seconds = data.readUInt32BE(body + 8);
    const fraction = data.readUInt32BE(body + 12);
    return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / 2 ** 32) * 1000;
  });
}

// ---------------------------------------------------------------- API

export type Segment = SegmentJson;
export type Recordings = RecordingsJson;
export type { Span };

export interface RecordingState {
  mode: string;
  state: 'off' | 'waiting' | 'recording' | 'paused';
  reason: string | null;
  segment: unknown;
  segments: number;
  bytes: number;
  droppedFragments: number;
}

export interface StoreRecordings { dir: string; segments: number; bytes: number; paused: Record<string, string>; recording: string[]; pruned: number; aged: number; bytesFreed: number; reconciled: { repaired: number; removedRows: number; removedFiles: number; indexed: number } | null }

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body}`);
  return JSON.parse(body) as T;
}

/** GET /api/recordings for one camera over [since, until) (default: the last hour to an hour ahead). */
export function recordings(base: string, camera: string, since = Date.now() - 3_600_000, until = Date.now() + 3_600_000): Promise<Recordings> {
  return json<Recordings>(`${base}/api/recordings?camera=${encodeURIComponent(camera)}&since=${since}&until=${until}&limit=10000`);
}

export async function recordingState(base: string, camera: string): Promise<RecordingState> {
  const cam = await json<{ recording?: RecordingState }>(`${base}/api/cameras/${encodeURIComponent(camera)}`);
  if (!cam.recording) throw new Error(`GET /api/cameras/${camera} has no "recording": ${JSON.stringify(cam)}`);
  return cam.recording;
}

export async function storeRecordings(base: string): Promise<StoreRecordings> {
  const store = await json<{ recordings?: StoreRecordings }>(`${base}/api/store`);
  if (!store.recordings) throw new Error(`GET /api/store has no "recordings": ${JSON.stringify(store)}`);
  return store.recordings;
}

/** Fetches a URL whole: status, headers and the body's bytes. */
export async function fetchBytes(url: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

// ---------------------------------------------------------------- database

/**
 * The segment rows in the detection log, as relative paths: the one table
 * with a `path` column and a name about segments or recordings (the schema
 * is the lead's; the test finds it rather than guessing its name).
 */
export function segmentRowPaths(dbFile: string): string[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    const candidates = tables.filter((t) => /segment|recording/i.test(t)
      && (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(t) as { name: string }[]).some((c) => c.name === 'path'));
    if (candidates.length !== 1) {
      throw new Error(`expected one table of segments with a path column, found [${candidates.join(', ')}] among [${tables.join(', ')}]`);
    }
    return (db.prepare(`SELECT path FROM "${candidates[0]}"`).all() as { path: string }[]).map((r) => r.path.replace(/\\/g, '/')).sort();
  } finally {
    db.close();
  }
}
