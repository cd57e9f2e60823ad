import { sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { feedState } from './schema.js';

/** The feed of every published article; reserved as a category slug. */
export const ALL_FEED = 'all';

/**
 * What a change did to a feed, when the caller knows it only added articles: the newest publishedAt
 * among them. Such a change is below the live window when that is older than the feed's liveFloor.
 */
export interface InsertOnlyChange {
  newestPublishedAt: Date;
}

/**
 * Marks feeds as changed, in the caller's transaction (the same one that changed the articles), so a
 * refresh can never miss a committed change. Creates the feed_state row of a category on first use.
 *
 * Every change bumps `version` (archive views see it). It also makes the live feed due for a render
 * (`live_version`), unless the caller says of that feed that the change only added articles, all
 * published before the oldest item of its last render while its window was full: those cannot
 * enter it, nor move its prev-archive link (which then lies within the window). `insertsOnly` gives
 * those feeds by category id, and `allInsertsOnly` the all-articles feed's.
 */
export async function markFeedsDirty(
  tx: Database,
  categoryIds: number[],
  includeAll: boolean,
  options: { insertsOnly?: ReadonlyMap<number, InsertOnlyChange>; allInsertsOnly?: InsertOnlyChange } = {},
): Promise<void> {
  // Sorted keys: concurrent transactions lock the rows in one order and cannot deadlock on them.
  const ids = [...new Set(categoryIds)].sort((a, b) => a - b);
  if (ids.length > 0) {
    // Two array literals (integers, ISO dates or NULL: nothing to quote) rather than one parameter each.
    const idList = `{${ids.join(',')}}`;
    const newestList = `{${ids.map((id) => options.insertsOnly?.get(id)?.newestPublishedAt.toISOString() ?? 'NULL').join(',')}}`;
    await tx.execute(sql`
      with change as (select * from unnest(${idList}::int[], ${newestList}::timestamptz[]) as x(category_id, newest))
      insert into feed_state (feed_key, category_id)
      select c.slug, c.id from categories c join change on change.category_id = c.id
      order by c.slug
      on conflict (feed_key) do update set version = feed_state.version + 1,
        live_version = case when (select newest from change where change.category_id = feed_state.category_id) < feed_state.live_floor
                            then feed_state.live_version else feed_state.version + 1 end`);
  }
  if (includeAll) {
    const newest = options.allInsertsOnly?.newestPublishedAt.toISOString() ?? null;
    await tx
      .insert(feedState)
      .values({ feedKey: ALL_FEED })
      .onConflictDoUpdate({
        target: feedState.feedKey,
        set: {
          version: sql`${feedState.version} + 1`,
          liveVersion: sql`case when ${newest}::timestamptz < ${feedState.liveFloor} then ${feedState.liveVersion} else ${feedState.version} + 1 end`,
        },
      });
  }
}
