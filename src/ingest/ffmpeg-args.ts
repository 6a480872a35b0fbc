// From a camera's source settings to the exact ffmpeg command: one decode per
// camera, split into a detection output (stdout) and a live output (a unix
// socket), each decimated and scaled inside ffmpeg.
import type { SourceKind } from './source-url.js';

export interface OutputSpec {
  /** Frames per second; 0 keeps every frame of the stream. */
  fps: number;
  /** Largest size; frames are scaled down to fit, keeping their aspect, never up. */
  maxWidth: number;
  maxHeight: number;
}

export interface SourceSpec {
  kind: SourceKind;
  /** From classifySource: the URL, or file:/absolute/path. */
  input: string;
  rtspTransport: 'tcp' | 'udp';
  /** Network read timeout, so a dead camera ends ffmpeg instead of hanging it. */
  timeoutMs: number;
  /** Files: read at their native frame rate, as a camera would deliver them. */
  realtime: boolean;
  /** Files: start again at the end. */
  loop: boolean;
  detect: OutputSpec;
  /** Absent: no live output (detection only, e.g. offline runs). */
  live?: OutputSpec & { target: string };
}

export interface FfmpegPlan {
  inputOptions: string[];
  input: string;
  complexFilter: string;
  outputs: { target: string; options: string[] }[];
}

/** ffmpeg's major version decides option names (RTSP's socket timeout was -stimeout before 5.0). */
export function ffmpegMajor(versionLine: string): number {
  const m = /version (?:n)?(\d+)\./.exec(versionLine);
  // Static git builds ("N-47683-g…") on npm are 4.x snapshots.
  return m ? Number(m[1]) : 4;
}

function chain(spec: OutputSpec): string {
  const filters: string[] = [];
  if (spec.fps > 0) filters.push(`fps=${spec.fps}`);
  filters.push(`scale=w='min(iw,${spec.maxWidth})':h='min(ih,${spec.maxHeight})':force_original_aspect_ratio=decrease`);
  return filters.join(',');
}

const RAW_OUTPUT = ['-an', '-sn', '-dn', '-f', 'rawvideo', '-pix_fmt', 'rgb24'];

export function ffmpegPlan(spec: SourceSpec, major: number): FfmpegPlan {
  const timeoutUs = String(Math.round(spec.timeoutMs * 1000));
  const inputOptions: string[] = [...GLOBAL_OPTIONS];
  if (spec.kind === 'rtsp') {
    inputOptions.push('-rtsp_transport', spec.rtspTransport, major >= 5 ? '-timeout' : '-stimeout', timeoutUs);
    // Hand frames on as they arrive rather than buffering to smooth playback.
    inputOptions.push('-fflags', 'nobuffer', '-flags', 'low_delay');
  } else if (spec.kind === 'http') {
    inputOptions.push('-rw_timeout', timeoutUs);
  } else {
    if (spec.loop) inputOptions.push('-stream_loop', '-1');
    if (spec.realtime) inputOptions.push('-re');
  }
  const outputs = [{ target: 'pipe:1', options: ['-map', '[detect]', ...RAW_OUTPUT] }];
  let complexFilter: string;
  if (spec.live) {
    complexFilter = `[0:v:0]split=2[d][l];[d]${chain(spec.detect)}[detect];[l]${chain(spec.live)}[live]`;
    outputs.push({ target: spec.live.target, options: ['-map', '[live]', ...RAW_OUTPUT] });
  } else {
    complexFilter = `[0:v:0]${chain(spec.detect)}[detect]`;
  }
  return { inputOptions, input: spec.input, complexFilter, outputs };
}

/** Options that govern ffmpeg itself; they lead the input options. */
export const GLOBAL_OPTIONS = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];

/**
 * The whole argv, in the order fluent-ffmpeg assembles it (inputs, "-y" when
 * an output is a URL rather than a stream, the filter graph, then outputs).
 */
export function ffmpegArgv(plan: FfmpegPlan): string[] {
  const urlOutput = plan.outputs.some((o) => o.target !== 'pipe:1');
  return [
    ...plan.inputOptions, '-i', plan.input,
    ...(urlOutput ? ['-y'] : []),
    '-filter_complex', plan.complexFilter,
    ...plan.outputs.flatMap((o) => [...o.options, o.target]),
  ];
}
