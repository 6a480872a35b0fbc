// The camera-URL SSRF guard on its own: which addresses are forbidden (and
// where allowedSourceNetworks lifts that, at its CIDR edges), the config
// key's checks, how the host is cut from a URL as ffmpeg cuts it, and the
// URL ffmpeg is given once a name's address is pinned. The resolver is a
// function here, standing in for DNS.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse.js';
import { ffmpegArgv, sourcePlan, type SourceSpec } from '../../src/ingest/ffmpeg-args.js';
import { hostSpan, SourceForbiddenError, SourceGuard, SourceResolveError, type AllowedNetwork } from '../../src/ingest/source-guard.js';

const allow = (...entries: string[]): AllowedNetwork[] => parseConfig({ allowedSourceNetworks: entries }).allowedSourceNetworks;
/** A name that resolves to `addresses`. */
const dnsOf = (answers: Record<string, string[]>) => async (host: string): Promise<string[]> => {
  const found = answers[host];
  if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  return found;
};
const spec = (input: string, kind: SourceSpec['kind'] = input.startsWith('rtsp') ? 'rtsp' : 'http'): SourceSpec =>
  ({ kind, input, rtspTransport: 'tcp', timeoutMs: 5_000, realtime: true, loop: false, detect: { fps: 2, maxWidth: 640, maxHeight: 640 } });
/** No ffmpeg at this path: it is asked nothing, so no -max_redirects. */
const NO_FFMPEG = '/nonexistent/ffmpeg';

