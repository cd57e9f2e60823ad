import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedArticle } from '../../src/domain/article-input.js';
import { ingestBatch, storeArticles, validateArticle, WRITE_SLICE } from '../../src/ingest.js';
import { compareLockOrder, getArticleByExternalId, upsertArticles } from '../../src/storage/articles.js';
import { openDb, queryRows } from '../../src/storage/db.js';
import { articleCategories, articles, categories } from '../../src/storage/schema.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { DB_KIND } from '../helpers/db.js';
import { articleBatch, articleInput } from '../helpers/builders.js';

// Storage under concurrency, on the real database: on Postgres these transactions really overlap
// (several pooled connections); on PGlite they serialise, and the outcomes must be the same.

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t?.close());

function normalized(raw: Record<string, unknown>[]): NormalizedArticle[] {
  return raw.map((r) => {
    const checked = validateArticle(r, { defaultLanguage: 'en-GB' });
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    return checked.article;
  });
}

async function categoryRows(slugs: string[]) {
  return t.deps.db.select().from(categories).where(inArray(categories.slug, slugs));
}

describe('concurrent ingests', () => {
  it(`two concurrent batches creating the same new categories both succeed (${DB_KIND})`, async () => {
    for (let round = 0; round < 5; round += 1) {
      const names = Array.from({ length: 30 }, (_, i) => `Round ${round} Topic ${i}`);
      const slugs = names.map((_, i) => `round-${round}-topic-${i}`);
      // Same categories, named in opposite orders, on different articles.
      const a = normalized(articleBatch(40, `r${round}-a`, (i) => ({ categories: [names[i % 30]!, names[(i + 7) % 30]!] })));
      const b = normalized(articleBatch(40, `r${round}-b`, (i) => ({ categories: [names[29 - (i % 30)]!, names[(44 - (i % 30)) % 30]!] })));

      const [ra, rb] = await Promise.all([storeArticles(t.deps, a), storeArticles(t.deps, b)]);
      expect(ra.results.map((r) => r.outcome)).toEqual(Array(40).fill('created'));
      expect(rb.results.map((r) => r.outcome)).toEqual(Array(40).fill('created'));

      const rows = await categoryRows(slugs);
      expect(rows.map((r) => r.slug).sort()).toEqual([...slugs].sort());
      expect(new Set(rows.map((r) => r.id)).size).toBe(30);

      // Every article is linked to exactly the categories it named.
      const links = await t.deps.db
        .select({ externalId: articles.externalId, slug: categories.slug })
        .from(articleCategories)
        .innerJoin(articles, eq(articles.id, articleCategories.articleId))
        .innerJoin(categories, eq(categories.id, articleCategories.categoryId))
        .where(inArray(categories.slug, slugs));
      expect(links).toHaveLength(160);
      const first = links.filter((l) => l.externalId === `r${round}-a-0`).map((l) => l.slug).sort();
      expect(first).toEqual([`round-${round}-topic-0`, `round-${round}-topic-7`].sort());
    }
  });

  it(`many concurrent single-article ingests naming one new category all succeed (${DB_KIND})`, async () => {
    const inputs = normalized(articleBatch(12, 'single-race', () => ({ categories: ['Race Desk', 'Race Desk Two'] })));
    const results = await Promise.all(inputs.map((a) => storeArticles(t.deps, [a])));
    expect(results.map((r) => r.results[0]!.outcome)).toEqual(Array(12).fill('created'));
    const rows = await categoryRows(['race-desk', 'race-desk-two']);
    expect(rows).toHaveLength(2);
  });

  it(`two concurrent batches upserting the same new articles in opposite orders both succeed, each article stored once (${DB_KIND})`, async () => {
    // Large batches in opposite orders: both inserts run at once and meet in the middle, where rows
    // locked in different orders deadlock unless every batch locks in one order.
    const SIZE = 1000;
    for (let round = 0; round < 5; round += 1) {
      const raw = articleBatch(SIZE, `overlap-${round}`, () => ({ categories: ['Overlap Desk'] }));
      const forward = normalized(raw);
      const backward = [...forward].reverse();

      const [rf, rb] = await Promise.all([storeArticles(t.deps, forward), storeArticles(t.deps, backward)]);
      // Identical content: whichever commits first creates each article, the other finds it unchanged.
      for (const [i, article] of forward.entries()) {
        const outcomes = [rf.results[i]!, rb.results[SIZE - 1 - i]!];
        expect(outcomes.map((o) => o.externalId)).toEqual([article.externalId, article.externalId]);
        expect(outcomes.map((o) => o.outcome).sort()).toEqual(['created', 'unchanged']);
        expect(outcomes[0]!.id).toBe(outcomes[1]!.id);
      }
      const [count] = await queryRows<{ n: string | number }>(t.deps.db, sql`select count(*) as n from articles where external_id like ${`overlap-${round}-%`}`);
      expect(Number(count!.n)).toBe(SIZE);
    }
  });
  it(`two concurrent API batches of the same articles in opposite orders both succeed: sliced writes keep one lock order (${DB_KIND})`, async () => {
    // ingestBatch sends its rows in slices as they validate. Rows in request order would lock in
    // opposite orders here; the ids mix characters whose UTF-16 and byte orders differ.
    const SIZE = 4 * WRITE_SLICE + 30;
    const marks = ['a', '\u00e9', '\uff5e', '\u{1f4f0}'];
    for (let round = 0; round < 3; round += 1) {
      const raw = articleBatch(SIZE, `sliced-${round}`, (i) => ({ externalId: `sliced-${round}-${marks[i % 4]}-${i}`, categories: ['Sliced Desk'] }));
      const backward = [...raw].reverse();
      const options = { defaultLanguage: 'en-GB' };
      const [rf, rb] = await Promise.all([ingestBatch(t.deps, raw, options), ingestBatch(t.deps, backward, options)]);
      for (const [i, article] of raw.entries()) {
        const outcomes = [rf.results[i]!, rb.results[SIZE - 1 - i]!];
        expect(outcomes.map((o) => o.externalId)).toEqual([article.externalId, article.externalId]);
        expect(outcomes.map((o) => o.outcome).sort()).toEqual(['created', 'unchanged']);
        expect(outcomes[0]!.id).toBe(outcomes[1]!.id);
      }
      const [count] = await queryRows<{ n: string | number }>(t.deps.db, sql`select count(*) as n from articles where external_id like ${`sliced-${round}-%`}`);
      expect(Number(count!.n)).toBe(SIZE);
    }
  });

  it('the lock order of writers is the order of Postgres\'s "C" collation (byte order), not JavaScript\'s UTF-16 order', async () => {
    const ids = ['b', 'a', 'A', 'é', 'e\u0301', '\uff5e', '\u{1f4f0}', '\u{1f4f0}x', 'z', '', ' a', '\u00a0', '\ud7ff', '\ue000'];
    const rows = await queryRows<{ id: string }>(t.deps.db, sql`select id from unnest(${sql.raw(`array[${ids.map((id) => `'${id}'`).join(', ')}]`)}::text[]) as id order by id collate "C"`);
    expect([...ids].sort(compareLockOrder)).toEqual(rows.map((r) => r.id));
    expect([...ids].sort()).not.toEqual(rows.map((r) => r.id));
  });
});

