import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { partnerFeedStats, partners } from './schema.js';

export type PartnerRow = typeof partners.$inferSelect;
export type PartnerSummary = Omit<PartnerRow, 'keyHash'>;
export type PartnerStatsRow = typeof partnerFeedStats.$inferSelect;

const summaryColumns = {
  id: partners.id,
  name: partners.name,
  keyPrefix: partners.keyPrefix,
  categories: partners.categories,
  embargoMinutes: partners.embargoMinutes,
  content: partners.content,
  createdAt: partners.createdAt,
  revokedAt: partners.revokedAt,
};

export async function insertPartner(
  db: Database,
  partner: {
    name: string;
    keyHash: string;
    keyPrefix: string;
    categories: string[] | null;
    embargoMinutes: number;
    content: 'full' | 'summary';
    createdAt: Date;
  },
): Promise<PartnerSummary> {
  const [row] = await db.insert(partners).values(partner).returning(summaryColumns);
  return row!;
}

/** Every partner, revoked ones included (an audit trail), never with its key hash. */
export async function listPartners(db: Database): Promise<PartnerSummary[]> {
  return db.select(summaryColumns).from(partners).orderBy(asc(partners.createdAt), asc(partners.id));
}

export async function getPartner(db: Database, id: string): Promise<PartnerSummary | undefined> {
  const rows = await db.select(summaryColumns).from(partners).where(eq(partners.id, id)).limit(1);
  return rows[0];
}

/**
 * The active (not revoked) partner holding the key with this sha256, or undefined. Called on every
 * partner feed request: a revocation committed on any instance is seen by the next request.
 */
export async function findActivePartnerByKeyHash(db: Database, keyHash: string): Promise<PartnerRow | undefined> {
  const rows = await db
    .select()
    .from(partners)
    .where(and(eq(partners.keyHash, keyHash), isNull(partners.revokedAt)))
    .limit(1);
  return rows[0];
}

/** Marks a partner revoked; false when there is no such partner. Revoking twice keeps the first time. */
export async function revokePartner(db: Database, id: string, now: Date): Promise<boolean> {
  const existing = await db.select({ id: partners.id }).from(partners).where(eq(partners.id, id)).limit(1);
  if (existing.length === 0) return false;
  await db.update(partners).set({ revokedAt: now }).where(and(eq(partners.id, id), isNull(partners.revokedAt)));
  return true;
}

export interface PartnerStatsDelta {
  partnerId: string;
  feedPath: string;
  requests: number;
  okResponses: number;
  notModifiedResponses: number;
  lastFetchAt: Date;
  lastUserAgent: string | null;
}

/**
 * Adds counted requests to the per-partner, per-feed totals in one statement: counts are summed,
 * the last fetch keeps the later time (and its user agent). Rows of partners that no longer exist
 * are skipped rather than failing the batch.
 */
export async function addPartnerStats(db: Database, deltas: PartnerStatsDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const values = sql.join(
    deltas.map(
      (d) =>
        sql`(${d.partnerId}::uuid, ${d.feedPath}, ${d.requests}::bigint, ${d.okResponses}::bigint, ${d.notModifiedResponses}::bigint, ${d.lastFetchAt.toISOString()}::timestamptz, ${d.lastUserAgent}::text)`,
    ),
    sql`, `,
  );
  await db.execute(sql`
    insert into partner_feed_stats (partner_id, feed_path, requests, ok_responses, not_modified_responses, last_fetch_at, last_user_agent)
    select v.partner_id, v.feed_path, v.requests, v.ok, v.not_modified, v.last_fetch_at, v.user_agent
    from (values ${values}) as v (partner_id, feed_path, requests, ok, not_modified, last_fetch_at, user_agent)
    where exists (select 1 from partners p where p.id = v.partner_id)
    order by v.partner_id, v.feed_path
    on conflict (partner_id, feed_path) do update set
      requests = partner_feed_stats.requests + excluded.requests,
      ok_responses = partner_feed_stats.ok_responses + excluded.ok_responses,
      not_modified_responses = partner_feed_stats.not_modified_responses + excluded.not_modified_responses,
      last_user_agent = case when partner_feed_stats.last_fetch_at is null or excluded.last_fetch_at >= partner_feed_stats.last_fetch_at
        then excluded.last_user_agent else partner_feed_stats.last_user_agent end,
      last_fetch_at = greatest(partner_feed_stats.last_fetch_at, excluded.last_fetch_at)`);
}

/** A partner's totals per feed path, most requested first. */
export async function listPartnerStats(db: Database, partnerId: string): Promise<PartnerStatsRow[]> {
  return db
    .select()
    .from(partnerFeedStats)
    .where(eq(partnerFeedStats.partnerId, partnerId))
    .orderBy(desc(partnerFeedStats.requests), asc(partnerFeedStats.feedPath));
}
