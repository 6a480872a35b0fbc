// The camera's own video as a viewer gets it, checked with tools we did not
// write: stream.mp4 captured over HTTP and read by ffprobe, native WebSocket
// clients that record every message, clips made at test time by ffmpeg, and
// a watch on the ffmpeg processes a lookout ran, so a test can say none of
// them outlived lookout.close().
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect } from 'vitest';
import WebSocket from 'ws';
import type { RunningLookout } from '../../src/app.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { onCleanup } from './cleanup.js';
import { allProcs, childrenOf, isFfmpeg, procInfo } from './procfs.js';
import { requireOrSkip } from './skip.js';
import { startTestLookout, type TestLookoutOptions } from './lookout.js';
import { alive, until } from './wait.js';

/** ffprobe beside the ffmpeg lookout runs, else on PATH (the npm static build ships no ffprobe). */
export function ffprobePath(): string | undefined {
  const beside = path.join(path.dirname(resolveFfmpeg().path), 'ffprobe');
  if (existsSync(beside)) return beside;
  return (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'ffprobe')).find((p) => existsSync(p));
}

/** Whether to skip: no ffprobe here (under CI=true that fails instead). */
export function skipWithoutFfprobe(what: string): boolean {
  return requireOrSkip(what, ffprobePath() ? undefined : 'ffprobe is not installed (apt-get install ffmpeg)');
}

const run = promisify(execFile);

/** ffprobe's JSON. Never synchronous: lookout runs in this process and must not stall while ffprobe works. */
async function ffprobe(file: string, args: string[]): Promise<Record<string, unknown>> {
  const bin = ffprobePath();
  if (!bin) throw new Error('no ffprobe');
  const { stdout } = await run(bin, ['-v', 'error', '-of', 'json', ...args, file], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

export interface ProbedStream { codec: string; profile: string; width: number; height: number }
export interface ProbedFrame { pts: number; key: boolean }
/** In decode order, as the file stores them. */
export interface ProbedPacket { pts: number; size: number; key: boolean; hash: string }

export async function probeStream(file: string): Promise<ProbedStream> {
  const json = await ffprobe(file, ['-select_streams', 'v:0', '-show_entries', 'stream=codec_name,profile,width,height']);
  const s = (json.streams as Record<string, unknown>[])[0];
  return { codec: String(s.codec_name), profile: String(s.profile), width: Number(s.width), height: Number(s.height) };
}

/** Decoded frames, in the order ffprobe prints them, each with its pts_time (6 decimals, as printed). */
export async function probeFrames(file: string): Promise<ProbedFrame[]> {
  const json = await ffprobe(file, ['-select_streams', 'v:0', '-show_frames', '-show_entries', 'frame=pts_time,key_frame']);
  return (json.frames as Record<string, unknown>[]).map((f) => ({ pts: Number(f.pts_time), key: Number(f.key_frame) === 1 }));
}

export async function probePackets(file: string): Promise<ProbedPacket[]> {
  const json = await ffprobe(file, ['-select_streams', 'v:0', '-show_packets', '-show_data_hash', 'MD5', '-show_entries', 'packet=pts_time,size,flags,data_hash']);
  return (json.packets as Record<string, unknown>[]).map((p) => ({
    pts: Number(p.pts_time), size: Number(p.size), key: String(p.flags).startsWith('K'), hash: String(p.data_hash),
  }));
}

/** Microseconds, as ffprobe prints a time: two times are the same frame time when these are equal. */
export const micros = (seconds: number): number => Math.round(seconds * 1e6);

/**
 * The highest pts up to which a capture cut anywhere holds every frame: the
 * second-to-last new high of pts in decode order (the B-frames shown before
 * the last high came before it, those before the newest anchor may not have).
 */
export function completeUpTo(packets: readonly ProbedPacket[]): number {
  const highs: number[] = [];
  for (const p of packets) if (highs.length === 0 || p.pts > highs[highs.length - 1]) highs.push(p.pts);
  return highs.length >= 2 ? highs[highs.length - 2] : -Infinity;
}

/** The bytes up to the end of the last whole top-level MP4 box (a capture stopped mid-fragment). */
export function wholeBoxes(buf: Buffer): Buffer {
  let at = 0;
  while (at + 8 <= buf.length) {
    const size = buf.readUInt32BE(at);
    if (size < 8 || at + size > buf.length) break;
    at += size;
  }
  return buf.subarray(0, at);
}

export interface Capture {
  bytes: Buffer;
  /** The server ended the response (rather than the capture stopping it). */
  ended: boolean;
  status: number;
  contentType: string | undefined;
  startedAt: number;
  /** When the response ended or the capture stopped, ms since the epoch. */
  stoppedAt: number;
}

/** GETs `url` as a player would, for up to `ms`, or until `stop` resolves, or until the server ends it. */
export function captureHttp(url: string, ms: number, stop?: Promise<unknown>): Promise<Capture> {
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const done = (ended: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ended) req.destroy();
        resolve({ bytes: Buffer.concat(chunks), ended, status: res.statusCode ?? 0, contentType: res.headers['content-type'], startedAt, stoppedAt: Date.now() });
      };
      const timer = setTimeout(() => done(false), ms);
      void stop?.then(() => done(false));
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(true));
      res.on('error', () => done(false));
    });
    req.on('error', reject);
  });
}

