import { describe, expect, it } from 'vitest';
import { checkAddress, classifyAddress, sameAddress } from '../../src/upstream/address-guard.js';

const strict = { allowPrivate: false };

describe('classifyAddress: IPv4', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['172.32.0.1', 'public'], // just outside 172.16/12
    ['100.128.0.1', 'public'], // just outside 100.64/10
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['192.0.0.8', 'reserved'],
  ])('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });
});

describe('classifyAddress: IPv6', () => {
  it.each([
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:81c::200e', 'public'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'], // Teredo
    ['3fff::1', 'reserved'],
    ['fec0::1', 'reserved'],
    ['100::1', 'reserved'], // discard-only
    ['64:ff9b:1::a00:1', 'reserved'],
    ['[::1]', 'loopback'],
  ])('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:7F00:0001', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link-local'], // 169.254.169.254
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:127.0.0.1', 'loopback'], // IPv4-translated
    ['::127.0.0.1', 'reserved'], // IPv4-compatible, deprecated
    ['::7f00:1', 'reserved'],
    ['64:ff9b::127.0.0.1', 'loopback'], // NAT64
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:c0a8:101::1', 'private'], // 6to4 of 192.168.1.1
    ['2002:808:808::1', 'public'],
  ])('embedded IPv4: %s is %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it('rejects what is not an IP', () => {
    expect(classifyAddress('localhost')).toBe('invalid');
    expect(classifyAddress('127.1')).toBe('invalid');
    expect(classifyAddress('')).toBe('invalid');
  });
});

describe('checkAddress', () => {
  it('allows public and refuses everything else by default', () => {
    expect(checkAddress('8.8.8.8', strict)).toEqual({ allowed: true });
    expect(checkAddress('127.0.0.1', strict)).toEqual({ allowed: false, reason: 'loopback' });
    expect(checkAddress('::ffff:127.0.0.1', strict)).toEqual({ allowed: false, reason: 'loopback' });
    expect(checkAddress('fd00::1', strict)).toEqual({ allowed: false, reason: 'unique-local' });
  });

  it('allowPrivate opens private ranges but not link-local, multicast, broadcast or unspecified', () => {
    const open = { allowPrivate: true };
    for (const ip of ['10.0.0.1', '192.168.0.10', '127.0.0.1', '::1', '100.64.1.1', 'fd00::1', '::ffff:10.0.0.1']) {
      expect(checkAddress(ip, open)).toEqual({ allowed: true });
    }
    for (const ip of ['169.254.169.254', 'fe80::1', '224.0.0.1', '255.255.255.255', '0.0.0.0', '::']) {
      expect(checkAddress(ip, open).allowed).toBe(false);
    }
  });

  it('allowedAddresses allows exactly the listed addresses, in any spelling', () => {
    const policy = { allowPrivate: false, allowedAddresses: ['127.0.0.1', '2001:DB8::1'] };
    expect(checkAddress('127.0.0.1', policy)).toEqual({ allowed: true });
    expect(checkAddress('127.0.0.2', policy)).toEqual({ allowed: false, reason: 'loopback' });
    expect(checkAddress('10.0.0.1', policy)).toEqual({ allowed: false, reason: 'private' });
    expect(checkAddress('2001:db8:0:0::1', policy)).toEqual({ allowed: true });
  });

  it('never allows an invalid address', () => {
    expect(checkAddress('not-an-ip', { allowPrivate: true, allowedAddresses: ['not-an-ip'] }).allowed).toBe(false);
  });
});

describe('sameAddress', () => {
  it('compares addresses, not strings', () => {
    expect(sameAddress('::ffff:7f00:1', '::ffff:127.0.0.1')).toBe(true);
    expect(sameAddress('2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001')).toBe(true);
    expect(sameAddress('127.0.0.1', '::ffff:127.0.0.1')).toBe(false);
  });
});
