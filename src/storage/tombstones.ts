import { sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { queryRows } from './db.js';

/** RFC 6721 tombstones stay in a feed this long after the retraction. */
export const TOMBSTONE_DAYS = 30;
/** At most this many tombstones per feed (the newest retractions). */
export const MAX_TOMBSTONES = 100;

export interface DeletedEntry {
  /** The retracted article's guid: the atom:id readers know it by. */
  ref: string;
  when: Date;
}

/**
 * Articles retracted from a feed within the last 30 days at `now`, newest retraction first: those
 * that were published in it (a retracted draft never appeared anywhere). A category's are found
 * through its article_categories rows, which a retraction keeps (listed = false).
 */
export async function loadDeletedEntries(db: Database, categoryId: number | null, now: Date): Promise<DeletedEntry[]> {
  const to = now.toISOString();
  const from = new Date(now.getTime() - TOMBSTONE_DAYS * 86_400_000).toISOString();
  const rows = await queryRows<{ guid: string; deleted_at: Date | string }>(
    db,
    categoryId === null
      ? sql`select a.guid, a.deleted_at from articles a
            where a.deleted_at > ${from}::timestamptz and a.deleted_at <= ${to}::timestamptz
              and a.status = 'published' and a.published_at <= a.deleted_at
            order by a.deleted_at desc, a.id desc limit ${MAX_TOMBSTONES}`
      : sql`select a.guid, a.deleted_at from article_categories ac join articles a on a.id = ac.article_id
            where ac.category_id = ${categoryId} and not ac.listed
              and a.deleted_at > ${from}::timestamptz and a.deleted_at <= ${to}::timestamptz
              and a.status = 'published' and a.published_at <= a.deleted_at
            order by a.deleted_at desc, a.id desc limit ${MAX_TOMBSTONES}`,
  );
  return rows.map((r) => ({ ref: r.guid, when: new Date(r.deleted_at) }));
}

/** When the oldest of these tombstones leaves the feed (the feed changes then), or null. */
export function tombstonesExpireAt(entries: DeletedEntry[]): Date | null {
  if (entries.length === 0) return null;
  const oldest = Math.min(...entries.map((e) => e.when.getTime()));
  return new Date(oldest + TOMBSTONE_DAYS * 86_400_000);
}