export function saveCapture(dir: string, name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, wholeBoxes(bytes));
  return file;
}

export interface InitHeader { kind: 'init'; camera: string; run: number; codec: string; mime: string; width: number; height: number; timescale: number; transcoded: boolean }
export interface MediaHeader { kind: 'media'; camera: string; run: number; seq: number; pts: number; duration: number; keyframe: boolean; receivedAt: number; skipped?: number }
export type Message =
  | { type: 'init'; header: InitHeader; size: number; at: number }
  | { type: 'media'; header: MediaHeader; size: number; at: number }
  | { type: 'text'; json: Record<string, unknown>; size: number; at: number };

/** A WebSocket viewer that records every message, in order, with its size and arrival time. */
export class NativeClient {
  readonly messages: Message[] = [];
  /** This end's port: the server's socket for it has this as its remote port. */
  localPort = 0;
  closedWith: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('upgrade', (res) => { this.localPort = res.socket.localPort ?? 0; });
    ws.on('close', (code) => { this.closedWith = code; });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const at = Date.now();
      if (!isBinary) {
        this.messages.push({ type: 'text', json: JSON.parse(data.toString()) as Record<string, unknown>, size: data.length, at });
        return;
      }
      const n = data.readUInt32BE(0);
      const header = JSON.parse(data.subarray(4, 4 + n).toString()) as InitHeader | MediaHeader;
      if (header.kind === 'init') this.messages.push({ type: 'init', header, size: data.length, at });
      else this.messages.push({ type: 'media', header, size: data.length, at });
    });
  }

  static connect(base: string, query: string): Promise<NativeClient> {
    const client = new NativeClient(new WebSocket(`${base.replace(/^http/, 'ws')}/ws${query}`, { perMessageDeflate: false }));
    onCleanup(() => client.ws.terminate());
    return new Promise((resolve, reject) => {
      client.ws.once('open', () => resolve(client));
      client.ws.once('error', reject);
    });
  }

  get inits(): InitHeader[] {
    return this.messages.flatMap((m) => (m.type === 'init' ? [m.header] : []));
  }

  get media(): MediaHeader[] {
    return this.messages.flatMap((m) => (m.type === 'media' ? [m.header] : []));
  }

  texts(type: string): Record<string, unknown>[] {
    return this.messages.flatMap((m) => (m.type === 'text' && m.json.type === type ? [m.json] : []));
  }

  /** Binary messages (init and media) in order, so a test can see what follows what. */
  get binary(): (InitHeader | MediaHeader)[] {
    return this.messages.flatMap((m) => (m.type === 'text' ? [] : [m.header]));
  }
}

