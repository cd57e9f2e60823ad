import { sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { feedState } from './schema.js';

/** The feed of every published article; reserved as a category slug. */
export const ALL_FEED = 'all';

/**
 * Marks feeds as changed, in the caller's transaction (the same one that changed the articles), so a
 * refresh can never miss a committed change. Creates the feed_state row of a category on first use.
 */
export async function markFeedsDirty(tx: Database, categoryIds: number[], includeAll: boolean): Promise<void> {
  // Sorted keys: concurrent transactions lock the rows in one order and cannot deadlock on them.
  const ids = [...new Set(categoryIds)].sort((a, b) => a - b);
  if (ids.length > 0) {
    await tx.execute(sql`
      insert into feed_state (feed_key, category_id)
      select slug, id from categories where id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)}) order by slug
      on conflict (feed_key) do update set version = feed_state.version + 1`);
  }
  if (includeAll) {
    await tx
      .insert(feedState)
      .values({ feedKey: ALL_FEED })
      .onConflictDoUpdate({ target: feedState.feedKey, set: { version: sql`${feedState.version} + 1` } });
  }
}

