import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { SnapshotCache, identityBody, type SnapshotEntry } from '../../src/feed-cache.js';

// `bytes` of gzip (what the cache counts: it keeps no identity body).
function entry(feedKey: string, bytes: number): SnapshotEntry {
  return {
    feedKey,
    format: 'rss',
    bodies: { identity: new Uint8Array(10 * bytes), gzip: new Uint8Array(bytes), br: new Uint8Array(0) },
    identityLength: 10 * bytes,
    etags: { identity: '"a"', gzip: '"a-gz"', br: '"a-br"' },
    lastModified: new Date(0),
    lastModifiedHttp: new Date(0).toUTCString(),
    itemCount: 0,
    seq: 1,
  };
}

describe('SnapshotCache', () => {
  it('keeps an entry without its identity body, which identityBody() decodes from gzip', () => {
    const identity = Buffer.from('<rss>…</rss>'.repeat(500));
    const rendered: SnapshotEntry = { ...entry('z', 0), bodies: { identity, gzip: gzipSync(identity), br: new Uint8Array(3) }, identityLength: identity.byteLength };
    const cache = new SnapshotCache(1_000_000);
    cache.set(rendered);
    const kept = cache.get('z', 'rss')!;
    expect(kept.bodies.identity).toBeUndefined();
    expect(cache.size.bytes).toBe(rendered.bodies.gzip.byteLength + 3);
    expect(Buffer.compare(Buffer.from(identityBody(kept)), identity)).toBe(0);
    // Decoded once per snapshot, not per request.
    expect(identityBody(kept)).toBe(identityBody(kept));
    // An entry that still has it (a render) answers from it without decoding.
    expect(identityBody(rendered)).toBe(identity);
  });

  it('stays within its byte budget, evicting the oldest entry that was not used since', () => {
    const cache = new SnapshotCache(300);
    cache.set(entry('a', 100));
    cache.set(entry('b', 100));
    cache.set(entry('c', 100));
    expect(cache.get('a', 'rss')).toBeDefined(); // a gets a second chance
    cache.set(entry('d', 100));
    expect(cache.size).toEqual({ entries: 3, bytes: 300 });
    expect(cache.get('b', 'rss')).toBeUndefined();
    expect(cache.get('a', 'rss')).toBeDefined();
    expect(cache.get('c', 'rss')).toBeDefined();
    expect(cache.get('d', 'rss')).toBeDefined();
  });

  it('evicts even when every entry was used (the flags only buy one pass)', () => {
    const cache = new SnapshotCache(200);
    cache.set(entry('a', 100));
    cache.set(entry('b', 100));
    cache.get('a', 'rss');
    cache.get('b', 'rss');
    cache.set(entry('c', 100));
    expect(cache.size.bytes).toBeLessThanOrEqual(200);
    expect(cache.get('c', 'rss')).toBeDefined();
  });

  it('replaces an entry in place and refuses one larger than the whole budget', () => {
    const cache = new SnapshotCache(150);
    cache.set(entry('a', 100));
    cache.set(entry('a', 120));
    expect(cache.size).toEqual({ entries: 1, bytes: 120 });
    cache.set(entry('huge', 151));
    expect(cache.get('huge', 'rss')).toBeUndefined();
    cache.delete('a', 'rss');
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });
});
