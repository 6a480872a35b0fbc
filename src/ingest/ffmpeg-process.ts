// One ffmpeg process, run through fluent-ffmpeg: a camera's connection (the
// copied stream, fragmented MP4, on its stdout) or `lookout detect`'s decode
// (raw frames on its stdout); its stderr parsed and kept. ffmpeg runs in a process group of its own, and
// stop() signals the whole group. Its state moves only along
// FFMPEG_TRANSITIONS, as a ws socket's does:
//
//   spawning ──start──▶ running ──stop()──▶ stopping ──exit──▶ exited
//      │                   └──────────────exit──────────────────▲
//      ├──failed to spawn───────────────────────────────────────┤
//      └──stop() gave up waiting──▶ abandoned ──(late spawn killed)──exit──┘
import ffmpeg from 'fluent-ffmpeg';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FfmpegBinary } from './ffmpeg-binary.js';
import { ffmpegArgv, type FfmpegPlan } from './ffmpeg-args.js';
import { LineTail, StderrParser, type StreamInfo } from './ffmpeg-stderr.js';
import { readFrames } from './frame-reader.js';
import { runtimeDir, signalGroup, trackGroup } from './runtime-dir.js';
import { redactSecrets } from './source-url.js';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** fluent-ffmpeg's error text, when ffmpeg did not end cleanly. */
  message: string | undefined;
}

const wrappers = new Map<string, string>();

/**
 * A shell wrapper that puts ffmpeg in a new session (and so a new process
 * group whose id is its pid) before exec'ing it. fluent-ffmpeg spawns its
 * binary without `detached`, so this is how the group is made. The script is
 * written once per binary into lookout's private runtime folder.
 */
export function groupWrapper(binary: string): string {
  const known = wrappers.get(binary);
  if (known) return known;
  const setsid = ['/usr/bin/setsid', '/bin/setsid'].find((p) => existsSync(p));
  if (!setsid) return binary;
  const file = path.join(runtimeDir(), `ffmpeg-${createHash('sha1').update(binary).digest('hex').slice(0, 12)}.sh`);
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // 'wx': never follow or reuse a file someone else put there.
  writeFileSync(file, `#!/bin/sh\nexec ${quote(setsid)} ${quote(binary)} "$@"\n`, { flag: 'wx', mode: 0o700 });
  wrappers.set(binary, file);
  return file;
}

export type FfmpegState = 'spawning' | 'running' | 'stopping' | 'abandoned' | 'exited';

/** The moves an FfmpegProcess's state may make (see the diagram above). */
export const FFMPEG_TRANSITIONS: Readonly<Record<FfmpegState, readonly FfmpegState[]>> = {
  // fluent-ffmpeg probes the binary's capabilities before it spawns.
  spawning: ['running', 'abandoned', 'exited'],
  running: ['stopping', 'exited'],
  stopping: ['exited'],
  // stop() returned before ffmpeg spawned: a late spawn kills its child at once.
  abandoned: ['exited'],
  exited: [],
};

