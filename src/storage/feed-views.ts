import { desc, inArray, sql, type SQL } from 'drizzle-orm';
import { monthOf, monthStart } from '../domain/archive.js';
import { attachCategories, type StoredArticle } from './articles.js';
import { queryRows, type Database } from './db.js';
import { ALL_FEED } from './feed-state.js';
import { articleCategories, articles, categories, feedState } from './schema.js';

type FeedStateRow = typeof feedState.$inferSelect;
type CategoryRow = typeof categories.$inferSelect;

/**
 * An article is a podcast episode when it has an audio or video enclosure of known size (types are
 * lower-cased at ingest). The same rule as domain/podcast.ts episodeEnclosure, in SQL.
 */
export const isEpisode: SQL = sql`exists (select 1 from jsonb_array_elements(${articles.enclosures}) as e where (e->>'type' like 'audio/%' or e->>'type' like 'video/%') and (e->>'length')::numeric > 0)`;

/** Conditions on the publication date of the articles a scoped query picks. */
interface Published {
  after?: Date;
  atOrBefore?: Date;
  from?: Date;
  before?: Date;
}

function iso(date: Date): SQL {
  return sql`${date.toISOString()}::timestamptz`;
}

function publishedConditions(column: SQL, p: Published): SQL[] {
  const out: SQL[] = [];
  if (p.after) out.push(sql`${column} > ${iso(p.after)}`);
  if (p.atOrBefore) out.push(sql`${column} <= ${iso(p.atOrBefore)}`);
  if (p.from) out.push(sql`${column} >= ${iso(p.from)}`);
  if (p.before) out.push(sql`${column} < ${iso(p.before)}`);
  return out;
}

interface Scope {
  /** null: every listed article (`all`). */
  categoryIds: number[] | null;
  /** A podcast category: only its episodes. */
  episodesOnly: boolean;
}

/**
 * The ids and publication dates of the `limit` newest (`desc`) or oldest (`asc`) listed articles in a
 * scope matching the conditions. A category scope is one index range scan per category on
 * article_categories (category_id, published_at, article_id) — the sort key denormalised there for
 * this — stopping at `limit`; the union keeps each article once. `all` scans the listed articles'
 * partial index. Only a `since` on updated_at reads further than `limit` rows (it has no index).
 */
function scopedArticles(scope: Scope, p: Published, options: { dir: 'asc' | 'desc'; limit: number; since?: { publishedAfter: Date; updatedAfter: Date } }): SQL {
  const dir = options.dir === 'asc' ? sql`asc` : sql`desc`;
  const since = (publishedColumn: SQL) =>
    options.since ? [sql`(${publishedColumn} > ${iso(options.since.publishedAfter)} or ${articles.updatedAt} > ${iso(options.since.updatedAfter)})`] : [];
  if (scope.categoryIds === null) {
    const conditions = [sql`${articles.status} = 'published'`, sql`${articles.deletedAt} is null`, ...publishedConditions(sql`${articles.publishedAt}`, p), ...since(sql`${articles.publishedAt}`)];
    return sql`select ${articles.id} as article_id, ${articles.publishedAt} as published_at from ${articles} where ${sql.join(conditions, sql` and `)} order by ${articles.publishedAt} ${dir}, ${articles.id} ${dir} limit ${options.limit}`;
  }
  const needsArticle = options.since !== undefined || scope.episodesOnly;
  const branches = scope.categoryIds.map((id) => {
    const conditions = [
      sql`ac.category_id = ${id}`,
      sql`ac.listed`,
      ...publishedConditions(sql`ac.published_at`, p),
      ...since(sql`ac.published_at`),
      ...(scope.episodesOnly ? [isEpisode] : []),
    ];
    return sql`(select ac.article_id, ac.published_at from ${articleCategories} ac ${needsArticle ? sql`join ${articles} on ${articles.id} = ac.article_id` : sql``} where ${sql.join(conditions, sql` and `)} order by ac.published_at ${dir}, ac.article_id ${dir} limit ${options.limit})`;
  });
  return sql`select article_id, max(published_at) as published_at from (${sql.join(branches, sql` union all `)}) u group by article_id order by 2 ${dir}, 1 ${dir} limit ${options.limit}`;
}

/** The publication date of the first row a scoped query picks, or null. */
async function firstDate(tx: Database, query: SQL): Promise<Date | null> {
  const rows = await queryRows<{ published_at: string | Date }>(tx, query);
  const at = rows[0]?.published_at;
  return at ? new Date(at) : null;
}

export interface ViewLoadOptions {
  /** The clock: what is published by `now - embargoMs` is visible. */
  now: Date;
  /** A partner's embargo: items appear this long after publication (0 for public feeds). */
  embargoMs: number;
  limit: number;
  /** Only items published (as the reader sees it: + embargo) or updated after this instant. */
  since?: Date | null;
  /** Only items published in [start, end) (an archive month). */
  range?: { start: Date; end: Date } | null;
  /** A live view: compute newestBeforeNewestMonth (its RFC 5005 prev-archive). */
  liveLinks?: boolean;
}

export interface ViewContent {
  /** One per key, in key order. */
  states: FeedStateRow[];
  /** The categories of category keys, in key order (none for `all`). */
  categories: CategoryRow[];
  /** A single podcast category: only its episodes are in scope. */
  episodesOnly: boolean;
  /** Newest first, each article once. */
  items: StoredArticle[];
  /** feed_state.version per key, read with the items (a newer version means the view may be stale). */
  versions: Record<string, number>;
  /** When the next not-yet-visible article in scope becomes visible (publishedAt + embargo), or null. */
  nextVisibleAt: Date | null;
  /** The earliest visible publication in scope (archives start at its month), or null when none. */
  firstPublishedAt: Date | null;
  /** For live views: the newest publication before the month of the newest item (domain/archive.ts livePrevArchive). */
  newestBeforeNewestMonth: Date | null;
  /**
   * For a range: the newest change to anything the range's documents show — an article in it created,
   * edited or retracted (drafts included: a draft may have been published before), or a category
   * of those articles renamed. null for no range, or a range without any article.
   */
  lastChangeAt: Date | null;
}