describe('upsertArticles', () => {
  it('writes nothing for unchanged content: the row keeps its updated_at and its links', async () => {
    const [article] = normalized([articleInput({ externalId: 'quiet-1', categories: ['Quiet Desk'] })]);
    const ctx = { now: new Date('2026-11-29T09:00:00Z'), guidAuthority: 'news.example.co.uk' };
    const first = await t.deps.db.transaction((tx) => upsertArticles(tx, [article!], ctx));
    expect(first.results[0]!.outcome).toBe('created');
    expect(first.touchedCategoryIds).toHaveLength(1);

    const later = { ...ctx, now: new Date('2026-11-30T09:00:00Z') };
    const second = await t.deps.db.transaction((tx) => upsertArticles(tx, [article!], later));
    expect(second.results[0]).toEqual({ externalId: 'quiet-1', outcome: 'unchanged', id: first.results[0]!.id });
    // No feed is touched by a re-ingest that changed nothing.
    expect(second.touchedCategoryIds).toEqual([]);
    const stored = await getArticleByExternalId(t.deps.db, 'quiet-1');
    expect(stored!.updatedAt.toISOString()).toBe(article!.publishedAt.toISOString());
    expect(stored!.createdAt.toISOString()).toBe('2026-11-29T09:00:00.000Z');
  });

  it(`stores each body with its own article: null, empty and HTML bodies, in every slice of a batch (${DB_KIND})`, async () => {
    const ctx = { now: new Date('2026-11-29T09:00:00Z'), guidAuthority: 'news.example.co.uk' };
    // upsertArticles writes these 107 in one statement: a body shifted by one position is caught here,
    // and one shifted across slices in the API path below.
    const items = normalized(articleBatch(WRITE_SLICE + 7, 'bodies', (i) => ({ contentHtml: `<p>Body of article ${i}</p>` }))).map(
      (a, i) => ({ ...a, contentHtml: i % 5 === 1 ? null : i % 5 === 2 ? '' : a.contentHtml }),
    );
    const result = await t.deps.db.transaction((tx) => upsertArticles(tx, items, ctx));
    expect(result.results.every((r) => r.outcome === 'created')).toBe(true);
    const rows = await t.deps.db
      .select({ externalId: articles.externalId, contentHtml: articles.contentHtml })
      .from(articles)
      .where(inArray(articles.externalId, items.map((a) => a.externalId)));
    const stored = new Map(rows.map((r) => [r.externalId, r.contentHtml]));
    expect(items.map((a) => stored.get(a.externalId))).toEqual(items.map((a) => a.contentHtml));
    expect(items.filter((a) => a.contentHtml === null)).toHaveLength(22);

    // The API's path writes in slices of WRITE_SLICE, each with its own bodies parameter.
    const raws = articleBatch(2 * WRITE_SLICE + 3, 'sliced-bodies', (i) => (i % 4 === 0 ? { contentHtml: undefined } : { contentHtml: `<p>Sliced ${i}</p>` }));
    await ingestBatch(t.deps, raws, { defaultLanguage: 'en-GB' });
    const sliced = await t.deps.db
      .select({ externalId: articles.externalId, contentHtml: articles.contentHtml })
      .from(articles)
      .where(inArray(articles.externalId, raws.map((r) => r.externalId as string)));
    const slicedBodies = new Map(sliced.map((r) => [r.externalId, r.contentHtml]));
    expect(raws.map((r) => slicedBodies.get(r.externalId as string))).toEqual(raws.map((_, i) => (i % 4 === 0 ? null : `<p>Sliced ${i}</p>`)));
  });

  it('a failure inside the transaction leaves nothing behind: no article, no category, no link', async () => {
    const items = normalized([articleInput({ externalId: 'rollback-1', categories: ['Rollback Desk'] })]);
    await expect(
      t.deps.db.transaction(async (tx) => {
        await upsertArticles(tx, items, { now: new Date('2026-11-29T09:00:00Z'), guidAuthority: 'news.example.co.uk' });
        throw new Error('something later in the same transaction failed');
      }),
    ).rejects.toThrow('something later');
    expect(await getArticleByExternalId(t.deps.db, 'rollback-1')).toBeUndefined();
    expect(await categoryRows(['rollback-desk'])).toEqual([]);
  });
});

