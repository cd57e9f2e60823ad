import { createHash } from 'node:crypto';
import { and, asc, desc, eq, getTableColumns, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { NormalizedArticle } from '../domain/article-input.js';
import { buildArticleGuid } from '../domain/guid.js';
import { queryRows, type Database } from './db.js';
import { ensureCategories } from './categories.js';
import { markFeedsDirty } from './feed-state.js';
import { articleCategories, articles, categories } from './schema.js';

export type ArticleRow = typeof articles.$inferSelect;
export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

export interface StoredArticle extends ArticleRow {
  categories: { slug: string; name: string }[];
}

export interface UpsertResult {
  results: { externalId: string; outcome: UpsertOutcome; id: number }[];
  /** Categories whose feeds changed (old and new categories of every created or updated article). */
  touchedCategoryIds: number[];
}

/**
 * The content fingerprint: identical normalised input hashes the same, so a re-ingest of unchanged
 * content writes nothing (no new updated_at, no feed change, no new ETag). Stored hashes depend on
 * its exact input, the JSON text of [title, url, summary, contentHtml, …] below; a test pins it.
 */
export function contentHash(article: NormalizedArticle): string {
  const rest = JSON.stringify([
    article.authors.map((a) => [a.name, a.email ?? null, a.url ?? null]),
    article.categories.map((c) => c.slug),
    article.categories.map((c) => c.name),
    article.tags,
    article.publishedAt.toISOString(),
    article.updatedAt?.toISOString() ?? null,
    article.imageUrl,
    article.language,
    article.enclosures.map((e) => [e.url, e.type, e.length, e.durationSeconds ?? null]),
    article.status,
    // Appended only when present: articles without episode details keep the hash they had before
    // the field existed, so a re-ingest of unchanged content still writes nothing.
    ...(article.podcast ? [[article.podcast.episode ?? null, article.podcast.season ?? null, article.podcast.episodeType ?? null, article.podcast.explicit ?? null]] : []),
  ]);
  // The JSON text of one array, written in three pieces: "[title,url,summary," + the body + "," + the rest's elements and "]".
  return createHash('sha256')
    .update(`[${JSON.stringify(article.title)},${JSON.stringify(article.url)},${JSON.stringify(article.summary)},`)
    .update(bodyJson(article))
    .update(`,${rest.slice(1)}`)
    .digest('hex');
}

/**
 * Creates or updates articles by externalId, all in the caller's transaction, and marks the feeds
 * they leave or join as changed. New rows get a guid from
 * a pre-allocated id; an existing row keeps its id and guid. A changed article whose input carries no
 * newer updatedAt gets `now` stamped. `sourceId` (upstream polls) is written on created rows only: an
 * existing row keeps its source. Returns one outcome per input, in input order.
 */
export async function upsertArticles(
  tx: Database,
  items: NormalizedArticle[],
  ctx: { now: Date; guidAuthority: string; sourceId?: number },
): Promise<UpsertResult> {
  if (items.length === 0) return { results: [], touchedCategoryIds: [] };
  const categoryIds = await ensureCategories(tx, items.flatMap((a) => a.categories), ctx.now);
  const ids = await allocateArticleIds(tx, items.length);
  const writer = startArticleWriter(tx, { ...ctx, categoryIds });
  writer.write(items.map((article, i) => ({ article, id: ids[i]! })));
  const written = await writer.finish();
  const byExternalId = new Map(written.results.map((r) => [r.externalId, r]));
  return { results: items.map((a) => byExternalId.get(a.externalId)!), touchedCategoryIds: written.touchedCategoryIds };
}

/**
 * Ids for `count` new rows, allocated up front so the guid of a new row can name its own id; ids of
 * rows that turn out to exist already are simply skipped (sequence gaps are harmless).
 */
export async function allocateArticleIds(tx: Database, count: number): Promise<number[]> {
  if (count === 0) return [];
  const rows = await queryRows<{ id: string | number }>(
    tx,
    sql`select nextval(pg_get_serial_sequence('articles', 'id')) as id from generate_series(1, ${count})`,
  );
  return rows.map((r) => Number(r.id));
}

/**
 * Orders articles the way every writer locks their rows: by externalId in byte order (Postgres's
 * "C" collation, which the upsert itself orders by). Two transactions holding the same articles
 * then lock them in one order and cannot deadlock (40P01), even when each sends its rows in slices.
 */
export function compareLockOrder(a: string, b: string): number {
  return Buffer.compare(lockOrderKey(a), lockOrderKey(b));
}

/** What compareLockOrder compares (Buffer.compare): to sort many ids, make each key once. */
export function lockOrderKey(externalId: string): Buffer {
  return Buffer.from(externalId, 'utf8');
}

/**
 * An article as the writer's JSON parameter carries it (one element of `jsonb_to_recordset`), as JSON
 * text, without its body (which travels beside the JSON: articleBodies): `id` and its guid are used if
 * the article is new. The body is escaped for JSON for the content hash only.
 */
export function articleRowJson(a: NormalizedArticle, id: number, guidAuthority: string, now: Date): string {
  return JSON.stringify({
    id,
    external_id: a.externalId,
    guid: buildArticleGuid(guidAuthority, now, id),
    title: a.title,
    url: a.url,
    summary: a.summary,
    authors: a.authors,
    category_names: a.categories.map((c) => c.name),
    tags: a.tags,
    image_url: a.imageUrl,
    language: a.language,
    enclosures: a.enclosures,
    status: a.status,
    podcast: a.podcast ?? null,
    published_at: a.publishedAt.toISOString(),
    updated_at: (a.updatedAt ?? a.publishedAt).toISOString(),
    content_hash: contentHash(a),
  });
}

// The bodies parameter: bodies joined by U+0001, a null body written as U+0002 and an empty one as
// U+0003 (string_to_array() reads '' as no element at all). Sanitised HTML holds none of the three:
// they are XML-illegal, and the sanitiser strips them.
const BODY_SEPARATOR = '\u0001';
const NULL_BODY = '\u0002';
const EMPTY_BODY = '\u0003';

/**
 * The bodies of `articles`, in order, as the one text parameter the writer splits with
 * string_to_array(). Postgres reads 100 bodies this way in about half the CPU it spends on the same
 * bodies inside the JSON parameter, whose parser checks and unescapes every character (decision 0014).
 */
export function articleBodies(articles: readonly NormalizedArticle[]): string {
  return articles
    .map(({ contentHtml, externalId }) => {
      if (contentHtml === null) return NULL_BODY;
      if (contentHtml === '') return EMPTY_BODY;
      // Only unsanitised HTML could hold one; it must never reach storage.
      // Three includes() (a memchr each) take ~0.4 µs on a 5 KB body; a regex class ~4-6 µs.
      if (contentHtml.includes(BODY_SEPARATOR) || contentHtml.includes(NULL_BODY) || contentHtml.includes(EMPTY_BODY)) {
        throw new Error(`article writer: the body of '${externalId}' holds a control character sanitised HTML never has`);
      }
      return contentHtml;
    })
    .join(BODY_SEPARATOR);
}

/** JSON.stringify(article.contentHtml). */
function bodyJson(article: NormalizedArticle): string {
  return article.contentHtml === null ? 'null' : jsonString(article.contentHtml);
}

// What JSON.stringify escapes in a string, apart from '"' and "\n" (which sanitised HTML is full of).
const JSON_ESCAPED_RARE = /[\u0000-\u0009\u000B-\u001F\\\uD800-\uDFFF]/;

/**
 * JSON.stringify(value), faster for the usual article body: Node 20's JSON.stringify escapes a long
 * string character by character (~180 MB/s here), while two replaceAll() run at memory speed.
 * Bodies with any other character JSON escapes (a backslash, a control character, any surrogate)
 * take JSON.stringify itself. tests/storage/content-hash.test.ts compares the two.
 */
export function jsonString(value: string): string {
  if (JSON_ESCAPED_RARE.test(value)) return JSON.stringify(value);
  return `"${value.replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

export interface ArticleWriter {
  /**
   * Sends the upsert of `slice` without waiting for Postgres, so the caller can prepare the next slice
   * meanwhile. Slices must come in lock order (compareLockOrder), each externalId once. `id` (from
   * allocateArticleIds) is the article's if it is new.
   */
  write(slice: readonly { article: NormalizedArticle; id: number }[]): void;
  /** Waits for every write, relinks categories, marks feeds changed; outcomes in the order written. */
  finish(): Promise<UpsertResult>;
  /** Waits for the writes sent so far to end, their errors ignored: call before abandoning the transaction. */
  settle(): Promise<void>;
}

interface ChangedRow {
  id: number;
  externalId: string;
  publishedAt: Date;
  status: string;
  inserted: boolean;
}

/**
 * The upsert of articles in slices, pipelined on the transaction's connection: each write() is one
 * statement, sent at once, that upserts the slice's articles and links the new ones to their
 * categories; articles that existed are relinked, and feeds marked changed, once, in finish().
 * `categoryIds` must hold every category of the articles written (ensureCategories, beforehand: the
 * categories are created, and locked, before any article, in every writer).
 */
export function startArticleWriter(
  tx: Database,
  ctx: { now: Date; guidAuthority: string; sourceId?: number; categoryIds: ReadonlyMap<string, number> },
): ArticleWriter {
  const { categoryIds } = ctx;
  const categoryIdOf = (slug: string): number => {
    const id = categoryIds.get(slug);
    if (id === undefined) throw new Error(`article writer: category '${slug}' was not ensured before the write`);
    return id;
  };
  const { now } = ctx;
  const nowIso = now.toISOString();
  // What finish() needs of each article written: not the article, whose body would then live as
  // long as the batch (promoted, then marked, by the collector).
  const items: Pick<NormalizedArticle, 'externalId' | 'categories'>[] = [];
  const pending: Promise<ChangedRow[]>[] = [];

  function write(slice: readonly { article: NormalizedArticle; id: number }[]): void {
    if (slice.length === 0) return;
    const rows = `[${slice.map(({ article, id }) => articleRowJson(article, id, ctx.guidAuthority, now)).join(',')}]`;
    const bodies = articleBodies(slice.map(({ article }) => article));
    for (const { article } of slice) items.push({ externalId: article.externalId, categories: article.categories });
    const links = slice.flatMap(({ article: a }) => a.categories.map((c) => ({ external_id: a.externalId, category_id: categoryIdOf(c.slug) })));
    // One JSON parameter (and the bodies beside it) instead of ~20 bind parameters per row: building and
    // sending a 10,000-parameter statement cost more than Postgres spent executing it (bench/, ingest
    // scenario). Rows are upserted in externalId order within the statement, and slices come in that
    // order (compareLockOrder). A new article's links are written by the same statement (its id is
    // known only there); an existing one's, in finish(), after its old links are read.
    const sent = queryRows<{ id: string | number; external_id: string; published_at: Date | string; status: string; inserted: boolean }>(
      tx,
      sql`with up as (insert into articles (id, external_id, guid, title, url, summary, content_html, authors, category_names, tags,
          image_url, language, enclosures, status, podcast, published_at, updated_at, created_at, deleted_at, content_hash, source_id)
        select x.id, x.external_id, x.guid, x.title, x.url, x.summary,
          case x.body when chr(2) then null when chr(3) then '' else x.body end, x.authors, x.category_names, x.tags,
          x.image_url, x.language, x.enclosures, x.status, x.podcast, x.published_at, x.updated_at,
          ${nowIso}::timestamptz, null, x.content_hash, ${ctx.sourceId ?? null}::integer
        -- ROWS FROM zips the two functions' rows by position: the nth body is the nth article's.
        from rows from (
          jsonb_to_recordset(${rows}::jsonb) as (id bigint, external_id text, guid text, title text, url text,
            summary text, authors jsonb, category_names jsonb, tags jsonb, image_url text, language text,
            enclosures jsonb, status text, podcast jsonb, published_at timestamptz, updated_at timestamptz, content_hash text),
          unnest(string_to_array(${bodies}::text, chr(1)))
        ) as x(id, external_id, guid, title, url, summary, authors, category_names, tags, image_url, language,
          enclosures, status, podcast, published_at, updated_at, content_hash, body)
        order by x.external_id collate "C"
        on conflict (external_id) do update set
          title = excluded.title, url = excluded.url, summary = excluded.summary, content_html = excluded.content_html,
          authors = excluded.authors, category_names = excluded.category_names, tags = excluded.tags,
          image_url = excluded.image_url, language = excluded.language, enclosures = excluded.enclosures,
          status = excluded.status, podcast = excluded.podcast, published_at = excluded.published_at,
          -- A newer updatedAt from the input wins; otherwise the change is stamped now.
          updated_at = case when excluded.updated_at > articles.updated_at then excluded.updated_at
                            else greatest(${nowIso}::timestamptz, articles.updated_at) end,
          deleted_at = null, content_hash = excluded.content_hash
        -- Unchanged content (and not a retraction being restored) writes nothing.
        where articles.content_hash is distinct from excluded.content_hash or articles.deleted_at is not null
        returning id, external_id, published_at, status, (xmax = 0) as inserted),
      linked as (insert into article_categories (category_id, article_id, published_at, listed)
        select l.category_id, up.id, up.published_at, up.status = 'published'
        from up join jsonb_to_recordset(${JSON.stringify(links)}::jsonb) as l(external_id text, category_id integer)
          on l.external_id = up.external_id
        where up.inserted
        on conflict do nothing)
      select id, external_id, published_at, status, inserted from up`,
    ).then((changedRows) =>
      changedRows.map((r) => ({ id: Number(r.id), externalId: r.external_id, publishedAt: new Date(r.published_at), status: r.status, inserted: r.inserted })),
    );
    // Observed now, so a failed write is never an unhandled rejection; finish() still sees the error.
    sent.catch(() => {});
    pending.push(sent);
  }

  async function finish(): Promise<UpsertResult> {
    const changed = (await Promise.all(pending)).flat();
    if (items.length === 0) return { results: [], touchedCategoryIds: [] };
    const externalIds = items.map((a) => a.externalId);
    const changedByExternalId = new Map(changed.map((r) => [r.externalId, r]));
    const touched = new Set<number>();
    // Feeds an edited article is or was in: their live window may change. Feeds that only gained new
    // articles, with the newest one's date: markFeedsDirty decides whether that reaches the live window.
    const edited = new Set<number>();
    const newestInserted = new Map<number, Date>();
    let newestOverall: Date | null = null;
    if (changed.length > 0) {
      // Old links of rows that existed before: a re-categorised article must leave its old feeds too.
      // (The writes linked new rows only, so these are the links as they were.)
      const updatedIds = changed.filter((r) => !r.inserted).map((r) => r.id);
      if (updatedIds.length > 0) {
        const previousLinks = await tx
          .select({ categoryId: articleCategories.categoryId })
          .from(articleCategories)
          .where(inArray(articleCategories.articleId, updatedIds));
        for (const link of previousLinks) {
          touched.add(link.categoryId);
          edited.add(link.categoryId);
        }
        await tx.delete(articleCategories).where(inArray(articleCategories.articleId, updatedIds));
      }
      const links = items.flatMap((a) => {
        const row = changedByExternalId.get(a.externalId);
        if (!row) return [];
        const categories = a.categories.map((c) => categoryIdOf(c.slug));
        for (const id of categories) {
          touched.add(id);
          if (!row.inserted) edited.add(id);
          else if ((newestInserted.get(id)?.getTime() ?? -Infinity) < row.publishedAt.getTime()) newestInserted.set(id, row.publishedAt);
        }
        if (row.inserted && (newestOverall === null || newestOverall < row.publishedAt)) newestOverall = row.publishedAt;
        if (row.inserted) return [];
        return categories.map((categoryId) => ({ article_id: row.id, category_id: categoryId, published_at: row.publishedAt.toISOString(), listed: row.status === 'published' }));
      });
      if (links.length > 0) {
        await tx.execute(sql`
          insert into article_categories (category_id, article_id, published_at, listed)
          select x.category_id, x.article_id, x.published_at, x.listed
          from jsonb_to_recordset(${JSON.stringify(links)}::jsonb)
            as x(category_id integer, article_id bigint, published_at timestamptz, listed boolean)
          on conflict do nothing`);
      }
      // In the same transaction as the change: a refresh can never see the articles without the mark.
      const insertsOnly = new Map([...newestInserted].filter(([id]) => !edited.has(id)).map(([id, at]) => [id, { newestPublishedAt: at }]));
      const allInsertsOnly = updatedIds.length === 0 && newestOverall !== null ? { newestPublishedAt: newestOverall } : undefined;
      await markFeedsDirty(tx, [...touched], true, { insertsOnly, ...(allInsertsOnly ? { allInsertsOnly } : {}) });
    }

    // Unchanged rows are not returned by the upsert: look their ids up for the response.
    const unchangedIds = externalIds.filter((e) => !changedByExternalId.has(e));
    const unchangedRows = unchangedIds.length
      ? await tx.select({ id: articles.id, externalId: articles.externalId }).from(articles).where(inArray(articles.externalId, unchangedIds))
      : [];
    const unchangedByExternalId = new Map(unchangedRows.map((r) => [r.externalId, r.id]));

    return {
      results: items.map((a) => {
        const row = changedByExternalId.get(a.externalId);
        if (row) return { externalId: a.externalId, outcome: row.inserted ? 'created' : 'updated', id: row.id };
        return { externalId: a.externalId, outcome: 'unchanged', id: unchangedByExternalId.get(a.externalId)! };
      }),
      touchedCategoryIds: [...touched].sort((a, b) => a - b),
    };
  }

  async function settle(): Promise<void> {
    await Promise.allSettled(pending);
  }

  return { write, finish, settle };
}

/** `items` in consecutive slices of at most `size`. */
function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Attaches category slugs and names (current names: a renamed category shows its new name). */
export async function attachCategories(db: Database, rows: ArticleRow[]): Promise<StoredArticle[]> {
  if (rows.length === 0) return [];
  const links = await db
    .select({ articleId: articleCategories.articleId, slug: categories.slug, name: categories.name })
    .from(articleCategories)
    .innerJoin(categories, eq(categories.id, articleCategories.categoryId))
    .where(inArray(articleCategories.articleId, rows.map((r) => r.id)))
    .orderBy(asc(categories.name));
  const byArticle = new Map<number, { slug: string; name: string }[]>();
  for (const l of links) {
    const list = byArticle.get(l.articleId) ?? [];
    list.push({ slug: l.slug, name: l.name });
    byArticle.set(l.articleId, list);
  }
  return rows.map((r) => {
    // Keep the order the CMS gave (its first category is usually the primary one).
    const list = byArticle.get(r.id) ?? [];
    const order = new Map(r.categoryNames.map((n, i) => [n, i]));
    list.sort((a, b) => (order.get(a.name) ?? 999) - (order.get(b.name) ?? 999));
    return { ...r, categories: list };
  });
}

/** Publication date and retraction of the stored articles among `externalIds` (any missing are simply absent). */
export async function findArticleDates(
  db: Database,
  externalIds: string[],
): Promise<Map<string, { publishedAt: Date; deletedAt: Date | null }>> {
  const found = new Map<string, { publishedAt: Date; deletedAt: Date | null }>();
  for (const chunk of chunks(externalIds, 5_000)) {
    if (chunk.length === 0) continue;
    const rows = await db
      .select({ externalId: articles.externalId, publishedAt: articles.publishedAt, deletedAt: articles.deletedAt })
      .from(articles)
      .where(inArray(articles.externalId, chunk));
    for (const r of rows) found.set(r.externalId, { publishedAt: r.publishedAt, deletedAt: r.deletedAt });
  }
  return found;
}

export async function getArticleByExternalId(db: Database, externalId: string): Promise<StoredArticle | undefined> {
  const rows = await db.select().from(articles).where(eq(articles.externalId, externalId)).limit(1);
  return (await attachCategories(db, rows))[0];
}

export async function getArticlesByIds(db: Database, ids: number[]): Promise<StoredArticle[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(articles).where(inArray(articles.id, ids));
  const stored = await attachCategories(db, rows);
  const byId = new Map(stored.map((a) => [a.id, a]));
  return ids.map((id) => byId.get(id)).filter((a): a is StoredArticle => a !== undefined);
}

/**
 * Retracts an article: the row stays (for tombstones), marked deleted, and leaves every feed.
 * Returns the categories whose feeds change, or null when there is no such article.
 */
export async function retractArticle(
  tx: Database,
  externalId: string,
  now: Date,
): Promise<{ article: ArticleRow; touchedCategoryIds: number[]; alreadyDeleted: boolean } | null> {
  const existing = await tx.select().from(articles).where(eq(articles.externalId, externalId)).limit(1).for('update');
  const row = existing[0];
  if (!row) return null;
  const links = await tx
    .select({ categoryId: articleCategories.categoryId })
    .from(articleCategories)
    .where(eq(articleCategories.articleId, row.id));
  if (row.deletedAt) return { article: row, touchedCategoryIds: [], alreadyDeleted: true };
  const [updated] = await tx.update(articles).set({ deletedAt: now }).where(eq(articles.id, row.id)).returning();
  await tx.update(articleCategories).set({ listed: false }).where(eq(articleCategories.articleId, row.id));
  await markFeedsDirty(tx, links.map((l) => l.categoryId), true);
  return { article: updated!, touchedCategoryIds: links.map((l) => l.categoryId).sort((a, b) => a - b), alreadyDeleted: false };
}

export interface ListCursor {
  publishedAt: Date;
  id: number;
}

/** Newest first (publishedAt, then id), keyset-paginated; drafts included, retractions only on request. */
export async function listArticles(
  db: Database,
  options: { categorySlug?: string | undefined; limit: number; after?: ListCursor | undefined; deleted?: boolean },
): Promise<{ items: StoredArticle[]; next: ListCursor | null }> {
  const conditions = [options.deleted ? isNotNull(articles.deletedAt) : isNull(articles.deletedAt)];
  if (options.after) {
    const { publishedAt, id } = options.after;
    conditions.push(or(lt(articles.publishedAt, publishedAt), and(eq(articles.publishedAt, publishedAt), lt(articles.id, id)))!);
  }
  if (options.categorySlug !== undefined) {
    conditions.push(
      sql`exists (select 1 from ${articleCategories} ac join ${categories} c on c.id = ac.category_id where ac.article_id = ${articles.id} and c.slug = ${options.categorySlug})`,
    );
  }
  const rows = await db
    .select(getTableColumns(articles))
    .from(articles)
    .where(and(...conditions))
    .orderBy(desc(articles.publishedAt), desc(articles.id))
    .limit(options.limit + 1);
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  const next = rows.length > options.limit && last ? { publishedAt: last.publishedAt, id: last.id } : null;
  return { items: await attachCategories(db, page), next };
}
