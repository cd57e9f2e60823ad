import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeArticles, validateArticle } from '../../src/ingest.js';
import { putCategory as storePutCategory } from '../../src/storage/categories.js';
import { BASE_URL, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, send } from '../helpers/builders.js';
import {
  counterValue,
  expectSameIds,
  fetchAllFormats,
  fetchFeedRaw,
  fetchJson,
  fetchRss,
  FORMATS,
  getArticle,
  ingest,
  parseBack,
  putCategory,
  quiesce,
  snapshotSeqs,
  waitFor,
} from '../helpers/feeds.js';

/**
 * Issue 3, "Pre-rendered snapshots" and "Refreshed on a cron schedule and on change": byte-stable
 * snapshots, the debounced refresh after a change, dirty-only refreshes, scheduled articles coming due
 * at a tick, single-flight first renders, renames, retractions and empty categories.
 *
 * Counters (t.deps.metrics) and feed_snapshots.seq say what was rendered and written whoever ran the
 * refresh (the debounce timer or the test); quiesce() waits out a pending debounce where a test needs
 * its own refresh or tick to be the one doing the work.
 */

/** An article as ingest normalises it, for storeArticles (the API's own store step, minus its refresh trigger). */
function normalized(overrides: Record<string, unknown>) {
  const checked = validateArticle(articleInput(overrides), { defaultLanguage: 'en-GB' });
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.article;
}

const A = 'politics';
const B = 'business';

