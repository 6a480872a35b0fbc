// The camera-URL guard against server-side request forgery. Whoever may add
// a camera over the API could otherwise make lookout's ffmpeg connect where
// only this machine can: its loopback services (a database, an admin port),
// its own addresses, and link-local ones, 169.254.169.254 above all, where
// every large cloud answers with the machine's credentials. So a camera URL
// that came over the API may not target:
//
//   loopback      127.0.0.0/8, ::1
//   link-local    169.254.0.0/16, fe80::/10
//   unspecified   0.0.0.0/8, :: (connecting to 0.0.0.0 reaches this machine)
//   metadata      169.254.169.254, and the clouds' metadata services outside
//                 169.254/16: fd00:ec2::254 (AWS over IPv6), 100.100.100.200 (Alibaba)
//   its own       any address of this machine's interfaces, read at each check
//
// IPv4-mapped forms (::ffff:127.0.0.1) count as the IPv4 address they map.
// Private LAN ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed:
// that is where cameras live. `allowedSourceNetworks` lifts the rule for the
// blocks it lists (a relay such as go2rtc on this machine: 127.0.0.0/8).
// Config-file cameras are the operator's and never pass through here.
//
// A name is resolved as ffmpeg would resolve it (getaddrinfo, /etc/hosts
// first) and every address it has must pass: at save time, and again before
// every ffmpeg start, since a name's answer can change after it was saved
// (DNS rebinding). To leave no gap between that check and ffmpeg's own
// lookup, ffmpeg is given the address checked: for rtsp:// and http:// the
// host in the URL is replaced by it (http keeps the name in its Host header,
// so virtual hosts still answer). rtsps:// and https:// keep the name: TLS
// needs it for SNI and the certificate, so there a name that changes its
// answer between the check and ffmpeg's lookup, milliseconds later, is not
// caught. HTTP redirects are turned off where the ffmpeg build has the option
// (-max_redirects 0); README.md says what remains.
import { execFile } from 'node:child_process';
import dns from 'node:dns';
import net from 'node:net';
import os from 'node:os';
import { LookoutError } from '../util/errors.js';
import type { SourceSpec } from './ffmpeg-args.js';
import { redactSecrets, redactUrl } from './source-url.js';

/** One allowedSourceNetworks entry (config/source-networks.ts checked it). */
export interface AllowedNetwork {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** A name's addresses, in the order getaddrinfo gives them. Tests stand in for a DNS server here. */
export type Resolve = (host: string) => Promise<string[]>;

/** The camera URL targets an address the guard forbids; `url` is redacted. */
export class SourceForbiddenError extends LookoutError {
  readonly code = 'CAMERA_URL_FORBIDDEN';
  constructor(readonly url: string, message: string) {
    super(message);
  }

