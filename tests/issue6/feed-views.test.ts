import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, expectProblem } from '../helpers/builders.js';
import {
  expectSameIds,
  fetchAllFormats,
  fetchAtom,
  fetchJson,
  fetchRss,
  FORMATS,
  getArticle,
  ingest,
  parseBack,
  problemOf,
  quiesce,
  request,
  type Format,
} from '../helpers/feeds.js';

/**
 * Issue 6: combinations (/feeds/a+b.rss), increments (?since=) and RFC 5005 monthly archives
 * (/feeds/{key}/archive/{YYYY}-{MM}.{fmt}), rendered on demand with the canonical feeds' validators.
 * Every feed fetched is parsed back (helpers/feeds.ts). FEED_ITEM_LIMIT is 3 here, so live feeds are
 * short and most of the history is only reachable through the archives.
 *
 * Timeline (the test clock starts at 2026-11-29T09:00Z):
 *   World: Aug 10, Sep 5 (edited Nov 28), Nov 2 (also Sport), Nov 20 — nothing in October.
 *   Sport: Nov 2 (also World), Nov 10; a draft; one scheduled for Dec 5.   Culture: Oct 5.
 */

const ARTICLES = [
  articleInput({ externalId: 'w-aug', title: 'August in the world', categories: ['World'], publishedAt: '2026-08-10T12:00:00Z' }),
  articleInput({
    externalId: 'w-sep',
    title: 'September in the world',
    categories: ['World'],
    publishedAt: '2026-09-05T12:00:00Z',
    updatedAt: '2026-11-28T10:00:00Z',
  }),
  articleInput({ externalId: 'ws-nov', title: 'World cup draw', categories: ['World', 'Sport'], publishedAt: '2026-11-02T08:00:00Z' }),
  articleInput({ externalId: 's-nov', title: 'Derby day', categories: ['Sport'], publishedAt: '2026-11-10T15:00:00Z' }),
  articleInput({ externalId: 'w-nov', title: 'Summit ends', categories: ['World'], publishedAt: '2026-11-20T18:00:00Z' }),
  articleInput({ externalId: 'c-oct', title: 'Museum reopens', categories: ['Culture'], publishedAt: '2026-10-05T09:00:00Z' }),
  articleInput({ externalId: 's-draft', title: 'Draft: transfer rumours', categories: ['Sport'], status: 'draft', publishedAt: '2026-11-11T08:00:00Z' }),
  articleInput({ externalId: 's-scheduled', title: 'Season preview', categories: ['Sport'], publishedAt: '2026-12-05T08:00:00Z' }),
];

