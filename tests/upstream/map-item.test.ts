import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { articleInputSchema } from '../../src/domain/article-input.js';
import { decodeBody } from '../../src/upstream/fetch-feed.js';
import { mapUpstreamItem, MAX_TITLE_CHARS, truncateWords, type MapItemContext } from '../../src/upstream/map-item.js';
import { parseFeed, type UpstreamFeed, type UpstreamItem } from '../../src/upstream/parse-feed.js';
import { FIXTURES_DIR, readFixture } from '../helpers/upstream-server.js';

const FIRST_SEEN = new Date('2025-11-10T08:00:00Z');

function ctx(overrides: Partial<MapItemContext> = {}): MapItemContext {
  return {
    feedLink: 'https://site.example.com/',
    feedUrl: 'https://feeds.example.com/feed.xml',
    fallbackDate: FIRST_SEEN,
    categories: ['World'],
    useItemCategories: false,
    fullContent: true,
    ...overrides,
  };
}

function item(overrides: Partial<UpstreamItem> = {}): UpstreamItem {
  return {
    guid: 'guid-1',
    link: 'https://site.example.com/a',
    title: 'A title',
    summaryHtml: '<p>Summary</p>',
    contentHtml: '<p>Full content</p>',
    published: new Date('2025-11-03T10:00:00Z'),
    updated: null,
    authors: [],
    categories: [],
    enclosures: [],
    imageUrls: [],
    ...overrides,
  };
}

async function fixture(name: string): Promise<UpstreamFeed> {
  const out = await parseFeed(decodeBody(readFixture(name), null), { feedUrl: `https://feeds.example.com/${name}` });
  if (!out.ok) throw new Error(out.error);
  return out.feed;
}

function mapFeed(feed: UpstreamFeed, name: string, overrides: Partial<MapItemContext> = {}) {
  return feed.items.map((i) => mapUpstreamItem(i, ctx({ feedLink: feed.homePageUrl ?? '', feedUrl: `https://feeds.example.com/${name}`, ...overrides })));
}

describe('mapUpstreamItem: every parseable fixture yields valid CMS input', () => {
  const names = readdirSync(FIXTURES_DIR).filter((n) => !/billion|xxe|malformed|html-page|not-a-feed/.test(n));

  it.each(names)('%s', async (name) => {
    const feed = await fixture(name);
    for (const fullContent of [true, false]) {
      for (const mapped of mapFeed(feed, name, { fullContent, useItemCategories: true, language: feed.language })) {
        const result = articleInputSchema.safeParse(mapped.raw);
        expect(result.error?.issues ?? []).toEqual([]);
        expect(mapped.key).toBe(mapped.raw.externalId);
      }
    }
  });
});

describe('mapUpstreamItem: identity', () => {
  it('uses the guid', () => {
    expect(mapUpstreamItem(item(), ctx()).key).toBe('guid-1');
  });

  it('hashes a guid longer than 200 characters', () => {
    const long = `https://site.example.com/${'x'.repeat(300)}`;
    const { key } = mapUpstreamItem(item({ guid: long }), ctx());
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(mapUpstreamItem(item({ guid: long }), ctx()).key).toBe(key);
  });

  it('falls back to the absolute link', () => {
    expect(mapUpstreamItem(item({ guid: null, link: '/news/1' }), ctx()).key).toBe('https://site.example.com/news/1');
  });

  it('falls back to a hash of title and date that does not depend on the fallback date', () => {
    const bare = item({ guid: null, link: null, published: null });
    const a = mapUpstreamItem(bare, ctx()).key;
    const b = mapUpstreamItem(bare, ctx({ fallbackDate: new Date('2030-01-01T00:00:00Z') })).key;
    expect(a).toMatch(/^sha256:/);
    expect(b).toBe(a);
    expect(mapUpstreamItem({ ...bare, title: 'Another title' }, ctx()).key).not.toBe(a);
    expect(mapUpstreamItem({ ...bare, published: new Date('2025-11-04T00:00:00Z') }, ctx()).key).not.toBe(a);
  });

  it('keeps untitled, undated items apart by their text', () => {
    const a = mapUpstreamItem(item({ guid: null, link: null, title: null, published: null, summaryHtml: 'one' }), ctx()).key;
    const b = mapUpstreamItem(item({ guid: null, link: null, title: null, published: null, summaryHtml: 'two' }), ctx()).key;
    expect(a).not.toBe(b);
  });
});