  override fields(): Record<string, unknown> {
    return { key: 'url' };
  }
}

/** The name would not resolve now; the camera retries as it would after any failed connection. */
export class SourceResolveError extends Error {}

/** A name that does not answer in this long is a failed attempt, not a wait that holds a camera change or a shutdown. */
const RESOLVE_TIMEOUT_MS = 5_000;

const blocks = (ranges: [string, number][]): net.BlockList => {
  const list = new net.BlockList();
  for (const [address, prefix] of ranges) list.addSubnet(address, prefix, net.isIPv4(address) ? 'ipv4' : 'ipv6');
  return list;
};

/** In this order: the metadata services first, so 169.254.169.254 is named for what it is. */
const FORBIDDEN: { kind: string; list: net.BlockList }[] = [
  { kind: 'a cloud metadata service address', list: blocks([['169.254.169.254', 32], ['100.100.100.200', 32], ['fd00:ec2::254', 128]]) },
  { kind: 'a loopback address', list: blocks([['127.0.0.0', 8], ['::1', 128]]) },
  { kind: 'a link-local address', list: blocks([['169.254.0.0', 16], ['fe80::', 10]]) },
  { kind: 'the unspecified address (it reaches this machine)', list: blocks([['0.0.0.0', 8], ['::', 128]]) },
];

/** The URL for messages and logs: as given, unless it holds a password, which redactUrl hides. */
function shownUrl(url: string): string {
  try {
    // As given, unless a password (user part or query) had to be hidden.
    const redacted = redactUrl(url);
    return redacted.includes('***') ? redacted : url;
  } catch {
    return redactSecrets(url);
  }
}

const RULE = 'lookout does not fetch loopback, link-local or its own addresses for cameras added over the API unless allowedSourceNetworks allows them';

/** getaddrinfo's answer, every address, in its own order: what ffmpeg's tcp protocol would try. */
export const lookupAll: Resolve = async (host) => (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** This machine's addresses now (interfaces come and go: DHCP, VPNs, containers). */
function ownAddresses(): net.BlockList {
  const list = new net.BlockList();
  for (const nets of Object.values(os.networkInterfaces())) {
    for (const n of nets ?? []) list.addAddress(n.address.replace(/%.*$/, ''), n.family === 'IPv4' ? 'ipv4' : 'ipv6');
  }
  return list;
}

/**
 * Where ffmpeg finds the host in a URL, cut as libavformat's av_url_split
 * cuts it: after the last "@" before the first "/", "?" or "#", up to ":"
 * (or "]" when bracketed). The check and the pinning use this cut, never
 * WHATWG's, which reads "\" as "/" for http and so can see another host.
 */
export function hostSpan(url: string): { host: string; start: number; end: number; authorityEnd: number } {
  const from = (/^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length) ?? 0;
  const rest = url.slice(from);
  const authorityEnd = from + (/[/?#]/.exec(rest)?.index ?? rest.length);
  // Older ffmpeg ends the authority at "/" or "?" only, newer also at "#": a "#" there gives two answers.
  if (url[authorityEnd] === '#' || url.slice(from, authorityEnd).includes('\\')) {
    throw new SourceForbiddenError(shownUrl(url), `${shownUrl(url)} is refused: a "#" or "\\" before its path makes its host ambiguous (ffmpeg versions and URL parsers read it differently); write them as %23 and %5C`);
  }
  const start = url.lastIndexOf('@', authorityEnd - 1) >= from ? url.lastIndexOf('@', authorityEnd - 1) + 1 : from;
  const closing = url.indexOf(']', start);
  if (url[start] === '[' && closing !== -1 && closing < authorityEnd) return { host: url.slice(start + 1, closing), start, end: closing + 1, authorityEnd };
  const colon = url.indexOf(':', start);
  const end = colon !== -1 && colon < authorityEnd ? colon : authorityEnd;
  return { host: url.slice(start, end), start, end, authorityEnd };
}

/** Which ffmpeg binaries know -max_redirects (Debian's 5.1 does, the bundled 2018 build does not), asked once per binary. */
const redirectOption = new Map<string, Promise<boolean>>();
function knowsMaxRedirects(ffmpegPath: string): Promise<boolean> {
  let known = redirectOption.get(ffmpegPath);
  if (!known) {
    known = new Promise<boolean>((resolve) => {
      execFile(ffmpegPath, ['-hide_banner', '-h', 'protocol=http'], { timeout: 10_000 }, (err, stdout) => resolve(!err && stdout.includes('-max_redirects')));
    });
    redirectOption.set(ffmpegPath, known);
  }
  return known;
}

export class SourceGuard {
  private readonly allowed = new net.BlockList();

  /** `resolve` is public so a test can stand in for a DNS server on a running lookout. */
  constructor(allowed: readonly AllowedNetwork[], public resolve: Resolve = lookupAll) {
    for (const n of allowed) this.allowed.addSubnet(n.address, n.prefix, n.family);
  }

  /** Why `address` is forbidden ("a loopback address"), or undefined when a camera may connect to it. */
  forbidden(address: string): string | undefined {
    const ip = address.replace(/%.*$/, '');
    const family = net.isIPv4(ip) ? 'ipv4' : 'ipv6';
    if (this.allowed.check(ip, family)) return undefined;
    const kind = FORBIDDEN.find((f) => f.list.check(ip, family))?.kind;
    return kind ?? (ownAddresses().check(ip, family) ? 'one of this server\'s own addresses' : undefined);
  }

  /**
   * Save time (POST, PATCH with a url): throws SourceForbiddenError when the
   * URL's host is, or resolves to, a forbidden address. A name that does not
   * resolve now is accepted, as it would be in the config file: the check
   * before each connection still stands between it and ffmpeg.
   */
  async check(url: string): Promise<void> {
    const { host } = hostSpan(url);
    const addresses = await this.addresses(host).catch((err: unknown) => {
      if (err instanceof SourceResolveError) return [];
      throw err;
    });
    this.refuse(url, host, addresses);
  }

  /**
   * Connect time, before every ffmpeg start: the spec to run, its host
   * replaced by the address checked (rtsp://, http://). Throws
   * SourceForbiddenError, or SourceResolveError when the name does not resolve.
   */
  async pin(spec: SourceSpec, ffmpegPath: string): Promise<SourceSpec> {
    if (spec.kind === 'file') return spec;
    const url = spec.input;
    const span = hostSpan(url);
    const addresses = await this.addresses(span.host);
    this.refuse(url, span.host, addresses);
    // A redirect would be a connection nobody checked.
    const checked: SourceSpec = spec.kind === 'http' && await knowsMaxRedirects(ffmpegPath) ? { ...spec, maxRedirects: 0 } : spec;
    const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
    if ((scheme !== 'rtsp' && scheme !== 'http') || net.isIP(span.host) !== 0) return checked;
    // Cameras are IPv4 first: a name with both kinds of address is pinned to its IPv4 one, as a camera LAN expects.
    const ip = addresses.find((a) => net.isIPv4(a)) ?? addresses[0];
    const input = `${url.slice(0, span.start)}${net.isIPv6(ip) ? `[${ip}]` : ip}${url.slice(span.end)}`;
    return { ...checked, input, ...(scheme === 'http' ? { headers: `Host: ${url.slice(span.start, span.authorityEnd)}\r\n` } : {}) };
  }

  private refuse(url: string, host: string, addresses: readonly string[]): void {
    for (const address of addresses) {
      const why = this.forbidden(address);
      if (!why) continue;
      const shown = shownUrl(url);
      const target = address === host ? address : `${host}, which resolves to ${address}`;
      throw new SourceForbiddenError(shown, `${shown} targets ${target}, ${why}; ${RULE}`);
    }
  }

  /** The host's addresses: itself when it is one, else what the resolver says, in bounded time. */
  private async addresses(host: string): Promise<string[]> {
    if (net.isIP(host) !== 0) return [host];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${RESOLVE_TIMEOUT_MS / 1000} s`)), RESOLVE_TIMEOUT_MS);
    });
    try {
      const found = await Promise.race([this.resolve(host), late]);
      if (found.length === 0) throw new Error('no addresses');
      return found;
    } catch (err) {
      throw new SourceResolveError(`cannot resolve ${host}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