describe('feeds: snapshots and refresh', () => {
  let t: TestContext;

  beforeAll(async () => {
    t = await createTestContext();
    await ingest(t, [
      articleInput({ externalId: 'pol-1', title: 'Budget vote tonight', categories: ['Politics'], publishedAt: '2026-11-28T10:00:00Z' }),
      articleInput({ externalId: 'pol-2', title: 'Minister resigns', categories: ['Politics'], publishedAt: '2026-11-28T12:00:00Z' }),
      articleInput({ externalId: 'bus-1', title: 'Shares rally', categories: ['Business'], publishedAt: '2026-11-28T11:00:00Z' }),
    ]);
    await t.feeds.refresh('change');
  });
  afterAll(async () => t?.close());

  const renders = () => counterValue(t.deps.metrics.feedRenders);

  it('serves identical bytes and validators while nothing changes, even across a forced refresh', async () => {
    await quiesce(t);
    const first = await Promise.all(FORMATS.map((f) => fetchFeedRaw(t, `/feeds/${A}.${f}`)));
    for (const [i, f] of FORMATS.entries()) await parseBack(f, first[i]!.text);
    const again = await Promise.all(FORMATS.map((f) => fetchFeedRaw(t, `/feeds/${A}.${f}`)));
    for (const i of FORMATS.keys()) {
      expect(again[i]!.bytes.equals(first[i]!.bytes)).toBe(true);
      expect(again[i]!.headers.get('etag')).toBe(first[i]!.headers.get('etag'));
    }
    const seqs = await snapshotSeqs(t);
    t.clock.advance(10 * 60_000);
    const forced = await send(t.app, 'POST', '/api/v1/feeds/refresh');
    expect(forced.status).toBe(200);
    // Every feed (all, politics, business) re-rendered, none changed.
    expect(forced.body).toMatchObject({ trigger: 'manual', feedsChecked: 3, feedsRendered: 3, feedsChanged: 0 });
    expect(await snapshotSeqs(t)).toEqual(seqs);
    const after = await Promise.all(FORMATS.map((f) => fetchFeedRaw(t, `/feeds/${A}.${f}`)));
    for (const i of FORMATS.keys()) {
      expect(after[i]!.bytes.equals(first[i]!.bytes)).toBe(true);
      expect(after[i]!.headers.get('etag')).toBe(first[i]!.headers.get('etag'));
      expect(after[i]!.headers.get('last-modified')).toBe(first[i]!.headers.get('last-modified'));
    }
  });

  it('the forced refresh is admin-only', async () => {
    expect((await send(t.app, 'POST', '/api/v1/feeds/refresh', { token: null })).status).toBe(401);
  });

  it('an ingested article is in its feeds once the refresh after the change has run (awaited)', async () => {
    // Cached first, so a stale memory copy would show.
    await fetchAllFormats(t, A);
    await ingest(t, [
      articleInput({ externalId: 'pol-3', title: 'Election called', categories: ['Politics'], publishedAt: '2026-11-29T08:00:00Z' }),
    ]);
    await t.feeds.refresh('change');
    const guid = (await getArticle(t, 'pol-3')).guid;
    expect(expectSameIds(await fetchAllFormats(t, A))[0]).toBe(guid);
    expect(expectSameIds(await fetchAllFormats(t, 'all'))[0]).toBe(guid);
  });

  it('the debounced refresh alone brings a change into its feeds (bounded poll, no explicit refresh)', async () => {
    await fetchAllFormats(t, A);
    await ingest(t, [
      articleInput({ externalId: 'pol-4', title: 'Polls open', categories: ['Politics'], publishedAt: '2026-11-29T08:30:00Z' }),
    ]);
    const guid = (await getArticle(t, 'pol-4')).guid;
    // The budget is one second; the deadline is generous so a loaded machine does not flake.
    await waitFor('pol-4 in the politics RSS feed', async () => (await fetchRss(t, `/feeds/${A}.rss`)).feed.items[0]?.guid === guid);
    expect(expectSameIds(await fetchAllFormats(t, A))[0]).toBe(guid);
  });

  it('awaiting refresh("change") while another refresh runs waits for a run that includes the change', async () => {
    await ingest(t, [
      articleInput({ externalId: 'health-1', title: 'Clinic opens', categories: ['Health'], publishedAt: '2026-11-28T09:00:00Z' }),
    ]);
    await t.feeds.refresh('change');
    await quiesce(t);
    await fetchAllFormats(t, 'health');
    // Ten dirty feeds (and all) keep a refresh busy. Once it has rendered one, it has read its list of
    // stale feeds: the change below commits after that read, while it is (most likely) still running.
    await storeArticles(
      t.deps,
      Array.from({ length: 10 }, (_, i) => normalized({ externalId: `busy-${i}`, categories: [`Busy ${i}`] })),
    );
    const before = await renders();
    const running = t.feeds.refresh('change');
    await waitFor('the busy refresh to render a feed', async () => (await renders()) > before, 5000, 2);
    await storeArticles(t.deps, [
      normalized({ externalId: 'health-2', title: 'Clinic expands', categories: ['Health'], publishedAt: '2026-11-29T08:50:00Z' }),
    ]);
    await t.feeds.refresh('change');
    const guid = (await getArticle(t, 'health-2')).guid;
    expect(expectSameIds(await fetchAllFormats(t, 'health'))[0]).toBe(guid);
    expect(await running).toMatchObject({ feedsRendered: 11 });
  });

  it('a refresh re-renders only the feeds that changed: the category ingested into and all, not the others', async () => {
    await quiesce(t);
    await fetchAllFormats(t, B);
    const seqs = await snapshotSeqs(t);
    const rendersBefore = await renders();
    const changed: string[] = [];
    t.feeds.onFeedsChanged((keys) => changed.push(...keys));
    await ingest(t, [
      articleInput({ externalId: 'pol-5', title: 'Debate tonight', categories: ['Politics'], publishedAt: '2026-11-29T08:45:00Z' }),
    ]);
    await t.feeds.refresh('change');
    await quiesce(t);
    expect(await renders()).toBe(rendersBefore + 2);
    expect([...new Set(changed)].sort()).toEqual(['all', A]);
    const after = await snapshotSeqs(t);
    for (const f of FORMATS) {
      expect(after.get(`${A}.${f}`)).toBeGreaterThan(seqs.get(`${A}.${f}`)!);
      expect(after.get(`all.${f}`)).toBeGreaterThan(seqs.get(`all.${f}`)!);
      expect(after.get(`${B}.${f}`)).toBe(seqs.get(`${B}.${f}`));
    }
    // The refresh that did the work rendered exactly those two (whoever ran it): the next finds nothing.
    expect(await t.feeds.refresh('change')).toMatchObject({ feedsChecked: 0, feedsRendered: 0 });
  });

  it('an update moves an article between feeds, unpublishing removes it, and an unchanged re-ingest renders nothing', async () => {
    const input = articleInput({
      externalId: 'move-1',
      title: 'Trade deal signed',
      categories: ['Politics'],
      publishedAt: '2026-11-29T08:55:00Z',
    });
    await ingest(t, [input]);
    await t.feeds.refresh('change');
    const guid = (await getArticle(t, 'move-1')).guid;
    expect(expectSameIds(await fetchAllFormats(t, A))[0]).toBe(guid);

    // Re-categorised: leaves politics, joins business, same guid everywhere.
    await ingest(t, [{ ...input, categories: ['Business'] }]);
    await t.feeds.refresh('change');
    expect(expectSameIds(await fetchAllFormats(t, A))).not.toContain(guid);
    expect(expectSameIds(await fetchAllFormats(t, B))[0]).toBe(guid);
    expect(expectSameIds(await fetchAllFormats(t, 'all'))[0]).toBe(guid);

    // The same payload again: nothing changes, nothing is rendered, the validators stay.
    await quiesce(t);
    const etag = (await fetchFeedRaw(t, `/feeds/${B}.rss`)).headers.get('etag');
    const seqs = await snapshotSeqs(t);
    const rendersBefore = await renders();
    expect((await ingest(t, [{ ...input, categories: ['Business'] }]))[0]!.status).toBe('unchanged');
    await t.feeds.refresh('change');
    expect(await renders()).toBe(rendersBefore);
    expect(await snapshotSeqs(t)).toEqual(seqs);
    expect((await fetchFeedRaw(t, `/feeds/${B}.rss`)).headers.get('etag')).toBe(etag);
    // An idempotent category PUT touches nothing either.
    await putCategory(t, B, { name: 'Business' });
    await t.feeds.refresh('change');
    expect(await snapshotSeqs(t)).toEqual(seqs);

    // Back to draft: out of every feed; published again: back in.
    await ingest(t, [{ ...input, categories: ['Business'], status: 'draft' }]);
    await t.feeds.refresh('change');
    expect(expectSameIds(await fetchAllFormats(t, B))).not.toContain(guid);
    expect(expectSameIds(await fetchAllFormats(t, 'all'))).not.toContain(guid);
    await ingest(t, [{ ...input, categories: ['Business'] }]);
    await t.feeds.refresh('change');
    expect(expectSameIds(await fetchAllFormats(t, B))[0]).toBe(guid);
  });

  it('a ?limit variant follows changes too (its memory copy is dropped with its feed)', async () => {
    const before = await fetchAllFormats(t, B, '?limit=1');
    await ingest(t, [
      articleInput({ externalId: 'bus-2', title: 'Rates held', categories: ['Business'], publishedAt: '2026-11-29T08:58:00Z' }),
    ]);
    await t.feeds.refresh('change');
    const guid = (await getArticle(t, 'bus-2')).guid;
    const after = await fetchAllFormats(t, B, '?limit=1');
    expect(expectSameIds(after)).toEqual([guid]);
    expect(expectSameIds(before)).not.toEqual([guid]);
    expect(after.rss.atomLinks?.find((l) => l.$.rel === 'self')?.$.href).toBe(`${BASE_URL}/feeds/${B}.rss?limit=1`);
  });

  it('a cron tick with nothing to do renders no feed', async () => {
    await quiesce(t);
    const before = await renders();
    const summary = await t.feeds.tick();
    expect(summary).toMatchObject({ trigger: 'cron', feedsChecked: 0, feedsRendered: 0, feedsChanged: 0 });
    expect(summary.skipped).toBeUndefined();
    expect(await renders()).toBe(before);
  });

  it('a scheduled article is absent until its time, then a tick brings it in (its feeds only)', async () => {
    const due = new Date(t.clock.now().getTime() + 3600_000);
    await ingest(t, [
      articleInput({ externalId: 'bus-scheduled', title: 'Quarterly results', categories: ['Business'], publishedAt: due.toISOString() }),
    ]);
    await t.feeds.refresh('change');
    const guid = (await getArticle(t, 'bus-scheduled')).guid;
    for (const slug of [B, 'all']) {
      const feeds = await fetchAllFormats(t, slug);
      expect(expectSameIds(feeds), slug).not.toContain(guid);
    }
    await quiesce(t);
    // Not due yet: a tick does nothing.
    expect(await t.feeds.tick()).toMatchObject({ feedsRendered: 0 });
    t.clock.advance(2 * 3600_000);
    const summary = await t.feeds.tick();
    expect(summary).toMatchObject({ trigger: 'cron', feedsChecked: 2, feedsRendered: 2, feedsChanged: 2 });
    for (const slug of [B, 'all']) {
      const feeds = await fetchAllFormats(t, slug);
      expect(expectSameIds(feeds)[0], slug).toBe(guid);
      // The feed's date is the article's publication time, not the tick's.
      expect(feeds.rss.lastBuildDate).toBe(due.toUTCString());
    }
    expect(await t.feeds.tick()).toMatchObject({ feedsRendered: 0 });
  });

  it('single flight: 20 concurrent first requests for a never-rendered feed render it once', async () => {
    await quiesce(t);
    // Created through storage, not the API: nothing schedules a refresh, so only requests can render it.
    await storePutCategory(t.deps.db, 'science', { name: 'Science', description: null }, t.clock.now());
    expect([...(await snapshotSeqs(t)).keys()].filter((k) => k.startsWith('science.'))).toEqual([]);
    const rendersBefore = await renders();
    const onDemandBefore = await counterValue(t.deps.metrics.snapshotCache, { result: 'render' });
    const paths = Array.from({ length: 20 }, (_, i) => `/feeds/science.${FORMATS[i % 3]}`);
    const answers = await Promise.all(paths.map((p) => fetchFeedRaw(t, p)));
    expect(await renders()).toBe(rendersBefore + 1);
    // Each format missed memory and the database once; the 17 other requests waited for those.
    expect(await counterValue(t.deps.metrics.snapshotCache, { result: 'render' })).toBe(onDemandBefore + 3);
    for (const f of FORMATS) {
      const same = answers.filter((_, i) => paths[i]!.endsWith(`.${f}`));
      expect(new Set(same.map((a) => a.headers.get('etag'))).size).toBe(1);
      await parseBack(f, same[0]!.text);
    }
    const seqs = await snapshotSeqs(t);
    expect([...seqs.keys()].filter((k) => k.startsWith('science.')).sort()).toEqual(['science.atom', 'science.json', 'science.rss']);
    // Served from memory afterwards: no render, no load.
    const hits = await counterValue(t.deps.metrics.snapshotCache, { result: 'hit' });
    await fetchFeedRaw(t, '/feeds/science.rss');
    expect(await counterValue(t.deps.metrics.snapshotCache, { result: 'hit' })).toBe(hits + 1);
    expect(await renders()).toBe(rendersBefore + 1);
  });

  it('a renamed category changes its feed title (and item labels), never its feed id or item ids', async () => {
    const before = await fetchAllFormats(t, A);
    const ids = expectSameIds(before);
    expect(before.rss.title).toBe('Syndicate: Politics');
    t.clock.advance(60_000);
    const answer = await putCategory(t, A, { name: 'Politics & Government', description: 'Westminster and beyond.' });
    expect(answer.status).toBe(200);
    await t.feeds.refresh('change');
    const after = await fetchAllFormats(t, A);
    expect(after.rss.title).toBe('Syndicate: Politics & Government');
    expect(after.atom.title).toBe('Syndicate: Politics & Government');
    expect(after.json.title).toBe('Syndicate: Politics & Government');
    expect(after.rss.description).toBe('Westminster and beyond.');
    expect(after.atom.id).toBe(before.atom.id);
    expect(after.atom.id).toBe('tag:news.example.co.uk,2026-11-29:feed:politics');
    expect(expectSameIds(after)).toEqual(ids);
    expect(after.atom.items[0]!.atomCategories?.[0]?.$).toEqual({ term: A, label: 'Politics & Government' });
    expect(after.json.feed_url).toBe(`${BASE_URL}/feeds/${A}.json`);
    // The rename is the feed's newest change.
    expect(after.rss.lastBuildDate).toBe(t.clock.now().toUTCString());
    // The all feed's items carry the new label too.
    const all = await fetchJson(t, '/feeds/all.json');
    expect(all.feed.items.find((i) => i.id === ids[0])?.tags).toContain('Politics & Government');
  });

  it('a retracted article leaves its feeds, and lastBuildDate moves forward', async () => {
    const before = await fetchAllFormats(t, A);
    const guid = (await getArticle(t, 'pol-5')).guid;
    expect(expectSameIds(before)).toContain(guid);
    t.clock.advance(5 * 60_000);
    expect((await send(t.app, 'DELETE', '/api/v1/articles/pol-5')).status).toBe(204);
    await t.feeds.refresh('change');
    for (const slug of [A, 'all']) {
      const after = await fetchAllFormats(t, slug);
      expect(expectSameIds(after), slug).not.toContain(guid);
    }
    const after = await fetchAllFormats(t, A);
    expect(Date.parse(after.rss.lastBuildDate!)).toBeGreaterThan(Date.parse(before.rss.lastBuildDate!));
    expect(after.rss.lastBuildDate).toBe(t.clock.now().toUTCString());
    expect(after.atom.lastBuildDate).toBe(t.clock.now().toISOString());
    expect(after.raw.rss.headers.get('last-modified')).toBe(t.clock.now().toUTCString());
    expect(after.raw.rss.headers.get('etag')).not.toBe(before.raw.rss.headers.get('etag'));
  });

  it('an empty category (created by PUT) has a valid feed with no items in every format', async () => {
    await putCategory(t, 'weather', { name: 'Weather' });
    await t.feeds.refresh('change');
    const feeds = await fetchAllFormats(t, 'weather');
    expect(feeds.rss.items).toEqual([]);
    expect(feeds.atom.items).toEqual([]);
    expect(feeds.json.items).toEqual([]);
    expect(feeds.raw.rss.text).not.toContain('<item>');
    expect(feeds.raw.atom.text).not.toContain('<entry>');
    expect(feeds.rss.title).toBe('Syndicate: Weather');
    expect(feeds.atom.id).toMatch(/^tag:news\.example\.co\.uk,\d{4}-\d{2}-\d{2}:feed:weather$/);
    // Its date is the category's creation: an empty feed still has a stable lastBuildDate.
    expect(feeds.rss.lastBuildDate).toBe(t.clock.now().toUTCString());
    expect(feeds.atom.lastBuildDate).toBe(t.clock.now().toISOString());
  });
});
