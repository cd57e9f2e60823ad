import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { excerptFromHtml } from '../../src/domain/excerpt.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput } from '../helpers/builders.js';
import { textOf, unescapeHtmlText } from '../helpers/feed-fixtures.js';
import {
  expectSameIds,
  fetchAllFormats,
  FORMATS,
  getArticle,
  ingest,
  type AllFormats,
  type Format,
  type StoredArticleJson,
} from '../helpers/feeds.js';

/**
 * The whole pipeline, API to bytes: golden files for fixed articles ingested through the API at a fixed
 * clock, and hostile text that must come out of every format well-formed and exactly as stored.
 *
 * Goldens are compared byte for byte with the served (identity) body; rewrite them on purpose with
 * UPDATE_GOLDEN=1 and review the diff. They hold article guids, which name the internal id: ids come
 * from a sequence and are the same on PGlite and Postgres as long as this fixed set is the first
 * ingest into the file's fresh database, in this order (beforeAll below).
 */

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const EXTENSIONS: Record<Format, string> = { rss: 'rss.xml', atom: 'atom.xml', json: 'json' };

async function expectGolden(fileName: string, actual: Buffer): Promise<void> {
  const url = new URL(`../golden/${fileName}`, import.meta.url);
  if (UPDATE) await writeFile(url, actual);
  let expected: Buffer;
  try {
    expected = await readFile(url);
  } catch {
    throw new Error(`missing golden file tests/golden/${fileName}: run with UPDATE_GOLDEN=1 and review it`);
  }
  // The string comparison first, for a readable diff; then the bytes.
  expect(actual.toString('utf8'), `${fileName} differs from the golden file`).toBe(expected.toString('utf8'));
  expect(actual.equals(expected), `${fileName} bytes`).toBe(true);
}

/** The fixed golden articles: ingested in this order, at 2026-11-29T09:00Z, in one batch. */
const GOLDEN_ARTICLES = [
  articleInput({
    externalId: 'golden-summit',
    title: 'Leaders <b>agree</b> climate fund at summit',
    url: 'https://news.example.co.uk/world/summit?utm_source=feed&utm_medium=rss',
    summary: 'The fund will pay for flood defences & early-warning systems in 40 countries.',
    contentHtml:
      '<p>Delegates agreed the fund after <a href="/world/talks">two weeks of talks</a>.</p><script>alert(1)</script>' +
      '<p onclick="steal()">The first payments are due in <strong>2027</strong>.</p><img src="images/summit.jpg" alt="Delegates">',
    authors: [
      { name: 'Ada Correspondent', email: 'ada@news.example.co.uk', url: 'https://news.example.co.uk/staff/ada' },
      { name: 'Ben Writer' },
    ],
    categories: ['World', 'Climate'],
    tags: ['climate', 'World', 'diplomacy'],
    imageUrl: 'https://news.example.co.uk/img/summit-lead.jpg',
    publishedAt: '2026-11-28T07:30:00Z',
    updatedAt: '2026-11-28T09:15:00+01:00',
  }),
  articleInput({
    externalId: 'golden-briefing',
    title: 'World briefing: 28 November',
    url: 'https://news.example.co.uk/podcasts/world-briefing/2026-11-28',
    summary: 'The climate fund, an election result and the weekend weather.',
    contentHtml: '<p>Today: the climate fund, an election and the weather.</p>',
    authors: [{ name: 'Cara Host' }],
    categories: ['Podcasts', 'World'],
    tags: ['briefing'],
    imageUrl: 'https://news.example.co.uk/img/briefing.jpg',
    enclosures: [
      { url: 'https://news.example.co.uk/audio/briefing-1128.mp3', type: 'audio/mpeg', length: 8_734_112, durationSeconds: 544 },
      { url: 'https://news.example.co.uk/transcripts/1128.pdf', type: 'application/pdf', length: 48_211 },
    ],
    publishedAt: '2026-11-28T06:00:00Z',
  }),
  articleInput({
    externalId: 'golden-tywydd',
    title: 'Rhagolygon y tywydd ar gyfer y penwythnos',
    url: 'https://news.example.co.uk/world/tywydd',
    summary: null,
    contentHtml:
      '<p>Bydd hi’n heulog ddydd Sadwrn ar draws y rhan fwyaf o’r wlad, gyda chymylau’n cyrraedd y gorllewin erbyn y nos.</p>' +
      '<p>Mae disgwyl glaw trwm ddydd Sul, yn enwedig yn y mynyddoedd, a gwyntoedd cryfion ar hyd yr arfordir gorllewinol drwy’r dydd.</p>',
    authors: [{ name: 'Dai Tywydd' }],
    categories: ['World'],
    tags: [],
    language: 'cy-gb',
    publishedAt: '2026-11-27T12:00:00Z',
  }),
  articleInput({
    externalId: 'golden-weather-video',
    title: 'Weather video: the week ahead',
    url: 'https://news.example.co.uk/podcasts/weather-video',
    summary: null,
    contentHtml: null,
    authors: [],
    categories: ['Podcasts'],
    tags: [],
    enclosures: [{ url: 'https://news.example.co.uk/video/week-ahead.mp4', type: 'video/MP4', length: 0 }],
    publishedAt: '2026-11-27T09:00:00Z',
  }),
  // Never in a feed: a draft, and an article scheduled after the clock.
  articleInput({
    externalId: 'golden-draft',
    title: 'Draft: not yet',
    categories: ['World'],
    status: 'draft',
    publishedAt: '2026-11-28T08:00:00Z',
  }),
  articleInput({
    externalId: 'golden-scheduled',
    title: 'Embargoed until Monday',
    categories: ['World', 'Podcasts'],
    publishedAt: '2026-11-30T07:00:00Z',
  }),
];