/** Runs ffmpeg (the one lookout uses) to make a clip at test time, before lookout starts (it blocks); returns its path. */
export function makeClip(dir: string, name: string, args: string[]): string {
  const out = path.join(dir, name);
  const result = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-y', ...args, out], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`ffmpeg could not make ${name}: ${result.stderr || result.error?.message}`);
  return out;
}

function isStillFfmpeg(pid: number): boolean {
  const p = procInfo(pid);
  return p !== undefined && isFfmpeg(p);
}

/**
 * The ffmpeg processes a lookout in this test process runs (its cameras' own
 * and their decoders): sampled while the test runs, from /proc (ffmpeg
 * children of this process) and from /api/cameras' status pids.
 */
export class FfmpegWatch {
  /** pid → command line, of every ffmpeg seen. */
  readonly seen = new Map<number, string>();
  /** The cameras' own ffmpeg, as /api/cameras gives their pids. */
  readonly cameraPids = new Set<number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly lookout: RunningLookout) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  sample(): void {
    for (const p of childrenOf(process.pid)) if (isFfmpeg(p)) this.seen.set(p.pid, p.cmdline.join(' '));
    for (const id of this.lookout.registry.cameraIds()) {
      const pid = this.lookout.registry.view(id)?.status.pid;
      if (pid === undefined) continue;
      this.cameraPids.add(pid);
      if (!this.seen.has(pid)) this.seen.set(pid, `camera ${id}'s ffmpeg`);
    }
  }

  /**
   * Closes lookout and says what ffmpeg is left: any it ran that is still
   * alive, any ffmpeg child of this process, any process naming one of `paths`.
   */
  async closeAndList(paths: readonly string[]): Promise<string[]> {
    this.sample();
    clearInterval(this.timer);
    await this.lookout.close();
    // Still there, and still an ffmpeg (not a new process that got a reused pid).
    const left = [...this.seen].filter(([pid]) => alive(pid) && isStillFfmpeg(pid)).map(([pid, cmd]) => `pid ${pid}: ${cmd}`);
    for (const p of childrenOf(process.pid)) if (isFfmpeg(p)) left.push(`child ${p.pid}: ${p.cmdline.join(' ')}`);
    for (const p of allProcs()) {
      const cmd = p.cmdline.join(' ');
      if (p.pid !== process.pid && paths.some((dir) => cmd.includes(dir))) left.push(`naming ${paths.join(', ')}: ${p.pid} ${cmd}`);
    }
    return [...new Set(left)];
  }
}

/**
 * For the calling test file: a start() for a lookout whose cameras are all
 * streaming, and an afterEach that closes the test's lookout and fails the
 * test if any ffmpeg it ran is left (or any process naming one of `paths`).
 */
export function lookoutWithoutLeftovers(): (options: TestLookoutOptions, paths?: string[]) => Promise<RunningLookout> {
  let current: { watch: FfmpegWatch; paths: string[] } | undefined;
  afterEach(async () => {
    const c = current;
    current = undefined;
    if (!c) return;
    const left = await c.watch.closeAndList(c.paths);
    expect(left, 'ffmpeg left after lookout.close()').toEqual([]);
    // It saw a camera's own ffmpeg and a decoder of its stream (fMP4 on stdin): the check looked at something.
    expect(c.watch.cameraPids.size).toBeGreaterThanOrEqual(1);
    expect([...c.watch.seen.values()].filter((cmd) => cmd.includes('-i pipe:0')).length).toBeGreaterThanOrEqual(1);
  });
  return async (options, paths = []) => {
    const lookout = await startTestLookout({ modelServer: { embedded: { latencyMs: 20 } }, ...options });
    current = { watch: new FfmpegWatch(lookout), paths };
    const { registry } = lookout;
    await until(() => registry.cameraIds().every((id) => registry.view(id)?.status.state === 'streaming'));
    return lookout;
  };
}
