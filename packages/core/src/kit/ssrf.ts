import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

/**
 * The SSRF guard: address ranges a webhook must not reach unless `allowPrivateNetwork` is set, as
 * a URL that resolves into them could reach internal services, cloud metadata or network gear.
 *
 * Sources (docs/security.md lists them with the decisions):
 * - IANA IPv4 Special-Purpose Address Registry (RFC 6890) and the IPv4 Multicast registry;
 * - IANA IPv6 Special-Purpose Address Registry and the IPv6 Address Space registry (everything
 *   outside 2000::/3 global unicast is unassigned or special);
 * - the deprecated forms still found in the wild: IPv4-compatible ::/96 (RFC 4291 §2.5.5.1),
 *   SIIT ::ffff:0:0:0/96 (RFC 2765), site-local fec0::/10 (RFC 3879).
 *
 * Every range of those registries is refused, the "globally reachable" ones too (AS112, AMT,
 * PCP/TURN anycast, ORCHIDv2, …): no webhook receiver lives there, and anycast service addresses
 * reach whatever box is nearest, often the local gateway. IPv4 carried inside IPv6 is judged by
 * the IPv4 address where the network delivers to it (IPv4-mapped, NAT64 64:ff9b::/96, 6to4), and
 * refused outright where it is tunnelled through third parties or local configuration decides
 * (Teredo, local-use NAT64, IPv4-compatible, SIIT).
 */

/** A range: the network as a 32- or 128-bit number, its prefix length, and why it is refused. */
interface Range {
  net: bigint;
  bits: number;
  reason: string;
}

const IPV4_RANGES: readonly [string, string][] = [
  ['0.0.0.0/8', 'unspecified'], // "this network" (RFC 791)
  ['10.0.0.0/8', 'private'], // RFC 1918
  ['100.64.0.0/10', 'carrier-grade NAT'], // RFC 6598
  ['127.0.0.0/8', 'loopback'], // RFC 1122
  ['169.254.0.0/16', 'link-local / cloud metadata'], // RFC 3927; 169.254.169.254 on every cloud
  ['172.16.0.0/12', 'private'], // RFC 1918
  ['192.0.0.0/24', 'IETF protocol assignments'], // RFC 6890 (incl. PCP and TURN anycast, NAT64 discovery)
  ['192.0.2.0/24', 'documentation (TEST-NET-1)'], // RFC 5737
  ['192.31.196.0/24', 'AS112 DNS sink'], // RFC 7535
  ['192.52.193.0/24', 'AMT relay'], // RFC 7450
  ['192.88.99.0/24', '6to4 relay anycast (deprecated)'], // RFC 7526 (and 6a44 relay, RFC 6751)
  ['192.168.0.0/16', 'private'], // RFC 1918
  ['192.175.48.0/24', 'AS112 DNS sink'], // RFC 7534
  ['198.18.0.0/15', 'benchmarking'], // RFC 2544
  ['198.51.100.0/24', 'documentation (TEST-NET-2)'], // RFC 5737
  ['203.0.113.0/24', 'documentation (TEST-NET-3)'], // RFC 5737
  ['224.0.0.0/4', 'multicast'], // RFC 5771
  ['240.0.0.0/4', 'reserved'], // RFC 1112
  ['255.255.255.255/32', 'broadcast'], // RFC 919
];

const IPV6_RANGES: readonly [string, string][] = [
  ['::/128', 'unspecified'], // RFC 4291
  ['::1/128', 'loopback'], // RFC 4291
  ['::/96', 'IPv4-compatible (deprecated)'], // RFC 4291 §2.5.5.1; some stacks tunnel it to the IPv4 address
  ['::ffff:0:0:0/96', 'SIIT IPv4-translated'], // RFC 2765 (obsoleted by RFC 6145)
  ['64:ff9b:1::/48', 'local-use NAT64'], // RFC 8215: translates into the operator's own IPv4 network
  ['100::/64', 'discard-only'], // RFC 6666
  ['100:0:0:1::/64', 'dummy IPv6 prefix'], // RFC 9780
  ['2001::/23', 'IETF protocol assignments'], // RFC 2928 (PCP, TURN, DNS-SD SRP anycast 2001:1::1-3)
  ['2001::/32', 'Teredo tunnel'], // RFC 4380
  ['2001:2::/48', 'benchmarking'], // RFC 5180
  ['2001:3::/32', 'AMT relay'], // RFC 7450
  ['2001:4:112::/48', 'AS112 DNS sink'], // RFC 7535
  ['2001:10::/28', 'ORCHID (deprecated)'], // RFC 4843
  ['2001:20::/28', 'ORCHIDv2'], // RFC 7343
  ['2001:30::/28', 'drone remote ID tag'], // RFC 9374
  ['2001:db8::/32', 'documentation'], // RFC 3849
  ['2620:4f:8000::/48', 'AS112 DNS sink'], // RFC 7534
  ['3fff::/20', 'documentation'], // RFC 9637
  ['5f00::/16', 'SRv6 segment routing'], // RFC 9602
  ['fc00::/7', 'unique local (private)'], // RFC 4193
  ['fe80::/10', 'link-local'], // RFC 4291
  ['fec0::/10', 'site-local (deprecated)'], // RFC 3879
  ['ff00::/8', 'multicast'], // RFC 4291
];

