import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Address ranges a webhook must not reach unless `allowPrivateNetwork` is set: a URL that
 * resolves into them could reach internal services or cloud metadata (SSRF).
 */
const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local / cloud metadata'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];
const LISTS = RANGES.map(([net, prefix, type, reason]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { list, type, reason };
});

/**
 * Why `address` is not a public address, or `undefined` if it is. IPv4-mapped and NAT64 IPv6
 * addresses are judged by the IPv4 address they carry.
 */
export function privateAddressReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  if (family === 6) {
    const lower = address.toLowerCase();
    const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
    if (embedded) return privateAddressReason(embedded);
    const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
    if (hex) {
      const high = Number.parseInt(hex[1]!, 16);
      const low = Number.parseInt(hex[2]!, 16);
      return privateAddressReason(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find((r) => r.type === type && r.list.check(address, type))?.reason;
}

/** Thrown by the guarded lookup; the transport turns it into a permanent delivery error. */
export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  readonly code = 'ESSRFBLOCKED';
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(
      `refused to connect to ${hostname} (${address}): ${reason} address; set allowPrivateNetwork: true to allow it`,
    );
  }
}

/**
 * A `dns.lookup` replacement for sockets: resolves as usual, then refuses if any resolved
 * address is private (checked after resolution, so a public name pointing at 127.0.0.1 is
 * refused too, and every address is checked, not just the first).
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    for (const { address } of addresses) {
      const reason = privateAddressReason(address);
      if (reason) return callback(new BlockedAddressError(hostname, address, reason), '', 0);
    }
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};
