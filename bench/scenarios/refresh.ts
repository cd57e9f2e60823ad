import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config.js';
import type { Deps } from '../../src/deps.js';
import { FeedRuntime } from '../../src/feed-runtime.js';
import { storeArticles, validateArticle } from '../../src/ingest.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { openDb, queryRows } from '../../src/storage/db.js';
import { markFeedsDirty } from '../../src/storage/feed-state.js';
import { makeArticle } from '../lib/articles.js';
import { ensureArchive, type Archive } from '../lib/archive.js';
import type { BenchContext } from '../lib/context.js';
import { ADMIN_TOKEN, PUBLIC_BASE_URL } from '../lib/service.js';
import { fmtMs, median } from '../lib/stats.js';

/** The real Deps and FeedRuntime over a database, in this process (as tests/helpers/app.ts builds them). */
export async function openRuntime(url: string): Promise<{ deps: Deps; feeds: FeedRuntime; close(): Promise<void> }> {
  const config = loadConfig({ DATABASE_URL: url, ADMIN_TOKEN, PUBLIC_BASE_URL, LOG_LEVEL: 'silent' });
  const handle = await openDb({ databaseUrl: url, dataDir: '', poolMax: config.DATABASE_POOL_MAX });
  const deps: Deps = {
    config,
    db: handle.db,
    dbHandle: handle,
    log: createLogger('silent'),
    now: () => new Date(),
    fetch: globalThis.fetch,
    metrics: createMetrics(),
  };
  const feeds = new FeedRuntime(deps);
  await feeds.start();
  return {
    deps,
    feeds,
    async close() {
      await feeds.stop();
      await handle.close();
    },
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t = performance.now();
  const result = await fn();
  return { ms: performance.now() - t, result };
}

/** Makes sure every feed of the archive is rendered (a tick then has nothing to do). */
export async function renderStaleFeeds(ctx: BenchContext, archive: Archive): Promise<void> {
  const rt = await openRuntime(archive.url);
  try {
    const [row] = await queryRows<{ n: string }>(rt.deps.db, sql`select count(*) as n from feed_state where version > rendered_version`);
    if (Number(row?.n ?? 0) === 0) return;
    ctx.log(`  rendering ${row!.n} stale feeds of the archive first…`);
    const s = await rt.feeds.refresh('cron');
    ctx.log(`  rendered ${s.feedsRendered} feeds in ${fmtMs(s.durationMs)}`);
  } finally {
    await rt.close();
  }
}

/**
 * Scenario 4: over the large Postgres archive, in this process with the real FeedRuntime: a full
 * refresh of every feed (once), a tick with nothing changed, a tick after one feed changed (an article
 * in it edited, and only a dirty mark), and a tick after one article was ingested.
 */
export async function runRefresh(ctx: BenchContext): Promise<Archive> {
  const { options, report } = ctx;
  const archive = await ensureArchive(ctx, options.archiveArticles, options.archiveCategories);
  report.info.archive = { ...archive, url: undefined };
  if (!archive.reused) {
    report.add({
      scenario: '4 refresh over the archive',
      row: `first seeding of ${options.archiveArticles.toLocaleString('en-GB')} articles (one-off, kept)`,
      value: archive.seedSeconds,
      unit: 's',
      runs: [Math.round(archive.seedSeconds)],
      pass: null,
    });
  }
  const rt = await openRuntime(archive.url);
  const { feeds, deps } = rt;
  try {
    // Articles this scenario ingested in earlier runs go, so every run starts from the same archive.
    await deps.db.execute(sql`delete from articles where external_id like 'bench-live-%'`);
    const runs = Math.max(options.runs, 5);

    // (c) Full refresh of every feed, forced (first render cost): once.
    ctx.log('  full refresh of every feed (refresh("manual"))…');
    const full = await timed(() => feeds.refresh('manual'));
    const feedsPerSec = full.result.feedsRendered / (full.ms / 1000);
    ctx.log(`  full refresh: ${full.result.feedsRendered} feeds in ${fmtMs(full.ms)} (${feedsPerSec.toFixed(1)} feeds/s)`);

    // (a) Nothing changed.
    const idle: number[] = [];
    const idleTick: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await timed(() => feeds.refresh('cron'));
      if (r.result.feedsRendered !== 0) ctx.log(`    warning: an idle tick rendered ${r.result.feedsRendered} feeds`);
      idle.push(r.ms);
      idleTick.push((await timed(() => feeds.tick())).ms);
    }
    ctx.log(`  nothing changed: refresh('cron') ${idle.map(fmtMs).join(', ')}; tick() (with the leader lock) ${idleTick.map(fmtMs).join(', ')}`);

    // (b) One feed changed: an article in it edited (only that category), marked dirty in the same transaction.
    const categories = await queryRows<{ id: number; slug: string; name: string }>(deps.db, sql`select id, slug, name from categories where slug like 'section-%' order by id`);
    const pick = (i: number) => categories[(i * 37 + 11) % categories.length]!;
    // Even categories hold the single-category articles (see lib/archive.ts): an edit there changes one feed.
    const single = categories.filter((c) => c.id % 2 === 0);
    const pickSingle = (i: number) => single[(i * 37 + 11) % single.length]!;
    const changed: number[] = [];
    for (let i = 0; i < runs; i++) {
      const cat = pickSingle(i);
      await deps.db.transaction(async (tx) => {
        await tx.execute(sql`
          update articles set title = title || ' (updated)', updated_at = now()
          where id = (select article_id from article_categories
                      where category_id = ${cat.id} and listed and article_id % 2 = 1
                      order by published_at desc offset 5 limit 1)`);
        await markFeedsDirty(tx, [cat.id], false);
      });
      const r = await timed(() => feeds.refresh('cron'));
      if (r.result.feedsChanged !== 1) ctx.log(`    warning: expected 1 changed feed, got ${r.result.feedsChanged} of ${r.result.feedsRendered}`);
      changed.push(r.ms);
    }
    ctx.log(`  one feed changed: ${changed.map(fmtMs).join(', ')}`);

    // One feed marked dirty, content unchanged (the digest check skips render and write).
    const marked: number[] = [];
    for (let i = 0; i < runs; i++) {
      await deps.db.transaction((tx) => markFeedsDirty(tx, [pick(i + runs).id], false));
      marked.push((await timed(() => feeds.refresh('cron'))).ms);
    }
    ctx.log(`  one feed marked dirty, unchanged: ${marked.map(fmtMs).join(', ')}`);

    // One article ingested through the real ingest function: its category and `all` change.
    const ingested: number[] = [];
    for (let i = 0; i < runs; i++) {
      const cat = pick(i + 2 * runs);
      const payload = makeArticle({ seed: 70_000 + i, externalId: `bench-live-${Date.now()}-${i}`, categories: [cat.name], publishedAt: new Date(Date.now() - 1000) });
      const checked = validateArticle(payload, { defaultLanguage: 'en-GB' });
      if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
      await storeArticles(deps, [checked.article]);
      const r = await timed(() => feeds.refresh('cron'));
      if (r.result.feedsChanged !== 2) ctx.log(`    warning: expected 2 changed feeds, got ${r.result.feedsChanged}`);
      ingested.push(r.ms);
    }
    ctx.log(`  one article ingested (category + all): ${ingested.map(fmtMs).join(', ')}`);

    const scenario = `4 refresh over ${options.archiveArticles.toLocaleString('en-GB')} articles`;
    const row = (name: string, values: number[], extra: Partial<Parameters<typeof report.add>[0]> = {}) =>
      report.add({ scenario, row: name, value: median(values), unit: 'ms', runs: values.map((v) => Math.round(v * 100) / 100), pass: null, ...extra });
    row('(a) tick, nothing changed', idle, { ratio: median(idle) / 5, ratioLabel: 'of 5 ms', target: '≤ 5 ms', pass: median(idle) <= 5 });
    row('(a) tick() with leader lock, nothing changed', idleTick);
    const dirty = median(changed);
    row('(b) tick, 1 feed changed', changed, { ratio: full.ms / dirty, ratioLabel: 'full/dirty', target: '≤ 50 ms', pass: dirty <= 50 });
    row('(b) tick, 1 feed marked dirty, content unchanged', marked);
    row('(b) tick after 1 article ingested (2 feeds)', ingested);
    report.add({ scenario, row: `(c) full refresh, ${full.result.feedsRendered} feeds`, value: full.ms, unit: 'ms', runs: [Math.round(full.ms)], pass: null, note: `${feedsPerSec.toFixed(1)} feeds/s` });
    report.add({ scenario, row: '(c) full refresh rate', value: feedsPerSec, unit: 'feeds/s', runs: [Math.round(feedsPerSec * 10) / 10], pass: null });
  } finally {
    await rt.close();
  }
  return archive;
}