/** IPv4 inside IPv6 that the network delivers to the IPv4 address: judged by that address. */
const MAPPED = range('::ffff:0:0/96', ''); // RFC 4291 §2.5.5.2
const NAT64 = range('64:ff9b::/96', ''); // RFC 6052 well-known prefix
const SIX_TO_FOUR = range('2002::/16', ''); // RFC 3056: 2002:AABB:CCDD::/48 is IPv4 AA.BB.CC.DD
/** Everything outside global unicast is unassigned or special (IANA IPv6 Address Space). */
const GLOBAL_UNICAST = range('2000::/3', '');

const V4 = sortRanges(IPV4_RANGES.map(([cidr, reason]) => range(cidr, reason)));
const V6 = sortRanges(IPV6_RANGES.map(([cidr, reason]) => range(cidr, reason)));

function range(cidr: string, reason: string): Range {
  const [address, bits] = cidr.split('/') as [string, string];
  const net = address.includes(':') ? parseIPv6(address) : parseIPv4(address);
  if (net === undefined) throw new Error(`bad range ${cidr}`);
  return { net, bits: Number(bits), reason };
}

/** Most specific first, so a sub-range's reason wins over its parent's. */
function sortRanges(ranges: Range[]): Range[] {
  return ranges.sort((a, b) => b.bits - a.bits);
}

function contains(r: Range, address: bigint, width: number): boolean {
  const shift = BigInt(width - r.bits);
  return address >> shift === r.net >> shift;
}

/** Strict dotted decimal (what DNS answers and URL parsers print): no octal, hex or short forms. */
function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // A leading zero is octal to inet_aton(): '010.0.0.1' is 8.0.0.1 there, so it is no address here.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

/**
 * Every textual form of an IPv6 address: compressed or not, leading zeros, any case, a dotted
 * IPv4 tail (`::ffff:127.0.0.1`, `64:ff9b::10.0.0.1`, `0:0:0:0:0:ffff:7f00:1`), a zone id
 * (`fe80::1%eth0`), and URL brackets.
 */
function parseIPv6(input: string): bigint | undefined {
  let text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const zone = text.indexOf('%');
  if (zone >= 0) {
    if (zone === text.length - 1) return undefined;
    text = text.slice(0, zone);
  }
  let tail: bigint | undefined;
  if (text.includes('.')) {
    const cut = text.lastIndexOf(':');
    if (cut < 0) return undefined;
    tail = parseIPv4(text.slice(cut + 1));
    if (tail === undefined) return undefined;
    // Drop the IPv4 part, keeping a '::' before it: '::1.2.3.4' → '::', '::ffff:1.2.3.4' → '::ffff'.
    text = text.slice(0, cut);
    if (text.endsWith(':')) text += ':';
  }
  const groupsWanted = tail === undefined ? 8 : 6;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string) => (s === '' ? [] : s.split(':'));
  const head = split(halves[0]!);
  const rest = halves.length === 2 ? split(halves[1]!) : [];
  const present = head.length + rest.length;
  if (halves.length === 2 ? present > groupsWanted - 1 : present !== groupsWanted) return undefined;
  const groups = [...head, ...Array<string>(groupsWanted - present).fill('0'), ...rest];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return tail === undefined ? value : (value << 32n) | tail;
}

function reasonV4(address: bigint): string | undefined {
  return V4.find((r) => contains(r, address, 32))?.reason;
}

function reasonV6(address: bigint): string | undefined {
  for (const carrier of [MAPPED, NAT64]) {
    if (contains(carrier, address, 128)) return reasonV4(address & 0xffff_ffffn);
  }
  if (contains(SIX_TO_FOUR, address, 128)) return reasonV4((address >> 80n) & 0xffff_ffffn);
  const special = V6.find((r) => contains(r, address, 128))?.reason;
  if (special) return special;
  return contains(GLOBAL_UNICAST, address, 128) ? undefined : 'reserved (not global unicast)';
}

/**
 * Why `address` is not a public address, or `undefined` if it is. Takes every textual form of
 * IPv4 (strict dotted decimal) and IPv6 (see above); IPv4 carried in IPv6 is judged as described
 * at the top of this file. Anything that is not an IP address is refused too (`'not an IP
 * address'`): the guard fails closed.
 *
 * @example
 * privateAddressReason('0:0:0:0:0:ffff:7f00:1'); // 'loopback'
 * privateAddressReason('2002:a9fe:a9fe::');       // 'link-local / cloud metadata'
 * privateAddressReason('93.184.216.34');          // undefined
 */
export function privateAddressReason(address: string): string | undefined {
  if (typeof address !== 'string') return 'not an IP address';
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return reasonV4(v4);
  const v6 = address.includes(':') ? parseIPv6(address) : undefined;
  if (v6 !== undefined) return reasonV6(v6);
  return 'not an IP address';
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
