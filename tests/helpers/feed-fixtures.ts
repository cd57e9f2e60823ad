import { XMLValidator } from 'fast-xml-parser';
import Parser from 'rss-parser';
import type { FeedDocument, FeedItem } from '../../src/domain/feed-document.js';

/**
 * Fixed inputs for the render tests and goldens, plus the checks every emitted feed goes through
 * (well-formedness, parse-back). Every value is literal: no clock, no randomness, so goldens are
 * byte-stable.
 */

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

const SITE = 'https://news.example.com';

/** One plain item; tests override what they exercise. */
export function buildFeedItem(overrides: Partial<FeedItem> = {}): FeedItem {
  return {
    id: 'tag:news.example.com,2026:article/plain',
    url: `${SITE}/articles/plain`,
    title: 'A plain article',
    summary: 'A plain summary.',
    contentHtml: '<p>A plain body.</p>',
    publishedAt: new Date('2026-05-11T08:00:00Z'),
    updatedAt: new Date('2026-05-11T08:00:00Z'),
    authors: [{ name: 'Ada Reporter' }],
    categories: [{ term: 'local', label: 'Local' }],
    tags: [],
    imageUrl: null,
    enclosures: [],
    language: 'en-GB',
    ...overrides,
  };
}

/** A feed around the given items (default: none), dated by its newest item change. */
export function buildFeedDocument(overrides: Partial<FeedDocument> = {}): FeedDocument {
  const items = overrides.items ?? [];
  const newest = items.reduce((max, item) => Math.max(max, item.updatedAt.getTime()), Date.parse('2026-05-01T00:00:00Z'));
  return {
    id: 'tag:news.example.com,2026:feed/local',
    title: 'Example News: Local',
    description: 'Local news from Example News.',
    homePageUrl: `${SITE}/local`,
    selfUrls: {
      rss: `${SITE}/feeds/local.rss`,
      atom: `${SITE}/feeds/local.atom`,
      json: `${SITE}/feeds/local.json`,
    },
    language: 'en-GB',
    updated: new Date(newest),
    ttlMinutes: 15,
    author: { name: 'Example News', url: `${SITE}/`, email: 'newsroom@example.com' },
    hubs: ['https://hub.example.net/', 'https://websub.example.org/hub'],
    imageUrl: `${SITE}/static/logo.png`,
    items,
    ...overrides,
  };
}

const LONG_BODY =
  '<p>The county archive opened its <em>reading room</em> on Saturday after a two-year restoration ' +
  'that replaced the roof, rewired the stacks &amp; added a lift.</p>' +
  '<p>Volunteers catalogued more than 40,000 parish records during the closure, and the archivist said ' +
  'the digitised registers would be searchable online from June, with the originals available by appointment.</p>';

/**
 * The golden feed: five items covering multiple authors, multiple categories, tags overlapping a
 * category, a lead image, an audio enclosure with a duration plus a second enclosure, a zero-length
 * (unknown size) enclosure, no summary, no content, neither, a URL with `&`, an item language that
 * differs from the feed's.
 */
