// Where a request comes from, and who a trusted proxy says it is for.
//
// The peer is the socket's address. Behind a proxy lookout trusts
// (auth.trustedProxy.addresses; loopback only when listed there: a local
// forwarder such as ssh -L or socat adds no header, and its clients would
// choose their own address), the client is the rightmost address of
// X-Forwarded-For that is not itself a trusted proxy: proxies append, so
// what a client wrote on the left is never believed. The login limiter and
// the refusal log count by this address.
import { isIPv4, isIPv6, type BlockList } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { TrustedProxyConfig } from '../config/schema.js';
import { blockListOf } from '../config/source-networks.js';
import type { Principal } from './accounts.js';
import { USER_NAME } from './user-db.js';

/** "::ffff:10.0.0.5" as "10.0.0.5": node reports IPv4 peers of a dual-stack socket that way. */
export const plainAddress = (a: string): string => (a.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a);

const inList = (list: BlockList, address: string): boolean => list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');

export class ClientIdentity {
  private readonly trusted: BlockList;
  private readonly proxies: BlockList | undefined;

  constructor(private readonly proxy: TrustedProxyConfig | undefined) {
    this.proxies = proxy ? blockListOf(proxy.addresses) : undefined;
    this.trusted = blockListOf(proxy?.addresses ?? []);
  }

  /** The client's address, through trusted proxies. */
  address(req: IncomingMessage): string {
    const peer = plainAddress(req.socket.remoteAddress ?? 'unknown');
    if (!isIPv4(peer) && !isIPv6(peer)) return peer;
    if (!inList(this.trusted, peer)) return peer;
    const forwarded = String(req.headers['x-forwarded-for'] ?? '').split(',').map((s) => plainAddress(s.trim())).filter((s) => isIPv4(s) || isIPv6(s));
    for (let i = forwarded.length - 1; i >= 0; i--) if (!inList(this.trusted, forwarded[i])) return forwarded[i];
    return forwarded[0] ?? peer;
  }

  /** The user a trusted proxy names in its headers, from a request that came from it; undefined otherwise. */
  proxied(req: IncomingMessage): Principal | undefined {
    if (!this.proxy || !this.proxies) return undefined;
    const peer = plainAddress(req.socket.remoteAddress ?? '');
    if (!(isIPv4(peer) || isIPv6(peer)) || !inList(this.proxies, peer)) return undefined;
    const user = headerValue(req, this.proxy.userHeader);
    if (!user || !USER_NAME.test(user)) return undefined;
    const groups = (headerValue(req, this.proxy.roleHeader) ?? '').split(/[\s,]+/).filter(Boolean);
    const admin = groups.some((g) => this.proxy?.adminValues.includes(g));
    return { user, role: admin ? 'admin' : 'viewer', via: 'proxy' };
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
}
