/**
 * The SSRF table against the IANA special-purpose registries, with ipaddr.js (which carries both
 * registries' ranges) as the oracle, over every textual form of an address.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { privateAddressReason } from '../src/kit/index.js';

const blocked = (address: string) => privateAddressReason(address) !== undefined;

describe('privateAddressReason: the ranges', () => {
  it.each([
    // The ranges issue 11 found missing, each by the address that shows why it matters.
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['[::127.0.0.1]', 'IPv4-compatible (deprecated)'],
    ['2002:a9fe:a9fe::', 'link-local / cloud metadata'], // 6to4 carrying 169.254.169.254
    ['2002:7f00:1::', 'loopback'],
    ['2002:0a00:0001:1::1', 'private'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo tunnel'],
    ['64:ff9b:1::a00:1', 'local-use NAT64'],
    ['64:ff9b:1:ffff::1', 'local-use NAT64'],
    ['::ffff:0:127.0.0.1', 'SIIT IPv4-translated'],
    ['::ffff:0:808:808', 'SIIT IPv4-translated'],
    ['100::1', 'discard-only'],
    ['2001:db8::1', 'documentation'],
    ['3fff:fff::1', 'documentation'],
    ['fec0::1', 'site-local (deprecated)'],
    ['2001:10::1', 'ORCHID (deprecated)'],
    ['5f00::1', 'SRv6 segment routing'],
    ['192.0.2.1', 'documentation (TEST-NET-1)'],
    ['198.51.100.77', 'documentation (TEST-NET-2)'],
    ['203.0.113.255', 'documentation (TEST-NET-3)'],
    ['192.88.99.1', '6to4 relay anycast (deprecated)'],
    // The uncompressed and other spellings of IPv4-mapped loopback.
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['0000:0000:0000:0000:0000:FFFF:7F00:0001', 'loopback'],
    ['0:0:0:0:0:ffff:127.0.0.1', 'loopback'],
    ['::FFFF:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    // The rest of both registries.
    ['0.0.0.0', 'unspecified'],
    ['10.255.255.255', 'private'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local / cloud metadata'],
    ['172.16.0.1', 'private'],
    ['192.0.0.9', 'IETF protocol assignments'],
    ['192.31.196.1', 'AS112 DNS sink'],
    ['192.52.193.1', 'AMT relay'],
    ['192.168.0.1', 'private'],
    ['192.175.48.6', 'AS112 DNS sink'],
    ['198.19.255.255', 'benchmarking'],
    ['224.0.0.251', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['100:0:0:1::1', 'dummy IPv6 prefix'],
    ['2001:1::1', 'IETF protocol assignments'],
    ['2001:2::1', 'benchmarking'],
    ['2001:3::1', 'AMT relay'],
    ['2001:4:112::1', 'AS112 DNS sink'],
    ['2001:20::1', 'ORCHIDv2'],
    ['2001:30::1', 'drone remote ID tag'],
    ['2620:4f:8000::1', 'AS112 DNS sink'],
    ['fd00:ec2::254', 'unique local (private)'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['4000::1', 'reserved (not global unicast)'],
    ['1::', 'reserved (not global unicast)'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(privateAddressReason(address)).toBe(reason);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '::ffff:8.8.8.8',
    '0:0:0:0:0:ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '2606:4700::6810:85e5',
    '2001:4860:4860::8888',
    '2a00:1450:4001:830::200e',
    '3ffe::1',
  ])('lets the public address %s through', (address) => {
    expect(privateAddressReason(address)).toBeUndefined();
  });

  it.each([
    'localhost',
    '0127.0.0.1',
    '0x7f.0.0.1',
    '2130706433',
    '127.1',
    '1:2:3:4:5:6:7:8:9',
    '::ffff:127.1',
    '',
    'fe80::1%',
  ])('fails closed on %j, which is not an IP address', (text) => {
    expect(privateAddressReason(text)).toBe('not an IP address');
  });
});

/** Every textual form of one IPv6 address. */
function spellings(address: ipaddr.IPv6): string[] {
  const groups = address.toNormalizedString().split(':');
  const bytes = address.toByteArray();
  const dotted = bytes.slice(12).join('.');
  const forms = [
    address.toString(),
    address.toNormalizedString(),
    groups.map((g) => g.padStart(4, '0')).join(':'),
    groups
      .map((g) => g.padStart(4, '0'))
      .join(':')
      .toUpperCase(),
    `[${address.toString()}]`,
    `${groups.slice(0, 6).join(':')}:${dotted}`,
    ipaddr.IPv6.parse(`${groups.slice(0, 6).join(':')}:${dotted}`).toString(),
  ];
  // The compressed form with a dotted tail, as `::ffff:1.2.3.4` is usually written.
  const compressedHead = ipaddr.IPv6.parse(`${groups.slice(0, 6).join(':')}:0:0`).toString();
  // ('::' stands for one group or more, so the zero run must reach into the first six groups.)
  const explicit = compressedHead.split(':').filter((g) => g !== '').length;
  if (compressedHead.endsWith('::') && explicit < 6) forms.push(`${compressedHead}${dotted}`);
  else if (compressedHead.endsWith(':0:0')) forms.push(`${compressedHead.slice(0, -3)}${dotted}`);
  return forms;
}