export function buildGoldenFeedDocument(): FeedDocument {
  const items: FeedItem[] = [
    buildFeedItem({
      id: 'tag:news.example.com,2026:article/bike-lanes',
      url: `${SITE}/articles/bike-lanes?utm_source=feed&utm_medium=rss`,
      title: 'Council approves 12 km of new bike lanes',
      summary: 'The plan links the station to both hospitals & the university by 2028.',
      contentHtml:
        '<p>The council voted 31&#8211;9 to approve the plan.</p><figure><img src="https://news.example.com/img/lanes.jpg" alt="A cyclist"></figure>',
      publishedAt: new Date('2026-05-12T07:30:00Z'),
      updatedAt: new Date('2026-05-12T09:15:00Z'),
      authors: [
        { name: 'Ada Reporter', url: `${SITE}/staff/ada` },
        { name: 'Ben Writer', email: 'ben@example.com' },
      ],
      categories: [
        { term: 'local', label: 'Local' },
        { term: 'transport', label: 'Transport' },
      ],
      tags: ['cycling', 'transport', 'Council'],
      imageUrl: `${SITE}/img/lanes.jpg`,
    }),
    buildFeedItem({
      id: 'tag:news.example.com,2026:article/morning-briefing-0512',
      url: `${SITE}/podcasts/morning-briefing/2026-05-12`,
      title: 'Morning briefing: 12 May',
      summary: 'Bike lanes, the archive reopening and the weekend weather.',
      contentHtml: '<p>Today: bike lanes, the archive and the weather.</p><p><a href="https://news.example.com/transcripts/0512.pdf">Transcript</a></p>',
      publishedAt: new Date('2026-05-12T06:00:00Z'),
      updatedAt: new Date('2026-05-12T06:00:00Z'),
      authors: [{ name: 'Cara Host' }],
      categories: [{ term: 'podcasts', label: 'Podcasts' }],
      tags: ['briefing'],
      imageUrl: `${SITE}/img/briefing-cover.jpg`,
      enclosures: [
        { url: `${SITE}/audio/briefing-0512.mp3`, type: 'audio/mpeg', length: 8_734_112, durationSeconds: 544 },
        { url: `${SITE}/transcripts/0512.pdf`, type: 'application/pdf', length: 48_211 },
      ],
    }),
    buildFeedItem({
      id: 'tag:news.example.com,2026:article/archive-reopens',
      url: `${SITE}/articles/archive-reopens`,
      title: 'County archive reopens after restoration',
      // No summary: every format falls back to the start of the content.
      summary: null,
      contentHtml: LONG_BODY,
      publishedAt: new Date('2026-05-11T16:45:00Z'),
      updatedAt: new Date('2026-05-11T17:00:00Z'),
      // No authors: the feed author covers the item.
      authors: [],
      categories: [
        { term: 'local', label: 'Local' },
        { term: 'culture', label: 'Culture & Heritage' },
      ],
      tags: [],
    }),
    buildFeedItem({
      id: 'tag:news.example.com,2026:article/newyddion-tywydd',
      url: `${SITE}/articles/newyddion-tywydd`,
      title: 'Rhagolygon y tywydd ar gyfer y penwythnos',
      summary: 'Heulwen ddydd Sadwrn, glaw ddydd Sul.',
      // No content: JSON Feed uses the summary as content_text.
      contentHtml: null,
      publishedAt: new Date('2026-05-11T12:00:00Z'),
      updatedAt: new Date('2026-05-11T12:00:00Z'),
      authors: [{ name: 'Dai Tywydd' }],
      categories: [{ term: 'weather', label: 'Weather' }],
      tags: ['tywydd'],
      language: 'cy-GB',
      // Unknown size (0): RSS keeps length="0", the other formats leave the size out.
      enclosures: [{ url: `${SITE}/video/weather-0511.mp4`, type: 'video/mp4', length: 0 }],
    }),
    buildFeedItem({
      id: 'tag:news.example.com,2026:article/road-closed',
      url: `${SITE}/articles/road-closed`,
      title: 'High Street closed until 6 pm',
      // Neither summary nor content: a title-only item.
      summary: null,
      contentHtml: null,
      publishedAt: new Date('2026-05-11T09:00:00Z'),
      updatedAt: new Date('2026-05-11T09:00:00Z'),
      categories: [{ term: 'local', label: 'Local' }],
    }),
  ];
  return buildFeedDocument({ items });
}

// ---------------------------------------------------------------------------------------------
// Checks on emitted XML
// ---------------------------------------------------------------------------------------------