describe('forbidden addresses', () => {
  const strict = new SourceGuard([]);

  it('refuses loopback, link-local, unspecified and metadata addresses, IPv4-mapped forms included', () => {
    for (const ip of ['127.0.0.1', '127.255.255.254', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1']) expect(strict.forbidden(ip), ip).toBe('a loopback address');
    for (const ip of ['169.254.0.0', '169.254.255.255', '::ffff:169.254.1.1', 'fe80::1', 'febf:ffff::1']) expect(strict.forbidden(ip), ip).toBe('a link-local address');
    for (const ip of ['169.254.169.254', '100.100.100.200', 'fd00:ec2::254']) expect(strict.forbidden(ip), ip).toMatch(/metadata/);
    for (const ip of ['0.0.0.0', '0.1.2.3', '::']) expect(strict.forbidden(ip), ip).toMatch(/unspecified/);
  });

  it('allows the LAN ranges cameras live on, and the edges just outside each forbidden block', () => {
    for (const ip of ['10.0.0.5', '172.16.4.4', '192.168.1.64', 'fd12:3456::64', '203.0.113.7', '126.255.255.255', '128.0.0.0', '169.253.255.255', '169.255.0.0', 'fec0::1', '1.0.0.0', '::2']) {
      expect(strict.forbidden(ip), ip).toBeUndefined();
    }
  });

  it("refuses this machine's own addresses", () => {
    const own = Object.values(os.networkInterfaces()).flat().filter((n) => n && !n.internal).map((n) => n!.address);
    for (const ip of own) expect(strict.forbidden(ip), ip).toBeDefined();
  });

  it('lets allowedSourceNetworks lift the rule for exactly its blocks', () => {
    const guard = new SourceGuard(allow('127.0.0.0/8', '169.254.10.0/24', '::1'));
    expect(guard.forbidden('127.0.0.1')).toBeUndefined();
    expect(guard.forbidden('::ffff:127.0.0.1')).toBeUndefined();
    expect(guard.forbidden('::1')).toBeUndefined();
    expect(guard.forbidden('169.254.10.0')).toBeUndefined();
    expect(guard.forbidden('169.254.10.255')).toBeUndefined();
    expect(guard.forbidden('169.254.9.255')).toBe('a link-local address');
    expect(guard.forbidden('169.254.11.0')).toBe('a link-local address');
    expect(guard.forbidden('169.254.169.254')).toMatch(/metadata/);
    // A block written with host bits set means its network.
    expect(new SourceGuard(allow('127.0.0.1/8')).forbidden('127.9.9.9')).toBeUndefined();
    expect(new SourceGuard(allow('::ffff:127.0.0.0/104')).forbidden('127.0.0.1')).toBeUndefined();
  });
});

describe('allowedSourceNetworks in the config', () => {
  it('takes CIDR blocks and single addresses of both families', () => {
    expect(allow('127.0.0.0/8', '::1/128', '169.254.10.0/24', '10.1.2.3', 'fe80::')).toEqual([
      { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
      { address: '169.254.10.0', prefix: 24, family: 'ipv4' },
      { address: '10.1.2.3', prefix: 32, family: 'ipv4' },
      { address: 'fe80::', prefix: 128, family: 'ipv6' },
    ]);
    expect(parseConfig({}).allowedSourceNetworks).toEqual([]);
  });

  it('stops start-up on a bad entry, naming the key and its index', () => {
    const bad: [unknown, RegExp][] = [
      [['127.0.0.0/8', 'localhost'], /allowedSourceNetworks\[1\]: expected an IPv4 or IPv6 address or CIDR block .* got "localhost"/],
      [['127.0.0.0/33'], /allowedSourceNetworks\[0\]: "127\.0\.0\.0\/33": the prefix length of an IPv4 block is a whole number from 0 to 32/],
      [['::1/129'], /allowedSourceNetworks\[0\]: .*from 0 to 128/],
      [['10.0.0.0/'], /allowedSourceNetworks\[0\]: .*prefix length/],
      [['10.0.0.0/8/8'], /allowedSourceNetworks\[0\]: expected/],
      [['256.0.0.1'], /allowedSourceNetworks\[0\]: expected/],
      [['fe80::1%eth0'], /allowedSourceNetworks\[0\]: expected/],
      [['10.0.0.0/8', 7], /allowedSourceNetworks\[1\]: expected a non-empty string/],
      ['127.0.0.0/8', /allowedSourceNetworks: expected a list/],
    ];
    for (const [value, message] of bad) expect(() => parseConfig({ allowedSourceNetworks: value }), JSON.stringify(value)).toThrow(message);
  });
});

describe('the host as ffmpeg reads it', () => {
  it('takes the last "@" of the authority, brackets and ports as libavformat does', () => {
    expect(hostSpan('rtsp://admin:p@ss@10.0.0.5:554/live').host).toBe('10.0.0.5');
    expect(hostSpan('rtsp://[::1]:8554/x').host).toBe('::1');
    expect(hostSpan('http://cam.example/a@127.0.0.1/').host).toBe('cam.example');
    expect(hostSpan('rtsp://cam?x=@127.0.0.1').host).toBe('cam');
  });

  it('refuses a "#" or "\\" before the path, where parsers disagree on the host', () => {
    expect(() => hostSpan('rtsp://cam.example#@127.0.0.1/x')).toThrow(/ambiguous/);
    expect(() => hostSpan('http://cam.example\\@127.0.0.1/x')).toThrow(SourceForbiddenError);
  });
});

describe('checking and pinning', () => {
  it('refuses a URL naming a forbidden address, or a name resolving to one, naming the URL without its password', async () => {
    const guard = new SourceGuard([], dnsOf({ 'metadata.test': ['203.0.113.5', '169.254.169.254'], 'cam.test': ['10.0.0.5'] }));
    await expect(guard.check('rtsp://admin:hunter2@127.0.0.1:8554/x')).rejects.toThrow(
      'rtsp://admin:***@127.0.0.1:8554/x targets 127.0.0.1, a loopback address; lookout does not fetch loopback, link-local or its own addresses for cameras added over the API unless allowedSourceNetworks allows them');
    // Every address a name has must pass, not only the first.
    await expect(guard.check('http://metadata.test/latest')).rejects.toThrow(/^http:\/\/metadata\.test\/latest targets metadata\.test, which resolves to 169\.254\.169\.254, a cloud metadata service address;/);
    await expect(guard.check('rtsp://cam.test/live')).resolves.toBeUndefined();
    // Not resolving now is no reason to refuse: the check before each connection stands.
    await expect(guard.check('rtsp://nowhere.test/live')).resolves.toBeUndefined();
  });

  it('gives ffmpeg the checked address: the host replaced for rtsp and http (with the name in Host), kept for TLS', async () => {
    const guard = new SourceGuard([], dnsOf({ 'cam.test': ['fd12::9', '10.0.0.9'], 'v6.test': ['fd12::9'] }));
    expect((await guard.pin(spec('rtsp://u:p@cam.test:554/live'), NO_FFMPEG)).input).toBe('rtsp://u:p@10.0.0.9:554/live');
    expect((await guard.pin(spec('rtsp://v6.test/live'), NO_FFMPEG)).input).toBe('rtsp://[fd12::9]/live');
    const http = await guard.pin(spec('http://cam.test:8080/video.mjpg'), NO_FFMPEG);
    expect(http).toMatchObject({ input: 'http://10.0.0.9:8080/video.mjpg', headers: 'Host: cam.test:8080\r\n' });
    expect(ffmpegArgv(sourcePlan(http, 5))).toEqual(expect.arrayContaining(['-headers', 'Host: cam.test:8080\r\n', '-i', 'http://10.0.0.9:8080/video.mjpg']));
    for (const url of ['https://cam.test/video.mjpg', 'rtsps://cam.test/live']) {
      const pinned = await guard.pin(spec(url), NO_FFMPEG);
      expect(pinned.input).toBe(url);
      expect(pinned.headers).toBeUndefined();
    }
    // A literal address needs no pinning, and files are the fileRoots' business.
    expect(await guard.pin(spec('rtsp://10.0.0.5/live'), NO_FFMPEG)).toEqual(spec('rtsp://10.0.0.5/live'));
    expect(await guard.pin(spec('file:/media/clip.mp4', 'file'), NO_FFMPEG)).toEqual(spec('file:/media/clip.mp4', 'file'));
  });

  it('catches a name whose answer changes after it was saved (a stand-in for a rebinding DNS server)', async () => {
    let asked = 0;
    const guard = new SourceGuard([], async () => (asked++ === 0 ? ['203.0.113.9'] : ['127.0.0.1']));
    await guard.check('rtsp://rebind.test:8554/x');
    await expect(guard.pin(spec('rtsp://rebind.test:8554/x'), NO_FFMPEG)).rejects.toThrow(/rtsp:\/\/rebind\.test:8554\/x targets rebind\.test, which resolves to 127\.0\.0\.1, a loopback address/);
  });

  it('fails a connection whose name does not resolve, rather than letting ffmpeg look it up itself', async () => {
    const guard = new SourceGuard([], dnsOf({}));
    await expect(guard.pin(spec('rtsp://nowhere.test/x'), NO_FFMPEG)).rejects.toThrow(SourceResolveError);
    await expect(guard.pin(spec('rtsp://nowhere.test/x'), NO_FFMPEG)).rejects.toThrow(/cannot resolve nowhere\.test: getaddrinfo ENOTFOUND/);
  });

  it('resolves numeric host forms as getaddrinfo (and so ffmpeg) reads them', async () => {
    const guard = new SourceGuard([]);
    for (const url of ['rtsp://2130706433/x', 'rtsp://127.1/x', 'rtsp://0x7f.1/x', 'rtsp://localhost/x']) {
      await expect(guard.check(url), url).rejects.toThrow(/a loopback address/);
    }
  });
});
