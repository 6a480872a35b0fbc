// SIGTERM, as an orchestrator sends it, to a real `lookout serve`: ingest
// stops, calls at the model finish, the log is flushed with its open events
// ended, WebSocket clients get close code 1001, and the process exits 0 with
// no ffmpeg left.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BOTTLE_CLIP, PERSON_CLIP } from '../helpers/media.js';
import { startCli, type RunningChild } from '../helpers/child.js';
import { alive, until } from '../helpers/wait.js';
import { tempDir } from '../helpers/cleanup.js';

const children: RunningChild[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await c.stop('SIGKILL');
});

describe('graceful shutdown', () => {
  it('on SIGTERM closes viewers with 1001, finishes and records what is in flight, and exits 0 with no child left', async () => {
    const dir = tempDir('lookout-term-');
    const config = path.join(dir, 'lookout.yaml');
    const store = path.join(dir, 'lookout.db');
    writeFileSync(config, JSON.stringify({
      http: { host: '127.0.0.1', port: 0 },
      store: { path: store },
      // Slow enough that calls are in flight when the signal comes: 1 s each, 4 per camera at 4 fps.
      modelServer: { embedded: { model: 'synthetic', latencyMs: 1000, capacity: 8 } },
      scheduler: { maxInFlight: 8, perCameraInFlight: 4, maxFrameAgeMs: 5000 },
      detection: { detectFps: 4, liveFps: 5, minScore: 0.3 },
      // All three synthetic objects (the chair scores 0.35) make events: six open when the signal comes.
      filters: { '*': { minScore: 0.3, threshold: 0.3 } },
      cameras: [{ id: 'a', url: BOTTLE_CLIP, loop: true }, { id: 'b', url: PERSON_CLIP, loop: true }],
    }));
    const child = startCli(['serve', '--config', config]);
    children.push(child);
    const [, url] = await child.waitFor(/lookout listening on (http:\/\/\S+)/);
    interface Cams { cameras: { id: string; status: { pid?: number }; schedule?: { inFlight: number }; latest?: unknown }[] }
    const cams = async () => ((await (await fetch(`${url}/api/cameras`)).json()) as Cams).cameras;
    // Events open (tracks confirmed) and calls at the model.
    await until(async () => {
      const events = (await (await fetch(`${url}/api/events`)).json()) as { events: unknown[] };
      return events.events.length >= 6;
    }, 30_000);
    await until(async () => (await cams()).some((c) => (c.schedule?.inFlight ?? 0) > 0), 10_000, 5);
    const ffmpegPids = (await cams()).map((c) => c.status.pid).filter((p): p is number => typeof p === 'number');
    expect(ffmpegPids).toHaveLength(2);

    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?camera=a`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));

    const signalledAt = Date.now();
    child.child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await child.exited).toBe(0);
    // The drain is bounded (5 s) and the model answers in 1 s: well inside.
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    for (const pid of ffmpegPids) expect(alive(pid), `ffmpeg ${pid}`).toBe(false);

    const db = new Database(store, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      // Every event was ended by the shutdown itself (no crash recovery needed).
      expect(db.prepare('SELECT COUNT(*) FROM events WHERE end_time IS NULL').pluck().get()).toBe(0);
      // A frame captured in the last 700 ms before the signal cannot have been answered before it (the
      // model takes 1 s): its detections were recorded during the drain.
      const late = db.prepare('SELECT COUNT(*) FROM detections WHERE time > ?').pluck().get(signalledAt - 700) as number;
      expect(late).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    expect(child.stderr()).toMatch(/SIGTERM: shutting down/);
  });
});