// XML 1.0 §2.2 Char production, negated (the astral planes are matched as surrogate pairs).
const ILLEGAL_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;
const CDATA_SECTION = /<!\[CDATA\[[\s\S]*?\]\]>/g;
// Anything but the five predefined entities and character references (XML 1.0 §4.1, §4.6).
const UNDEFINED_ENTITY = /&(?!(?:amp|lt|gt|quot|apos);|#[0-9]+;|#x[0-9A-Fa-f]+;)/;

/**
 * What makes `xml` not a well-formed UTF-8 XML 1.0 feed; [] when nothing does. fast-xml-parser's
 * validator checks structure (nesting, attributes, bare `&`/`<`) but neither the Char production nor
 * undefined entities, so those two are checked here.
 */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  if (!xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n')) problems.push('missing or different XML declaration');
  const result = XMLValidator.validate(xml);
  if (result !== true) problems.push(`${result.err.code} at ${result.err.line}:${result.err.col}: ${result.err.msg}`);
  const illegal = ILLEGAL_XML_CHAR.exec(xml);
  if (illegal) problems.push(`character outside XML 1.0 Char: U+${illegal[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`);
  if (UNDEFINED_ENTITY.test(xml.replace(CDATA_SECTION, ''))) problems.push('entity reference other than the predefined five');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Parse-back with rss-parser (the reader library the project uses upstream)
// ---------------------------------------------------------------------------------------------

/** xml2js's shape for an element with attributes: text in `_`, attributes in `$`. */
export interface XmlNode {
  _?: string;
  $?: Record<string, string>;
}

export interface RssItemExtra {
  creators?: (string | XmlNode)[];
  mediaContents?: XmlNode[];
  mediaThumbnails?: XmlNode[];
  dcLanguage?: string;
  'content:encoded'?: string;
}

export interface AtomItemExtra {
  id?: string;
  published?: string;
  updated?: string;
  authors?: { name?: string[]; uri?: string[]; email?: string[] }[];
  atomCategories?: XmlNode[];
  links?: XmlNode[];
}

export interface AtomFeedExtra {
  /** Set by rss-parser from <updated>, missing from its typings. */
  lastBuildDate?: string;
  id?: string;
  subtitle?: string;
  author?: { name?: string[]; uri?: string[]; email?: string[] };
  logo?: string;
  feedLinks?: XmlNode[];
}

/** Parses RSS back, asking rss-parser for the repeated and namespaced fields it drops by default. */
export async function parseRss(xml: string) {
  // lastBuildDate is read by rss-parser by default but missing from its typings.
  const parser = new Parser<{ language?: string; ttl?: string; lastBuildDate?: string }, RssItemExtra>({
    customFields: {
      feed: ['language', 'ttl'],
      item: [
        ['dc:creator', 'creators', { keepArray: true }],
        ['media:content', 'mediaContents', { keepArray: true }],
        ['media:thumbnail', 'mediaThumbnails', { keepArray: true }],
        ['dc:language', 'dcLanguage'],
      ],
    },
  });
  return parser.parseString(xml);
}

/** Parses Atom back; categories, enclosure links and extra authors exist only as custom fields. */
export async function parseAtom(xml: string) {
  const parser = new Parser<AtomFeedExtra, AtomItemExtra>({
    customFields: {
      // rss-parser's typings allow only plain names for feed fields; its runtime takes the same
      // [from, to, options] form as for items (one copyFromXML), which the hub links need.
      feed: ['id', 'subtitle', 'author', 'logo', ['link', 'feedLinks', { keepArray: true }]] as unknown as (keyof AtomFeedExtra)[],
      item: [
        'id',
        'published',
        'updated',
        ['author', 'authors', { keepArray: true }],
        ['category', 'atomCategories', { keepArray: true }],
        ['link', 'links', { keepArray: true }],
      ],
    },
  });
  return parser.parseString(xml);
}

/** The text of an xml2js value that may or may not carry attributes. */
export function textOf(value: string | XmlNode | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value._;
}

/** Decodes the three entities renderRss uses to turn a plain-text summary into HTML. */
export function unescapeHtmlText(html: string): string {
  return html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
