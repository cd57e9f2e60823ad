import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, expectProblem, send } from '../helpers/builders.js';
import { xmlProblems } from '../helpers/feed-fixtures.js';
import {
  CONTENT_TYPES,
  expectSameIds,
  fetchAllFormats,
  fetchFeedRaw,
  FORMATS,
  getArticle,
  ingest,
  parseBack,
  problemOf,
  promSample,
  putCategory,
  quiesce,
  request,
  type Format,
  type RawFeed,
} from '../helpers/feeds.js';

/**
 * Issue 3, "HTTP done right" (one test per rule, for every format), "Find the feeds" (index page,
 * previews, OPML, category API) and "Observe it" (/metrics). Every feed body fetched is parsed back.
 */

const SLUG = 'technology';

describe('feeds over HTTP', () => {
  let t: TestContext;
  /** The plain 200 answer of each format: the reference for validators and bytes. */
  const plain = {} as Record<Format, RawFeed>;

  beforeAll(async () => {
    t = await createTestContext();
    await ingest(t, [
      articleInput({ externalId: 'tech-1', title: 'Chip shortage eases', categories: ['Technology'], publishedAt: '2026-11-28T09:00:00Z' }),
      articleInput({
        externalId: 'tech-2',
        title: 'New phone <review> & "verdict"',
        categories: ['Technology', 'Q&A <Reviews>'],
        publishedAt: '2026-11-28T10:00:00Z',
      }),
      articleInput({
        externalId: 'travel-1',
        title: 'Rail strike called off',
        categories: ['Travel'],
        publishedAt: '2026-11-28T11:00:00Z',
      }),
    ]);
    await putCategory(t, 'gardening', { name: 'Gardening', description: 'Soil, seeds & sheds.' });
    await t.feeds.refresh('change');
    await quiesce(t);
    for (const format of FORMATS) {
      plain[format] = await fetchFeedRaw(t, `/feeds/${SLUG}.${format}`);
      await parseBack(format, plain[format].text);
    }
  });
  afterAll(async () => t?.close());

  const path = (format: Format) => `/feeds/${SLUG}.${format}`;

  /** A conditional or encoded request that must answer 304: no body, the validators and caching fields repeated. */
  async function expectNotModified(
    format: Format,
    headers: Record<string, string>,
    etag = plain[format].headers.get('etag'),
  ): Promise<void> {
    const raw = await request(t, path(format), { headers });
    expect(raw.status, JSON.stringify(headers)).toBe(304);
    expect(raw.bytes.byteLength).toBe(0);
    expect(raw.headers.get('etag')).toBe(etag);
    expect(raw.headers.get('cache-control')).toBe(plain[format].headers.get('cache-control'));
    expect(raw.headers.get('vary')).toBe('Accept-Encoding');
    expect(raw.headers.get('last-modified')).toBe(plain[format].headers.get('last-modified'));
    expect(raw.headers.get('access-control-allow-origin')).toBe('*');
  }

  async function expectFull(format: Format, headers: Record<string, string>): Promise<RawFeed> {
    const raw = await request(t, path(format), { headers });
    expect(raw.status, JSON.stringify(headers)).toBe(200);
    expect(raw.bytes.equals(plain[format].bytes)).toBe(true);
    await parseBack(format, raw.text);
    return raw;
  }

  describe.each(FORMATS)('%s', (format) => {
    it('Content-Type is the format’s media type with charset=utf-8', () => {
      expect(plain[format].headers.get('content-type')).toBe(CONTENT_TYPES[format]);
      expect(plain[format].headers.get('content-type')).toMatch(/; charset=utf-8$/);
    });

    it('ETag is strong and differs per content-coding (identity, gzip, br); Last-Modified is an HTTP date', async () => {
      const identity = plain[format].headers.get('etag')!;
      const gzip = (await request(t, path(format), { headers: { 'accept-encoding': 'gzip' } })).headers.get('etag')!;
      const br = (await request(t, path(format), { headers: { 'accept-encoding': 'br' } })).headers.get('etag')!;
      for (const etag of [identity, gzip, br]) expect(etag).toMatch(/^"[^"\s]+"$/);
      expect(new Set([identity, gzip, br]).size).toBe(3);
      const lastModified = plain[format].headers.get('last-modified')!;
      expect(lastModified).toMatch(
        /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
      );
      // The feed's own date (newest change: the category creation at ingest), never later than now.
      expect(lastModified).toBe(t.clock.now().toUTCString());
    });

    it('If-None-Match with the exact ETag → 304 with ETag, Cache-Control, Vary and no body', async () => {
      await expectNotModified(format, { 'if-none-match': plain[format].headers.get('etag')! });
    });

    it('If-None-Match with a list containing the ETag → 304', async () => {
      await expectNotModified(format, { 'if-none-match': `"nope", ${plain[format].headers.get('etag')!} , "other"` });
    });

    it('If-None-Match in weak form (W/"…") → 304 (weak comparison)', async () => {
      await expectNotModified(format, { 'if-none-match': `W/${plain[format].headers.get('etag')!}` });
    });

    it('If-None-Match: * → 304', async () => {
      await expectNotModified(format, { 'if-none-match': '*' });
    });

    it('If-None-Match not matching → 200 even with an If-Modified-Since in the future (If-None-Match wins)', async () => {
      await expectFull(format, { 'if-none-match': '"something-else"', 'if-modified-since': 'Fri, 01 Jan 2100 00:00:00 GMT' });
      // The ETag of another coding is another representation: no match either.
      await expectFull(format, { 'if-none-match': plain[format].headers.get('etag')!.replace(/"$/, '-gz"') });
    });

    it('If-Modified-Since alone: at or after Last-Modified → 304; before it or unparseable → 200', async () => {
      const lastModified = plain[format].headers.get('last-modified')!;
      await expectNotModified(format, { 'if-modified-since': lastModified });
      await expectNotModified(format, { 'if-modified-since': new Date(Date.parse(lastModified) + 3600_000).toUTCString() });
      await expectFull(format, { 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() });
      await expectFull(format, { 'if-modified-since': 'not a date' });
      await expectFull(format, { 'if-modified-since': '' });
    });

    it('Cache-Control: public, max-age, stale-while-revalidate', () => {
      const cacheControl = plain[format].headers.get('cache-control')!;
      const directives = cacheControl.split(',').map((d) => d.trim());
      expect(directives).toContain('public');
      expect(directives).toContain(`max-age=${t.config.FEED_CACHE_MAX_AGE_SECONDS}`);
      expect(directives.some((d) => /^stale-while-revalidate=\d+$/.test(d))).toBe(true);
    });

    it('gzip and br bodies decode to the identity bytes, with Content-Encoding and Vary: Accept-Encoding', async () => {
      expect(plain[format].headers.get('content-encoding')).toBeNull();
      expect(plain[format].headers.get('vary')).toBe('Accept-Encoding');
      for (const [accept, coding, decode] of [
        ['gzip, deflate', 'gzip', gunzipSync],
        ['br', 'br', brotliDecompressSync],
        ['gzip;q=0.5, br;q=1', 'br', brotliDecompressSync],
      ] as const) {
        const raw = await request(t, path(format), { headers: { 'accept-encoding': accept } });
        expect(raw.status).toBe(200);
        expect(raw.headers.get('content-encoding')).toBe(coding);
        expect(raw.headers.get('vary')).toBe('Accept-Encoding');
        expect(raw.headers.get('content-type')).toBe(CONTENT_TYPES[format]);
        expect(Number(raw.headers.get('content-length'))).toBe(raw.bytes.byteLength);
        const decoded = decode(raw.bytes);
        expect(decoded.equals(plain[format].bytes)).toBe(true);
        await parseBack(format, decoded.toString('utf8'));
      }
      // Refused codings fall back to identity.
      const refused = await request(t, path(format), { headers: { 'accept-encoding': 'gzip;q=0, br;q=0' } });
      expect(refused.headers.get('content-encoding')).toBeNull();
      expect(refused.bytes.equals(plain[format].bytes)).toBe(true);
      // A conditional request for the gzip representation matches its own ETag.
      const gz = await request(t, path(format), { headers: { 'accept-encoding': 'gzip' } });
      await expectNotModified(format, { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.get('etag')! }, gz.headers.get('etag'));
    });

    it('HEAD answers the same headers as GET, without a body', async () => {
      for (const headers of [{}, { 'accept-encoding': 'gzip' }] as Record<string, string>[]) {
        const get = await request(t, path(format), { headers });
        const head = await request(t, path(format), { method: 'HEAD', headers });
        expect(head.status).toBe(200);
        expect(head.bytes.byteLength).toBe(0);
        expect(Object.fromEntries(head.headers)).toEqual(Object.fromEntries(get.headers));
        await parseBack(format, headers['accept-encoding'] ? gunzipSync(get.bytes).toString('utf8') : get.text);
      }
    });

    it('Access-Control-Allow-Origin: * (and cross-origin resource policy) on feeds', () => {
      expect(plain[format].headers.get('access-control-allow-origin')).toBe('*');
      expect(plain[format].headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    });

    it('the body is byte-identical across requests while nothing changed', async () => {
      for (let i = 0; i < 3; i++) await expectFull(format, {});
    });
  });

  describe('finding the feeds', () => {
    const categories = [
      { slug: 'gardening', name: 'Gardening' },
      { slug: 'q-a-reviews', name: 'Q&A <Reviews>' },
      { slug: 'technology', name: 'Technology' },
      { slug: 'travel', name: 'Travel' },
    ];
    const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const types: Record<Format, string> = { rss: 'application/rss+xml', atom: 'application/atom+xml', json: 'application/feed+json' };

    it('GET / is an HTML page listing every category with its three feed links and autodiscovery tags', async () => {
      const page = await request(t, '/');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/i);
      expect(page.text).toMatch(/^<!doctype html>/i);
      expect(page.text).not.toMatch(/<script/i);
      const head = page.text.slice(0, page.text.indexOf('</head>'));
      const body = page.text.slice(page.text.indexOf('<body>'));
      const alternates = [...head.matchAll(/<link rel="alternate" type="([^"]+)" title="([^"]*)" href="([^"]+)">/g)].map((m) => ({
        type: m[1],
        title: m[2],
        href: m[3],
      }));
      for (const slug of ['all', ...categories.map((c) => c.slug)]) {
        for (const format of FORMATS) {
          const href = `${BASE_URL}/feeds/${slug}.${format}`;
          expect(
            alternates.filter((a) => a.href === href),
            href,
          ).toEqual([expect.objectContaining({ type: types[format] })]);
          expect(body, href).toContain(`href="${href}"`);
        }
      }
      expect(alternates).toHaveLength(3 * (categories.length + 1));
      // Names are escaped, never markup.
      for (const c of categories) expect(body).toContain(`>${escapeHtml(c.name)}</a>`);
      expect(page.text).not.toContain('<Reviews>');
      expect(body).toContain('Soil, seeds &amp; sheds.');
    });

    it('GET /feeds/{slug} previews the feed: its latest items and the three subscribe URLs', async () => {
      const page = await request(t, `/feeds/${SLUG}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.text).toContain('<h1>Technology</h1>');
      for (const format of FORMATS) {
        expect(page.text).toContain(`href="${BASE_URL}/feeds/${SLUG}.${format}"`);
        expect(page.text).toContain(`<code>${BASE_URL}/feeds/${SLUG}.${format}</code>`);
      }
      // Newest first, titles escaped (ingest stripped the tag-shaped "<review>"; & and " remain).
      const title = (await getArticle(t, 'tech-2')).title;
      expect(title).toBe('New phone & "verdict"');
      const first = page.text.indexOf(`>${escapeHtml(title)}</a>`);
      const second = page.text.indexOf('Chip shortage eases');
      expect(first).toBeGreaterThan(0);
      expect(second).toBeGreaterThan(first);
      expect(page.text).not.toContain(title);
      expect(page.text).not.toContain('Rail strike');

      const empty = await request(t, '/feeds/gardening');
      expect(empty.status).toBe(200);
      expect(empty.text).toContain('No articles yet.');
      const all = await request(t, '/feeds/all');
      expect(all.status).toBe(200);
      expect(all.text).toContain('Rail strike called off');
      expectProblem(problemOf(await request(t, '/feeds/no-such-section')), 404);
    });

    it('GET /feeds.opml is OPML 2.0 listing every category feed (and the all feed)', async () => {
      const opml = await request(t, '/feeds.opml');
      expect(opml.status).toBe(200);
      expect(opml.headers.get('content-type')).toMatch(/^text\/x-opml; charset=utf-8$/);
      expect(opml.headers.get('access-control-allow-origin')).toBe('*');
      expect(xmlProblems(opml.text)).toEqual([]);
      const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(opml.text) as {
        opml: {
          version: string;
          head: { title: string; dateCreated: string };
          body: { outline: Record<string, string>[] | Record<string, string> };
        };
      };
      expect(doc.opml.version).toBe('2.0');
      expect(doc.opml.head.title).toBe('Syndicate feeds');
      expect(Number.isNaN(Date.parse(doc.opml.head.dateCreated))).toBe(false);
      const outlines = ([] as Record<string, string>[]).concat(doc.opml.body.outline);
      expect(outlines.map((o) => o.xmlUrl)).toEqual([
        `${BASE_URL}/feeds/all.rss`,
        ...categories.map((c) => `${BASE_URL}/feeds/${c.slug}.rss`),
      ]);
      for (const o of outlines) {
        expect(o.type).toBe('rss');
        expect(o.text).toMatch(/^Syndicate: /);
        expect(o.htmlUrl).toMatch(/^https:\/\/news\.example\.co\.uk\//);
      }
      expect(outlines.find((o) => o.xmlUrl?.endsWith('/q-a-reviews.rss'))?.text).toBe('Syndicate: Q&A <Reviews>');
      expect(outlines.find((o) => o.xmlUrl?.endsWith('/gardening.rss'))?.description).toBe('Soil, seeds & sheds.');
      // Conditional too.
      const again = await request(t, '/feeds.opml', { headers: { 'if-none-match': opml.headers.get('etag')! } });
      expect(again.status).toBe(304);
    });

    it('GET /api/v1/categories includes each category’s feed URLs', async () => {
      const answer = await send(t.app, 'GET', '/api/v1/categories');
      expect(answer.status).toBe(200);
      const items = answer.body.items as { slug: string; name: string; feeds: Record<string, string> }[];
      expect(items.map((c) => ({ slug: c.slug, name: c.name }))).toEqual(categories);
      for (const c of items) {
        expect(c.feeds).toEqual({
          rss: `${BASE_URL}/feeds/${c.slug}.rss`,
          atom: `${BASE_URL}/feeds/${c.slug}.atom`,
          json: `${BASE_URL}/feeds/${c.slug}.json`,
          html: `${BASE_URL}/feeds/${c.slug}`,
        });
        // Each advertised URL serves its feed.
        const feeds = await fetchAllFormats(t, c.slug);
        expectSameIds(feeds);
      }
    });
  });

  describe('/metrics', () => {
    const FEED_ROUTE = '/feeds/:file{[^/]+\\.[A-Za-z0-9]+}';

    async function scrape(): Promise<string> {
      const raw = await request(t, '/metrics');
      expect(raw.status).toBe(200);
      expect(raw.headers.get('content-type')).toMatch(/^text\/plain/);
      return raw.text;
    }
    const zeroIfMissing = (n: number) => (Number.isNaN(n) ? 0 : n);
    const sample = (text: string, name: string, labels: Record<string, string> = {}) => zeroIfMissing(promSample(text, name, labels));

    it('counts requests by route and status, cache hits, 304s and renders', async () => {
      await quiesce(t);
      const before = await scrape();
      await fetchFeedRaw(t, path('rss'));
      await fetchFeedRaw(t, path('json'));
      await expectNotModified('rss', { 'if-none-match': plain.rss.headers.get('etag')! });
      expect((await request(t, '/feeds/nope.rss')).status).toBe(404);
      const after = await scrape();
      const requests = (status: string) =>
        sample(after, 'syndicate_http_requests_total', { method: 'GET', route: FEED_ROUTE, status }) -
        sample(before, 'syndicate_http_requests_total', { method: 'GET', route: FEED_ROUTE, status });
      expect(requests('200')).toBe(2);
      expect(requests('304')).toBe(1);
      expect(requests('404')).toBe(1);
      expect(sample(after, 'syndicate_feed_not_modified_total') - sample(before, 'syndicate_feed_not_modified_total')).toBe(1);
      expect(
        sample(after, 'syndicate_snapshot_cache_total', { result: 'hit' }) -
          sample(before, 'syndicate_snapshot_cache_total', { result: 'hit' }),
      ).toBe(3);
      // The unknown feed missed memory and was looked up (a render attempt that found no such feed).
      expect(
        sample(after, 'syndicate_snapshot_cache_total', { result: 'render' }) -
          sample(before, 'syndicate_snapshot_cache_total', { result: 'render' }),
      ).toBe(1);
      expect(
        sample(after, 'syndicate_feed_renders_total', { outcome: 'not-found' }) -
          sample(before, 'syndicate_feed_renders_total', { outcome: 'not-found' }),
      ).toBe(1);
      // Latency histograms by route; the scrape itself is counted too.
      expect(sample(after, 'syndicate_http_request_duration_seconds_count', { method: 'GET', route: FEED_ROUTE })).toBeGreaterThanOrEqual(
        4,
      );
      expect(sample(after, 'syndicate_http_requests_total', { route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    });

    it('counts articles ingested, refresh runs with the feeds they rendered, and render durations', async () => {
      await quiesce(t);
      const before = await scrape();
      await ingest(t, [
        articleInput({ externalId: 'tech-3', title: 'Robots', categories: ['Technology'], publishedAt: '2026-11-28T12:00:00Z' }),
        articleInput({ externalId: 'tech-4', title: 'Drones', categories: ['Technology'], publishedAt: '2026-11-28T13:00:00Z' }),
      ]);
      await t.feeds.refresh('change');
      await quiesce(t);
      const tick = await t.feeds.tick();
      expect(tick).toMatchObject({ feedsRendered: 0 });
      const after = await scrape();
      const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
      expect(delta('syndicate_articles_ingested_total', { outcome: 'changed', origin: 'api' })).toBe(2);
      // technology and all, rendered by the change refresh (whoever ran it); then one empty cron tick.
      expect(delta('syndicate_refresh_feeds_rendered_total', { trigger: 'change' })).toBe(2);
      expect(delta('syndicate_feed_renders_total', { outcome: 'changed' })).toBe(2);
      expect(delta('syndicate_refresh_ticks_total', { trigger: 'cron', outcome: 'ok' })).toBe(1);
      expect(delta('syndicate_refresh_ticks_total', { trigger: 'change', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(delta('syndicate_refresh_duration_seconds_count', { trigger: 'cron' })).toBe(1);
      // Every render is timed, the refresh's as well as on-demand ones.
      expect(delta('syndicate_feed_render_duration_seconds_count')).toBe(2);
      expect(after).toMatch(/^syndicate_feed_render_duration_seconds_bucket\{le="[^"]+"\} \d+$/m);
      expect(after).toMatch(/^# TYPE syndicate_http_request_duration_seconds histogram$/m);
      const feeds = await fetchAllFormats(t, SLUG);
      expect(feeds.json.items.map((i) => i.title).slice(0, 2)).toEqual(['Drones', 'Robots']);
    });
  });
});
