// What ffmpeg says about its streams on stderr: the input's size and frame
// rate, and each output's exact frame size, so frames are cut without guessing.
import { redactSecrets } from './source-url.js';

export interface StreamInfo {
  width: number;
  height: number;
  /** Frames per second, when ffmpeg states it. */
  fps: number | undefined;
  /** The codec's name as ffmpeg prints it (h264, hevc, mjpeg, rawvideo, …). */
  codec: string;
}

export interface StderrFacts {
  input: StreamInfo | undefined;
  /** The input's duration, ms, when it has one (files; not live cameras). */
  durationMs: number | undefined;
  /** By output index (lookout's ffmpeg runs have one output: 0). */
  outputs: Map<number, StreamInfo>;
}

const VIDEO = /Stream #(\d+):\d+.*?: Video: .*?, (\d{1,5})x(\d{1,5})(?:[ ,\]].*?)?(?:, ([\d.]+) fps)?(?:,|$)/;

/** Feeds stderr lines one at a time; remembers which section (Input #, Output #) they belong to. */
export class StderrParser {
  readonly facts: StderrFacts = { input: undefined, durationMs: undefined, outputs: new Map() };
  private section: { kind: 'input' | 'output'; index: number } | undefined;

  /** Returns the output index whose size this line revealed, if any. */
  push(line: string): number | undefined {
    const head = /^(Input|Output) #(\d+),/.exec(line);
    if (head) {
      this.section = { kind: head[1] === 'Input' ? 'input' : 'output', index: Number(head[2]) };
      return undefined;
    }
    const duration = /^\s*Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(line);
    if (duration && this.section?.kind === 'input') {
      this.facts.durationMs ??= Math.round((Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3])) * 1000);
      return undefined;
    }
    const video = VIDEO.exec(line);
    if (!video || !this.section) return undefined;
    const fpsMatch = /, ([\d.]+) fps/.exec(line);
    const codec = /: Video: (\w+)/.exec(line)?.[1] ?? 'unknown';
    const info: StreamInfo = { width: Number(video[2]), height: Number(video[3]), fps: fpsMatch ? Number(fpsMatch[1]) : undefined, codec };
    if (this.section.kind === 'input') {
      this.facts.input ??= info;
      return undefined;
    }
    if (!this.facts.outputs.has(this.section.index)) {
      this.facts.outputs.set(this.section.index, info);
      return this.section.index;
    }
    return undefined;
  }
}

/** Keeps the last `size` lines of ffmpeg's stderr for errors and status. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly size = 20) {}

  push(line: string): void {
    // ffmpeg prints input URLs whole, passwords included: they never reach the tail.
    const clean = redactSecrets(line);
    this.lines.push(clean.length > 500 ? `${clean.slice(0, 500)}…` : clean);
    if (this.lines.length > this.size) this.lines.shift();
  }

  get(): string[] {
    return [...this.lines];
  }

  /** The last line that reads like an error, else the last line. */
  reason(): string | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      if (/error|failed|invalid|refused|not found|denied|unauthorized|timed out|no such|unable|could not|does not contain/i.test(this.lines[i])) return this.lines[i];
    }
    return this.lines[this.lines.length - 1];
  }
}
