// From a camera's source settings to the exact ffmpeg argv.
import { describe, expect, it } from 'vitest';
import { decoderArgv, detectPlan, ffmpegArgv, ffmpegMajor, FMP4_OUTPUT, sourcePlan, TRANSCODE, type SourceSpec } from '../../src/ingest/ffmpeg-args.js';
import { classifySource, redactSecrets, redactUrl, SourceUrlError } from '../../src/ingest/source-url.js';

const base: Omit<SourceSpec, 'kind' | 'input'> = {
  rtspTransport: 'tcp', timeoutMs: 5_000, realtime: true, loop: false,
  detect: { fps: 5, maxWidth: 640, maxHeight: 640 },
};
const G = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];
const RAW = ['-an', '-sn', '-dn', '-f', 'rawvideo', '-pix_fmt', 'rgb24'];
const FIT = (w: number, h: number) => `scale=w='min(iw,${w})':h='min(ih,${h})':force_original_aspect_ratio=decrease`;
const COPY = ['-map', '0:v:0', '-c:v', 'copy', '-an', '-sn', '-dn', '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_every_frame', '-flush_packets', '1'];

/** A camera's one connection: its video copied, untouched, into fragmented MP4 on stdout. */
const sources: [string, SourceSpec, number, string[]][] = [
  ['RTSP over TCP on ffmpeg 5 (-timeout)',
    { ...base, ...classifySource('rtsp://cam.local:554/stream1') }, 5,
    [...G, '-rtsp_transport', 'tcp', '-timeout', '5000000', '-fflags', 'nobuffer', '-flags', 'low_delay', '-i', 'rtsp://cam.local:554/stream1', ...COPY, 'pipe:1']],
  ['RTSP over UDP on ffmpeg 4 (-stimeout)',
    { ...base, ...classifySource('rtsps://cam/s'), rtspTransport: 'udp' }, 4,
    [...G, '-rtsp_transport', 'udp', '-stimeout', '5000000', '-fflags', 'nobuffer', '-flags', 'low_delay', '-i', 'rtsps://cam/s', ...COPY, 'pipe:1']],
  ['HTTP (MJPEG, HLS, MP4) with a read timeout',
    { ...base, ...classifySource('https://example.test/live.m3u8'), timeoutMs: 2_500 }, 5,
    [...G, '-rw_timeout', '2500000', '-i', 'https://example.test/live.m3u8', ...COPY, 'pipe:1']],
  ['a file at its native rate, looped',
    { ...base, ...classifySource('/media/clip.mp4'), loop: true }, 5,
    [...G, '-stream_loop', '-1', '-re', '-i', 'file:/media/clip.mp4', ...COPY, 'pipe:1']],
];

