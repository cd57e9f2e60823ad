import { expect } from 'vitest';
import Parser from 'rss-parser';
import { feedSnapshots } from '../../src/storage/schema.js';
import type { TestContext } from './app.js';
import { send, type Answer } from './builders.js';
import { xmlProblems, type XmlNode } from './feed-fixtures.js';

/**
 * Feed-suite helpers: ingest through the API, fetch a feed over the app and parse it back (every feed
 * a test fetches goes through xmlProblems + rss-parser, or JSON.parse), bounded polling, and reading
 * counters and snapshot sequence numbers. No mocks: everything runs through the real app and database.
 */

export type Format = 'rss' | 'atom' | 'json';
export const FORMATS: readonly Format[] = ['rss', 'atom', 'json'];

export const CONTENT_TYPES: Record<Format, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

// ---------------------------------------------------------------------------------------------
// Ingest
// ---------------------------------------------------------------------------------------------

/** POSTs a batch through the API (all-or-nothing) and asserts it was accepted; returns the per-article outcomes. */
export async function ingest(t: TestContext, articles: Record<string, unknown>[]): Promise<{ externalId: string; status: string }[]> {
  const answer = await send(t.app, 'POST', '/api/v1/articles', { body: { articles } });
  expect(answer.status, answer.text).toBe(200);
  return answer.body.results as { externalId: string; status: string }[];
}

/** The stored article as the API returns it (what ingest normalisation made of the input). */
export async function getArticle(t: TestContext, externalId: string): Promise<StoredArticleJson> {
  const answer = await send(t.app, 'GET', `/api/v1/articles/${encodeURIComponent(externalId)}`);
  expect(answer.status, answer.text).toBe(200);
  return answer.body as StoredArticleJson;
}

export interface StoredArticleJson {
  externalId: string;
  guid: string;
  title: string;
  url: string;
  summary: string | null;
  contentHtml: string | null;
  authors: { name: string; email?: string; url?: string }[];
  categories: { slug: string; name: string }[];
  tags: string[];
  publishedAt: string;
  updatedAt: string;
  imageUrl: string | null;
  language: string;
  enclosures: { url: string; type: string; length: number; durationSeconds?: number }[];
}

/** PUT /api/v1/categories/{slug} (admin); asserts 200 or 201. */
export async function putCategory(t: TestContext, slug: string, body: { name: string; description?: string | null }): Promise<Answer> {
  const answer = await send(t.app, 'PUT', `/api/v1/categories/${slug}`, { body });
  expect([200, 201], answer.text).toContain(answer.status);
  return answer;
}

// ---------------------------------------------------------------------------------------------
// Fetch and parse back
// ---------------------------------------------------------------------------------------------

export interface RawFeed {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
}

/** One request through app.request(), body kept as bytes (compressed bodies stay compressed). */
export async function request(
  t: TestContext,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawFeed> {
  const res = await t.app.request(path, { method: init.method ?? 'GET', headers: init.headers ?? {} });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: bytes.toString('utf8') };
}

/** An element known by its attributes only (atom:link, link, enclosure). */
export interface RssLink extends XmlNode {
  $: { href: string; rel?: string; type?: string; length?: string };
}

export interface RssItem {
  title?: string;
  link?: string;
  guid?: string;
  guidNodes?: (string | XmlNode)[];
  pubDate?: string;
  isoDate?: string;
  /** The item description (HTML). */
  content?: string;
  'content:encoded'?: string;
  creators?: (string | XmlNode)[];
  categories?: (string | XmlNode)[];
  enclosures?: XmlNode[];
  mediaContents?: XmlNode[];
}

export interface RssChannel {
  title?: string;
  link?: string;
  description?: string;
  language?: string;
  lastBuildDate?: string;
  ttl?: string;
  atomLinks?: RssLink[];
  items: RssItem[];
}

export interface AtomPerson {
  name?: string[];
  uri?: string[];
  email?: string[];
}

export interface AtomEntry {
  id?: string;
  title?: string;
  titleNodes?: (string | XmlNode)[];
  published?: string;
  updated?: string;
  authors?: AtomPerson[];
  summary?: string;
  summaryNodes?: (string | XmlNode)[];
  content?: string;
  contentNodes?: (string | XmlNode)[];
  atomCategories?: XmlNode[];
  links?: RssLink[];
}

export interface AtomFeedDoc {
  id?: string;
  title?: string;
  titleNodes?: (string | XmlNode)[];
  /** rss-parser's name for <updated>. */
  lastBuildDate?: string;
  authors?: AtomPerson[];
  feedLinks?: RssLink[];
  items: AtomEntry[];
}