/** Whether ipaddr.js says an IPv4 address (as 4 bytes) is not public unicast. */
function oracleV4(bytes: number[]): boolean {
  return ipaddr.fromByteArray(bytes).range() !== 'unicast';
}

/** The oracle for IPv6: ipaddr.js's range, and the embedded IPv4 address where one is delivered to. */
function oracleV6(address: ipaddr.IPv6): boolean {
  const bytes = address.toByteArray();
  const range = address.range();
  const inside = (cidr: string) => address.match(ipaddr.parseCIDR(cidr) as [ipaddr.IPv6, number]);
  switch (range) {
    case 'ipv4Mapped':
      return oracleV4(bytes.slice(12));
    case 'rfc6052':
      // 64:ff9b::/96 reaches the IPv4 address; local-use 64:ff9b:1::/48 reaches the operator's network.
      return inside('64:ff9b::/96') ? oracleV4(bytes.slice(12)) : true;
    case '6to4':
      return oracleV4(bytes.slice(2, 6));
    case 'unicast':
      // ipaddr.js has no entry for these three; outside 2000::/3 nothing is assigned for unicast.
      return !inside('2000::/3') || inside('::/96') || inside('100:0:0:1::/64');
    default:
      return true;
  }
}

/** Addresses near the edges of every special range, and anywhere at all. */
const ipv4Bytes = fc.oneof(
  fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }),
  fc
    .tuple(fc.constantFrom(...ipaddrRanges4()), fc.integer({ min: -2, max: 2 }), fc.boolean())
    .map(([[net, bits], delta, last]) => {
      const base = net.toByteArray().reduce((n, b) => n * 256 + b, 0);
      const size = 2 ** (32 - bits);
      const value = ((((last ? base + size - 1 : base) + delta) % 2 ** 32) + 2 ** 32) % 2 ** 32;
      return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
    }),
);

function ipaddrRanges4(): [ipaddr.IPv4, number][] {
  const ranges: [ipaddr.IPv4, number][] = [];
  for (const entry of Object.values(
    (ipaddr.IPv4.prototype as unknown as { SpecialRanges: Record<string, unknown> }).SpecialRanges,
  )) {
    const list = Array.isArray((entry as unknown[])[0])
      ? (entry as [ipaddr.IPv4, number][])
      : [entry as [ipaddr.IPv4, number]];
    ranges.push(...list);
  }
  return ranges;
}

function ipaddrRanges6(): [ipaddr.IPv6, number][] {
  const ranges: [ipaddr.IPv6, number][] = [];
  for (const entry of Object.values(
    (ipaddr.IPv6.prototype as unknown as { SpecialRanges: Record<string, unknown> }).SpecialRanges,
  )) {
    const list = Array.isArray((entry as unknown[])[0])
      ? (entry as [ipaddr.IPv6, number][])
      : [entry as [ipaddr.IPv6, number]];
    ranges.push(...list);
  }
  // And the ones ipaddr.js lacks or that border the global unicast block.
  for (const cidr of ['::/96', '100:0:0:1::/64', '2000::/3', '4000::/2', '1::/16']) {
    ranges.push(ipaddr.parseCIDR(cidr) as [ipaddr.IPv6, number]);
  }
  return ranges;
}

