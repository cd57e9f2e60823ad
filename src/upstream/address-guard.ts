import { isIPv4, isIPv6 } from 'node:net';

/**
 * SSRF guard: decides whether the poller may connect to an IP address.
 *
 * Own parsing rather than node:net BlockList because BlockList does not look inside IPv6 forms that
 * embed an IPv4 address (::ffff:127.0.0.1, 64:ff9b::10.0.0.1, 2002:0a00:0001::), and those are exactly
 * the forms used to smuggle a private target past a naive check.
 */

export type AddressClass =
  | 'public'
  | 'private' // RFC 1918
  | 'loopback'
  | 'cgnat' // RFC 6598 shared address space
  | 'unique-local' // fc00::/7
  | 'link-local' // also the cloud metadata endpoint 169.254.169.254
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved' // documentation, benchmarking, protocol assignments, 240/4, deprecated IPv6 forms…
  | 'invalid';

export interface AddressPolicy {
  /** Allow private, loopback, CGNAT, unique-local and reserved ranges (an internal feed host). */
  allowPrivate: boolean;
  /**
   * Exact addresses allowed whatever their class. A narrow seam: tests allow the local test server
   * (127.0.0.1) without opening every private range; operators may allow one known internal host.
   */
  allowedAddresses?: readonly string[] | undefined;
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: AddressClass };

/**
 * Classes that allowPrivate opens. Link-local stays closed even then: no feed lives there, and it is
 * where cloud metadata services answer (169.254.169.254, fd00:ec2::254 is unique-local and opens).
 */
const OPENED_BY_ALLOW_PRIVATE: ReadonlySet<AddressClass> = new Set(['private', 'loopback', 'cgnat', 'unique-local', 'reserved']);

/** Whether a connection to `address` is allowed under `policy`, and if not, why. */
export function checkAddress(address: string, policy: AddressPolicy): AddressVerdict {
  const kind = classifyAddress(address);
  if (kind === 'public') return { allowed: true };
  if (kind !== 'invalid' && policy.allowedAddresses?.some((a) => sameAddress(a, address))) return { allowed: true };
  if (policy.allowPrivate && OPENED_BY_ALLOW_PRIVATE.has(kind)) return { allowed: true };
  return { allowed: false, reason: kind };
}

/** Classifies an IPv4 or IPv6 address (an IPv6 zone suffix such as %eth0 is ignored). */
export function classifyAddress(address: string): AddressClass {
  const ip = stripZone(address.trim());
  if (isIPv4(ip)) return classifyIPv4(parseIPv4(ip));
  if (isIPv6(ip)) return classifyIPv6(parseIPv6(ip));
  return 'invalid';
}

/** True when two textual addresses name the same IP (2001:DB8::1 and 2001:db8:0::1, for example). */
export function sameAddress(a: string, b: string): boolean {
  const x = canonical(a);
  return x !== null && x === canonical(b);
}

function canonical(address: string): string | null {
  const ip = stripZone(address.trim());
  if (isIPv4(ip)) return `4:${parseIPv4(ip)}`;
  if (isIPv6(ip)) return `6:${parseIPv6(ip).join(':')}`;
  return null;
}

function stripZone(ip: string): string {
  const unbracketed = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const pct = unbracketed.indexOf('%');
  return pct === -1 ? unbracketed : unbracketed.slice(0, pct);
}

/** IPv4 as an unsigned 32-bit integer; the caller has checked the syntax with isIPv4. */
function parseIPv4(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** IPv6 as eight 16-bit groups, expanding `::` and a trailing dotted IPv4; syntax checked by isIPv6. */
function parseIPv6(ip: string): number[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIPv4(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((g) => parseInt(g, 16));
}

function inV4(ip: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  const start = parseIPv4(base);
  return ip >= start && ip < start + size;
}

// IANA IPv4 Special-Purpose Address Registry, narrowed to what is not globally reachable.
const V4_RANGES: ReadonlyArray<readonly [string, number, AddressClass]> = [
  ['0.0.0.0', 8, 'unspecified'], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // TEST-NET-1
  ['192.88.99.0', 24, 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'], // TEST-NET-2
  ['203.0.113.0', 24, 'reserved'], // TEST-NET-3
  ['224.0.0.0', 4, 'multicast'],
];

function classifyIPv4(ip: number): AddressClass {
  if (ip === 0xffffffff) return 'broadcast';
  for (const [base, bits, kind] of V4_RANGES) if (inV4(ip, base, bits)) return kind;
  if (inV4(ip, '240.0.0.0', 4)) return 'reserved';
  return 'public';
}

function embeddedV4(hi: number, lo: number): number {
  return hi * 65536 + lo;
}

function classifyIPv6(g: number[]): AddressClass {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);

  if (zeroTo(8)) return 'unspecified';
  if (zeroTo(7) && g7 === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped): a socket connecting to it reaches the IPv4 host.
  if (zeroTo(5) && g5 === 0xffff) return classifyIPv4(embeddedV4(g6, g7));
  // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765 SIIT).
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return classifyIPv4(embeddedV4(g6, g7));
  // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291): nothing legitimate uses it any more.
  if (zeroTo(6)) return 'reserved';
  // 64:ff9b::/96 well-known NAT64 prefix (RFC 6052): the gateway forwards to the embedded IPv4.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyIPv4(embeddedV4(g6, g7));
  }
  // 64:ff9b:1::/48 local-use NAT64 (RFC 8215): translates into a network we cannot see.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'reserved';
  // 2002::/16 6to4 (RFC 3056): bits 16–47 are an IPv4 address the relay will reach.
  if (g0 === 0x2002) {
    return classifyIPv4(embeddedV4(g1, g2));
  }
  if (g0 >= 0xff00) return 'multicast';
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'reserved'; // site-local, deprecated
  // Only 2000::/3 is allocated as global unicast; everything else left is special or unassigned.
  if ((g0 & 0xe000) !== 0x2000) return 'reserved';
  if (g0 === 0x2001 && g1 < 0x200) return 'reserved'; // 2001::/23 protocol assignments (incl. Teredo)
  if (g0 === 0x2001 && g1 === 0xdb8) return 'reserved'; // documentation
  if (g0 === 0x3fff && g1 < 0x1000) return 'reserved'; // 3fff::/20 documentation (RFC 9637)
  return 'public';
}
