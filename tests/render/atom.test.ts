import { describe, expect, it } from 'vitest';
import { excerptFromHtml } from '../../src/domain/excerpt.js';
import { renderAtom } from '../../src/render/atom.js';
import { buildFeedDocument, buildFeedItem, buildGoldenFeedDocument, parseAtom, xmlProblems } from '../helpers/feed-fixtures.js';

describe('renderAtom', () => {
  const doc = buildGoldenFeedDocument();
  const xml = renderAtom(doc);

  it('is well-formed UTF-8 XML 1.0 in the Atom namespace, with xml:lang', () => {
    expect(xmlProblems(xml)).toEqual([]);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom"[^>]* xml:lang="en-GB">/);
  });

  it('round-trips the feed metadata through rss-parser', async () => {
    const feed = await parseAtom(xml);
    expect(feed.id).toBe(doc.id);
    expect(feed.title).toBe(doc.title);
    expect(feed.subtitle).toBe(doc.description);
    expect(feed.lastBuildDate).toBe(doc.updated.toISOString());
    expect(feed.link).toBe(doc.homePageUrl);
    expect(feed.feedUrl).toBe(doc.selfUrls.atom);
    expect(feed.logo).toBe(doc.imageUrl);
    expect(feed.author).toEqual({ name: [doc.author.name], uri: [doc.author.url], email: [doc.author.email] });
    expect(feed.feedLinks?.map((link) => link.$)).toEqual([
      { href: doc.homePageUrl, rel: 'alternate', type: 'text/html' },
      { href: doc.selfUrls.atom, rel: 'self', type: 'application/atom+xml' },
      ...doc.hubs.map((hub) => ({ href: hub, rel: 'hub' })),
    ]);
  });

  it('declares every text construct with its type: text for titles, subtitle and summary, html for content', () => {
    expect(xml.match(/<title type="text">/g)).toHaveLength(1 + doc.items.length);
    expect(xml).toContain('<subtitle type="text">');
    expect(xml.match(/<summary type="text">/g)).toHaveLength(doc.items.filter((item) => item.summary ?? item.contentHtml).length);
    expect(xml.match(/<content type="html">/g)).toHaveLength(doc.items.filter((item) => item.contentHtml).length);
    expect(xml).not.toMatch(/<(title|summary|subtitle)>/);
  });

  it('round-trips every entry: identity, text, dates, authors, categories, links', async () => {
    const feed = await parseAtom(xml);
    expect(feed.items).toHaveLength(doc.items.length);
    doc.items.forEach((item, index) => {
      const entry = feed.items[index]!;
      expect(entry.id).toBe(item.id);
      expect(entry.title).toBe(item.title);
      expect(entry.link).toBe(item.url);
      expect(entry.published).toBe(item.publishedAt.toISOString());
      expect(entry.updated).toBe(item.updatedAt.toISOString());
      expect(entry.content).toBe(item.contentHtml ?? undefined);
      expect(entry.summary).toBe(item.summary ?? (item.contentHtml ? excerptFromHtml(item.contentHtml) : undefined));
      // Entries without authors have no <author>: the feed-level author covers them (RFC 4287 §4.2.1).
      expect(entry.authors ?? []).toEqual(
        item.authors.map((author) => ({
          name: [author.name],
          ...(author.url ? { uri: [author.url] } : {}),
          ...(author.email ? { email: [author.email] } : {}),
        })),
      );
      expect(entry.atomCategories?.map((category) => category.$)).toEqual(
        item.categories.map((category) => ({ term: category.term, label: category.label })),
      );
      expect(entry.links?.map((link) => link.$)).toEqual([
        { href: item.url, rel: 'alternate' },
        ...item.enclosures.map((enclosure) => ({
          href: enclosure.url,
          rel: 'enclosure',
          type: enclosure.type,
          ...(enclosure.length > 0 ? { length: String(enclosure.length) } : {}),
        })),
      ]);
    });
  });

  it('repeats xml:lang on an entry only when it differs from the feed', () => {
    expect(xml.match(/<entry xml:lang="cy-GB">/g)).toHaveLength(1);
    expect(xml.match(/<entry>/g)).toHaveLength(doc.items.length - 1);
  });

  it('renders an empty feed with the required id, title, updated and author', async () => {
    const empty = renderAtom(buildFeedDocument({ items: [], imageUrl: null, hubs: [] }));
    expect(xmlProblems(empty)).toEqual([]);
    const feed = await parseAtom(empty);
    expect(feed.id).toBeDefined();
    expect(feed.items).toEqual([]);
    expect(empty).toContain('<author>');
    expect(empty).not.toContain('<logo>');
  });

  it('keeps a title-only entry valid: alternate link, no summary, no content', () => {
    const bare = renderAtom(buildFeedDocument({ items: [buildFeedItem({ contentHtml: null, summary: null })] }));
    const entry = bare.slice(bare.indexOf('<entry>'), bare.indexOf('</entry>'));
    expect(entry).toContain('rel="alternate"');
    expect(entry).not.toContain('<summary');
    expect(entry).not.toContain('<content');
  });
});
