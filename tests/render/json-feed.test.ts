import { describe, expect, it } from 'vitest';
import { excerptFromHtml } from '../../src/domain/excerpt.js';
import { renderJsonFeed } from '../../src/render/json-feed.js';
import { buildFeedDocument, buildFeedItem, buildGoldenFeedDocument } from '../helpers/feed-fixtures.js';

interface ParsedItem {
  id: string;
  url?: string;
  title?: string;
  summary?: string;
  content_html?: string;
  content_text?: string;
  image?: string;
  date_published?: string;
  date_modified?: string;
  authors?: { name?: string; url?: string }[];
  tags?: string[];
  language?: string;
  attachments?: { url: string; mime_type: string; size_in_bytes?: number; duration_in_seconds?: number }[];
}

describe('renderJsonFeed', () => {
  const doc = buildGoldenFeedDocument();
  const json = renderJsonFeed(doc);
  const feed = JSON.parse(json) as Record<string, unknown> & { items: ParsedItem[] };

  it('is JSON Feed 1.1 pretty-printed with two spaces and a final newline', () => {
    expect(json.endsWith('}\n')).toBe(true);
    expect(json).toBe(`${JSON.stringify(feed, null, 2)}\n`);
    expect(Object.keys(feed)).toEqual(['version', 'title', 'home_page_url', 'feed_url', 'description', 'icon', 'language', 'authors', 'hubs', 'items']);
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
  });

  it('round-trips the feed metadata', () => {
    expect(feed.title).toBe(doc.title);
    expect(feed.home_page_url).toBe(doc.homePageUrl);
    expect(feed.feed_url).toBe(doc.selfUrls.json);
    expect(feed.description).toBe(doc.description);
    expect(feed.icon).toBe(doc.imageUrl);
    expect(feed.language).toBe(doc.language);
    expect(feed.authors).toEqual([{ name: doc.author.name, url: doc.author.url }]);
    expect(feed.hubs).toEqual(doc.hubs.map((url) => ({ type: 'WebSub', url })));
    // JSON Feed 1.1 deprecates the singular author.
    expect(feed).not.toHaveProperty('author');
  });

  it('round-trips every item: identity, text, dates, authors, image, attachments', () => {
    expect(feed.items).toHaveLength(doc.items.length);
    doc.items.forEach((item, index) => {
      const parsed = feed.items[index]!;
      expect(parsed.id).toBe(item.id);
      expect(parsed.url).toBe(item.url);
      expect(parsed.title).toBe(item.title);
      expect(parsed.date_published).toBe(item.publishedAt.toISOString());
      expect(parsed.date_modified).toBe(item.updatedAt.toISOString());
      expect(parsed.image).toBe(item.imageUrl ?? undefined);
      expect(parsed.authors).toEqual(item.authors.length > 0 ? item.authors.map((a) => ({ name: a.name, ...(a.url ? { url: a.url } : {}) })) : undefined);
      expect(parsed.attachments).toEqual(
        item.enclosures.length > 0
          ? item.enclosures.map((e) => ({
              url: e.url,
              mime_type: e.type,
              ...(e.length > 0 ? { size_in_bytes: e.length } : {}),
              ...(e.durationSeconds !== undefined ? { duration_in_seconds: e.durationSeconds } : {}),
            }))
          : undefined,
      );
    });
  });

  it('always has content_html or content_text (JSON Feed 1.1 requires one)', () => {
    const [, , noSummary, noContent, neither] = feed.items;
    expect(feed.items[0]!.content_html).toBe(doc.items[0]!.contentHtml);
    expect(feed.items[0]).not.toHaveProperty('content_text');
    expect(noSummary!.summary).toBe(excerptFromHtml(doc.items[2]!.contentHtml!));
    expect(noContent!.content_text).toBe(doc.items[3]!.summary);
    expect(noContent).not.toHaveProperty('content_html');
    expect(neither!.content_text).toBe(doc.items[4]!.title);
    expect(neither).not.toHaveProperty('summary');
    for (const item of feed.items) expect(item.content_html ?? item.content_text).toBeTruthy();
  });

  it('merges category labels and tags into tags, first spelling wins, case-insensitive', () => {
    // Categories Local, Transport; tags cycling, transport, Council.
    expect(feed.items[0]!.tags).toEqual(['Local', 'Transport', 'cycling', 'Council']);
    expect(feed.items[2]!.tags).toEqual(['Local', 'Culture & Heritage']);
  });

  it('sets an item language only when it differs from the feed', () => {
    expect(feed.items.map((item) => item.language)).toEqual([undefined, undefined, undefined, 'cy-GB', undefined]);
  });

  it('never writes empty strings or empty lists', () => {
    const sparse = renderJsonFeed(
      buildFeedDocument({
        description: ' ',
        hubs: [],
        imageUrl: null,
        items: [buildFeedItem({ summary: '', contentHtml: null, authors: [], categories: [], tags: [], enclosures: [] })],
      }),
    );
    expect(sparse).not.toMatch(/: ""|: \[\]/);
    const parsed = JSON.parse(sparse) as { items: ParsedItem[] };
    expect(parsed).not.toHaveProperty('description');
    expect(parsed).not.toHaveProperty('hubs');
    expect(parsed.items[0]!.content_text).toBe('A plain article');
  });
});