export interface JsonFeedAuthor {
  name?: string;
  url?: string;
  avatar?: string;
}

export interface JsonFeedItem {
  id: string;
  url?: string;
  title?: string;
  summary?: string;
  content_html?: string;
  content_text?: string;
  date_published?: string;
  date_modified?: string;
  authors?: JsonFeedAuthor[];
  tags?: string[];
  image?: string;
  language?: string;
  attachments?: { url: string; mime_type: string; size_in_bytes?: number; duration_in_seconds?: number }[];
}

export interface JsonFeedDoc {
  version: string;
  title: string;
  home_page_url?: string;
  feed_url?: string;
  description?: string;
  language?: string;
  authors?: JsonFeedAuthor[];
  items: JsonFeedItem[];
}

// rss-parser's typings allow only plain names for custom fields; its runtime takes [from, to, options]
// for feed fields as for items (one copyFromXML). keepArray keeps attributes ({ _, $ }) that the
// plain form strips (guid isPermaLink, title type, ...).
const rssParser = new Parser({
  customFields: {
    feed: ['language', 'ttl', 'lastBuildDate', ['atom:link', 'atomLinks', { keepArray: true }]] as unknown as string[],
    item: [
      ['guid', 'guidNodes', { keepArray: true }],
      ['dc:creator', 'creators', { keepArray: true }],
      ['enclosure', 'enclosures', { keepArray: true }],
      ['media:content', 'mediaContents', { keepArray: true }],
      'content:encoded',
    ] as unknown as string[],
  },
});

const atomParser = new Parser({
  customFields: {
    feed: [
      'id',
      ['author', 'authors', { keepArray: true }],
      ['link', 'feedLinks', { keepArray: true }],
      ['title', 'titleNodes', { keepArray: true }],
    ] as unknown as string[],
    item: [
      'id',
      'published',
      'updated',
      ['title', 'titleNodes', { keepArray: true }],
      ['author', 'authors', { keepArray: true }],
      ['summary', 'summaryNodes', { keepArray: true }],
      ['content', 'contentNodes', { keepArray: true }],
      ['category', 'atomCategories', { keepArray: true }],
      ['link', 'links', { keepArray: true }],
    ] as unknown as string[],
  },
});

function formatOf(path: string): Format {
  const m = /\.(rss|atom|json)(?:\?|$)/.exec(path);
  if (!m) throw new Error(`not a feed path: ${path}`);
  return m[1] as Format;
}

/** Asserts a 200 feed answer of the right media type and well-formed body; returns it raw. */
export async function fetchFeedRaw(t: TestContext, path: string, headers: Record<string, string> = {}): Promise<RawFeed> {
  const raw = await request(t, path, { headers });
  expect(raw.status, `${path}: ${raw.text.slice(0, 300)}`).toBe(200);
  expect(raw.headers.get('content-type'), path).toBe(CONTENT_TYPES[formatOf(path)]);
  return raw;
}

/** Checks an XML body is a well-formed UTF-8 XML 1.0 document (fails the test with the reasons). */
export function expectWellFormed(xml: string, label: string): void {
  expect(xmlProblems(xml), `${label} well-formedness`).toEqual([]);
}

export async function parseRssBack(xml: string, label = 'RSS'): Promise<RssChannel> {
  expectWellFormed(xml, label);
  expect(xml, label).toMatch(/^<\?xml[^>]*>\n<rss version="2\.0"/);
  return (await rssParser.parseString(xml)) as unknown as RssChannel;
}

