import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveRender, findStaleFeeds } from '../../src/storage/feeds.js';
import { markFeedsDirty } from '../../src/storage/feed-state.js';
import { feedState } from '../../src/storage/schema.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, send } from '../helpers/builders.js';
import { counterValue, fetchRss, ingest, quiesce, snapshotSeqs } from '../helpers/feeds.js';

/**
 * Decision 0009: a change that only files articles below a full live window (an archive import)
 * bumps the feed's version (archive views follow it) but does not make the live feed due for a
 * render; anything else does. FEED_ITEM_LIMIT is 3 here, so a window fills quickly.
 */

const POLITICS = 'politics';

/**
 * Feeds rendered because of `change`: by the refresh the API schedules or by the test's own, whoever
 * ran it. A refresh's summary alone is not enough: the scheduled one can start first (CI's Postgres
 * is slow enough), and the test's then finds nothing left to render.
 */
async function rendersAfter(t: TestContext, change: () => Promise<unknown>): Promise<number> {
  await quiesce(t);
  const before = await counterValue(t.deps.metrics.feedRenders);
  await change();
  await t.feeds.refresh('change');
  await quiesce(t);
  return (await counterValue(t.deps.metrics.feedRenders)) - before;
}

async function state(t: TestContext, feedKey: string) {
  const [row] = await t.deps.db.select().from(feedState).where(eq(feedState.feedKey, feedKey));
  return row!;
}

