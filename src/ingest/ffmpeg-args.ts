// From a camera's source settings to the exact ffmpeg commands. A camera has
// one connection: its ffmpeg copies the video, untouched, into fragmented MP4
// on stdout (transcoding once to H.264 only when the camera sends a codec
// browsers cannot play). Decoders read that copied stream from their stdin
// and hand on raw RGB frames, decimated and scaled inside ffmpeg, each with
// its presentation time (showinfo). `lookout detect` decodes a file directly.
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
  /** Frames per second and size of the annotated JPEG view (decoded only while watched); fps 0 turns it off. */
  live?: OutputSpec;
  /** http: request headers, each ending in CRLF (the Host of a URL whose address source-guard.ts pinned). */
  headers?: string;
  /** http: how many redirects ffmpeg may follow; absent: ffmpeg's own default (8). */
  maxRedirects?: number;
}

export interface FfmpegPlan {
  inputOptions: string[];
  input: string;
  /** Empty: no filter graph. */
  complexFilter: string;
  outputs: { target: string; options: string[] }[];
}

/** ffmpeg's major version decides option names (RTSP's socket timeout was -stimeout before 5.0). */
export function ffmpegMajor(versionLine: string): number {
  const m = /version (?:n)?(\d+)\./.exec(versionLine);
  // Static git builds ("N-47683-g…") on npm are 4.x snapshots.
  return m ? Number(m[1]) : 4;
}

const FIT = (spec: OutputSpec): string =>
  `scale=w='min(iw,${spec.maxWidth})':h='min(ih,${spec.maxHeight})':force_original_aspect_ratio=decrease`;

/**
 * Decimation that keeps each kept frame's own timestamp (the fps filter would
 * move frames onto its own grid, and their pts would no longer be the
 * stream's): a frame is kept when it is the first in its 1/fps slot.
 *
 * The frame right after each kept one is let through too, and dropped by
 * StreamDecoder (it shares its slot): ffmpeg 5.1 writes a raw frame out only
 * when the next one reaches its output, so without a follower every kept
 * frame waited a whole detection interval (200 ms at 5 fps, measured here);
 * with one it waits a frame of the camera's (33 ms at 30 fps).
 * Variables: 0 the last kept slot + 1, 1 "this frame was kept", 2 "the one
 * before was", 3 scratch.
 */
function decimate(fps: number): string {
  const slot = `floor(t*${fps})+1`;
  return `select='st(2,ld(1))*0+st(3,gt(${slot},ld(0)))*0+st(1,ld(3))*0+if(ld(3),st(0,${slot}),0)*0+gt(ld(3)+ld(2),0)'`;
}

const RAW_OUTPUT = ['-an', '-sn', '-dn', '-f', 'rawvideo', '-pix_fmt', 'rgb24'];

/** Fragmented MP4 for MediaSource: the moov first, a fragment per frame, each written out at once. */
export const FMP4_OUTPUT = ['-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_every_frame', '-flush_packets', '1'];

/** Low-latency H.264 for sources in another codec (MJPEG, MPEG-4 part 2, …): one keyframe every 2 s at 25 fps. */
export const TRANSCODE = ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '50', '-bf', '0'];

function inputOptions(spec: SourceSpec, major: number): string[] {
  const timeoutUs = String(Math.round(spec.timeoutMs * 1000));
  const options: string[] = [...GLOBAL_OPTIONS];
  if (spec.kind === 'rtsp') {
    options.push('-rtsp_transport', spec.rtspTransport, major >= 5 ? '-timeout' : '-stimeout', timeoutUs);
    // Hand frames on as they arrive rather than buffering to smooth playback.
    options.push('-fflags', 'nobuffer', '-flags', 'low_delay');
  } else if (spec.kind === 'http') {
    options.push('-rw_timeout', timeoutUs);
    if (spec.headers) options.push('-headers', spec.headers);
    if (spec.maxRedirects !== undefined) options.push('-max_redirects', String(spec.maxRedirects));
  } else {
    if (spec.loop) options.push('-stream_loop', '-1');
    if (spec.realtime) options.push('-re');
  }
  return options;
}

/** A camera's one connection: its first video stream copied (or transcoded) into fragmented MP4 on stdout. */
export function sourcePlan(spec: SourceSpec, major: number, transcode = false): FfmpegPlan {
  return {
    inputOptions: inputOptions(spec, major),
    input: spec.input,
    complexFilter: '',
    outputs: [{ target: 'pipe:1', options: ['-map', '0:v:0', ...(transcode ? TRANSCODE : ['-c:v', 'copy']), '-an', '-sn', '-dn', ...FMP4_OUTPUT] }],
  };
}

/** `lookout detect`: a file decoded straight to raw frames on stdout, nothing copied. */
export function detectPlan(spec: SourceSpec, major: number): FfmpegPlan {
  const filters = [...(spec.detect.fps > 0 ? [`fps=${spec.detect.fps}`] : []), FIT(spec.detect)];
  return {
    inputOptions: inputOptions(spec, major),
    input: spec.input,
    complexFilter: `[0:v:0]${filters.join(',')}[detect]`,
    outputs: [{ target: 'pipe:1', options: ['-map', '[detect]', ...RAW_OUTPUT] }],
  };
}

/**
 * A decoder of the copied stream: fMP4 on stdin, raw RGB frames on stdout,
 * and a showinfo line per frame on stderr with its pts. -copyts keeps the
 * stream's own timestamps (ffmpeg would otherwise shift them to start at 0),
 * so a frame's pts is what ffprobe reads for it in stream.mp4. A small probe
 * lets the first frame out at once rather than after seconds of buffering.
 */
export function decoderArgv(output: OutputSpec, major: number): string[] {
  const filters = [...(output.fps > 0 ? [decimate(output.fps)] : []), FIT(output), major >= 5 ? 'showinfo=checksum=0' : 'showinfo'];
  return [
    // Slice threads only: frame threads hold a frame per thread back (60–200 ms measured here), and boxes should come soon.
    ...GLOBAL_OPTIONS, '-analyzeduration', '0', '-probesize', '4096', '-thread_type', 'slice', '-copyts', '-f', 'mp4', '-i', 'pipe:0',
    // -flush_packets: each frame leaves whole at once; else its last bytes wait in ffmpeg's buffer for the next frame (a detection interval).
    '-map', '0:v:0', '-vf', filters.join(','), '-vsync', 'passthrough', ...RAW_OUTPUT, '-flush_packets', '1', 'pipe:1',
  ];
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
    ...(plan.complexFilter ? ['-filter_complex', plan.complexFilter] : []),
    ...plan.outputs.flatMap((o) => [...o.options, o.target]),
  ];
}
