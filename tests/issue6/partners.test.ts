import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { Deps } from '../../src/deps.js';
import { FeedRuntime } from '../../src/feed-runtime.js';
import { createMetrics } from '../../src/metrics.js';
import { openDb } from '../../src/storage/db.js';
import { partnerFeedStats } from '../../src/storage/schema.js';
import { BASE_URL, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, expectProblem, send } from '../helpers/builders.js';
import { DB_KIND } from '../helpers/db.js';
import { expectSameIds, fetchAtom, fetchJson, fetchRss, getArticle, ingest, problemOf, quiesce, request } from '../helpers/feeds.js';

/**
 * Issue 6, partner keys: the admin API, partner feeds (categories, embargo, summaries, combinations,
 * ?since, archives under /partners/{key}/feeds/), no oracle for keys or categories, revocation at
 * once (on every instance: per-request check against the database), and per-feed statistics written
 * in batches. The clock starts at 2026-11-29T09:00Z.
 */

/** Fetches `${path}.rss`, `.atom` and `.json` and parses each back (fetchAllFormats, for any path). */
async function fetchAll(t: TestContext, path: string) {
  const [rss, atom, json] = await Promise.all([fetchRss(t, `${path}.rss`), fetchAtom(t, `${path}.atom`), fetchJson(t, `${path}.json`)]);
  return { rss: rss.feed, atom: atom.feed, json: json.feed, raw: { rss: rss.raw, atom: atom.raw, json: json.raw } };
}

const WORLD_BODY = '<p>The full <strong>World</strong> story, only for full-text partners.</p>';