const GOLDEN_FEEDS = ['world', 'podcasts', 'climate'];

// Every C0 control character, U+0000 to U+001F (tab, newline and carriage return included).
const CONTROLS = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('');
const HOSTILE =
  `Vector<int> & "double" 'single' a>b 1 < 2 && 3 > 2 · literal &amp; and &lt;b&gt; · ]]> then again ]]> · ` +
  `emoji 🎉👩🏽‍💻🇬🇧 · RTL مرحبا بالعالم שלום עולם · controls[${CONTROLS}]`;
const HOSTILE_CATEGORY = `Q&A <b>"Hostile"</b> ]]> ]]> 🎉 مرحبا [\u0001\u0008\u000b\u001f]`;

/** A body of hostile paragraphs, 200 KB or more once ingest has stripped what it strips. */
function bigBody(): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < 216 * 1024; i++) {
    const p = `<p>Paragraph ${i}: ${HOSTILE} <em>${i % 2 ? ']]>' : '&amp;'}</em> <a href="/p/${i}?a=1&b=2">link</a></p>`;
    parts.push(p);
    size += Buffer.byteLength(p);
  }
  return parts.join('\n');
}

describe('feeds: the whole pipeline', () => {
  let t: TestContext;

  beforeAll(async () => {
    t = await createTestContext();
    // First ingest into this fresh database: the ids (and so the guids in the goldens) are 1..n.
    const results = await ingest(t, GOLDEN_ARTICLES);
    expect(results.map((r) => r.status)).toEqual(GOLDEN_ARTICLES.map(() => 'created'));
    await t.feeds.refresh('change');
  });
  afterAll(async () => t?.close());

  describe('golden files: tests/golden/pipeline-{category}.*', () => {
    for (const slug of GOLDEN_FEEDS) {
      for (const format of FORMATS) {
        it(`${slug}.${format} matches pipeline-${slug}.${EXTENSIONS[format]}`, async () => {
          const feeds = await fetchAllFormats(t, slug);
          await expectGolden(`pipeline-${slug}.${EXTENSIONS[format]}`, feeds.raw[format].bytes);
        });
      }
    }

    it('the golden feeds list what they should: no draft, no scheduled article, same ids in every format', async () => {
      const guid = async (id: string) => (await getArticle(t, id)).guid;
      const world = await fetchAllFormats(t, 'world');
      expect(expectSameIds(world)).toEqual([await guid('golden-summit'), await guid('golden-briefing'), await guid('golden-tywydd')]);
      const podcasts = await fetchAllFormats(t, 'podcasts');
      expect(expectSameIds(podcasts)).toEqual([await guid('golden-briefing'), await guid('golden-weather-video')]);
      // Ingest normalisation shows through: markup stripped from the title, script and handlers gone,
      // relative URLs made absolute, the language tag and MIME type in canonical case.
      const summit = world.json.items[0]!;
      expect(summit.title).toBe('Leaders agree climate fund at summit');
      expect(summit.content_html).not.toMatch(/script|onclick/);
      expect(summit.content_html).toContain('href="https://news.example.co.uk/world/talks"');
      expect(summit.content_html).toContain('src="https://news.example.co.uk/world/images/summit.jpg"');
      expect(summit.date_modified).toBe('2026-11-28T08:15:00.000Z');
      expect(world.json.items[2]!.language).toBe('cy-GB');
      expect(podcasts.json.items[1]!.attachments).toEqual([
        { url: 'https://news.example.co.uk/video/week-ahead.mp4', mime_type: 'video/mp4' },
      ]);
      // No HTML body: JSON Feed carries the title as content_text.
      expect(podcasts.json.items[1]!.content_text).toBe('Weather video: the week ahead');
    });
  });

  describe('hostile article text through the API', () => {
    let stored: StoredArticleJson;
    let excerptOnly: StoredArticleJson;
    let feeds: AllFormats;
    let slug: string;

    beforeAll(async () => {
      const body = bigBody();
      expect(Buffer.byteLength(body)).toBeGreaterThanOrEqual(200 * 1024);
      await ingest(t, [
        articleInput({
          externalId: 'hostile-1',
          title: HOSTILE,
          summary: `Summary: ${HOSTILE}`,
          contentHtml: body,
          authors: [{ name: `Author ${HOSTILE}` }],
          categories: [HOSTILE_CATEGORY],
          tags: [`Tag ]]> & <i> 🎉 ${CONTROLS}`],
          publishedAt: '2026-11-29T08:00:00Z',
        }),
        articleInput({
          externalId: 'hostile-2',
          title: `No summary ${HOSTILE}`,
          summary: null,
          contentHtml: `<p>${HOSTILE}</p><p>${HOSTILE}</p>`,
          authors: [],
          categories: [HOSTILE_CATEGORY],
          publishedAt: '2026-11-29T07:00:00Z',
        }),
      ]);
      await t.feeds.refresh('change');
      stored = await getArticle(t, 'hostile-1');
      excerptOnly = await getArticle(t, 'hostile-2');
      slug = stored.categories[0]!.slug;
      feeds = await fetchAllFormats(t, slug);
    });

    it('ingest kept the hostile text (minus XML-illegal characters): the comparison below is not vacuous', () => {
      for (const value of [stored.title, stored.summary!, stored.authors[0]!.name, stored.categories[0]!.name]) {
        expect(value.split(']]>').length - 1, value).toBeGreaterThanOrEqual(2);
        expect(value).toContain('🎉');
        expect(value).toContain('مرحبا');
        expect(value).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
      }
      for (const value of [stored.title, stored.summary!, stored.authors[0]!.name]) {
        expect(value).toContain('&amp;');
        expect(value).toContain('"double"');
        expect(value).toContain('👩🏽‍💻');
        expect(value).toContain('שלום עולם');
      }
      expect(Buffer.byteLength(stored.contentHtml!)).toBeGreaterThanOrEqual(200 * 1024);
      expect(stored.contentHtml).toContain('🎉');
      expect(stored.tags[0]).toContain(']]>');
    });

    it('every format is well-formed (checked on fetch) and lists both items with the same ids', () => {
      expect(expectSameIds(feeds)).toEqual([stored.guid, excerptOnly.guid]);
    });

    it('RSS: title, description, content:encoded, dc:creator, category and channel title round-trip exactly', () => {
      const item = feeds.rss.items[0]!;
      expect(feeds.rss.title).toBe(`Syndicate: ${stored.categories[0]!.name}`);
      expect(item.title).toBe(stored.title);
      expect(unescapeHtmlText(item.content!)).toBe(stored.summary);
      expect(item['content:encoded']).toBe(stored.contentHtml);
      expect(item.creators?.map(textOf)).toEqual([stored.authors[0]!.name]);
      expect(item.categories?.map((c) => textOf(c))).toEqual([stored.categories[0]!.name]);
      expect(unescapeHtmlText(feeds.rss.items[1]!.content!)).toBe(excerptFromHtml(excerptOnly.contentHtml!));
      expect(feeds.rss.items[1]!.title).toBe(excerptOnly.title);
    });

    it('Atom: title, summary, content, author, category label and feed title round-trip exactly', () => {
      const entry = feeds.atom.items[0]!;
      expect(feeds.atom.title).toBe(`Syndicate: ${stored.categories[0]!.name}`);
      expect(entry.title).toBe(stored.title);
      expect(entry.summary).toBe(stored.summary);
      expect(entry.content).toBe(stored.contentHtml);
      expect(entry.authors?.[0]?.name?.[0]).toBe(stored.authors[0]!.name);
      expect(entry.atomCategories?.[0]?.$).toEqual({ term: slug, label: stored.categories[0]!.name });
      expect(feeds.atom.items[1]!.summary).toBe(excerptFromHtml(excerptOnly.contentHtml!));
    });

    it('JSON Feed: title, summary, content_html, author, tags and feed title round-trip exactly', () => {
      const item = feeds.json.items[0]!;
      expect(feeds.json.title).toBe(`Syndicate: ${stored.categories[0]!.name}`);
      expect(item.title).toBe(stored.title);
      expect(item.summary).toBe(stored.summary);
      expect(item.content_html).toBe(stored.contentHtml);
      expect(item.authors).toEqual([{ name: stored.authors[0]!.name }]);
      expect(item.tags).toEqual([stored.categories[0]!.name, stored.tags[0]]);
      expect(feeds.json.items[1]!.summary).toBe(excerptFromHtml(excerptOnly.contentHtml!));
    });

    it('the all feed, which now carries the hostile items too, stays well-formed in every format', async () => {
      const all = await fetchAllFormats(t, 'all');
      expect(expectSameIds(all).slice(0, 2)).toEqual([stored.guid, excerptOnly.guid]);
      expect(all.json.items[0]!.content_html).toBe(stored.contentHtml);
      expect(all.atom.items[0]!.title).toBe(stored.title);
    });
  });
});
