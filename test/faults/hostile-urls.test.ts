// Camera URLs written to make ffmpeg read what it should not, or to confuse
// its argument parsing. Each is refused with a clear reason before any ffmpeg
// starts (classifySource is the one gate config, the REST API and `lookout
// detect` all pass through); generated strings never slip an option or a
// forbidden protocol past it.
import fc from 'fast-check';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ffmpegArgv, sourcePlan } from '../../src/ingest/ffmpeg-args.js';
import { classifySource, MAX_URL_LENGTH } from '../../src/ingest/source-url.js';
import { mediaDir } from '../../src/util/paths.js';

const roots = [mediaDir];

describe('hostile camera URLs', () => {
  const cases: [string, RegExp][] = [
    ['-i /etc/passwd', /starts with "-"/],
    ['-filter_complex', /starts with "-"/],
    ['/etc/passwd', /outside the allowed folders/],
    ['file:///etc/shadow', /outside the allowed folders/],
    [`${mediaDir}/../../../../etc/passwd`, /outside the allowed folders/],
    ['file:' + encodeURIComponent('/etc/passwd'), /outside the allowed folders|not a valid URL/],
    ['concat:/etc/passwd|/etc/hosts', /protocol "concat:" is not allowed/],
    ['subfile:,start,0,end,100,:/etc/passwd', /protocol "subfile:" is not allowed/],
    ['data:text/plain;base64,AAAA', /protocol "data:" is not allowed/],
    ['pipe:0', /protocol "pipe:" is not allowed/],
    ['fd:3', /protocol "fd:" is not allowed/],
    ['tcp://127.0.0.1:22', /protocol "tcp:" is not allowed/],
    ['ftp://example.com/x.mp4', /protocol "ftp:" is not allowed/],
    ['async:file:/etc/passwd', /protocol "async:" is not allowed/],
    ['cache:http://x/y', /protocol "cache:" is not allowed/],
    ['rtsp://cam/stream\n-i /etc/passwd', /control character/],
    ['rtsp://cam/stream\r', /control character/],
    ['http://x/\u0000', /control character/],
    [`rtsp://cam/${'a'.repeat(MAX_URL_LENGTH)}`, /characters long/],
    ['', /empty/],
    ['rtsp://[::1', /not a valid URL/],
    // Found by the generated test below: a bare scheme passed as an RTSP camera.
    ['rtsp:', /has no host/],
    ['http:/etc/passwd', /has no host/],
  ];
  for (const [url, reason] of cases) {
    it(`refuses ${JSON.stringify(url.slice(0, 50))}`, () => {
      expect(() => classifySource(url, roots)).toThrow(reason);
    });
  }

  it('lets no generated string through as an option or a protocol other than rtsp, http or a file in the roots', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.string({ unit: 'binary' }), fc.constantFrom('-', ' -x', 'file:', 'FILE:', 'Concat:', 'rtsp:', 'HTTP://')).chain((s) => fc.tuple(fc.constant(s), fc.string())), ([head, tail]) => {
      const url = head + tail;
      let source;
      try {
        source = classifySource(url, roots);
      } catch {
        return;
      }
      // What passed is an rtsp(s)/http(s) URL or a file under the roots, and its argv entry cannot be read as an option.
      if (source.kind === 'file') expect(path.resolve(source.input.slice('file:'.length)).startsWith(mediaDir)).toBe(true);
      else expect(source.input).toMatch(/^(rtsps?|https?):\/\//i);
      const argv = ffmpegArgv(sourcePlan({ ...source, rtspTransport: 'tcp', timeoutMs: 1000, realtime: true, loop: false, detect: { fps: 5, maxWidth: 640, maxHeight: 640 } }, 5));
      const input = argv[argv.indexOf('-i') + 1];
      expect(input.startsWith('-')).toBe(false);
      expect(/[\u0000-\u001f]/.test(input)).toBe(false);
    }), { numRuns: 2000 });
  });
});