describe('partners', () => {
  let t: TestContext;
  /** Sport + World, 60 min embargo, summaries only. */
  let wire: { id: string; key: string; feeds: string };
  /** Everything, no embargo, full text. */
  let mirror: { id: string; key: string; feeds: string };
  const guid: Record<string, string> = {};

  async function createPartner(body: Record<string, unknown>) {
    const answer = await send(t.app, 'POST', '/api/v1/partners', { body });
    expect(answer.status, answer.text).toBe(201);
    return { id: answer.body.id as string, key: answer.body.key as string, feeds: `/partners/${answer.body.key as string}/feeds` };
  }

  beforeAll(async () => {
    t = await createTestContext();
    const articles = [
      articleInput({ externalId: 'w-oct', title: 'October summit', categories: ['World'], contentHtml: WORLD_BODY, publishedAt: '2026-10-12T10:00:00Z' }),
      articleInput({ externalId: 'w-1', title: 'Ceasefire holds', categories: ['World'], contentHtml: WORLD_BODY, publishedAt: '2026-11-28T10:00:00Z' }),
      articleInput({ externalId: 's-1', title: 'Cup final', categories: ['Sport'], publishedAt: '2026-11-28T16:00:00Z' }),
      articleInput({ externalId: 'c-1', title: 'Opera season opens', categories: ['Culture'], publishedAt: '2026-11-27T19:00:00Z' }),
      // Published 30 minutes before the clock: visible to the public, embargoed for the wire partner.
      articleInput({ externalId: 'w-fresh', title: 'Breaking: talks resume', categories: ['World'], summary: 'Talks resumed this morning.', publishedAt: '2026-11-29T08:30:00Z' }),
    ];
    await ingest(t, articles);
    for (const a of articles) guid[a.externalId as string] = (await getArticle(t, a.externalId as string)).guid;
    await t.feeds.refresh('change');
    await quiesce(t);
    wire = await createPartner({ name: 'Wire Service', categories: ['world', 'sport'], embargoMinutes: 60, content: 'summary' });
    mirror = await createPartner({ name: 'Mirror Site' });
  });
  afterAll(async () => t?.close());

  const ids = (...externalIds: string[]) => externalIds.map((id) => guid[id]!);

  describe('admin API', () => {
    it('creates a partner and returns its key once; lists and reads never show it', async () => {
      const created = await send(t.app, 'POST', '/api/v1/partners', {
        body: { name: '  Aggregator \u0007 ', categories: ['world'], embargoMinutes: 15, content: 'summary' },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(created.headers.get('location')).toBe(`/api/v1/partners/${created.body.id}`);
      expect(created.body).toMatchObject({ name: 'Aggregator', categories: ['world'], embargoMinutes: 15, content: 'summary', revokedAt: null });
      expect(created.body.key).toMatch(/^syn_[A-Za-z0-9_-]{43}$/);
      expect(created.body.feedsUrl).toBe(`${BASE_URL}/partners/${created.body.key}/feeds/`);
      expect(created.body.keyPrefix).toBe(created.body.key.slice(0, 10));
      const one = await send(t.app, 'GET', `/api/v1/partners/${created.body.id}`);
      expect(one.status).toBe(200);
      expect(one.body.key).toBeUndefined();
      expect(one.text).not.toContain(created.body.key);
      const list = await send(t.app, 'GET', '/api/v1/partners');
      // Created at the same clock time: listed by creation time, then id.
      expect(list.body.items.map((p: { name: string }) => p.name).sort()).toEqual(['Aggregator', 'Mirror Site', 'Wire Service']);
      expect(list.text).not.toContain(created.body.key);
      expect(list.body.items.find((p: { name: string }) => p.name === 'Mirror Site')).toMatchObject({ categories: null, embargoMinutes: 0, content: 'full' });
    });

    it('validates (422 naming each field) and requires the admin scope', async () => {
      const bad = await send(t.app, 'POST', '/api/v1/partners', {
        body: { name: '', categories: ['world', 'Not A Slug', 'all'], embargoMinutes: -5, content: 'teaser' },
      });
      expectProblem(bad, 422, ['name', 'categories.1', 'categories.2', 'embargoMinutes', 'content']);
      const unknown = await send(t.app, 'POST', '/api/v1/partners', { body: { name: 'X', categories: ['world', 'weather'] } });
      expectProblem(unknown, 422, ['categories.1']);
      expect((await send(t.app, 'POST', '/api/v1/partners', { body: { name: 'X' }, token: null })).status).toBe(401);
      const ingestToken = await send(t.app, 'POST', '/api/v1/tokens', { body: { name: 'cms', scopes: ['ingest'] } });
      expect((await send(t.app, 'GET', '/api/v1/partners', { token: ingestToken.body.token })).status).toBe(403);
      expect((await send(t.app, 'GET', '/api/v1/partners/not-a-uuid')).status).toBe(404);
      expect((await send(t.app, 'GET', '/api/v1/partners/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });
  });

  describe('partner feeds', () => {
    it('serve the partner’s categories in every format, with self links carrying the partner URL', async () => {
      const feeds = await fetchAll(t, `${wire.feeds}/world`);
      expect(expectSameIds(feeds)).toEqual(ids('w-1', 'w-oct'));
      expect(feeds.rss.atomLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}${wire.feeds}/world.rss`);
      expect(feeds.atom.feedLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}${wire.feeds}/world.atom`);
      expect(feeds.json.feed_url).toBe(`${BASE_URL}${wire.feeds}/world.json`);
      // The live feed's archive link stays under the partner's URL too.
      expect(feeds.rss.atomLinks?.find((l) => l.$.rel === 'prev-archive')?.$.href).toBe(`${BASE_URL}${wire.feeds}/world/archive/2026-10.rss`);
      expect(feeds.raw.rss.headers.get('cache-control')).toBe('private, no-cache');
      // No hub: WebSub topics are the public canonical feeds.
      expect(feeds.raw.rss.text).not.toContain('rel="hub"');
    });

    it('content: summary → no full HTML in any format (the summary or an excerpt instead)', async () => {
      const feeds = await fetchAll(t, `${wire.feeds}/world`);
      expect(feeds.raw.rss.text).not.toContain('content:encoded');
      expect(feeds.raw.rss.text).not.toContain('only for full-text partners');
      expect(feeds.raw.atom.text).not.toContain('<content');
      for (const item of feeds.json.items) {
        expect(item.content_html).toBeUndefined();
        expect(item.content_text).toBeTruthy();
      }
      const full = await fetchAll(t, `${mirror.feeds}/world`);
      expect(full.json.items.find((i) => i.id === guid['w-1'])?.content_html).toBe(WORLD_BODY);
      expect(full.raw.rss.text).toContain('only for full-text partners');
    });

    it('a category it may not read, an unknown feed and a wrong key all get the same 404 (no oracle)', async () => {
      const wrongKey = `syn_${'A'.repeat(43)}`;
      const answers = await Promise.all(
        [
          `${wire.feeds}/culture.rss`,
          `${wire.feeds}/all.rss`,
          `${wire.feeds}/nope.rss`,
          `${wire.feeds}/culture+sport.rss`,
          `${wire.feeds}/culture/archive/2026-11.rss`,
          `/partners/${wrongKey}/feeds/world.rss`,
          `/partners/not-a-key/feeds/world.rss`,
          `/partners/${wrongKey}/feeds/world/archive/2026-11.rss`,
          `/partners/${wrongKey}/feeds/a+b+c+d+e+f+g+h+i+j+k.rss?since=yesterday`,
        ].map(async (path) => problemOf(await request(t, path))),
      );
      for (const answer of answers) {
        expectProblem(answer, 404);
        const { instance: _instance, requestId: _requestId, ...rest } = answer.body;
        expect(rest).toEqual({ type: '/problems/not-found', title: 'Not found', status: 404, detail: 'No such feed.' });
      }
      // The mirror (every category) reads culture and `all`.
      expect((await fetchRss(t, `${mirror.feeds}/culture.rss`)).feed.items.map((i) => i.guid)).toEqual(ids('c-1'));
      expect((await fetchJson(t, `${mirror.feeds}/all.json`)).feed.items).toHaveLength(5);
    });

    it('everything else works there: combinations (with the canonical redirect), ?since, ?limit, archives, 304', async () => {
      const combined = await fetchRss(t, `${wire.feeds}/sport+world.rss?limit=2`);
      expect(combined.feed.items.map((i) => i.guid)).toEqual(ids('s-1', 'w-1'));
      expect(combined.feed.atomLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}${wire.feeds}/sport+world.rss?limit=2`);
      const redirect = await request(t, `${wire.feeds}/world+sport.atom`);
      expect(redirect.status).toBe(301);
      expect(redirect.headers.get('location')).toBe(`${BASE_URL}${wire.feeds}/sport+world.atom`);
      expect((await fetchAtom(t, `${wire.feeds}/world.atom?since=2026-11-01T00:00:00Z`)).feed.items.map((e) => e.id)).toEqual(ids('w-1'));
      expectProblem(problemOf(await request(t, `${wire.feeds}/world.rss?since=yesterday`)), 400, ['since']);
      const archive = await fetchRss(t, `${wire.feeds}/world/archive/2026-10.rss`);
      expect(archive.feed.items.map((i) => i.guid)).toEqual(ids('w-oct'));
      expect(Object.fromEntries((archive.feed.atomLinks ?? []).map((l) => [l.$.rel, l.$.href]))).toEqual({
        self: `${BASE_URL}${wire.feeds}/world/archive/2026-10.rss`,
        current: `${BASE_URL}${wire.feeds}/world.rss`,
        'next-archive': `${BASE_URL}${wire.feeds}/world/archive/2026-11.rss`,
      });
      expect(archive.raw.text).toContain('<fh:archive/>');
      const etag = archive.raw.headers.get('etag')!;
      const notModified = await request(t, `${wire.feeds}/world/archive/2026-10.rss`, { headers: { 'if-none-match': etag } });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get('cache-control')).toBe('private, no-cache');
    });

    it('an embargoed item is absent from the feed, its archive page and ?since results until the embargo ends, then present without a restart', async () => {
      const paths = [`${wire.feeds}/world.rss`, `${wire.feeds}/world/archive/2026-11.rss`, `${wire.feeds}/world.rss?since=2026-11-29T00:00:00Z`];
      const before = await Promise.all(paths.map((p) => fetchRss(t, p)));
      for (const { feed } of before) expect(feed.items.map((i) => i.guid)).not.toContain(guid['w-fresh']);
      expect(before[2]!.feed.items).toEqual([]);
      // The public sees it now.
      expect((await fetchRss(t, '/feeds/world.rss')).feed.items[0]!.guid).toBe(guid['w-fresh']);
      // Still embargoed one minute before the end (and served from memory meanwhile).
      t.clock.set('2026-11-29T09:29:00Z');
      expect((await fetchRss(t, paths[0]!)).feed.items.map((i) => i.guid)).not.toContain(guid['w-fresh']);
      // 60 minutes after publication: there, with no refresh, no restart, no change to any feed.
      t.clock.set('2026-11-29T09:30:00Z');
      const after = await Promise.all(paths.map((p) => fetchRss(t, p)));
      for (const { feed } of after) expect(feed.items[0]?.guid).toBe(guid['w-fresh']);
      // Its appearance moves Last-Modified forward, so If-Modified-Since readers see it too.
      expect(Date.parse(after[0]!.raw.headers.get('last-modified')!)).toBeGreaterThan(Date.parse(before[0]!.raw.headers.get('last-modified')!));
      expect(after[0]!.raw.headers.get('last-modified')).toBe(new Date('2026-11-29T09:30:00Z').toUTCString());
      // A newsletter that pulled at 09:00 (before the end of the embargo) gets it in its next pull.
      expect((await fetchRss(t, `${wire.feeds}/world.rss?since=2026-11-29T09:00:00Z`)).feed.items.map((i) => i.guid)).toEqual(ids('w-fresh'));
    });
  });

  describe('statistics', () => {
    it('counts requests, 200s and 304s per partner and feed, with the last fetch and user agent, written in batches off the request path', async () => {
      const path = `${mirror.feeds}/sport.rss`;
      const first = await request(t, path, { headers: { 'user-agent': 'FeedFetcher/1.0' } });
      expect(first.status).toBe(200);
      await request(t, path, { headers: { 'user-agent': 'FeedFetcher/1.0', 'if-none-match': first.headers.get('etag')! } });
      await request(t, `${path}?limit=5`, { headers: { 'user-agent': 'FeedFetcher/2.0', 'if-none-match': 'W/"nope"' } });
      await request(t, `${mirror.feeds}/sport/archive/2026-11.rss`, { headers: { 'user-agent': 'Archiver' } });
      await request(t, `${mirror.feeds}/nope.rss`);
      // Nothing written yet: counted in memory, flushed every few seconds (or when stats are read).
      expect(await t.deps.db.select().from(partnerFeedStats)).toEqual(
        expect.not.arrayContaining([expect.objectContaining({ feedPath: '/feeds/sport.rss' })]),
      );
      const stats = await send(t.app, 'GET', `/api/v1/partners/${mirror.id}/stats`);
      expect(stats.status).toBe(200);
      const byFeed = Object.fromEntries(stats.body.items.map((s: { feed: string }) => [s.feed, s]));
      expect(byFeed['/feeds/sport.rss']).toEqual({
        feed: '/feeds/sport.rss',
        requests: 3,
        okResponses: 2,
        notModifiedResponses: 1,
        lastFetchAt: t.clock.now().toISOString(),
        lastUserAgent: 'FeedFetcher/2.0',
      });
      expect(byFeed['/feeds/sport/archive/2026-11.rss']).toMatchObject({ requests: 1, okResponses: 1, lastUserAgent: 'Archiver' });
      expect(byFeed['/feeds/nope.rss']).toBeUndefined();
      // Counts add up across flushes (one upsert adding them).
      await request(t, path, { headers: { 'user-agent': 'FeedFetcher/3.0' } });
      const again = await send(t.app, 'GET', `/api/v1/partners/${mirror.id}/stats`);
      expect(again.body.items.find((s: { feed: string }) => s.feed === '/feeds/sport.rss')).toMatchObject({ requests: 4, okResponses: 3, lastUserAgent: 'FeedFetcher/3.0' });
      expect((await send(t.app, 'GET', '/api/v1/partners/00000000-0000-4000-8000-000000000000/stats')).status).toBe(404);
    });
  });

  describe('revocation', () => {
    it('stops access at once: the next request is a 404, though the feed was served (and cached) a moment before', async () => {
      const doomed = await createPartner({ name: 'Doomed', categories: ['world'] });
      expect((await request(t, `${doomed.feeds}/world.rss`)).status).toBe(200);
      const revoked = await send(t.app, 'DELETE', `/api/v1/partners/${doomed.id}`);
      expect(revoked.status).toBe(204);
      expectProblem(problemOf(await request(t, `${doomed.feeds}/world.rss`)), 404);
      const read = await send(t.app, 'GET', `/api/v1/partners/${doomed.id}`);
      expect(read.body.revokedAt).toBe(t.clock.now().toISOString());
      expect((await send(t.app, 'DELETE', `/api/v1/partners/${doomed.id}`)).status).toBe(204);
      expect((await send(t.app, 'DELETE', '/api/v1/partners/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });

    it.skipIf(DB_KIND !== 'postgres')('revoked through one instance, refused by another at once (per-request check on the shared database)', async () => {
      const handle = await openDb({ databaseUrl: t.db.url!, dataDir: '', poolMax: 3 });
      const deps: Deps = { ...t.deps, db: handle.db, dbHandle: handle, metrics: createMetrics() };
      const feeds = new FeedRuntime(deps);
      await feeds.start();
      const other = createApp(deps, feeds);
      try {
        const partner = await createPartner({ name: 'Two instances', categories: ['sport'] });
        const path = `${partner.feeds}/sport.rss`;
        expect((await other.request(path)).status).toBe(200);
        expect((await other.request(path)).status).toBe(200);
        expect((await send(t.app, 'DELETE', `/api/v1/partners/${partner.id}`)).status).toBe(204);
        expect((await other.request(path)).status).toBe(404);
      } finally {
        await feeds.stop();
        await handle.close();
      }
    });
  });

  // Last: it stops the runtime of this file's context.
  describe('shutdown', () => {
    it('counts still in memory are written when the runtime stops', async () => {
      const path = `${mirror.feeds}/culture.json`;
      expect((await request(t, path, { headers: { 'user-agent': 'Last/1.0' } })).status).toBe(200);
      const pending = await t.deps.db.select().from(partnerFeedStats);
      expect(pending.some((r) => r.feedPath === '/feeds/culture.json')).toBe(false);
      await t.feeds.stop();
      const rows = await t.deps.db.select().from(partnerFeedStats);
      expect(rows.find((r) => r.feedPath === '/feeds/culture.json')).toMatchObject({ partnerId: mirror.id, requests: 1, okResponses: 1, lastUserAgent: 'Last/1.0' });
    });
  });
});
