import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { Deps } from '../../src/deps.js';
import { FeedRuntime, REFRESH_LOCK_KEY, SNAPSHOT_CHANNEL } from '../../src/feed-runtime.js';
import { storeArticles, validateArticle } from '../../src/ingest.js';
import { createMetrics } from '../../src/metrics.js';
import { openDb, type DbHandle } from '../../src/storage/db.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput } from '../helpers/builders.js';
import { DB_KIND } from '../helpers/db.js';
import { counterValue, expectSameIds, fetchAllFormats, fetchRss, getArticle, ingest, quiesce, waitFor } from '../helpers/feeds.js';

/**
 * Issue 3, "Several instances, one Postgres": two app instances in one process over the same database
 * (each with its own pool, LISTEN connection, memory cache and metrics). Postgres only: PGlite is one
 * process per data dir, and its advisory locks always succeed.
 */

describe.skipIf(DB_KIND !== 'postgres')('feeds: several instances on one Postgres', () => {
  let a: TestContext;
  let b: TestContext;
  let bHandle: DbHandle;

  beforeAll(async () => {
    a = await createTestContext();
    // Instance B: the same config and clock, its own connections, runtime, metrics and app.
    bHandle = await openDb({ databaseUrl: a.db.url!, dataDir: '', poolMax: 5 });
    const deps: Deps = { ...a.deps, db: bHandle.db, dbHandle: bHandle, metrics: createMetrics() };
    const feeds = new FeedRuntime(deps);
    await feeds.start();
    b = {
      ...a,
      app: createApp(deps, feeds),
      deps,
      feeds,
      db: { handle: bHandle, close: () => bHandle.close() },
      close: async () => {
        await feeds.stop();
        await bHandle.close();
      },
    };
    await ingest(a, [
      articleInput({ externalId: 'm-1', title: 'Morning news', categories: ['Markets'], publishedAt: '2026-11-28T07:00:00Z' }),
      articleInput({ externalId: 'm-2', title: 'Midday news', categories: ['Markets'], publishedAt: '2026-11-28T12:00:00Z' }),
    ]);
    await a.feeds.refresh('change');
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('B serves an article ingested through A within about a second, from A’s snapshot (NOTIFY drops B’s copy)', async () => {
    // B holds the current snapshots in memory.
    const cached = await fetchAllFormats(b, 'markets');
    await fetchAllFormats(b, 'all');
    const hits = await counterValue(b.deps.metrics.snapshotCache, { result: 'hit' });
    await fetchRss(b, '/feeds/markets.rss');
    expect(await counterValue(b.deps.metrics.snapshotCache, { result: 'hit' })).toBe(hits + 1);
    const bRenders = await counterValue(b.deps.metrics.feedRenders);

    // Through A's API, with no explicit refresh: A's debounced refresh renders, NOTIFY tells B.
    await ingest(a, [
      articleInput({ externalId: 'm-3', title: 'Evening news', categories: ['Markets'], publishedAt: '2026-11-28T18:00:00Z' }),
    ]);
    const guid = (await getArticle(a, 'm-3')).guid;
    await waitFor(
      'B to serve m-3 in markets.rss',
      async () => (await fetchRss(b, '/feeds/markets.rss')).feed.items[0]?.guid === guid,
      3000,
    );
    const fresh = await fetchAllFormats(b, 'markets');
    expect(expectSameIds(fresh)).toEqual([guid, ...expectSameIds(cached)]);
    expect(expectSameIds(await fetchAllFormats(b, 'all'))[0]).toBe(guid);
    // B rendered nothing: it loaded what A wrote, byte for byte.
    expect(await counterValue(b.deps.metrics.feedRenders)).toBe(bRenders);
    const fromA = await fetchAllFormats(a, 'markets');
    for (const format of ['rss', 'atom', 'json'] as const) {
      expect(fresh.raw[format].bytes.equals(fromA.raw[format].bytes)).toBe(true);
      expect(fresh.raw[format].headers.get('etag')).toBe(fromA.raw[format].headers.get('etag'));
    }
  });

  it('a refresh that changes feeds NOTIFYs every instance on the snapshot channel, naming the feeds', async () => {
    const listener = postgres(a.db.url!, { max: 1, onnotice: () => {} });
    try {
      const payloads: string[] = [];
      await listener.listen(SNAPSHOT_CHANNEL, (payload) => payloads.push(payload));
      await quiesce(a);
      await ingest(a, [
        articleInput({ externalId: 'm-4', title: 'Night news', categories: ['Markets'], publishedAt: '2026-11-28T22:00:00Z' }),
      ]);
      await a.feeds.refresh('change');
      const payload = await waitFor('a NOTIFY', async () => payloads.find((p) => p.split(',').includes('markets')));
      expect(payload.split(',').sort()).toEqual(['all', 'markets']);
    } finally {
      await listener.end({ timeout: 5 });
    }
  });

  it('while another session holds the refresh lock, both instances’ ticks skip as not-leader', async () => {
    await quiesce(a);
    await quiesce(b);
    const admin = postgres(a.db.url!, { max: 1, onnotice: () => {} });
    const holder = await admin.reserve();
    try {
      await holder`select pg_advisory_lock(${REFRESH_LOCK_KEY})`;
      const [ta, tb] = await Promise.all([a.feeds.tick(), b.feeds.tick()]);
      expect(ta).toMatchObject({ trigger: 'cron', skipped: 'not-leader', feedsRendered: 0 });
      expect(tb).toMatchObject({ trigger: 'cron', skipped: 'not-leader', feedsRendered: 0 });
      expect(await counterValue(a.deps.metrics.refreshTicks, { trigger: 'cron', outcome: 'skipped' })).toBeGreaterThanOrEqual(1);
      expect(await counterValue(b.deps.metrics.refreshTicks, { trigger: 'cron', outcome: 'skipped' })).toBeGreaterThanOrEqual(1);
    } finally {
      await holder`select pg_advisory_unlock(${REFRESH_LOCK_KEY})`;
      holder.release();
      await admin.end({ timeout: 5 });
    }
    // Released: a tick runs again (the lock did not leak to either instance).
    expect((await b.feeds.tick()).skipped).toBeUndefined();
    expect((await a.feeds.tick()).skipped).toBeUndefined();
  });

  it('two concurrent ticks on A and B: exactly one renders the dirty feeds, each feed once', async () => {
    await quiesce(a);
    await quiesce(b);
    // Dirty feeds through the ingest path the API uses, without the API's debounced refresh.
    const inputs = Array.from({ length: 24 }, (_, i) =>
      articleInput({
        externalId: `sector-${i}`,
        title: `Sector ${i} report`,
        categories: [`Sector ${i}`],
        publishedAt: '2026-11-28T09:00:00Z',
      }),
    );
    const articles = inputs.map((raw) => {
      const checked = validateArticle(raw, { defaultLanguage: 'en-GB' });
      if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
      return checked.article;
    });
    await storeArticles(a.deps, articles);
    const rendersBefore = (await counterValue(a.deps.metrics.feedRenders)) + (await counterValue(b.deps.metrics.feedRenders));
    const [ta, tb] = await Promise.all([a.feeds.tick(), b.feeds.tick()]);
    const working = [ta, tb].filter((s) => s.feedsRendered > 0);
    expect(working).toHaveLength(1);
    // 24 new categories and all.
    expect(working[0]).toMatchObject({ feedsChecked: 25, feedsRendered: 25, feedsChanged: 25 });
    const other = working[0] === ta ? tb : ta;
    // The other either lost the lock race or ran after and found nothing left to do.
    expect(other.skipped === 'not-leader' || (other.feedsChecked === 0 && other.feedsRendered === 0)).toBe(true);
    const rendersAfter = (await counterValue(a.deps.metrics.feedRenders)) + (await counterValue(b.deps.metrics.feedRenders));
    expect(rendersAfter - rendersBefore).toBe(25);
    // Both instances serve the result.
    const guid = (await getArticle(a, 'sector-7')).guid;
    expect(expectSameIds(await fetchAllFormats(a, 'sector-7'))).toEqual([guid]);
    expect(expectSameIds(await fetchAllFormats(b, 'sector-7'))).toEqual([guid]);
  });
});
