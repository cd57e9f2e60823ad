import { describe, expect, it } from 'vitest';
import { SnapshotCache, type SnapshotEntry } from '../../src/feed-cache.js';

function entry(feedKey: string, bytes: number): SnapshotEntry {
  const body = new Uint8Array(bytes);
  return {
    feedKey,
    format: 'rss',
    bodies: { identity: body, gzip: new Uint8Array(0), br: new Uint8Array(0) },
    etags: { identity: '"a"', gzip: '"a-gz"', br: '"a-br"' },
    lastModified: new Date(0),
    lastModifiedHttp: new Date(0).toUTCString(),
    itemCount: 0,
    seq: 1,
  };
}

describe('SnapshotCache', () => {
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