/** fluent-ffmpeg keeps the child it spawned on an untyped property. */
function childOf(command: ffmpeg.FfmpegCommand): ChildProcess | undefined {
  return (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
}

export class FfmpegProcess {
  readonly argv: string[];
  readonly stderrTail = new LineTail(30);
  readonly exited: Promise<ExitInfo>;
  /** The output's stream as ffmpeg describes it; rejects if ffmpeg ends before saying it. */
  readonly detectInfo: Promise<StreamInfo>;
  /** What ffmpeg writes to its stdout (the copied stream, or raw frames). */
  readonly detectStream: PassThrough;
  private readonly command: ffmpeg.FfmpegCommand;
  private readonly parser = new StderrParser();
  private untrack: (() => void) | undefined;
  private current: FfmpegState = 'spawning';
  /** The child's pid (and process group id), once spawned. */
  private pid: number | undefined;
  /** Settles once ffmpeg is spawned (fluent-ffmpeg first checks its capabilities) or failed to be. */
  private readonly started: Promise<void>;
  /** stop()'s one run, whoever calls it. */
  private stopping: Promise<void> | undefined;

  constructor(binary: FfmpegBinary, plan: FfmpegPlan) {
    this.argv = ffmpegArgv(plan);

    const infos = new Map<number, { resolve: (i: StreamInfo) => void; reject: (e: Error) => void }>();
    this.detectInfo = new Promise<StreamInfo>((resolve, reject) => infos.set(0, { resolve, reject }));
    this.detectInfo.catch(() => undefined);

    this.detectStream = new PassThrough({ highWaterMark: 1 << 20 });
    this.command = ffmpeg().setFfmpegPath(groupWrapper(binary.path));
    this.command.input(plan.input).inputOptions(...plan.inputOptions);
    if (plan.complexFilter) this.command.complexFilter(plan.complexFilter);
    for (const out of plan.outputs) {
      if (out.target === 'pipe:1') this.command.output(this.detectStream, { end: true });
      else this.command.output(out.target);
      this.command.outputOptions(...out.options);
    }

    let markStarted!: () => void;
    this.started = new Promise<void>((resolve) => { markStarted = resolve; });
    let failure: string | undefined;
    this.exited = new Promise<ExitInfo>((resolve) => {
      const finish = (code: number | null, signal: string | null): void => {
        if (this.current === 'exited') return;
        this.moveTo('exited');
        markStarted();
        for (const { reject } of infos.values()) reject(new Error(`ffmpeg ended before describing its output: ${this.stderrTail.reason() ?? failure ?? 'no output'}`));
        this.untrack?.();
        resolve({ code, signal, message: failure });
      };
      this.command.on('start', () => {
        const child = childOf(this.command);
        this.pid = child?.pid;
        if (this.pid !== undefined) this.untrack = trackGroup(this.pid);
        markStarted();
        // stop() gave up waiting for the spawn: this ffmpeg is already unwanted.
        if (this.current === 'abandoned') this.signal('SIGKILL');
        else if (this.current === 'spawning') this.moveTo('running');
        // The process's own exit, not fluent-ffmpeg's 'end'/'error', which can come first.
        if (child) child.once('exit', (code, signal) => finish(code, signal));
        else finish(null, null);
      });
      this.command.on('stderr', (line: string) => {
        this.stderrTail.push(line);
        const index = this.parser.push(line);
        if (index !== undefined) infos.get(index)?.resolve(this.parser.facts.outputs.get(index) as StreamInfo);
      });
      this.command.on('error', (err: Error) => {
        // fluent-ffmpeg's message quotes ffmpeg's stderr, which names the URL with any password.
        failure ??= redactSecrets(err.message);
        // Failed before spawning (binary missing, capability check): nothing will exit.
        if (this.pid === undefined) finish(null, null);
      });
    });
    this.command.run();
  }

  /** Where the process is in its life (FFMPEG_TRANSITIONS). */
  get state(): FfmpegState {
    return this.current;
  }

  /** Moves along FFMPEG_TRANSITIONS; any other move is a bug, refused and said (this runs in ffmpeg's event handlers). */
  private moveTo(next: FfmpegState): void {
    if (!FFMPEG_TRANSITIONS[this.current].includes(next)) {
      process.emitWarning(`ffmpeg process ${this.pid ?? '(not spawned)'}: no move from ${this.current} to ${next}`, { code: 'LOOKOUT_FFMPEG_STATE' });
      return;
    }
    this.current = next;
  }

  /** The input stream as ffmpeg described it (size, frame rate). */
  get input(): StreamInfo | undefined {
    return this.parser.facts.input;
  }

  /** The input's length, ms, once ffmpeg has said it (files; not live streams). */
  get durationMs(): number | undefined {
    return this.parser.facts.durationMs;
  }

  get processId(): number | undefined {
    return this.pid;
  }

  /** Detection frames, cut to size; reading them slowly slows ffmpeg down. */
  detectFrames(): AsyncGenerator<Buffer> {
    return readFrames(this.detectStream, async () => {
      const info = await this.detectInfo;
      return info.width * info.height * 3;
    });
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.current === 'exited' || this.pid === undefined) return;
    signalGroup(this.pid, sig);
  }

  /** Ends ffmpeg: SIGTERM to its group, SIGKILL after graceMs. Safe to call twice. */
  stop(graceMs = 2_000): Promise<void> {
    this.stopping ??= (async () => {
      // fluent-ffmpeg probes the binary's capabilities before spawning; do not wait on it for ever.
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([this.started, new Promise<void>((r) => { waited = setTimeout(r, graceMs * 2); })]);
      clearTimeout(waited);
      if (this.current === 'exited') {
        this.releaseOutputs();
        return;
      }
      if (this.current === 'spawning') {
        // Still not spawned (fluent-ffmpeg's probes are slow on a loaded
        // machine). Killing now does nothing, so the spawn, whenever it
        // comes, kills its own child; stop() does not wait for it.
        this.moveTo('abandoned');
        this.command.kill('SIGKILL');
        this.releaseOutputs();
        return;
      }
      this.moveTo('stopping');
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
      this.releaseOutputs();
    })();
    return this.stopping;
  }

  private releaseOutputs(): void {
    this.detectStream.destroy();
  }
}
