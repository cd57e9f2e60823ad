import { describe, expect, it } from 'vitest';
import { excerptFromHtml } from '../../src/domain/excerpt.js';
import { renderRss } from '../../src/render/rss.js';
import {
  buildFeedDocument,
  buildFeedItem,
  buildGoldenFeedDocument,
  parseRss,
  textOf,
  unescapeHtmlText,
  xmlProblems,
  type XmlNode,
} from '../helpers/feed-fixtures.js';

describe('renderRss', () => {
  const doc = buildGoldenFeedDocument();
  const xml = renderRss(doc);

  it('is well-formed UTF-8 XML 1.0 with the declared encoding', () => {
    expect(xmlProblems(xml)).toEqual([]);
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"')).toBe(true);
  });

  it('round-trips the channel through rss-parser', async () => {
    const feed = await parseRss(xml);
    expect(feed.title).toBe(doc.title);
    expect(feed.link).toBe(doc.homePageUrl);
    expect(feed.description).toBe(doc.description);
    expect(feed.language).toBe(doc.language);
    expect(feed.ttl).toBe(String(doc.ttlMinutes));
    expect(feed.lastBuildDate).toBe(doc.updated.toUTCString());
    // rss-parser reports the first atom:link as feedUrl: the self link comes first.
    expect(feed.feedUrl).toBe(doc.selfUrls.rss);
    expect(feed.image?.url).toBe(doc.imageUrl);
    expect(feed.items).toHaveLength(doc.items.length);
  });

  it('advertises self and every hub as atom:link (WebSub §4)', () => {
    expect(xml).toContain(`<atom:link href="${doc.selfUrls.rss}" rel="self" type="application/rss+xml"/>`);
    for (const hub of doc.hubs) expect(xml).toContain(`<atom:link href="${hub}" rel="hub"/>`);
  });

  it('round-trips every item: identity, text, dates, authors, categories', async () => {
    const feed = await parseRss(xml);
    doc.items.forEach((item, index) => {
      const parsed = feed.items[index]!;
      expect(parsed.guid).toBe(item.id);
      expect(parsed.title).toBe(item.title);
      expect(parsed.link).toBe(item.url);
      expect(parsed.isoDate).toBe(item.publishedAt.toISOString());
      expect(parsed['content:encoded']).toBe(item.contentHtml ?? undefined);
      expect((parsed.creators ?? []).map(textOf)).toEqual(item.authors.map((author) => author.name));
      expect((parsed.categories ?? []).map((category) => textOf(category as string | XmlNode))).toEqual(item.categories.map((category) => category.label));
    });
    expect(xml.match(/<guid isPermaLink="false">/g)).toHaveLength(doc.items.length);
  });

  it('writes the summary as escaped HTML in description, falling back to the content start, or nothing', async () => {
    const feed = await parseRss(xml);
    const [withSummary, , noSummary, , neither] = feed.items;
    expect(unescapeHtmlText(withSummary!.content!)).toBe(doc.items[0]!.summary);
    // The "&" of the plain-text summary is published as &amp; inside the HTML description.
    expect(withSummary!.content).toContain('hospitals &amp; the university');
    expect(unescapeHtmlText(noSummary!.content!)).toBe(excerptFromHtml(doc.items[2]!.contentHtml!));
    expect(neither!.content).toBeUndefined();
  });

  it('emits only the first enclosure as <enclosure>, and every enclosure and the lead image as media:content', async () => {
    const feed = await parseRss(xml);
    const briefing = feed.items[1]!;
    const [audio, transcript] = doc.items[1]!.enclosures;
    expect(briefing.enclosure).toEqual({ url: audio!.url, length: String(audio!.length), type: audio!.type });
    expect(xml.match(/<enclosure /g)).toHaveLength(2); // briefing + weather; the transcript is media-only
    expect(briefing.mediaContents?.map((content) => content.$)).toEqual([
      { url: doc.items[1]!.imageUrl, medium: 'image' },
      { url: audio!.url, fileSize: String(audio!.length), type: 'audio/mpeg', medium: 'audio', duration: '544' },
      { url: transcript!.url, fileSize: String(transcript!.length), type: 'application/pdf', medium: 'document' },
    ]);
    expect(briefing.mediaThumbnails?.map((thumbnail) => thumbnail.$?.url)).toEqual([doc.items[1]!.imageUrl]);
  });

  it('keeps length="0" for an enclosure of unknown size (RSS convention) but no fileSize in media:content', async () => {
    const feed = await parseRss(xml);
    const weather = feed.items[3]!;
    expect(weather.enclosure?.length).toBe('0');
    expect(weather.mediaContents?.[0]?.$).not.toHaveProperty('fileSize');
  });

  it('marks an item language that differs from the channel with dc:language', async () => {
    const feed = await parseRss(xml);
    expect(feed.items.map((item) => item.dcLanguage)).toEqual([undefined, undefined, undefined, 'cy-GB', undefined]);
  });

  it('never writes <author> (it requires an email) even when authors have one', () => {
    expect(xml).not.toMatch(/<author>/);
  });

  it('renders an empty feed (no items) as a valid channel', async () => {
    const empty = renderRss(buildFeedDocument({ items: [], imageUrl: null, hubs: [] }));
    expect(xmlProblems(empty)).toEqual([]);
    const feed = await parseRss(empty);
    expect(feed.items).toEqual([]);
    expect(empty).not.toContain('rel="hub"');
  });

  it('keeps the required channel description when the document has none (feedsmith drops blanks)', async () => {
    const feed = await parseRss(renderRss(buildFeedDocument({ description: '  ' })));
    expect(feed.description).toBe('Example News: Local');
  });

  it('omits content:encoded and media when the item has neither', () => {
    const bare = renderRss(buildFeedDocument({ items: [buildFeedItem({ contentHtml: null, summary: null })] }));
    const item = bare.slice(bare.indexOf('<item>'), bare.indexOf('</item>'));
    expect(item).toContain('<title>A plain article</title>');
    expect(item).not.toContain('<description');
    expect(item).not.toContain('content:encoded');
    expect(item).not.toContain('media:');
    expect(item).not.toContain('<enclosure');
  });
});
