// `allowedSourceNetworks`: the exceptions to the camera-URL guard
// (ingest/source-guard.ts). A camera added or changed over the API may not
// make ffmpeg connect to this machine (loopback, its own addresses),
// link-local addresses (169.254.169.254 is the clouds' metadata service) or
// the unspecified address, unless its address lies in one of these.
//
// Entries are CIDR blocks or single addresses, IPv4 or IPv6, never names (a
// name is what the guard resolves and checks). A block written with host
// bits set (192.168.1.7/24) means its network, as ip(8) and firewalls read
// it, and an IPv4-mapped entry (::ffff:127.0.0.0/104) covers the IPv4
// addresses it maps: node's net.BlockList, which the guard builds from
// these, reads them so.
import net from 'node:net';
import { describe, type Reader } from './reader.js';

/** One entry: a CIDR block; a single address has the full prefix. */
export interface NetworkRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** The list; errors name the entry: `allowedSourceNetworks[1]: …`. */
export function parseSourceNetworks(r: Reader, value: unknown): NetworkRange[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) r.fail('allowedSourceNetworks', `expected a list of CIDR blocks or addresses (e.g. ['127.0.0.0/8', '::1']), got ${describe(value)}`);
  return value.map((entry, i) => parseNetwork(r, entry, `allowedSourceNetworks[${i}]`));
}

/** One address or CIDR block at `key` (allowedSourceNetworks[i], auth.trustedProxy.addresses[i]). */
export function parseNetwork(r: Reader, entry: unknown, key: string): NetworkRange {
  const text = r.string(entry, key, '').trim();
  const [address = '', prefixText, extra] = text.split('/');
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (!family || extra !== undefined) {
    r.fail(key, `expected an IPv4 or IPv6 address or CIDR block such as 127.0.0.0/8, ::1 or 169.254.10.0/24, got ${JSON.stringify(text)}`);
  }
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits)) {
    r.fail(key, `${JSON.stringify(text)}: the prefix length of an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} block is a whole number from 0 to ${bits}`);
  }
  return { address, prefix: prefixText === undefined ? bits : Number(prefixText), family };
}

/** The ranges as one node BlockList, to check an address against all of them. */
export function blockListOf(ranges: readonly NetworkRange[]): net.BlockList {
  const list = new net.BlockList();
  for (const n of ranges) list.addSubnet(n.address, n.prefix, n.family);
  return list;
}