export type ViewLoadResult = { found: true; content: ViewContent } | { found: false; missing: string[] };

/**
 * Reads what a feed view shows: the union of the feeds `keys` (each `all` or a category slug), as a
 * reader `embargoMs` behind sees it at `now`, optionally since an instant or within a month. All
 * reads in one repeatable-read snapshot, so the versions match the items. Unknown keys → missing.
 */
export async function loadView(db: Database, keys: string[], options: ViewLoadOptions): Promise<ViewLoadResult> {
  return db.transaction(
    async (tx) => {
      const states = await tx.select().from(feedState).where(inArray(feedState.feedKey, keys));
      const byKey = new Map(states.map((s) => [s.feedKey, s]));
      const categoryIds = states.map((s) => s.categoryId).filter((id): id is number => id !== null);
      const cats = categoryIds.length > 0 ? await tx.select().from(categories).where(inArray(categories.id, categoryIds)) : [];
      const catById = new Map(cats.map((c) => [c.id, c]));
      const missing = keys.filter((k) => {
        const state = byKey.get(k);
        return !state || (k === ALL_FEED ? state.categoryId !== null : state.categoryId === null || !catById.has(state.categoryId));
      });
      if (missing.length > 0) return { found: false as const, missing };
      const orderedStates = keys.map((k) => byKey.get(k)!);
      const orderedCategories = orderedStates.filter((s) => s.categoryId !== null).map((s) => catById.get(s.categoryId!)!);
      const isAll = keys.includes(ALL_FEED);
      const scopeIds = isAll ? null : orderedCategories.map((c) => c.id);
      const episodesOnly = !isAll && orderedCategories.length === 1 && orderedCategories[0]!.podcast != null;

      const visibleUntil = new Date(options.now.getTime() - options.embargoMs);
      const scope: Scope = { categoryIds: scopeIds, episodesOnly };
      const shown: Published = { atOrBefore: visibleUntil };
      if (options.range) Object.assign(shown, { from: options.range.start, before: options.range.end });
      // Published after `since` as this reader sees it (publication + embargo), or updated after it:
      // an item released from embargo after a newsletter's last pull is in its next pull.
      const since = options.since ? { publishedAfter: new Date(options.since.getTime() - options.embargoMs), updatedAfter: options.since } : undefined;
      const picked = scopedArticles(scope, shown, { dir: 'desc', limit: options.limit, ...(since ? { since } : {}) });
      const rows = await tx
        .select()
        .from(articles)
        .where(inArray(articles.id, sql`(select article_id from (${picked}) s)`))
        .orderBy(desc(articles.publishedAt), desc(articles.id));

      const next = await firstDate(tx, scopedArticles(scope, { after: visibleUntil }, { dir: 'asc', limit: 1 }));
      const first = await firstDate(tx, scopedArticles(scope, { atOrBefore: visibleUntil }, { dir: 'asc', limit: 1 }));
      let newestBefore: Date | null = null;
      const newest = rows[0];
      if (options.liveLinks && newest) {
        newestBefore = await firstDate(tx, scopedArticles(scope, { before: monthStart(monthOf(newest.publishedAt)) }, { dir: 'desc', limit: 1 }));
      }
      const lastChangeAt = options.range ? await rangeLastChange(tx, scopeIds, options.range) : null;

      return {
        found: true as const,
        content: {
          states: orderedStates,
          categories: orderedCategories,
          episodesOnly,
          items: await attachCategories(tx, rows),
          versions: Object.fromEntries(orderedStates.map((s) => [s.feedKey, Number(s.version)])),
          nextVisibleAt: next ? new Date(next.getTime() + options.embargoMs) : null,
          firstPublishedAt: first,
          newestBeforeNewestMonth: newestBefore,
          lastChangeAt,
        },
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/**
 * The newest change among the articles published in the range (any status: created, edited,
 * retracted) in the scope, and among the categories they are filed in (a rename changes their labels).
 */
async function rangeLastChange(tx: Database, categoryIds: number[] | null, range: { start: Date; end: Date }): Promise<Date | null> {
  const scope =
    categoryIds === null
      ? sql`true`
      : sql`exists (select 1 from article_categories ac where ac.article_id = a.id and ac.category_id in (${sql.join(
          categoryIds.map((id) => sql`${id}`),
          sql`, `,
        )}))`;
  const rows = await queryRows<{ at: string | Date | null }>(
    tx,
    sql`with m as (
          select a.id, greatest(a.updated_at, a.created_at, coalesce(a.deleted_at, a.created_at)) as changed
          from articles a
          where a.published_at >= ${range.start.toISOString()}::timestamptz and a.published_at < ${range.end.toISOString()}::timestamptz and ${scope}
        )
        select greatest(
          (select max(changed) from m),
          (select max(c.updated_at) from categories c where c.id in (select ac.category_id from article_categories ac where ac.article_id in (select id from m)))
        ) as at`,
  );
  const at = rows[0]?.at;
  return at ? new Date(at) : null;
}

/** feed_state.version of each key (a view is stale when one moved). One primary-key lookup. */
export async function feedVersions(db: Database, keys: string[]): Promise<Record<string, number>> {
  const rows = await db.select({ feedKey: feedState.feedKey, version: feedState.version }).from(feedState).where(inArray(feedState.feedKey, keys));
  return Object.fromEntries(rows.map((r) => [r.feedKey, Number(r.version)]));
}
