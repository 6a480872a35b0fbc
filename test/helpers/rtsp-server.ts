// Real RTSP cameras for tests: test/fixtures/rtsp-server.py (GStreamer's RTSP
// server) run as a child process, serving the bundled clips. Tests can kill it
// to simulate a camera crash and restart it on the same port to check that
// lookout reconnects.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { requireOrSkip } from './skip.js';
import { relaunch } from './wait.js';

export const RTSP_SERVER_SCRIPT = path.join(packageRoot, 'test/fixtures/rtsp-server.py');
// Debian's python has the gi bindings; the python3 first on PATH may not.
const PYTHON = '/usr/bin/python3';
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
// Safety net if the port is briefly unavailable after a kill (not seen so far:
// restarting right after killing a server with a client attached bound first try).
const REBIND_TIMEOUT_MS = 10_000;

let gstreamer: boolean | undefined;

/** Whether /usr/bin/python3 can load GStreamer's RTSP server bindings. */
export function gstreamerAvailable(): boolean {
  gstreamer ??= spawnSync(PYTHON, ['-c', "import gi; gi.require_version('GstRtspServer', '1.0')"], { timeout: 10_000 }).status === 0;
  return gstreamer;
}

/**
 * Whether to skip the RTSP tests: when GStreamer's RTSP server cannot run
 * here, with a warning; under CI (CI=true) that fails instead (requireOrSkip).
 */
export function skipRtsp(): boolean {
  return requireOrSkip('the RTSP tests', gstreamerAvailable() ? undefined : `${PYTHON} cannot load GstRtspServer; `
    + 'install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,bad}');
}

// One directory shared by all test processes and runs: vitest's workers are
// torn down without an 'exit' event, so per-process temp dirs would pile up.
const CLIP_DIR = path.join(os.tmpdir(), 'lookout-rtsp-clips');
const clips = new Map<string, string>();

/**
 * A copy of `file` with its index (moov) first, which the RTSP server's
 * qtdemux wants, played `loops` times over (the server plays a clip once and
 * then ends the stream). Cached per (file, loops) on disk, keyed by the
 * file's path, size and mtime, so it is made once.
 */
export function prepareClip(file: string, loops = 1): string {
  if (!Number.isInteger(loops) || loops < 1) throw new Error(`loops must be a positive integer, got ${loops}`);
  const source = path.resolve(file);
  const key = `${source}\0${loops}`;
  const cached = clips.get(key);
  if (cached) return cached;
  const { size, mtimeMs } = statSync(source);
  const hash = createHash('sha1').update(`${source}\0${size}\0${mtimeMs}`).digest('hex').slice(0, 12);
  const out = path.join(CLIP_DIR, `${path.basename(source, path.extname(source))}-${hash}-x${loops}.mp4`);
  if (!existsSync(out)) {
    mkdirSync(CLIP_DIR, { recursive: true });
    // Write under a private name, then rename: parallel workers never see half a file.
    const partial = `${out}.${process.pid}.partial.mp4`;
    // -stream_loop N plays the input N extra times; -c copy keeps it cheap.
    const result = spawnSync(resolveFfmpeg().path, [
      '-v', 'error', '-y', '-stream_loop', String(loops - 1), '-i', source, '-c', 'copy', '-movflags', '+faststart', partial,
    ], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`ffmpeg could not prepare ${file}: ${result.stderr || result.error?.message}`);
    }
    renameSync(partial, out);
  }
  clips.set(key, out);
  return out;
}

export interface RtspServer {
  /** The port, kept across restart(). */
  readonly port: number;
  /** rtsp://127.0.0.1:PORT/mount */
  url(mount: string): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a camera crash; resolves once it has exited. */
  kill(): Promise<void>;
  /** Stops it if running, then starts it again on the same port with the same mounts. */
  restart(): Promise<void>;
}

// Every server still running, killed if the test process exits without stopping them.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

interface Launched {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function launch(port: number, mountArgs: string[]): Promise<Launched> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => { for (const c of live) c.kill('SIGKILL'); });
  }
  // stdin stays a pipe so the script exits by itself if this process dies.
  const child = spawn(PYTHON, [RTSP_SERVER_SCRIPT, '--port', String(port), '--exit-on-stdin-close', ...mountArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { live.delete(child); resolve(); }));
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise<Launched>((resolve, reject) => {
    const fail = (why: string): void => {
      cleanup();
      if (running(child)) child.kill('SIGKILL');
      reject(new Error(`rtsp-server.py ${why}; stderr:\n${err.trim()}`));
    };
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /READY rtsp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (!m) return;
      cleanup();
      // Drain stdout so a chatty script can never block on a full pipe.
      child.stdout?.resume();
      resolve({ child, port: Number(m[1]), exited });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited (${code ?? signal}) before READY`);
    const onError = (e: Error): void => fail(`could not start: ${e.message}`);
    const timer = setTimeout(() => fail(`not READY within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/**
 * Serves each `mounts` entry ("/cam" → clip file) over RTSP on 127.0.0.1.
 * `port` defaults to a free one; `loops` (default 1) is how many times each
 * clip plays before its stream ends.
 */
export async function startRtspServer(
  mounts: Record<string, string>,
  options: { port?: number; loops?: number } = {},
): Promise<RtspServer> {
  const entries = Object.entries(mounts);
  if (entries.length === 0) throw new Error('startRtspServer needs at least one mount');
  const mountArgs = entries.flatMap(([mount, file]) => {
    if (!mount.startsWith('/')) throw new Error(`mount must start with "/": ${mount}`);
    return ['--mount', `${mount}=${prepareClip(file, options.loops ?? 1)}`];
  });
  let current = await launch(options.port ?? 0, mountArgs);
  const port = current.port;

  const halt = async (graceful: boolean): Promise<void> => {
    const { child, exited } = current;
    if (!running(child)) return exited;
    child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    const timer = graceful ? setTimeout(() => { if (running(child)) child.kill('SIGKILL'); }, STOP_GRACE_MS) : undefined;
    await exited;
    clearTimeout(timer);
  };

  return {
    port,
    url: (mount) => `rtsp://127.0.0.1:${port}${mount.startsWith('/') ? mount : `/${mount}`}`,
    stop: () => halt(true),
    kill: () => halt(false),
    async restart() {
      await halt(true);
      current = await relaunch(() => launch(port, mountArgs), /cannot listen/, REBIND_TIMEOUT_MS);
    },
  };
}
