import { and, asc, desc, eq, getTableColumns, gt, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { monthOf, monthStart } from '../domain/archive.js';
import type { Database } from './db.js';
import { queryRows } from './db.js';
import { attachCategories, type StoredArticle } from './articles.js';
import { isEpisode } from './feed-views.js';
import { articleCategories, articles, categories, feedSnapshots, feedState } from './schema.js';



export type FeedFormat = 'rss' | 'atom' | 'json';
export const FEED_FORMATS: readonly FeedFormat[] = ['rss', 'atom', 'json'];

export type FeedStateRow = typeof feedState.$inferSelect;
export type SnapshotRow = typeof feedSnapshots.$inferSelect;
export type CategoryRow = typeof categories.$inferSelect;

/**
 * Feeds whose live content may have changed since their last render (live_version: a change below a
 * full window does not count), or whose scheduled article is now due. One query.
 */
export async function findStaleFeeds(db: Database, now: Date): Promise<FeedStateRow[]> {
  return db
    .select()
    .from(feedState)
    .where(or(gt(feedState.liveVersion, feedState.renderedVersion), lte(feedState.nextDueAt, now)))
    .orderBy(asc(feedState.feedKey));
}

export async function listFeedStates(db: Database): Promise<FeedStateRow[]> {
  return db.select().from(feedState).orderBy(asc(feedState.feedKey));
}

export async function getFeedState(db: Database, feedKey: string): Promise<FeedStateRow | undefined> {
  const rows = await db.select().from(feedState).where(eq(feedState.feedKey, feedKey)).limit(1);
  return rows[0];
}

/** Ensures a category's feed_state row exists (a category created by PUT before any article). */
export async function ensureFeedState(db: Database, category: { id: number; slug: string }): Promise<void> {
  await db.insert(feedState).values({ feedKey: category.slug, categoryId: category.id }).onConflictDoNothing();
}

export interface FeedContent {
  state: FeedStateRow;
  category: CategoryRow | null;
  items: StoredArticle[];
  /** Earliest scheduled publishedAt after `now` (the feed changes then), or null. */
  nextDueAt: Date | null;
  /**
   * The newest publication before the month of the newest item (the live feed's RFC 5005
   * prev-archive, domain/archive.ts livePrevArchive), or null.
   */
  newestBeforeNewestMonth: Date | null;
}

/**
 * Reads what a feed shows at `now`: the newest `limit` listed articles published by then, newest first.
 * Optional `since` keeps only items published or updated after it. All reads in one snapshot, so the
 * version read matches the items read.
 */
export async function loadFeedContent(
  db: Database,
  feedKey: string,
  options: { limit: number; now: Date; since?: Date },
): Promise<FeedContent | null> {
  return db.transaction(
    async (tx) => {
      const [state] = await tx.select().from(feedState).where(eq(feedState.feedKey, feedKey)).limit(1);
      if (!state) return null;
      let category: CategoryRow | null = null;
      if (state.categoryId !== null) {
        const [cat] = await tx.select().from(categories).where(eq(categories.id, state.categoryId)).limit(1);
        if (!cat) return null;
        category = cat;
      }
      return loadItems(tx, state, category, options);
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

async function loadItems(
  tx: Database,
  state: FeedStateRow,
  category: CategoryRow | null,
  options: { limit: number; now: Date; since?: Date },
): Promise<FeedContent> {
  const { limit, now, since } = options;
  let newestBefore: Date | null = null;
  let rows;
  let nextDue: { at: Date | string | null }[];
  if (category) {
    const conditions = [eq(articleCategories.categoryId, category.id), eq(articleCategories.listed, true), lte(articleCategories.publishedAt, now)];
    if (since) conditions.push(or(gt(articleCategories.publishedAt, since), gt(articles.updatedAt, since))!);
    // A podcast category's feeds list only its episodes (articles with audio or video of known size).
    if (category.podcast) conditions.push(isEpisode);
    rows = await tx
      .select(getTableColumns(articles))
      .from(articleCategories)
      .innerJoin(articles, eq(articles.id, articleCategories.articleId))
      .where(and(...conditions))
      .orderBy(desc(articleCategories.publishedAt), desc(articleCategories.articleId))
      .limit(limit);
    nextDue = await queryRows(
      tx,
      sql`select min(published_at) as at from article_categories where category_id = ${category.id} and listed and published_at > ${now.toISOString()}::timestamptz`,
    );
    const newest = rows[0];
    if (newest && !since) {
      const [before] = await tx
        .select({ at: articleCategories.publishedAt })
        .from(articleCategories)
        .innerJoin(articles, eq(articles.id, articleCategories.articleId))
        .where(
          and(
            eq(articleCategories.categoryId, category.id),
            eq(articleCategories.listed, true),
            lt(articleCategories.publishedAt, monthStart(monthOf(newest.publishedAt))),
            ...(category.podcast ? [isEpisode] : []),
          ),
        )
        .orderBy(desc(articleCategories.publishedAt))
        .limit(1);
      newestBefore = before?.at ?? null;
    }
  } else {
    const conditions = [eq(articles.status, 'published'), isNull(articles.deletedAt), lte(articles.publishedAt, now)];
    if (since) conditions.push(or(gt(articles.publishedAt, since), gt(articles.updatedAt, since))!);
    rows = await tx
      .select()
      .from(articles)
      .where(and(...conditions))
      .orderBy(desc(articles.publishedAt), desc(articles.id))
      .limit(limit);
    nextDue = await queryRows(
      tx,
      sql`select min(published_at) as at from articles where status = 'published' and deleted_at is null and published_at > ${now.toISOString()}::timestamptz`,
    );
    const newest = rows[0];
    if (newest && !since) {
      const [before] = await tx
        .select({ at: articles.publishedAt })
        .from(articles)
        .where(and(eq(articles.status, 'published'), isNull(articles.deletedAt), lt(articles.publishedAt, monthStart(monthOf(newest.publishedAt)))))
        .orderBy(desc(articles.publishedAt))
        .limit(1);
      newestBefore = before?.at ?? null;
    }
  }
  const at = nextDue[0]?.at;
  return {
    state,
    category,
    items: await attachCategories(tx, rows),
    nextDueAt: at ? new Date(at) : null,
    newestBeforeNewestMonth: newestBefore,
  };
}

export interface SnapshotWrite {
  format: FeedFormat;
  bodyGzip: Uint8Array;
  bodyBrotli: Uint8Array;
  /** Byte length of the identity body, which is not stored (gunzip(bodyGzip) is that body). */
  identityLength: number;
  etag: string;
  lastModified: Date;
  itemCount: number;
}

/**
 * Stores a render: the snapshots (only if not older than what is stored, and only when their bytes
 * differ) and the feed's render state. `written` is true when at least one snapshot row changed.
 */
export async function saveRender(
  db: Database,
  render: {
    feedKey: string;
    sourceVersion: number;
    generatedAt: Date;
    contentDigest: string;
    contentUpdatedAt: Date;
    nextDueAt: Date | null;
    /** publishedAt of the render's oldest item when its window was full, else null (feed_state.live_floor). */
    liveFloor: Date | null;
    snapshots: SnapshotWrite[];
  },
): Promise<{ written: boolean; seqs: Partial<Record<FeedFormat, number>> }> {
  return db.transaction(async (tx) => {
    const [state] = await tx.select().from(feedState).where(eq(feedState.feedKey, render.feedKey)).for('update');
    if (!state || state.renderedVersion > render.sourceVersion) return { written: false, seqs: {} };
    const unchanged = state.contentDigest === render.contentDigest;
    await tx
      .update(feedState)
      .set({
        renderedVersion: sql`greatest(${feedState.renderedVersion}, ${render.sourceVersion})`,
        nextDueAt: render.nextDueAt,
        contentDigest: render.contentDigest,
        contentUpdatedAt: render.contentUpdatedAt,
        liveFloor: render.liveFloor,
        // A change committed after this render read the feed was judged against the floor before this
        // one, which may be higher than the new one (a retraction lowers it): count it as live.
        liveVersion: sql`case when ${feedState.version} > ${render.sourceVersion} then ${feedState.version} else ${feedState.liveVersion} end`,
      })
      .where(eq(feedState.feedKey, render.feedKey));
    if (unchanged && render.snapshots.length === 0) return { written: false, seqs: {} };
    // A forced re-render of unchanged content produces the same bytes, which the upsert below skips:
    // only rows actually written count as a change (else every forced refresh announces every feed).
    const seqs: Partial<Record<FeedFormat, number>> = {};
    for (const s of render.snapshots) {
      const rows = await tx
        .insert(feedSnapshots)
        .values({
          feedKey: render.feedKey,
          format: s.format,
          bodyGzip: s.bodyGzip,
          bodyBrotli: s.bodyBrotli,
          identityLength: s.identityLength,
          etag: s.etag,
          lastModified: s.lastModified,
          itemCount: s.itemCount,
          generatedAt: render.generatedAt,
          sourceVersion: render.sourceVersion,
          seq: sql`nextval('feed_snapshot_seq')`,
        })
        .onConflictDoUpdate({
          target: [feedSnapshots.feedKey, feedSnapshots.format],
          set: {
            bodyGzip: sql`excluded.body_gzip`,
            bodyBrotli: sql`excluded.body_br`,
            identityLength: sql`excluded.identity_length`,
            etag: sql`excluded.etag`,
            lastModified: sql`excluded.last_modified`,
            itemCount: sql`excluded.item_count`,
            generatedAt: sql`excluded.generated_at`,
            sourceVersion: sql`excluded.source_version`,
            seq: sql`excluded.seq`,
          },
          setWhere: sql`${feedSnapshots.etag} is distinct from excluded.etag and ${feedSnapshots.sourceVersion} <= excluded.source_version`,
        })
        .returning({ seq: feedSnapshots.seq });
      if (rows.length > 0) seqs[s.format] = rows[0]!.seq;
    }
    return { written: Object.keys(seqs).length > 0, seqs };
  });
}

/** A stored snapshot: gzip and br, and the identity body's length (the identity body is not stored). */
export type SnapshotHead = SnapshotRow;

/** A feed's stored snapshot in one format: what the memory cache keeps (SnapshotEntry.bodies says why). */
export async function getSnapshot(db: Database, feedKey: string, format: FeedFormat): Promise<SnapshotHead | undefined> {
  const rows = await db
    .select()
    .from(feedSnapshots)
    .where(and(eq(feedSnapshots.feedKey, feedKey), eq(feedSnapshots.format, format)))
    .limit(1);
  return rows[0];
}

/** Snapshot keys written after `seq` (what another instance changed), and the newest seq. */
export async function snapshotsChangedSince(db: Database, seq: number): Promise<{ feedKey: string; format: FeedFormat; seq: number }[]> {
  return db
    .select({ feedKey: feedSnapshots.feedKey, format: feedSnapshots.format, seq: feedSnapshots.seq })
    .from(feedSnapshots)
    .where(gt(feedSnapshots.seq, seq))
    .orderBy(asc(feedSnapshots.seq));
}

export async function latestSnapshotSeq(db: Database): Promise<number> {
  const rows = await db.select({ seq: sql<string | null>`max(${feedSnapshots.seq})` }).from(feedSnapshots);
  return Number(rows[0]?.seq ?? 0);
}

/** Category ids → slugs, for cache keys of feeds touched by a change. */
export async function slugsForCategories(db: Database, ids: number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.select({ slug: categories.slug }).from(categories).where(inArray(categories.id, ids));
  return rows.map((r) => r.slug);
}