const ipv6Bytes = fc.oneof(
  fc.array(fc.nat(255), { minLength: 16, maxLength: 16 }),
  // A special range's network with random host bits (or its first or last address).
  fc
    .tuple(
      fc.constantFrom(...ipaddrRanges6()),
      fc.array(fc.nat(255), { minLength: 16, maxLength: 16 }),
      fc.nat(2),
    )
    .map(([[net, bits], host, edge]) => {
      const netBytes = net.toByteArray();
      return netBytes.map((b, i) => {
        const keep = Math.max(0, Math.min(8, bits - i * 8));
        const mask = (0xff << (8 - keep)) & 0xff;
        const hostByte = edge === 0 ? 0 : edge === 1 ? 0xff : host[i]!;
        return (b & mask) | (hostByte & ~mask & 0xff);
      });
    }),
  // IPv4 carried in each IPv6 form, with addresses near the special IPv4 ranges.
  fc
    .tuple(fc.constantFrom('mapped', 'nat64', 'nat64-local', '6to4', 'compat', 'siit', 'teredo'), ipv4Bytes)
    .map(([form, v4]) => {
      const text = v4.join('.');
      switch (form) {
        case 'mapped':
          return ipaddr.IPv6.parse(`::ffff:${text}`).toByteArray();
        case 'nat64':
          return ipaddr.IPv6.parse(`64:ff9b::${text}`).toByteArray();
        case 'nat64-local':
          return ipaddr.IPv6.parse(`64:ff9b:1::${text}`).toByteArray();
        case '6to4':
          return [0x20, 0x02, ...v4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        case 'compat':
          return ipaddr.IPv6.parse(`::${text}`).toByteArray();
        case 'siit':
          return ipaddr.IPv6.parse(`::ffff:0:${text}`).toByteArray();
        default:
          // Teredo: server IPv4 after 2001:0, client IPv4 XOR 0xffffffff in the last 32 bits.
          return [0x20, 0x01, 0, 0, ...v4, 0, 0, 0, 0, ...v4.map((b) => b ^ 0xff)];
      }
    }),
);

describe('privateAddressReason against ipaddr.js (fuzzed)', () => {
  it('refuses exactly the IPv4 addresses that are not public unicast', () => {
    fc.assert(
      fc.property(ipv4Bytes, (bytes) => {
        expect(blocked(bytes.join('.'))).toBe(oracleV4(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('judges every IPv6 address as the oracle does, in every spelling, with the same reason', () => {
    fc.assert(
      fc.property(ipv6Bytes, (bytes) => {
        const address = ipaddr.fromByteArray(bytes) as ipaddr.IPv6;
        const forms = spellings(address);
        const reasons = new Set(forms.map((f) => privateAddressReason(f)));
        expect(reasons.size, `${forms.join(' | ')} → ${[...reasons].join(', ')}`).toBe(1);
        expect(blocked(forms[0]!), forms[0]).toBe(oracleV6(address));
      }),
      { numRuns: 3000 },
    );
  });

  it('parses what ipaddr.js parses, and refuses what it refuses', () => {
    const text = fc.oneof(
      ipv6Bytes
        .map((b) => fc.constantFrom(...spellings(ipaddr.fromByteArray(b) as ipaddr.IPv6)))
        .chain((x) => x),
      fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/),
    );
    fc.assert(
      fc.property(text, (t) => {
        const valid =
          ipaddr.IPv6.isValid(t.replace(/^\[(.*)\]$/, '$1')) || ipaddr.IPv4.isValidFourPartDecimal(t);
        expect(privateAddressReason(t) !== 'not an IP address', t).toBe(valid);
      }),
      { numRuns: 3000 },
    );
  });
});
