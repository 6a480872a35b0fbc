// `lookout serve` as a child process for bench:record (serve-child.ts), its
// cameras looping 1080p30 files at their own pace, recording continuously
// or not, the detection log and the recordings in a folder of the bench's;
// and what the bench reads back over HTTP.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { sleep } from './record-procs.js';
import { startServeChild, type ServeChild } from './serve-child.js';
import type { RecordingsJson, SegmentJson } from '../src/http/recording-routes.js';

export type RecordMode = 'continuous' | 'off';

export interface RecordLookoutOptions {
  /** Camera id → file. */
  cameras: Record<string, string>;
  mode: RecordMode;
  segmentSeconds: number;
  /** Holds lookout.db and recordings/. */
  dir: string;
  detectFps: number;
  minScore: number;
}

export interface RecordLookout extends ServeChild {
  dir: string;
  recordingsDir: string;
}

export const recordingsDirOf = (dir: string) => path.join(dir, 'recordings');

export async function startRecordLookout(o: RecordLookoutOptions): Promise<RecordLookout> {
  const recordingsDir = recordingsDirOf(o.dir);
  const child = await startServeChild({
    // The camera API (PATCH) reads file cameras only from allowed folders.
    fileRoots: [...new Set(Object.values(o.cameras).map((f) => path.dirname(f)))],
    store: { path: path.join(o.dir, 'lookout.db'), recordingsDir },
    // The synthetic model answers at once (0 ms), so detection costs only what lookout itself spends on it.
    modelServer: { embedded: { model: 'synthetic', latencyMs: 0, capacity: 4 } },
    scheduler: { maxInFlight: 4 },
    detection: { detectFps: o.detectFps, minScore: o.minScore },
    cameras: Object.entries(o.cameras).map(([id, url]) => ({ id, url, loop: true, realtime: true, record: { mode: o.mode, segmentSeconds: o.segmentSeconds } })),
  });
  return { ...child, dir: o.dir, recordingsDir };
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface CameraRecording {
  mode: string;
  state: string;
  reason: string | null;
  segments: number;
  bytes: number;
  droppedFragments: number;
}

export interface CameraJson {
  id: string;
  state: string;
  lastError: string | null;
  latest?: unknown;
  schedule?: { detected: number };
  status: { restarts: number; decoderSkipped: { detect: number; live: number } };
  recording?: CameraRecording;
}

export const camerasOf = async (url: string) => (await getJson<{ cameras: CameraJson[] }>(`${url}/api/cameras`)).cameras;

/** Changes every camera's record mode (PATCH /api/cameras/:id): each camera's ffmpeg restarts, a new run, even when the mode is the same. */
export async function setRecordMode(b: RecordLookout, ids: string[], mode: RecordMode): Promise<void> {
  for (const id of ids) {
    const res = await fetch(`${b.url}/api/cameras/${encodeURIComponent(id)}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ record: { mode } }) });
    if (!res.ok) throw new Error(`PATCH camera ${id} record.mode=${mode}: ${res.status} ${await res.text()}`);
  }
}

/**
 * Waits until every camera streams and its recording is in `mode` (a segment
 * open, or off); then, up to `detectionsMs` more, for a detection on every
 * camera (a CPU-starved machine may have none: detection drops frames more
 * than scheduler.maxFrameAgeMs old, and the window's detect rate shows it).
 */
export async function waitReady(b: RecordLookout, mode: RecordMode, timeoutMs = 60_000, detectionsMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const recording = (c: CameraJson) => (mode === 'off' ? c.recording?.state === 'off' : c.recording?.state === 'recording');
  for (;;) {
    const cameras = await camerasOf(b.url);
    if (cameras.length > 0 && cameras.every((c) => c.state === 'streaming' && recording(c))) break;
    if (Date.now() > deadline) {
      const states = cameras.map((c) => `${c.id}: ${c.state} ${c.lastError ?? ''} recording ${JSON.stringify(c.recording ?? null)}`);
      throw new Error(`cameras not ready in ${timeoutMs} ms: ${states.join('; ')}`);
    }
    await sleep(250);
  }
  const until = Date.now() + detectionsMs;
  while (Date.now() < until && !(await camerasOf(b.url)).every((c) => c.latest !== undefined && c.latest !== null)) await sleep(250);
}

/** Detections made so far, every camera together. */
export const detectedSoFar = async (b: RecordLookout) => (await camerasOf(b.url)).reduce((s, c) => s + (c.schedule?.detected ?? 0), 0);

export interface Troubles {
  /** Since the camera's last PATCH (which replaces the camera, counters and all). */
  restarts: number;
  detectSkipped: number;
  droppedFragments: number;
  /** Cameras whose recording was not "recording" at the window's end (with why). */
  notRecording: string[];
}

export async function troubles(b: RecordLookout, mode: RecordMode): Promise<Troubles> {
  const cameras = await camerasOf(b.url);
  return {
    restarts: cameras.reduce((s, c) => s + c.status.restarts, 0),
    detectSkipped: cameras.reduce((s, c) => s + c.status.decoderSkipped.detect, 0),
    droppedFragments: cameras.reduce((s, c) => s + (c.recording?.droppedFragments ?? 0), 0),
    notRecording: mode === 'off' ? [] : cameras.filter((c) => c.recording?.state !== 'recording').map((c) => `${c.id}: ${c.recording?.state ?? 'no recording state'} ${c.recording?.reason ?? ''}`.trim()),
  };
}

/** Every .mp4 under the recordings folder: path → bytes. */
export function filesOnDisk(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(d, name);
      let s;
      try {
        s = statSync(p);
      } catch {
        continue;
      }
      if (s.isDirectory()) walk(p);
      else if (name.endsWith('.mp4')) out.set(p, s.size);
    }
  };
  walk(dir);
  return out;
}

export const totalBytes = (files: Map<string, number>) => [...files.values()].reduce((s, n) => s + n, 0);

export type { RecordingsJson, SegmentJson };

export async function recordings(url: string, q: { camera?: string[]; since: number; until: number; limit?: number }): Promise<RecordingsJson> {
  const p = new URLSearchParams();
  for (const c of q.camera ?? []) p.append('camera', c);
  p.set('since', String(q.since));
  p.set('until', String(q.until));
  p.set('limit', String(q.limit ?? 10_000));
  return getJson<RecordingsJson>(`${url}/api/recordings?${p}`);
}