export async function parseAtomBack(xml: string, label = 'Atom'): Promise<AtomFeedDoc> {
  expectWellFormed(xml, label);
  expect(xml, label).toMatch(/^<\?xml[^>]*>\n<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom"/);
  return (await atomParser.parseString(xml)) as unknown as AtomFeedDoc;
}

export function parseJsonBack(text: string, label = 'JSON Feed'): JsonFeedDoc {
  const doc = JSON.parse(text) as JsonFeedDoc;
  expect(doc.version, label).toBe('https://jsonfeed.org/version/1.1');
  expect(Array.isArray(doc.items), label).toBe(true);
  return doc;
}

export async function fetchRss(t: TestContext, path: string): Promise<{ raw: RawFeed; feed: RssChannel }> {
  const raw = await fetchFeedRaw(t, path);
  return { raw, feed: await parseRssBack(raw.text, path) };
}

export async function fetchAtom(t: TestContext, path: string): Promise<{ raw: RawFeed; feed: AtomFeedDoc }> {
  const raw = await fetchFeedRaw(t, path);
  return { raw, feed: await parseAtomBack(raw.text, path) };
}

export async function fetchJson(t: TestContext, path: string): Promise<{ raw: RawFeed; feed: JsonFeedDoc }> {
  const raw = await fetchFeedRaw(t, path);
  return { raw, feed: parseJsonBack(raw.text, path) };
}

export interface AllFormats {
  rss: RssChannel;
  atom: AtomFeedDoc;
  json: JsonFeedDoc;
  raw: Record<Format, RawFeed>;
}

/** Fetches /feeds/{slug}.{rss,atom,json}{query} and parses each back. */
export async function fetchAllFormats(t: TestContext, slug: string, query = ''): Promise<AllFormats> {
  const [rss, atom, json] = await Promise.all([
    fetchRss(t, `/feeds/${slug}.rss${query}`),
    fetchAtom(t, `/feeds/${slug}.atom${query}`),
    fetchJson(t, `/feeds/${slug}.json${query}`),
  ]);
  return { rss: rss.feed, atom: atom.feed, json: json.feed, raw: { rss: rss.raw, atom: atom.raw, json: json.raw } };
}

/** Parses any feed body back by format (for bodies fetched with special headers). */
export async function parseBack(format: Format, text: string): Promise<unknown> {
  if (format === 'rss') return parseRssBack(text);
  if (format === 'atom') return parseAtomBack(text);
  return parseJsonBack(text);
}

/** The item ids of each format, in document order. */
export function itemIds(feeds: Pick<AllFormats, 'rss' | 'atom' | 'json'>): Record<Format, string[]> {
  return {
    rss: feeds.rss.items.map((i) => i.guid ?? ''),
    atom: feeds.atom.items.map((i) => i.id ?? ''),
    json: feeds.json.items.map((i) => i.id),
  };
}

/** Asserts the three formats list the same ids in the same order, and returns them. */
export function expectSameIds(feeds: Pick<AllFormats, 'rss' | 'atom' | 'json'>): string[] {
  const ids = itemIds(feeds);
  expect(ids.atom, 'Atom ids = RSS guids').toEqual(ids.rss);
  expect(ids.json, 'JSON Feed ids = RSS guids').toEqual(ids.rss);
  return ids.rss;
}

export function problemOf(raw: RawFeed): Answer {
  const type = raw.headers.get('content-type') ?? '';
  return { status: raw.status, headers: raw.headers, body: /json/.test(type) ? JSON.parse(raw.text) : raw.text, text: raw.text };
}

// ---------------------------------------------------------------------------------------------
// Waiting, counters, snapshots
// ---------------------------------------------------------------------------------------------

/**
 * Polls `probe` until it returns a truthy value (returned) or the deadline passes (the test fails with
 * `what`). A bounded poll, not a timed assertion: the deadline is generous, success is usually immediate.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Waits until the runtime has no debounced refresh pending and none running, so that a test's own
 * refresh or tick is the one doing the work (its summary is then exact). Reads private state: this is
 * introspection for tests, the runtime offers no "idle" signal.
 */
export async function quiesce(t: TestContext): Promise<void> {
  const state = t.feeds as unknown as { changeTimer: unknown; refreshing: unknown; followUp?: unknown };
  await waitFor('the feed runtime to be idle', async () => state.changeTimer === null && state.refreshing === null && !state.followUp);
}

interface CounterLike {
  get(): Promise<{ values: { value: number; labels: Record<string, string | number | undefined> }[] }>;
}

/** Sum of a prom-client counter's values whose labels include `labels`. */
export async function counterValue(counter: CounterLike, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** feed_snapshots seq per `feedKey.format`: a new seq means new bytes were written. */
export async function snapshotSeqs(t: TestContext): Promise<Map<string, number>> {
  const rows = await t.deps.db
    .select({ feedKey: feedSnapshots.feedKey, format: feedSnapshots.format, seq: feedSnapshots.seq })
    .from(feedSnapshots);
  return new Map(rows.map((r) => [`${r.feedKey}.${r.format}`, Number(r.seq)]));
}

/** Value of one sample in Prometheus text format whose labels include `labels` (summed over matches). */
export function promSample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labelText = m[1] ?? '';
    const have = new Map<string, string>();
    for (const lm of labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have.set(lm[1]!, lm[2]!.replace(/\\(.)/g, '$1'));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) {
      sum += Number(m[2]);
      found = true;
    }
  }
  if (!found) return Number.NaN;
  return sum;
}