describe('dates', () => {
  // A UK server's Postgres takes Europe/London as its TimeZone from the system at initdb. Timestamps
  // before 1847 then print with a local-mean-time offset ("-00:01:15") that JavaScript cannot parse, so
  // an archive article read back as Invalid Date (a 500 on GET and on every list page holding it).
  it.runIf(DB_KIND === 'postgres')('round-trip unchanged whatever the server time zone is (postgres)', async () => {
    const dbName = new URL(t.db.url!).pathname.slice(1);
    await t.deps.db.execute(sql.raw(`alter database "${dbName}" set timezone to 'Europe/London'`));
    const handle = await openDb({ databaseUrl: t.db.url, dataDir: '', poolMax: 2 });
    try {
      const items = normalized([
        articleInput({ externalId: 'archive-1785', publishedAt: '1785-01-01T06:00:00Z', updatedAt: '1785-01-02T06:00:00+01:00' }),
        articleInput({ externalId: 'summer-time', publishedAt: '2026-07-01T12:00:00Z' }),
      ]);
      await handle.db.transaction((tx) => upsertArticles(tx, items, { now: new Date('2026-11-29T09:00:00Z'), guidAuthority: 'news.example.co.uk' }));
      const archive = await getArticleByExternalId(handle.db, 'archive-1785');
      expect(archive!.publishedAt.toISOString()).toBe('1785-01-01T06:00:00.000Z');
      expect(archive!.updatedAt.toISOString()).toBe('1785-01-02T05:00:00.000Z');
      const summer = await getArticleByExternalId(handle.db, 'summer-time');
      expect(summer!.publishedAt.toISOString()).toBe('2026-07-01T12:00:00.000Z');
    } finally {
      await handle.close();
      await t.deps.db.execute(sql.raw(`alter database "${dbName}" reset timezone`));
    }
  });
});

describe('storage of large values (migration 0006)', () => {
  it(`article bodies use lz4 where the server has it; rendered feeds, stored compressed, are not compressed again (${DB_KIND})`, async () => {
    const rows = await queryRows<{ table: string; column: string; compression: string; storage: string }>(
      t.deps.db,
      sql`select c.relname as table, a.attname as column, a.attcompression::text as compression, a.attstorage::text as storage
          from pg_attribute a join pg_class c on c.oid = a.attrelid
          where (c.relname, a.attname) in (('articles', 'content_html'), ('articles', 'summary'),
                                           ('feed_snapshots', 'body_gzip'), ('feed_snapshots', 'body_br'))
          order by 1, 2`,
    );
    const [lz4] = await queryRows<{ available: boolean }>(
      t.deps.db,
      sql`select 'lz4' = any (enumvals) as available from pg_settings where name = 'default_toast_compression'`,
    );
    // Debian's PostgreSQL has lz4; PGlite is built without it and keeps the default (pglz, shown as '').
    expect(lz4!.available).toBe(DB_KIND === 'postgres');
    const method = lz4!.available ? 'l' : '';
    expect(rows.map((r) => `${r.table}.${r.column} ${r.compression || '-'} ${r.storage}`)).toEqual([
      `articles.content_html ${method || '-'} x`,
      `articles.summary ${method || '-'} x`,
      'feed_snapshots.body_br - e',
      'feed_snapshots.body_gzip - e',
    ]);
  });
});