describe('feed views: combinations, increments, archives', () => {
  let t: TestContext;
  const guid: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestContext({ env: { FEED_ITEM_LIMIT: '3' } });
    await ingest(t, ARTICLES);
    for (const a of ARTICLES) guid[a.externalId as string] = (await getArticle(t, a.externalId as string)).guid;
    await t.feeds.refresh('change');
    await quiesce(t);
  });
  afterAll(async () => t?.close());

  const ids = (...externalIds: string[]) => externalIds.map((id) => guid[id]!);

  describe('combinations', () => {
    it('/feeds/sport+world is the union, newest first, each article once, in all three formats', async () => {
      const feeds = await fetchAllFormats(t, 'sport+world', '?limit=10');
      expect(expectSameIds(feeds)).toEqual(ids('w-nov', 's-nov', 'ws-nov', 'w-sep', 'w-aug'));
      expect(feeds.rss.title).toBe('Syndicate: Sport + World');
      expect(feeds.rss.atomLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}/feeds/sport+world.rss?limit=10`);
      expect(feeds.json.feed_url).toBe(`${BASE_URL}/feeds/sport+world.json?limit=10`);
      // Without ?limit: FEED_ITEM_LIMIT, as for every feed.
      const { feed } = await fetchRss(t, '/feeds/sport+world.rss');
      expect(feed.items.map((i) => i.guid)).toEqual(ids('w-nov', 's-nov', 'ws-nov'));
    });

    it('has one URL: any other order, a repeated slug or an encoded + redirects (301) to the sorted one, query kept', async () => {
      for (const [path, location] of [
        ['/feeds/world+sport.atom?limit=2', `${BASE_URL}/feeds/sport+world.atom?limit=2`],
        ['/feeds/sport%2Bworld.json', `${BASE_URL}/feeds/sport+world.json`],
        ['/feeds/world+world.rss', `${BASE_URL}/feeds/world.rss`],
        ['/feeds/world+culture/archive/2026-10.rss', `${BASE_URL}/feeds/culture+world/archive/2026-10.rss`],
      ] as const) {
        const raw = await request(t, path);
        expect(raw.status, path).toBe(301);
        expect(raw.headers.get('location'), path).toBe(location);
      }
    });

    it('an unknown slug → 404 naming it (sorted or not); 11 slugs → 400; all combined → 400', async () => {
      for (const path of ['/feeds/nope+world.rss', '/feeds/world+nope.rss']) {
        const answer = problemOf(await request(t, path));
        expectProblem(answer, 404);
        expect(answer.body.detail).toContain("'nope'");
      }
      const eleven = Array.from({ length: 11 }, (_, i) => `c${String(i).padStart(2, '0')}`).join('+');
      expectProblem(problemOf(await request(t, `/feeds/${eleven}.rss`)), 400, ['feeds']);
      // Ten is allowed: the answer is about the unknown slugs, not the count.
      const ten = ['sport', 'world', ...Array.from({ length: 8 }, (_, i) => `x${i}`)].sort().join('+');
      expect((await request(t, `/feeds/${ten}.rss`)).status).toBe(404);
      expectProblem(problemOf(await request(t, '/feeds/all+world.rss')), 400, ['feeds']);
      expect((await request(t, '/feeds/Sport+world.rss')).status).toBe(404);
    });

    it('answers with the same validators as the canonical feeds: ETag, Last-Modified, 304, gzip, HEAD', async () => {
      for (const format of FORMATS) {
        const path = `/feeds/sport+world.${format}`;
        const plain = await request(t, path);
        expect(plain.status).toBe(200);
        await parseBack(format, plain.text);
        const etag = plain.headers.get('etag')!;
        expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
        expect(plain.headers.get('cache-control')).toBe(t.feeds.cacheControl);
        expect(plain.headers.get('access-control-allow-origin')).toBe('*');
        const again = await request(t, path);
        expect(again.bytes.equals(plain.bytes), 'byte-identical while nothing changed').toBe(true);
        const notModified = await request(t, path, { headers: { 'if-none-match': `"other", ${etag}` } });
        expect(notModified.status).toBe(304);
        expect(notModified.bytes.byteLength).toBe(0);
        expect(notModified.headers.get('etag')).toBe(etag);
        expect(notModified.headers.get('cache-control')).toBe(plain.headers.get('cache-control'));
        const since = await request(t, path, { headers: { 'if-modified-since': plain.headers.get('last-modified')! } });
        expect(since.status).toBe(304);
        const gz = await request(t, path, { headers: { 'accept-encoding': 'gzip' } });
        expect(gz.headers.get('content-encoding')).toBe('gzip');
        expect(gz.headers.get('etag')).toBe(etag.replace(/"$/, '-gz"'));
        expect(gunzipSync(gz.bytes).equals(plain.bytes)).toBe(true);
        const head = await request(t, path, { method: 'HEAD' });
        expect(head.status).toBe(200);
        expect(head.bytes.byteLength).toBe(0);
        expect(head.headers.get('etag')).toBe(etag);
      }
    });

    it('is dropped from memory when a member feed changes', async () => {
      const before = await fetchRss(t, '/feeds/culture+sport.rss');
      expect(before.feed.items.map((i) => i.title)).toEqual(['Derby day', 'World cup draw', 'Museum reopens']);
      t.clock.advance(60_000);
      await ingest(t, [articleInput({ externalId: 'c-nov', title: 'Gallery opens', categories: ['Culture'], publishedAt: '2026-11-28T12:00:00Z' })]);
      guid['c-nov'] = (await getArticle(t, 'c-nov')).guid;
      await t.feeds.refresh('change');
      await quiesce(t);
      const after = await fetchRss(t, '/feeds/culture+sport.rss');
      expect(after.feed.items.map((i) => i.title)).toEqual(['Gallery opens', 'Derby day', 'World cup draw']);
      expect(after.raw.headers.get('etag')).not.toBe(before.raw.headers.get('etag'));
      expect(Date.parse(after.raw.headers.get('last-modified')!)).toBeGreaterThan(Date.parse(before.raw.headers.get('last-modified')!));
    });
  });

  describe('increments (?since=)', () => {
    it('returns the items published or updated after the instant, newest first, in every format and feed kind', async () => {
      const feeds = await fetchAllFormats(t, 'world', '?since=2026-11-15T00:00:00Z');
      // w-sep was published in September but edited on Nov 28: it is new to a reader since Nov 15.
      expect(expectSameIds(feeds)).toEqual(ids('w-nov', 'w-sep'));
      expect(feeds.rss.atomLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}/feeds/world.rss?since=2026-11-15T00:00:00.000Z`);
      // No archive links on an increment: it is not the subscription document.
      expect(feeds.rss.atomLinks?.some((l) => l.$.rel === 'prev-archive')).toBe(false);
      expect((await fetchJson(t, '/feeds/all.json?since=2026-11-15T00:00:00Z')).feed.items.map((i) => i.id)).toEqual(ids('c-nov', 'w-nov', 'w-sep'));
      expect((await fetchRss(t, '/feeds/sport+world.rss?since=2026-11-05T00:00:00Z')).feed.items.map((i) => i.guid)).toEqual(ids('w-nov', 's-nov', 'w-sep'));
      // On an archive month too: a filtered document, no longer the archive itself (no marker, no links).
      const month = await fetchRss(t, '/feeds/world/archive/2026-11.rss?since=2026-11-15T00:00:00Z');
      expect(month.feed.items.map((i) => i.guid)).toEqual(ids('w-nov'));
      expect(month.raw.text).not.toContain('fh:archive');
      expect(month.feed.atomLinks?.map((l) => l.$.rel)).toEqual(['self']);
    });

    it('combines with ?limit (a newsletter’s "what is new since the last issue"), and reads an unencoded + offset', async () => {
      // Newest first by publication, like every feed: the edited September article comes last.
      expect((await fetchAtom(t, '/feeds/world.atom?since=2026-11-01T00:00:00Z')).feed.items.map((e) => e.id)).toEqual(ids('w-nov', 'ws-nov', 'w-sep'));
      expect((await fetchAtom(t, '/feeds/world.atom?since=2026-11-01T00:00:00Z&limit=2')).feed.items.map((e) => e.id)).toEqual(ids('w-nov', 'ws-nov'));
      // "+01:00" unencoded in a query string arrives as " 01:00" (form encoding): still the same instant.
      // 10:30+01:00 is 09:30Z: the September edit (10:00Z) is after it; read as 10:30Z it would not be.
      const plus = await fetchRss(t, '/feeds/world.rss?since=2026-11-28T10:30:00+01:00');
      expect(plus.feed.items.map((i) => i.guid)).toEqual(ids('w-sep'));
      expect(plus.feed.atomLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}/feeds/world.rss?since=2026-11-28T09:30:00.000Z`);
    });

    it('?since=yesterday (or any non-RFC 3339 value) → 400 naming since', async () => {
      for (const value of ['yesterday', '2026-11-28', '2026-11-28T08:00:00', '2026-02-30T00:00:00Z', '']) {
        const answer = problemOf(await request(t, `/feeds/world.rss?since=${encodeURIComponent(value)}`));
        expectProblem(answer, 400, ['since']);
      }
      expectProblem(problemOf(await request(t, '/feeds/sport+world.json?since=yesterday')), 400, ['since']);
      expectProblem(problemOf(await request(t, '/feeds/world.json?since=2026-11-01T00:00:00Z&limit=0')), 400, ['limit']);
    });

    it('a since in the future → an empty, valid feed in every format', async () => {
      const feeds = await fetchAllFormats(t, 'world', '?since=2030-01-01T00:00:00Z');
      expect(expectSameIds(feeds)).toEqual([]);
      expect(feeds.rss.title).toBe('Syndicate: World');
      expect(feeds.json.items).toEqual([]);
    });
  });

  describe('archives (RFC 5005)', () => {
    it('a month’s document holds every article published that month, marked fh:archive, linked prev / next / current', async () => {
      const rss = await fetchRss(t, '/feeds/world/archive/2026-09.rss');
      expect(rss.raw.text).toContain('<fh:archive/>');
      expect(rss.feed.items.map((i) => i.guid)).toEqual(ids('w-sep'));
      const links = Object.fromEntries((rss.feed.atomLinks ?? []).map((l) => [l.$.rel, l.$.href]));
      expect(links).toEqual({
        self: `${BASE_URL}/feeds/world/archive/2026-09.rss`,
        current: `${BASE_URL}/feeds/world.rss`,
        'prev-archive': `${BASE_URL}/feeds/world/archive/2026-08.rss`,
        'next-archive': `${BASE_URL}/feeds/world/archive/2026-10.rss`,
      });
      const atom = await fetchAtom(t, '/feeds/world/archive/2026-09.atom');
      expect(atom.raw.text).toMatch(/<feed [^>]*xmlns:fh="http:\/\/purl\.org\/syndication\/history\/1\.0">\n {2}<fh:archive\/>/);
      expect(Object.fromEntries((atom.feed.feedLinks ?? []).map((l) => [l.$.rel, l.$.href]))).toMatchObject({
        'prev-archive': `${BASE_URL}/feeds/world/archive/2026-08.atom`,
        current: `${BASE_URL}/feeds/world.atom`,
      });
      const json = await fetchJson(t, '/feeds/world/archive/2026-09.json');
      const doc = json.feed as typeof json.feed & { next_url?: string };
      expect(doc.next_url).toBe(`${BASE_URL}/feeds/world/archive/2026-08.json`);
      expect(doc.feed_url).toBe(`${BASE_URL}/feeds/world/archive/2026-09.json`);
      // October has no World article: an empty archive, still linked both ways.
      const october = await fetchAllFormats(t, 'world/archive/2026-10');
      expect(expectSameIds(october)).toEqual([]);
      expect(october.rss.atomLinks?.find((l) => l.$.rel === 'next-archive')?.$.href).toBe(`${BASE_URL}/feeds/world/archive/2026-11.rss`);
      // The current month is an archive in progress: no next-archive yet.
      const november = await fetchRss(t, '/feeds/world/archive/2026-11.rss');
      expect(november.feed.items.map((i) => i.guid)).toEqual(ids('w-nov', 'ws-nov'));
      expect(november.feed.atomLinks?.some((l) => l.$.rel === 'next-archive')).toBe(false);
      expect(november.raw.headers.get('cache-control')).toBe(t.feeds.cacheControl);
      // `all` and combinations have archives too.
      expect((await fetchJson(t, '/feeds/all/archive/2026-10.json')).feed.items.map((i) => i.id)).toEqual(ids('c-oct'));
      expect((await fetchRss(t, '/feeds/culture+world/archive/2026-10.rss')).feed.items.map((i) => i.guid)).toEqual(ids('c-oct'));
    });

    it('a month in the future or before the first article → 404; so is a malformed month', async () => {
      for (const path of [
        '/feeds/world/archive/2026-12.rss',
        '/feeds/world/archive/2027-01.json',
        '/feeds/world/archive/2026-07.atom',
        '/feeds/sport/archive/2026-10.rss',
        '/feeds/world/archive/2026-13.rss',
        '/feeds/world/archive/26-11.rss',
        '/feeds/world/archive/2026-11.xml',
        '/feeds/nope/archive/2026-11.rss',
      ]) {
        expectProblem(problemOf(await request(t, path)), 404);
      }
    });

    it('a reader walks the whole history from the live feed down to the first month, in every format', async () => {
      const all = ids('w-nov', 'ws-nov', 'w-sep', 'w-aug');
      for (const format of FORMATS) {
        const seen = new Set<string>();
        const visited: string[] = [];
        let url: string | undefined = `${BASE_URL}/feeds/world.${format}`;
        const nextUrls: string[] = [];
        while (url) {
          visited.push(url.replace(`${BASE_URL}/feeds/world`, ''));
          const path = url.slice(BASE_URL.length);
          const { ids: found, prev, feedUrl } = await readPage(t, format, path);
          for (const id of found) seen.add(id);
          if (format === 'json' && prev) {
            // JSON Feed 1.1: next_url never equals feed_url nor a previous next_url (J5).
            expect(prev).not.toBe(feedUrl);
            expect(nextUrls).not.toContain(prev);
            nextUrls.push(prev);
          }
          url = prev;
          expect(visited.length).toBeLessThan(20);
        }
        expect(visited, format).toEqual([`.${format}`, `/archive/2026-09.${format}`, `/archive/2026-08.${format}`]);
        expect([...seen].sort(), format).toEqual([...all].sort());
      }
    });

    it('when the live feed cannot hold its newest month, it links that month (in progress), and the walk still sees every article', async () => {
      const { feed } = await fetchRss(t, '/feeds/sport+world.rss?limit=2');
      expect(feed.items.map((i) => i.guid)).toEqual(ids('w-nov', 's-nov'));
      const visited: string[] = [];
      const seen = new Set(feed.items.map((i) => i.guid));
      let url = feed.atomLinks?.find((l) => l.$.rel === 'prev-archive')?.$.href;
      while (url) {
        visited.push(url.slice(`${BASE_URL}/feeds/sport+world/archive/`.length));
        const page = await readPage(t, 'rss', url.slice(BASE_URL.length));
        for (const id of page.ids) seen.add(id);
        url = page.prev;
      }
      expect(visited).toEqual(['2026-11.rss', '2026-10.rss', '2026-09.rss', '2026-08.rss']);
      expect([...seen].sort()).toEqual(ids('w-nov', 's-nov', 'ws-nov', 'w-sep', 'w-aug').sort());
    });

    it('validators work on archives (304), and an edit to an old article reaches its month within a second even when the live feed does not change', async () => {
      const first = await fetchRss(t, '/feeds/world/archive/2026-08.rss');
      expect((await request(t, '/feeds/world/archive/2026-08.rss', { headers: { 'if-none-match': first.raw.headers.get('etag')! } })).status).toBe(304);
      // w-aug is not among the live feed's 3 items: its edit leaves the live snapshot as it is.
      await ingest(t, [{ ...ARTICLES[0], title: 'August in the world (corrected)', updatedAt: '2026-11-29T08:00:00Z' }]);
      await t.feeds.refresh('change');
      await quiesce(t);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const edited = await fetchRss(t, '/feeds/world/archive/2026-08.rss');
      expect(edited.feed.items.map((i) => i.title)).toEqual(['August in the world (corrected)']);
      expect(edited.raw.headers.get('etag')).not.toBe(first.raw.headers.get('etag'));
    });

    it('past months are immutable once a day has passed since the month ended and since its last change; a later edit returns it to normal caching', async () => {
      const immutable = 'public, max-age=31536000, immutable';
      // Created (ingested) today: September's content changed a moment ago.
      expect((await request(t, '/feeds/world/archive/2026-09.rss')).headers.get('cache-control')).toBe(t.feeds.cacheControl);
      t.clock.advance(25 * 3600_000);
      const sealed = await request(t, '/feeds/world/archive/2026-09.json');
      expect(sealed.headers.get('cache-control')).toBe(immutable);
      await parseBack('json', sealed.text);
      const notModified = await request(t, '/feeds/world/archive/2026-09.json', { headers: { 'if-none-match': sealed.headers.get('etag')! } });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get('cache-control')).toBe(immutable);
      // The current month never is.
      expect((await request(t, '/feeds/world/archive/2026-11.rss')).headers.get('cache-control')).toBe(t.feeds.cacheControl);
      // A correction to a September article after the month ended: normal caching again, new bytes.
      await ingest(t, [{ ...ARTICLES[1], title: 'September in the world (corrected)', updatedAt: undefined }]);
      await t.feeds.refresh('change');
      await quiesce(t);
      const corrected = await fetchJson(t, '/feeds/world/archive/2026-09.json');
      expect(corrected.raw.headers.get('cache-control')).toBe(t.feeds.cacheControl);
      expect(corrected.feed.items.map((i) => i.title)).toEqual(['September in the world (corrected)']);
      t.clock.advance(25 * 3600_000);
      expect((await request(t, '/feeds/world/archive/2026-09.json')).headers.get('cache-control')).toBe(immutable);
    });
  });
});

/** One page of a history walk: its item ids, its prev-archive (JSON: next_url) and its own URL. */
async function readPage(t: TestContext, format: Format, path: string): Promise<{ ids: string[]; prev: string | undefined; feedUrl: string | undefined }> {
  if (format === 'rss') {
    const { feed } = await fetchRss(t, path);
    return { ids: feed.items.map((i) => i.guid ?? ''), prev: feed.atomLinks?.find((l) => l.$.rel === 'prev-archive')?.$.href, feedUrl: undefined };
  }
  if (format === 'atom') {
    const { feed } = await fetchAtom(t, path);
    return { ids: feed.items.map((e) => e.id ?? ''), prev: feed.feedLinks?.find((l) => l.$.rel === 'prev-archive')?.$.href, feedUrl: undefined };
  }
  const { feed } = await fetchJson(t, path);
  return { ids: feed.items.map((i) => i.id), prev: (feed as { next_url?: string }).next_url, feedUrl: feed.feed_url };
}

