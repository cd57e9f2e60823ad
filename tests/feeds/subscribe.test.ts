import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { excerptFromHtml } from '../../src/domain/excerpt.js';
import { BASE_URL, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, expectProblem, send } from '../helpers/builders.js';
import { textOf } from '../helpers/feed-fixtures.js';
import {
  expectSameIds,
  fetchAllFormats,
  fetchAtom,
  fetchJson,
  fetchRss,
  FORMATS,
  getArticle,
  ingest,
  problemOf,
  putCategory,
  request,
  type AllFormats,
  type StoredArticleJson,
} from '../helpers/feeds.js';

/**
 * Issue 3, "Subscribe" and "Valid in every reader": which articles each feed lists (order, limit,
 * drafts, schedules, retractions), the URL rules, and the content of each format field by field.
 * Every feed fetched is parsed back (helpers/feeds.ts).
 *
 * Timeline (the test clock): 09:00 the sport and culture categories are created by PUT; 15:00 every
 * article is ingested. So the sport feed's newest change is an item edit at 14:00 — neither the
 * category's creation (09:00), nor the ingest (15:00), nor any later "now".
 */

const LOCAL = 'local-news';
const LOCAL_COUNT = 55;
const INGEST_AT = '2026-11-29T15:00:00.000Z';
const SCHEDULED_AT = '2026-11-29T16:00:00.000Z';

/** Local news i is published at 2026-11-01 + 6 h × i: distinct times, newest = highest i. */
function localPublishedAt(i: number): string {
  return new Date(Date.parse('2026-11-01T00:00:00Z') + i * 6 * 3600_000).toISOString();
}

const LONG_BODY =
  '<p>The stadium redevelopment was approved after a <strong>four-hour</strong> hearing in which residents, the club and the ' +
  'transport authority each argued their case.</p><p>Work on the new east stand begins in March and the capacity rises to ' +
  '32,000 by the 2028 season, with a new tram stop opening on match days and a fan zone replacing the car park.</p>';

const RICH = articleInput({
  externalId: 'sp-rich',
  title: 'Cup final: "United" win 3–2 after extra time',
  url: 'https://news.example.co.uk/sport/cup-final?ref=feed&x=1',
  summary: 'A late header settles it & the fans invade the pitch.',
  contentHtml: '<p>It was <em>dramatic</em>.</p><p><img src="/img/cup.jpg" alt="The winning header"></p>',
  authors: [{ name: 'Sam Sport', email: 'sam@news.example.co.uk', url: 'https://news.example.co.uk/staff/sam' }, { name: 'Ola Writer' }],
  categories: ['Sport', 'Culture & Arts'],
  tags: ['football', 'sport', 'Cup'],
  imageUrl: 'https://news.example.co.uk/img/cup-lead.jpg',
  enclosures: [
    { url: 'https://news.example.co.uk/audio/cup.mp3', type: 'audio/mpeg', length: 4_321_000, durationSeconds: 300 },
    { url: 'https://news.example.co.uk/docs/cup-report.pdf', type: 'application/pdf', length: 0 },
  ],
  publishedAt: '2026-11-29T12:00:00Z',
  updatedAt: '2026-11-29T14:00:00Z',
});

const NO_SUMMARY = articleInput({
  externalId: 'sp-no-summary',
  title: 'Stadium plan approved',
  url: 'https://news.example.co.uk/sport/stadium',
  summary: null,
  contentHtml: LONG_BODY,
  authors: [],
  categories: ['Sport'],
  tags: [],
  publishedAt: '2026-11-29T11:00:00Z',
});