describe('mapUpstreamItem: title', () => {
  it('cuts a 10,000-character title to 500 on a word boundary instead of losing the item', () => {
    const words = Array.from({ length: 2_000 }, (_, i) => `word${i}`).join(' ');
    const title = words.slice(0, 10_000);
    const { raw } = mapUpstreamItem(item({ title }), ctx());
    expect(raw.title.length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
    expect(raw.title.endsWith('…')).toBe(true);
    expect(title.startsWith(raw.title.slice(0, -1))).toBe(true);
    expect(title[raw.title.length - 1]).toBe(' '); // the cut fell between words
    expect(articleInputSchema.safeParse(raw).success).toBe(true);
  });

  it('cuts a title without spaces hard, and never splits a surrogate pair', () => {
    expect(truncateWords('x'.repeat(600), 500)).toHaveLength(500);
    const emoji = '😀'.repeat(300); // 600 UTF-16 units
    const cut = truncateWords(emoji, 500);
    expect(cut.length).toBeLessThanOrEqual(500);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('collapses white space', () => {
    expect(mapUpstreamItem(item({ title: '  Two\n\tlines  ' }), ctx()).raw.title).toBe('Two lines');
  });

  it('falls back to the start of the summary, then "(untitled)"', () => {
    const long = `<p>${'Lorem ipsum dolor sit amet. '.repeat(20)}</p>`;
    const fromSummary = mapUpstreamItem(item({ title: null, summaryHtml: long }), ctx()).raw.title;
    expect(fromSummary.startsWith('Lorem ipsum dolor sit amet.')).toBe(true);
    expect(fromSummary.length).toBeLessThanOrEqual(100);
    expect(mapUpstreamItem(item({ title: '   ', summaryHtml: null, contentHtml: null }), ctx()).raw.title).toBe('(untitled)');
  });
});

describe('mapUpstreamItem: url', () => {
  it('resolves relative links against the feed link', async () => {
    const mapped = mapFeed(await fixture('rss-relative-links.xml'), 'rss-relative-links.xml');
    expect(mapped.map((m) => m.raw.url)).toEqual([
      'https://relative.example.com/news/1',
      'https://relative.example.com/site/news/2',
      'https://cdn.relative.example.com/news/3',
      'https://relative.example.com/site/', // javascript: is not a link: the home page
    ]);
    expect(mapped[0]!.raw.enclosures).toEqual([{ url: 'https://relative.example.com/media/1.mp3', type: 'audio/mpeg', length: 100 }]);
    expect(mapped[0]!.raw.imageUrl).toBe('https://relative.example.com/site/img/1.jpg');
  });

  it('resolves a relative feed link against the feed URL, and uses the feed URL when there is no feed link', () => {
    expect(mapUpstreamItem(item({ link: 'a' }), ctx({ feedLink: '/blog/' })).raw.url).toBe('https://feeds.example.com/blog/a');
    expect(mapUpstreamItem(item({ link: '/a' }), ctx({ feedLink: '' })).raw.url).toBe('https://feeds.example.com/a');
  });

  it('uses a permalink guid, then the home page, when the item has no usable link', () => {
    expect(mapUpstreamItem(item({ link: null, guid: 'https://site.example.com/p/1' }), ctx()).raw.url).toBe('https://site.example.com/p/1');
    expect(mapUpstreamItem(item({ link: null, guid: 'urn:x:1' }), ctx()).raw.url).toBe('https://site.example.com/');
    expect(mapUpstreamItem(item({ link: null, guid: null }), ctx({ feedLink: '' })).raw.url).toBe('https://feeds.example.com/feed.xml');
  });
});

describe('mapUpstreamItem: dates', () => {
  it('writes RFC 3339 in UTC', () => {
    expect(mapUpstreamItem(item(), ctx()).raw.publishedAt).toBe('2025-11-03T10:00:00.000Z');
  });

  it('uses the fallback date for missing, epoch and future dates', () => {
    const fallback = FIRST_SEEN.toISOString();
    expect(mapUpstreamItem(item({ published: null }), ctx()).raw.publishedAt).toBe(fallback);
    expect(mapUpstreamItem(item({ published: new Date(0) }), ctx()).raw.publishedAt).toBe(fallback);
    expect(mapUpstreamItem(item({ published: new Date('2048-01-01T00:00:00Z') }), ctx()).raw.publishedAt).toBe(fallback);
    expect(mapUpstreamItem(item({ published: new Date(Number.NaN) }), ctx()).raw.publishedAt).toBe(fallback);
  });

  it('falls back to updated when there is no published date (Atom)', () => {
    const raw = mapUpstreamItem(item({ published: null, updated: new Date('2025-11-02T00:00:00Z') }), ctx()).raw;
    expect(raw.publishedAt).toBe('2025-11-02T00:00:00.000Z');
    expect(raw.updatedAt).toBeNull();
  });

  it('sets updatedAt only when it is later than publishedAt', () => {
    expect(mapUpstreamItem(item({ updated: new Date('2025-11-04T00:00:00Z') }), ctx()).raw.updatedAt).toBe('2025-11-04T00:00:00.000Z');
    expect(mapUpstreamItem(item({ updated: new Date('2025-11-01T00:00:00Z') }), ctx()).raw.updatedAt).toBeNull();
  });

  it('maps the date fixture to fallback exactly where the date is unusable', async () => {
    const mapped = mapFeed(await fixture('rss-invalid-dates.xml'), 'rss-invalid-dates.xml');
    const fallbacks = mapped.filter((m) => m.raw.publishedAt === FIRST_SEEN.toISOString()).map((m) => m.key);
    expect(fallbacks).toEqual(['d9', 'd10', 'd12', 'd13']);
  });
});

describe('mapUpstreamItem: text and content', () => {
  it('gives a plain-text summary and the full content when fullContent', () => {
    const { raw } = mapUpstreamItem(item(), ctx({ fullContent: true }));
    expect(raw.summary).toBe('Summary');
    expect(raw.contentHtml).toBe('<p>Full content</p>');
  });

  it('gives only the summary as content when not fullContent', () => {
    expect(mapUpstreamItem(item(), ctx({ fullContent: false })).raw.contentHtml).toBe('<p>Summary</p>');
  });

  it('uses the description as content when there is no content:encoded', () => {
    expect(mapUpstreamItem(item({ contentHtml: null }), ctx({ fullContent: true })).raw.contentHtml).toBe('<p>Summary</p>');
  });

  it('derives a summary from the content when the item has none', () => {
    const { raw } = mapUpstreamItem(item({ summaryHtml: null, contentHtml: `<p>${'word '.repeat(400)}</p>` }), ctx({ fullContent: false }));
    expect(raw.summary!.length).toBeLessThanOrEqual(500);
    expect(raw.contentHtml).toBeNull();
  });

  it('falls back to the summary when the content is over the 1 MB input limit', () => {
    const huge = `<p>${'x'.repeat(1_100_000)}</p>`;
    expect(mapUpstreamItem(item({ contentHtml: huge }), ctx()).raw.contentHtml).toBe('<p>Summary</p>');
  });
});

describe('mapUpstreamItem: language', () => {
  it('passes a BCP 47 feed language through and drops anything else', () => {
    expect(mapUpstreamItem(item(), ctx({ language: 'en-gb' })).raw.language).toBe('en-gb');
    expect(mapUpstreamItem(item(), ctx({ language: 'English' })).raw.language).toBeNull();
    expect(mapUpstreamItem(item(), ctx()).raw.language).toBeNull();
  });
});

describe('mapUpstreamItem: categories, authors, media', () => {
  it('adds item categories only when asked, without duplicates', () => {
    const it1 = item({ categories: ['Politics', 'world', '  Local  news '] });
    expect(mapUpstreamItem(it1, ctx({ useItemCategories: false })).raw.categories).toEqual(['World']);
    expect(mapUpstreamItem(it1, ctx({ useItemCategories: true })).raw.categories).toEqual(['World', 'Politics', 'Local news']);
  });

  it('maps authors: email-only authors are named by their email, relative URLs resolved', () => {
    const raw = mapUpstreamItem(
      item({
        authors: [
          { name: 'Jane', email: 'jane@example.com', url: '/people/jane' },
          { name: null, email: 'anon@example.com', url: null },
          { name: ' ', email: 'not-an-email', url: 'javascript:x' },
        ],
      }),
      ctx(),
    ).raw;
    expect(raw.authors).toEqual([
      { name: 'Jane', email: 'jane@example.com', url: 'https://site.example.com/people/jane' },
      { name: 'anon@example.com', email: 'anon@example.com' },
    ]);
  });

  it('cleans enclosures: http(s) only, integer lengths, default type, no duplicate URLs', async () => {
    const [mapped] = mapFeed(await fixture('rss-enclosure-quirks.xml'), 'rss-enclosure-quirks.xml');
    expect(mapped!.raw.enclosures).toEqual([
      { url: 'https://pod.example.com/1.mp3', type: 'audio/mpeg', length: 0, durationSeconds: 3723 },
      { url: 'https://pod.example.com/1.m4a', type: 'application/octet-stream', length: 0 },
      { url: 'https://pod.example.com/files/1.pdf', type: 'application/pdf', length: 0 },
      { url: 'https://pod.example.com/1.mp4', type: 'video/mp4', length: 5000 },
    ]);
    expect(mapped!.raw.imageUrl).toBe('https://pod.example.com/ep1.jpg');
  });

  it('takes the media:content image before the thumbnail, and the JSON Feed image', async () => {
    expect(mapFeed(await fixture('rss2-full.xml'), 'rss2-full.xml')[0]!.raw.imageUrl).toBe('https://cdn.gazette.example.com/bridge.jpg');
    expect(mapFeed(await fixture('jsonfeed-1.1.json'), 'jsonfeed-1.1.json')[0]!.raw.imageUrl).toBe('https://json.example.com/1.jpg');
  });

  it('keeps at most 20 enclosures', () => {
    const enclosures = Array.from({ length: 30 }, (_, i) => ({ url: `https://site.example.com/${i}.mp3`, type: 'audio/mpeg', length: '1', durationSeconds: null }));
    expect(mapUpstreamItem(item({ enclosures }), ctx()).raw.enclosures).toHaveLength(20);
  });
});