describe('feeds: changes below the live window', () => {
  let t: TestContext;

  beforeAll(async () => {
    t = await createTestContext({ env: { FEED_ITEM_LIMIT: '3' } });
    await ingest(t, [
      articleInput({ externalId: 'p-10', title: 'Ten o’clock', categories: ['Politics'], publishedAt: '2026-11-28T10:00:00Z' }),
      articleInput({ externalId: 'p-11', title: 'Eleven o’clock', categories: ['Politics'], publishedAt: '2026-11-28T11:00:00Z' }),
      articleInput({ externalId: 'p-12', title: 'Noon', categories: ['Politics'], publishedAt: '2026-11-28T12:00:00Z' }),
      articleInput({ externalId: 'b-1', title: 'Shares rally', categories: ['Business'], publishedAt: '2026-11-28T09:00:00Z' }),
    ]);
    await t.feeds.refresh('change');
    await quiesce(t);
  });
  afterAll(async () => t?.close());

  it('records the oldest item of a full window as its floor, and none for a window that is not full', async () => {
    expect((await state(t, POLITICS)).liveFloor?.toISOString()).toBe('2026-11-28T10:00:00.000Z');
    expect((await state(t, 'all')).liveFloor?.toISOString()).toBe('2026-11-28T10:00:00.000Z');
    expect((await state(t, 'business')).liveFloor).toBeNull();
  });

  it('an archive import renders nothing, and the archive month shows the articles at once', async () => {
    await quiesce(t);
    const seqs = await snapshotSeqs(t);
    const before = await state(t, POLITICS);
    await ingest(t, [
      articleInput({ externalId: 'p-oct-1', title: 'October one', categories: ['Politics'], publishedAt: '2026-10-05T08:00:00Z' }),
      articleInput({ externalId: 'p-oct-2', title: 'October two', categories: ['Politics'], publishedAt: '2026-10-20T08:00:00Z' }),
    ]);
    const after = await state(t, POLITICS);
    expect(after.version).toBe(before.version + 1);
    expect(after.liveVersion).toBe(before.liveVersion);
    expect(await t.feeds.refresh('change')).toMatchObject({ feedsChecked: 0, feedsRendered: 0 });
    await quiesce(t);
    expect(await snapshotSeqs(t)).toEqual(seqs);
    const archive = await fetchRss(t, `/feeds/${POLITICS}/archive/2026-10.rss`);
    expect(archive.feed.items.map((i) => i.title).sort()).toEqual(['October one', 'October two']);
    // The live feed links that month as its prev-archive, as it did before (it lies below the window).
    const live = await fetchRss(t, `/feeds/${POLITICS}.rss`);
    expect(live.feed.items.map((i) => i.title)).toEqual(['Noon', 'Eleven o’clock', 'Ten o’clock']);
  });

  it('an article at the floor, with a later id, enters the window: it renders', async () => {
    const rendered = await rendersAfter(t, () =>
      ingest(t, [
        articleInput({ externalId: 'p-10b', title: 'Also at ten', categories: ['Politics'], publishedAt: '2026-11-28T10:00:00Z' }),
      ]),
    );
    // politics and all: the floor of both is ten o'clock.
    expect(rendered).toBe(2);
    const live = await fetchRss(t, `/feeds/${POLITICS}.rss`);
    expect(live.feed.items.map((i) => i.title)).toEqual(['Noon', 'Eleven o’clock', 'Also at ten']);
    expect((await state(t, POLITICS)).liveFloor?.toISOString()).toBe('2026-11-28T10:00:00.000Z');
  });

  it('any article renders a feed whose window is not full', async () => {
    const rendered = await rendersAfter(t, () =>
      ingest(t, [
        articleInput({ externalId: 'b-old', title: 'Old results', categories: ['Business'], publishedAt: '2025-01-01T08:00:00Z' }),
      ]),
    );
    // business (not full) renders; all (full, and the article is older than its floor) does not.
    expect(rendered).toBe(1);
    const live = await fetchRss(t, '/feeds/business.rss');
    expect(live.feed.items.map((i) => i.title)).toEqual(['Shares rally', 'Old results']);
  });

  it('an edit of an article below the window counts as live (its old date is not known to the writer)', async () => {
    const rendered = await rendersAfter(t, async () => {
      const answer = await send(t.app, 'PUT', '/api/v1/articles/p-oct-1', {
        body: articleInput({
          externalId: 'p-oct-1',
          title: 'October one, corrected',
          categories: ['Politics'],
          publishedAt: '2026-10-05T08:00:00Z',
        }),
      });
      expect(answer.status, answer.text).toBeLessThan(300);
    });
    expect(rendered).toBe(2);
  });

  it('an edit that moves an old article into the window shows it', async () => {
    await quiesce(t);
    await ingest(t, [articleInput({ externalId: 'p-oct-2', title: 'October two, redated', categories: ['Politics'], publishedAt: '2026-11-28T13:00:00Z' })]);
    await t.feeds.refresh('change');
    await quiesce(t);
    const live = await fetchRss(t, `/feeds/${POLITICS}.rss`);
    expect(live.feed.items.map((i) => i.title)).toEqual(['October two, redated', 'Noon', 'Eleven o’clock']);
  });

  it('an edit that moves an article out of the window, to a date below it, takes it out', async () => {
    await quiesce(t);
    await ingest(t, [articleInput({ externalId: 'p-12', title: 'Noon, redated', categories: ['Politics'], publishedAt: '2026-09-01T12:00:00Z' })]);
    await t.feeds.refresh('change');
    await quiesce(t);
    const live = await fetchRss(t, `/feeds/${POLITICS}.rss`);
    expect(live.feed.items.map((i) => i.title)).toEqual(['October two, redated', 'Eleven o’clock', 'Also at ten']);
  });

  it('a batch that edits an article in the window and files an old one renders both feeds it is in', async () => {
    await quiesce(t);
    await ingest(t, [
      articleInput({ externalId: 'p-11', title: 'Eleven o’clock, updated', categories: ['Politics'], publishedAt: '2026-11-28T11:00:00Z' }),
      articleInput({ externalId: 'p-aug', title: 'August', categories: ['Politics'], publishedAt: '2026-08-01T08:00:00Z' }),
    ]);
    await t.feeds.refresh('change');
    await quiesce(t);
    for (const key of [POLITICS, 'all']) {
      const live = await fetchRss(t, `/feeds/${key}.rss`);
      expect(live.feed.items.map((i) => i.title)).toContain('Eleven o’clock, updated');
    }
  });

  it('a batch that moves an article to another feed and files an old one in its old feed takes it out', async () => {
    await quiesce(t);
    await ingest(t, [
      articleInput({ externalId: 'p-11', title: 'Eleven o’clock, updated', categories: ['Business'], publishedAt: '2026-11-28T11:00:00Z' }),
      articleInput({ externalId: 'p-jul', title: 'July', categories: ['Politics'], publishedAt: '2026-07-01T08:00:00Z' }),
    ]);
    await t.feeds.refresh('change');
    await quiesce(t);
    const politics = await fetchRss(t, `/feeds/${POLITICS}.rss`);
    expect(politics.feed.items.map((i) => i.title)).not.toContain('Eleven o’clock, updated');
    const business = await fetchRss(t, '/feeds/business.rss');
    expect(business.feed.items.map((i) => i.title)).toContain('Eleven o’clock, updated');
  });

  it('a render that read the feed before a change below its old floor leaves the feed due (the floor may have dropped)', async () => {
    await quiesce(t);
    const read = await state(t, POLITICS);
    expect(read.liveVersion).toBeLessThanOrEqual(read.renderedVersion);
    // Judged against the floor stored now: below it, so not live.
    const [category] = await t.deps.db.select({ id: feedState.categoryId }).from(feedState).where(eq(feedState.feedKey, POLITICS));
    await t.deps.db.transaction((tx) =>
      markFeedsDirty(tx, [category!.id!], false, { insertsOnly: new Map([[category!.id!, { newestPublishedAt: new Date('2026-01-01T00:00:00Z') }]]) }),
    );
    expect(await findStaleFeeds(t.deps.db, t.deps.now())).toEqual([]);
    // A render that read version `read.version` saves with a lower floor: the change above was judged
    // against a floor that is no longer the feed's, so the feed must be read again.
    await saveRender(t.deps.db, {
      feedKey: POLITICS,
      sourceVersion: read.version,
      generatedAt: t.deps.now(),
      contentDigest: read.contentDigest!,
      contentUpdatedAt: read.contentUpdatedAt!,
      nextDueAt: null,
      liveFloor: new Date('2025-06-01T00:00:00Z'),
      snapshots: [],
    });
    expect((await findStaleFeeds(t.deps.db, t.deps.now())).map((s) => s.feedKey)).toEqual([POLITICS]);
    await t.feeds.refresh('change');
    await quiesce(t);
    expect(await findStaleFeeds(t.deps.db, t.deps.now())).toEqual([]);
  });
});