describe('feeds: subscribe and content', () => {
  let t: TestContext;
  const local: Record<string, unknown>[] = [];

  beforeAll(async () => {
    t = await createTestContext();
    await putCategory(t, 'sport', { name: 'Sport', description: 'Matches, results & transfers.' });
    await putCategory(t, 'culture-arts', { name: 'Culture & Arts' });
    t.clock.set(INGEST_AT);
    // Ingested in a scrambled order, so ids do not follow publication order (7 is coprime with 55).
    for (let k = 0; k < LOCAL_COUNT; k++) {
      const i = (k * 7) % LOCAL_COUNT;
      local.push(
        articleInput({ externalId: `ln-${i}`, title: `Local story ${i}`, categories: ['Local News'], publishedAt: localPublishedAt(i) }),
      );
    }
    // Hidden articles dated newer than every listed local story, so only the rules (not the limit) can hide them.
    const hidden = [
      articleInput({
        externalId: 'ln-draft',
        title: 'Draft story',
        categories: ['Local News'],
        status: 'draft',
        publishedAt: '2026-11-29T10:00:00Z',
      }),
      articleInput({ externalId: 'ln-deleted', title: 'Retracted story', categories: ['Local News'], publishedAt: '2026-11-29T10:30:00Z' }),
      articleInput({ externalId: 'ln-scheduled', title: 'Scheduled story', categories: ['Local News'], publishedAt: SCHEDULED_AT }),
    ];
    const results = await ingest(t, [...local, ...hidden, RICH, NO_SUMMARY]);
    expect(results.every((r) => r.status === 'created')).toBe(true);
    const del = await send(t.app, 'DELETE', '/api/v1/articles/ln-deleted');
    expect(del.status).toBe(204);
    await t.feeds.refresh('change');
  });
  afterAll(async () => t?.close());

  /** guid of each listed local story, newest first: what the local feed must show. */
  async function expectedLocalGuids(): Promise<string[]> {
    const answer = await send(t.app, 'GET', '/api/v1/articles?category=local-news&limit=200');
    expect(answer.status).toBe(200);
    const items = answer.body.items as StoredArticleJson[];
    const byId = new Map(items.map((a) => [a.externalId, a]));
    return Array.from({ length: LOCAL_COUNT }, (_, j) => byId.get(`ln-${LOCAL_COUNT - 1 - j}`)!.guid);
  }

  function hiddenTitles(feeds: AllFormats): string[] {
    const titles = [
      ...feeds.rss.items.map((i) => i.title),
      ...feeds.atom.items.map((i) => i.title),
      ...feeds.json.items.map((i) => i.title),
    ];
    return titles.filter((x): x is string => typeof x === 'string' && /Draft|Retracted|Scheduled/.test(x));
  }

  it('lists a category newest first by publishedAt, FEED_ITEM_LIMIT (50) items by default, in all three formats', async () => {
    const feeds = await fetchAllFormats(t, LOCAL);
    const guids = await expectedLocalGuids();
    const ids = expectSameIds(feeds);
    expect(ids).toEqual(guids.slice(0, 50));
    // Dates strictly descending in every format.
    const rssDates = feeds.rss.items.map((i) => Date.parse(i.pubDate!));
    const atomDates = feeds.atom.items.map((i) => Date.parse(i.published!));
    const jsonDates = feeds.json.items.map((i) => Date.parse(i.date_published!));
    for (const dates of [rssDates, atomDates, jsonDates]) {
      expect(dates).toHaveLength(50);
      for (let i = 1; i < dates.length; i++) expect(dates[i]!).toBeLessThan(dates[i - 1]!);
    }
    expect(new Date(rssDates[0]!).toISOString()).toBe(localPublishedAt(LOCAL_COUNT - 1));
    expect(feeds.json.items[49]!.title).toBe(`Local story ${LOCAL_COUNT - 50}`);
  });

  it('never lists drafts, scheduled (future) or retracted articles, even with ?limit=200', async () => {
    for (const query of ['', '?limit=200']) {
      const feeds = await fetchAllFormats(t, LOCAL, query);
      expect(hiddenTitles(feeds), `local ${query}`).toEqual([]);
      const all = await fetchAllFormats(t, 'all', query);
      expect(hiddenTitles(all), `all ${query}`).toEqual([]);
    }
    // ...while they exist, as far as the API is concerned.
    expect((await getArticle(t, 'ln-draft')).title).toBe('Draft story');
    expect((await getArticle(t, 'ln-scheduled')).title).toBe('Scheduled story');
  });

  it('/feeds/all.* lists every published article across categories, newest first, limited to 50', async () => {
    const all = await fetchAllFormats(t, 'all');
    const ids = expectSameIds(all);
    expect(ids).toHaveLength(50);
    const rich = await getArticle(t, 'sp-rich');
    const noSummary = await getArticle(t, 'sp-no-summary');
    const localGuids = await expectedLocalGuids();
    // 14:00 > 11:00 (sport) > every local story (November 1-14).
    expect(ids).toEqual([rich.guid, noSummary.guid, ...localGuids.slice(0, 48)]);
    expect(all.rss.title).toBe('Syndicate');
    expect(all.rss.link).toBe(`${BASE_URL}/`);
    expect(all.json.feed_url).toBe(`${BASE_URL}/feeds/all.json`);
  });

  it('?limit=1..200 shortens or lengthens a feed, and its self link carries the query', async () => {
    const one = await fetchAllFormats(t, LOCAL, '?limit=1');
    expect(expectSameIds(one)).toEqual((await expectedLocalGuids()).slice(0, 1));
    expect(one.rss.atomLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}/feeds/${LOCAL}.rss?limit=1`);
    expect(one.atom.feedLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}/feeds/${LOCAL}.atom?limit=1`);
    expect(one.json.feed_url).toBe(`${BASE_URL}/feeds/${LOCAL}.json?limit=1`);

    const max = await fetchAllFormats(t, LOCAL, '?limit=200');
    expect(expectSameIds(max)).toEqual(await expectedLocalGuids());
    expect(max.json.feed_url).toBe(`${BASE_URL}/feeds/${LOCAL}.json?limit=200`);

    const allTwo = await fetchAllFormats(t, 'all', '?limit=2');
    expect(expectSameIds(allTwo)).toEqual([(await getArticle(t, 'sp-rich')).guid, (await getArticle(t, 'sp-no-summary')).guid]);
  });

  it('?limit=0, 201, abc, -1, 1.5 and empty → 400 problem+json', async () => {
    for (const bad of ['0', '201', 'abc', '-1', '1.5', '', '1000']) {
      for (const format of FORMATS) {
        const raw = await request(t, `/feeds/${LOCAL}.${format}?limit=${bad}`);
        expectProblem(problemOf(raw), 400, ['limit']);
      }
    }
  });

  it('unknown slug → 404 problem+json; unknown extension → 404', async () => {
    for (const path of [
      '/feeds/no-such-section.rss',
      '/feeds/no-such-section.atom',
      '/feeds/no-such-section.json',
      '/feeds/no-such-section.json?limit=5',
    ]) {
      const raw = await request(t, path);
      expectProblem(problemOf(raw), 404);
    }
    for (const path of [
      '/feeds/x.xml',
      `/feeds/${LOCAL}.xml`,
      `/feeds/${LOCAL}.RSS`,
      `/feeds/${LOCAL}.rss2`,
      `/feeds/${LOCAL}.txt`,
      '/feeds/Local_News.rss',
    ]) {
      const raw = await request(t, path);
      expect(raw.status, path).toBe(404);
      expectProblem(problemOf(raw), 404);
    }
  });

  describe('content per format (the sport feed)', () => {
    let rich: StoredArticleJson;
    let noSummary: StoredArticleJson;
    let feeds: AllFormats;
    let sportUpdated: string;

    beforeAll(async () => {
      rich = await getArticle(t, 'sp-rich');
      noSummary = await getArticle(t, 'sp-no-summary');
      feeds = await fetchAllFormats(t, 'sport');
      const categories = await send(t.app, 'GET', '/api/v1/categories');
      const sport = (categories.body.items as { slug: string; updatedAt: string }[]).find((c) => c.slug === 'sport')!;
      // The newest change in the feed: the rich article's edit, after the category was created.
      sportUpdated = [rich.updatedAt, rich.publishedAt, noSummary.updatedAt, noSummary.publishedAt, sport.updatedAt].sort().at(-1)!;
      expect(sportUpdated).toBe('2026-11-29T14:00:00.000Z');
    });

    it('RSS channel: title, link, description, language, lastBuildDate (newest change), ttl, atom:link self = served URL', async () => {
      const { rss } = feeds;
      expect(rss.title).toBe('Syndicate: Sport');
      expect(rss.link).toBe(`${BASE_URL}/feeds/sport`);
      expect(rss.description).toBe('Matches, results & transfers.');
      expect(rss.language).toBe('en-GB');
      expect(rss.lastBuildDate).toBe(new Date(sportUpdated).toUTCString());
      expect(Number(rss.ttl)).toBe(Math.ceil(t.config.FEED_CACHE_MAX_AGE_SECONDS / 60));
      const self = rss.atomLinks?.filter((l) => l.$.rel === 'self') ?? [];
      expect(self).toHaveLength(1);
      expect(self[0]!.$).toEqual({ href: `${BASE_URL}/feeds/sport.rss`, rel: 'self', type: 'application/rss+xml' });
      expect(feeds.raw.rss.headers.get('last-modified')).toBe(new Date(sportUpdated).toUTCString());
    });

    it('RSS items: title, link, guid isPermaLink=false, pubDate, description, content:encoded, dc:creator, category, enclosure, media:content', async () => {
      const [first, second] = feeds.rss.items;
      expect(feeds.rss.items).toHaveLength(2);
      expect(first!.title).toBe(rich.title);
      expect(first!.link).toBe(rich.url);
      expect(first!.guid).toBe(rich.guid);
      expect(first!.guid).toMatch(/^tag:news\.example\.co\.uk,2026-11-29:article:\d+$/);
      const guidNode = first!.guidNodes?.[0];
      expect(typeof guidNode === 'object' ? guidNode.$ : undefined).toEqual({ isPermaLink: 'false' });
      expect(new Date(first!.pubDate!).toISOString()).toBe(rich.publishedAt);
      expect(first!.pubDate).toBe('Sun, 29 Nov 2026 12:00:00 GMT');
      // description is HTML: the plain-text summary, escaped.
      expect(first!.content).toBe('A late header settles it &amp; the fans invade the pitch.');
      expect(first!['content:encoded']).toBe(rich.contentHtml);
      // Relative image URL resolved at ingest against the article URL.
      expect(rich.contentHtml).toContain('src="https://news.example.co.uk/img/cup.jpg"');
      expect(first!.creators?.map(textOf)).toEqual(['Sam Sport', 'Ola Writer']);
      expect(first!.categories?.map((c) => textOf(c))).toEqual(['Sport', 'Culture & Arts']);
      // One enclosure per item (RSS Profile); every enclosure also as media:content, plus the lead image.
      expect(first!.enclosures?.map((e) => e.$)).toEqual([
        { url: 'https://news.example.co.uk/audio/cup.mp3', length: '4321000', type: 'audio/mpeg' },
      ]);
      const media = first!.mediaContents?.map((m) => m.$) ?? [];
      expect(media[0]).toEqual({ url: 'https://news.example.co.uk/img/cup-lead.jpg', medium: 'image' });
      expect(media.map((m) => m?.url)).toEqual([
        'https://news.example.co.uk/img/cup-lead.jpg',
        'https://news.example.co.uk/audio/cup.mp3',
        'https://news.example.co.uk/docs/cup-report.pdf',
      ]);
      // No summary: the description is the start of the content, as plain text escaped as HTML.
      const excerpt = excerptFromHtml(noSummary.contentHtml!);
      expect(excerpt.length).toBeLessThan(LONG_BODY.length);
      expect(excerpt.endsWith('…')).toBe(true);
      expect(second!.content).toBe(excerpt);
      expect(second!['content:encoded']).toBe(noSummary.contentHtml);
      expect(second!.creators).toBeUndefined();
      expect(second!.enclosures).toBeUndefined();
    });

    it('Atom: stable tag: feed id, title, updated, author, self + alternate links', async () => {
      const { atom } = feeds;
      expect(atom.id).toBe('tag:news.example.co.uk,2026-11-29:feed:sport');
      expect(atom.title).toBe('Syndicate: Sport');
      expect(atom.titleNodes?.[0]).toEqual({ _: 'Syndicate: Sport', $: { type: 'text' } });
      expect(atom.lastBuildDate).toBe(sportUpdated);
      expect(atom.authors).toEqual([{ name: ['Syndicate'], uri: [`${BASE_URL}/`] }]);
      const links = (atom.feedLinks ?? []).map((l) => l.$);
      expect(links.filter((l) => l.rel === 'self')).toEqual([
        { href: `${BASE_URL}/feeds/sport.atom`, rel: 'self', type: 'application/atom+xml' },
      ]);
      expect(links.filter((l) => l.rel === 'alternate')).toEqual([
        { href: `${BASE_URL}/feeds/sport`, rel: 'alternate', type: 'text/html' },
      ]);
    });

    it('Atom entries: id = guid, title type=text, published, updated, authors, summary type=text, content type=html, categories, enclosure links', async () => {
      const [first, second] = feeds.atom.items;
      expect(feeds.atom.items).toHaveLength(2);
      expect(first!.id).toBe(rich.guid);
      expect(first!.titleNodes?.[0]).toEqual({ _: rich.title, $: { type: 'text' } });
      expect(first!.published).toBe(rich.publishedAt);
      expect(first!.updated).toBe(rich.updatedAt);
      expect(first!.authors).toEqual([
        { name: ['Sam Sport'], uri: ['https://news.example.co.uk/staff/sam'], email: ['sam@news.example.co.uk'] },
        { name: ['Ola Writer'] },
      ]);
      expect(first!.summaryNodes?.[0]).toEqual({ _: rich.summary, $: { type: 'text' } });
      expect(first!.contentNodes?.[0]).toEqual({ _: rich.contentHtml, $: { type: 'html' } });
      expect(first!.atomCategories?.map((c) => c.$)).toEqual([
        { term: 'sport', label: 'Sport' },
        { term: 'culture-arts', label: 'Culture & Arts' },
      ]);
      const links = (first!.links ?? []).map((l) => l.$);
      expect(links.filter((l) => l.rel === 'alternate')).toEqual([{ href: rich.url, rel: 'alternate' }]);
      // Every enclosure, with its type; length only when known (0 is RSS's "unknown").
      expect(links.filter((l) => l.rel === 'enclosure')).toEqual([
        { href: 'https://news.example.co.uk/audio/cup.mp3', rel: 'enclosure', type: 'audio/mpeg', length: '4321000' },
        { href: 'https://news.example.co.uk/docs/cup-report.pdf', rel: 'enclosure', type: 'application/pdf' },
      ]);
      expect(second!.id).toBe(noSummary.guid);
      expect(second!.summaryNodes?.[0]).toEqual({ _: excerptFromHtml(noSummary.contentHtml!), $: { type: 'text' } });
      // No item author: the feed-level author covers the entry (RFC 4287 §4.2.1).
      expect(second!.authors).toBeUndefined();
    });

    it('JSON Feed 1.1: version, title, home_page_url, feed_url, language, authors and every item field', async () => {
      const { json } = feeds;
      expect(json.version).toBe('https://jsonfeed.org/version/1.1');
      expect(json.title).toBe('Syndicate: Sport');
      expect(json.home_page_url).toBe(`${BASE_URL}/feeds/sport`);
      expect(json.feed_url).toBe(`${BASE_URL}/feeds/sport.json`);
      expect(json.description).toBe('Matches, results & transfers.');
      expect(json.language).toBe('en-GB');
      expect(json.authors).toEqual([{ name: 'Syndicate', url: `${BASE_URL}/` }]);
      expect(json.items).toHaveLength(2);
      expect(json.items[0]).toEqual({
        id: rich.guid,
        url: rich.url,
        title: rich.title,
        summary: rich.summary,
        content_html: rich.contentHtml,
        image: 'https://news.example.co.uk/img/cup-lead.jpg',
        date_published: rich.publishedAt,
        date_modified: rich.updatedAt,
        // JSON Feed authors have no email.
        authors: [{ name: 'Sam Sport', url: 'https://news.example.co.uk/staff/sam' }, { name: 'Ola Writer' }],
        // Category labels, then tags, without case-insensitive repeats ("sport").
        tags: ['Sport', 'Culture & Arts', 'football', 'Cup'],
        attachments: [
          { url: 'https://news.example.co.uk/audio/cup.mp3', mime_type: 'audio/mpeg', size_in_bytes: 4_321_000, duration_in_seconds: 300 },
          { url: 'https://news.example.co.uk/docs/cup-report.pdf', mime_type: 'application/pdf' },
        ],
      });
      expect(json.items[1]).toMatchObject({
        id: noSummary.guid,
        summary: excerptFromHtml(noSummary.contentHtml!),
        content_html: noSummary.contentHtml,
      });
      expect(json.items[1]!.authors).toBeUndefined();
    });

    it('one item has the same identity in all three formats, in every feed it appears in', async () => {
      expect(expectSameIds(feeds)).toEqual([rich.guid, noSummary.guid]);
      const culture = await fetchAllFormats(t, 'culture-arts');
      expect(expectSameIds(culture)).toEqual([rich.guid]);
      expect(culture.rss.title).toBe('Syndicate: Culture & Arts');
    });
  });

  // Last: moves the clock far ahead (the scheduled article becomes due).
  it('lastBuildDate is the newest change, never "now": a forced re-render a year later keeps it and the bytes', async () => {
    const before = await fetchRss(t, '/feeds/sport.rss');
    const beforeAtom = await fetchAtom(t, '/feeds/sport.atom');
    t.clock.set('2027-12-01T00:00:00Z');
    const refresh = await send(t.app, 'POST', '/api/v1/feeds/refresh');
    expect(refresh.status).toBe(200);
    expect(refresh.body).toMatchObject({ trigger: 'manual' });
    const after = await fetchRss(t, '/feeds/sport.rss');
    expect(after.feed.lastBuildDate).toBe('Sun, 29 Nov 2026 14:00:00 GMT');
    expect(after.raw.bytes.equals(before.raw.bytes)).toBe(true);
    expect(after.raw.headers.get('etag')).toBe(before.raw.headers.get('etag'));
    expect(after.raw.headers.get('last-modified')).toBe('Sun, 29 Nov 2026 14:00:00 GMT');
    const afterAtom = await fetchAtom(t, '/feeds/sport.atom');
    expect(afterAtom.feed.lastBuildDate).toBe('2026-11-29T14:00:00.000Z');
    expect(afterAtom.raw.bytes.equals(beforeAtom.raw.bytes)).toBe(true);
    // The scheduled article's time has come: it is listed now, and its feed's date is its publication.
    const { feed } = await fetchJson(t, `/feeds/${LOCAL}.json`);
    expect(feed.items[0]!.title).toBe('Scheduled story');
    expect((await fetchRss(t, `/feeds/${LOCAL}.rss`)).feed.lastBuildDate).toBe(new Date(SCHEDULED_AT).toUTCString());
  });
});