describe('ffmpeg argv', () => {
  for (const [name, spec, major, argv] of sources) {
    it(name, () => {
      expect(ffmpegArgv(sourcePlan(spec, major))).toEqual(argv);
    });
  }

  it('transcodes once to low-latency H.264 when the camera sends a codec browsers cannot play', () => {
    const argv = ffmpegArgv(sourcePlan({ ...base, ...classifySource('http://cam/video.mjpg') }, 5, true));
    expect(argv.slice(argv.indexOf('-map'))).toEqual(['-map', '0:v:0', ...TRANSCODE, '-an', '-sn', '-dn', ...FMP4_OUTPUT, 'pipe:1']);
    expect(TRANSCODE).toEqual(expect.arrayContaining(['libx264', 'zerolatency']));
  });

  it('decodes the copied stream with its own timestamps, decimated without moving a frame, each frame\'s pts said', () => {
    expect(decoderArgv({ fps: 5, maxWidth: 640, maxHeight: 640 }, 5)).toEqual([
      ...G, '-analyzeduration', '0', '-probesize', '4096', '-thread_type', 'slice', '-copyts', '-f', 'mp4', '-i', 'pipe:0', '-map', '0:v:0',
      // The first frame of each fifth of a second, and the one right after it (StreamDecoder drops that one).
      '-vf', `select='st(2,ld(1))*0+st(3,gt(floor(t*5)+1,ld(0)))*0+st(1,ld(3))*0+if(ld(3),st(0,floor(t*5)+1),0)*0+gt(ld(3)+ld(2),0)',${FIT(640, 640)},showinfo=checksum=0`,
      '-vsync', 'passthrough', ...RAW, '-flush_packets', '1', 'pipe:1',
    ]);
    // Every frame; ffmpeg 4's showinfo has no checksum option.
    expect(decoderArgv({ fps: 0, maxWidth: 320, maxHeight: 240 }, 4)).toContain(`${FIT(320, 240)},showinfo`);
  });

  it('lookout detect decodes a file straight to raw frames, as fast as possible', () => {
    const spec: SourceSpec = { ...base, ...classifySource('file:///media/a%20b.mp4'), realtime: false, detect: { fps: 0, maxWidth: 320, maxHeight: 240 } };
    expect(ffmpegArgv(detectPlan(spec, 5))).toEqual([...G, '-i', 'file:/media/a b.mp4', '-filter_complex', `[0:v:0]${FIT(320, 240)}[detect]`, '-map', '[detect]', ...RAW, 'pipe:1']);
    expect(ffmpegArgv(detectPlan({ ...spec, detect: { fps: 5, maxWidth: 640, maxHeight: 640 } }, 5))).toContain(`[0:v:0]fps=5,${FIT(640, 640)}[detect]`);
  });

  it('reads the major version from both Debian and static builds', () => {
    expect(ffmpegMajor('ffmpeg version 5.1.6-0+deb12u1')).toBe(5);
    expect(ffmpegMajor('ffmpeg version n6.1.1')).toBe(6);
    expect(ffmpegMajor('ffmpeg version N-47683-g0e8eb07980-static')).toBe(4);
  });
});

describe('camera URLs', () => {
  it('refuses what must never reach ffmpeg, saying why', () => {
    const cases: [string, RegExp][] = [
      ['-i /etc/passwd', /starts with "-"/],
      ['rtsp://cam/a\n-f null', /control character/],
      ['concat:/etc/passwd|/etc/hosts', /protocol "concat:" is not allowed/],
      ['subfile:,start,0,end,10,:/etc/passwd', /protocol "subfile:" is not allowed/],
      ['data:video/mp4;base64,AAAA', /protocol "data:" is not allowed/],
      ['pipe:0', /protocol "pipe:" is not allowed/],
      [`rtsp://cam/${'a'.repeat(3000)}`, /at most 2048/],
      ['', /empty/],
      ['rtsp://[bad', /not a valid URL/],
    ];
    for (const [url, message] of cases) expect(() => classifySource(url), url).toThrow(message);
    expect(() => classifySource('/etc/passwd', ['/srv/media'])).toThrow(/outside the allowed folders/);
    expect(() => classifySource('/srv/media/../etc/passwd', ['/srv/media'])).toThrow(SourceUrlError);
    expect(classifySource('/srv/media/a.mp4', ['/srv/media'])).toEqual({ kind: 'file', input: 'file:/srv/media/a.mp4' });
  });

  it('hides passwords wherever a URL is shown', () => {
    expect(redactUrl('rtsp://admin:hunter2@cam:554/s')).toBe('rtsp://admin:***@cam:554/s');
    expect(redactUrl('/media/a.mp4')).toBe('/media/a.mp4');
  });
});

describe('secrets in camera URLs', () => {
  it('hides passwords in the user part and in secret query parameters, in URLs and in ffmpeg\'s messages', () => {
    expect(redactUrl('http://admin:hunter2@10.0.0.5/videostream.cgi?user=admin&pwd=hunter2&res=1')).toBe('http://admin:***@10.0.0.5/videostream.cgi?user=admin&pwd=***&res=1');
    expect(redactUrl('rtsp://10.0.0.5/live?token=abc&channel=1')).toBe('rtsp://10.0.0.5/live?token=***&channel=1');
    expect(redactSecrets('http://x:y@h/a.cgi?Password=zz&u=1: 401 Unauthorized')).toBe('http://x:***@h/a.cgi?Password=***&u=1: 401 Unauthorized');
    expect(redactUrl('rtsp://10.0.0.5/live?channel=1&subtype=0')).toBe('rtsp://10.0.0.5/live?channel=1&subtype=0');
  });
});
