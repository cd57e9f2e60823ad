import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { and, asc, eq, gt, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { queryRows } from './db.js';
import type { FeedFormat } from './feeds.js';
import { feedSnapshots, websubDeliveries, websubPushes, websubSubscriptions, websubTopics } from './schema.js';

const gunzipAsync = promisify(gunzip);

/**
 * WebSub storage: verified subscriptions, the per-topic cursor that makes a change pushed once, the
 * pushed bodies, and the delivery rows (an outbox: stored before sending, claimed by one instance).
 */

export type SubscriptionRow = typeof websubSubscriptions.$inferSelect;
export type DeliveryRow = typeof websubDeliveries.$inferSelect;

export interface ActivateSubscription {
  topic: string;
  feedKey: string;
  format: FeedFormat;
  callback: string;
  secret: string | null;
  leaseSeconds: number;
  now: Date;
}

/**
 * Stores a verified subscription (a renewal replaces lease and secret in place) and makes sure its
 * topic has a cursor at the feed's current snapshot, so the subscriber receives the next change,
 * not the content it just subscribed to.
 */
export async function activateSubscription(db: Database, s: ActivateSubscription): Promise<SubscriptionRow> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into websub_topics (topic, feed_key, format, last_seq, updated_at)
      select ${s.topic}, ${s.feedKey}, ${s.format}, coalesce(max(seq), 0), ${s.now.toISOString()}::timestamptz
      from feed_snapshots where feed_key = ${s.feedKey} and format = ${s.format}
      on conflict (topic) do nothing`);
    const expiresAt = new Date(s.now.getTime() + s.leaseSeconds * 1000);
    const [row] = await tx
      .insert(websubSubscriptions)
      .values({
        topic: s.topic,
        feedKey: s.feedKey,
        format: s.format,
        callback: s.callback,
        secret: s.secret,
        leaseSeconds: s.leaseSeconds,
        expiresAt,
        createdAt: s.now,
        verifiedAt: s.now,
      })
      .onConflictDoUpdate({
        target: [websubSubscriptions.topic, websubSubscriptions.callback],
        set: { secret: s.secret, leaseSeconds: s.leaseSeconds, expiresAt, verifiedAt: s.now },
      })
      .returning();
    return row!;
  });
}

export async function findSubscription(db: Database, topic: string, callback: string): Promise<SubscriptionRow | undefined> {
  const rows = await db
    .select()
    .from(websubSubscriptions)
    .where(and(eq(websubSubscriptions.topic, topic), eq(websubSubscriptions.callback, callback)))
    .limit(1);
  return rows[0];
}

/** Removes a subscription and, with it, its deliveries not yet sent. True when there was one. */
export async function deleteSubscription(db: Database, topic: string, callback: string): Promise<boolean> {
  const rows = await db
    .delete(websubSubscriptions)
    .where(and(eq(websubSubscriptions.topic, topic), eq(websubSubscriptions.callback, callback)))
    .returning({ id: websubSubscriptions.id });
  return rows.length > 0;
}

export async function deleteSubscriptionById(db: Database, id: number): Promise<void> {
  await db.delete(websubSubscriptions).where(eq(websubSubscriptions.id, id));
}

/** Active (unexpired) subscriptions per feed key. */
export async function countActiveSubscriptions(db: Database, now: Date): Promise<Map<string, number>> {
  const rows = await db
    .select({ feedKey: websubSubscriptions.feedKey, n: sql<number>`count(*)::int` })
    .from(websubSubscriptions)
    .where(gt(websubSubscriptions.expiresAt, now))
    .groupBy(websubSubscriptions.feedKey);
  return new Map(rows.map((r) => [r.feedKey, Number(r.n)]));
}

export interface StaleTopic {
  feedKey: string;
  format: FeedFormat;
  /** The stored topic URL, or null for a feed no topic row names yet. */
  topic: string | null;
  seq: number;
}

/**
 * Feeds × formats whose snapshot is newer than the last push of their topic. With `includeUntracked`
 * (external hubs to ping), feeds without a topic row count too. One small query over feed_snapshots.
 */
export async function findStaleTopics(db: Database, options: { feedKeys?: string[]; includeUntracked: boolean }): Promise<StaleTopic[]> {
  const keys = options.feedKeys;
  if (keys && keys.length === 0) return [];
  const rows = await queryRows<{ feed_key: string; format: FeedFormat; topic: string | null; seq: string | number }>(
    db,
    sql`select s.feed_key, s.format, t.topic, s.seq from feed_snapshots s
        left join websub_topics t on t.feed_key = s.feed_key and t.format = s.format
        where (t.last_seq < s.seq ${options.includeUntracked ? sql`or t.topic is null` : sql``})
        ${keys ? sql`and s.feed_key in (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})` : sql``}
        order by s.seq`,
  );
  return rows.map((r) => ({ feedKey: r.feed_key, format: r.format, topic: r.topic, seq: Number(r.seq) }));
}

export interface EnqueueResult {
  /** True when this call moved the topic's cursor: it owns the change (pings, wake-up). */
  won: boolean;
  seq: number;
  deliveries: number;
}

/**
 * Records one change of a topic, exactly once across instances: moves the topic's cursor to the
 * current snapshot seq (a conditional upsert: only one transaction can move it past a given seq),
 * stores the body once, and a pending delivery for every subscription active at `now`.
 */
export async function enqueueTopicChange(
  db: Database,
  change: { topic: string; feedKey: string; format: FeedFormat; contentType: string; now: Date },
): Promise<EnqueueResult> {
  return db.transaction(async (tx) => {
    const [snapshot] = await tx
      .select({ seq: feedSnapshots.seq, bodyGzip: feedSnapshots.bodyGzip })
      .from(feedSnapshots)
      .where(and(eq(feedSnapshots.feedKey, change.feedKey), eq(feedSnapshots.format, change.format)))
      .limit(1);
    if (!snapshot) return { won: false, seq: 0, deliveries: 0 };
    const seq = Number(snapshot.seq);
    const moved = await tx
      .insert(websubTopics)
      .values({ topic: change.topic, feedKey: change.feedKey, format: change.format, lastSeq: seq, updatedAt: change.now })
      .onConflictDoUpdate({
        target: websubTopics.topic,
        set: { lastSeq: sql`excluded.last_seq`, updatedAt: sql`excluded.updated_at` },
        setWhere: sql`${websubTopics.lastSeq} < excluded.last_seq`,
      })
      .returning({ topic: websubTopics.topic });
    if (moved.length === 0) return { won: false, seq, deliveries: 0 };
    const active = and(eq(websubSubscriptions.topic, change.topic), gt(websubSubscriptions.expiresAt, change.now));
    const [any] = await tx.select({ id: websubSubscriptions.id }).from(websubSubscriptions).where(active).limit(1);
    if (!any) return { won: true, seq, deliveries: 0 };
    const [push] = await tx
      .insert(websubPushes)
      .values({
        topic: change.topic,
        feedKey: change.feedKey,
        format: change.format,
        seq,
        contentType: change.contentType,
        // Subscribers are sent the identity body, which is stored only as gzip (schema.ts).
        body: await gunzipAsync(snapshot.bodyGzip),
        createdAt: change.now,
      })
      .onConflictDoNothing()
      .returning({ id: websubPushes.id });
    if (!push) return { won: true, seq, deliveries: 0 };
    const now = change.now.toISOString();
    const inserted = await queryRows<{ id: string | number }>(
      tx,
      sql`insert into websub_deliveries (subscription_id, push_id, next_attempt_at, created_at)
          select id, ${push.id}, ${now}::timestamptz, ${now}::timestamptz from websub_subscriptions
          where topic = ${change.topic} and expires_at > ${now}::timestamptz order by id
          returning id`,
    );
    return { won: true, seq, deliveries: inserted.length };
  });
}

export interface ClaimedDelivery {
  id: number;
  subscriptionId: number;
  attempts: number;
  callback: string;
  secret: string | null;
  topic: string;
  feedKey: string;
  format: FeedFormat;
  expiresAt: Date;
  contentType: string;
  body: Uint8Array;
}

/**
 * Claims up to `limit` due deliveries for this instance until `lockedUntil`: each the oldest pending
 * delivery of its subscription (a subscriber's pushes go out in order, one at a time), skipping rows
 * another instance is claiming (FOR UPDATE SKIP LOCKED) or holds (locked_until in the future).
 */
export async function claimDeliveries(db: Database, options: { now: Date; limit: number; lockedUntil: Date }): Promise<ClaimedDelivery[]> {
  const now = options.now.toISOString();
  const claimed = await db.transaction(async (tx) =>
    queryRows<{ id: string | number; subscription_id: string | number; push_id: string | number; attempts: number }>(
      tx,
      sql`update websub_deliveries d set locked_until = ${options.lockedUntil.toISOString()}::timestamptz, attempts = d.attempts + 1
          where d.id in (
            select c.id from websub_deliveries c
            where c.state = 'pending' and c.next_attempt_at <= ${now}::timestamptz
              and (c.locked_until is null or c.locked_until <= ${now}::timestamptz)
              and c.id = (select min(o.id) from websub_deliveries o where o.subscription_id = c.subscription_id and o.state = 'pending')
            order by c.next_attempt_at
            limit ${options.limit}
            for update of c skip locked)
          returning d.id, d.subscription_id, d.push_id, d.attempts`,
    ),
  );
  if (claimed.length === 0) return [];
  const subscriptionIds = [...new Set(claimed.map((c) => Number(c.subscription_id)))];
  const pushIds = [...new Set(claimed.map((c) => Number(c.push_id)))];
  const subs = await db.select().from(websubSubscriptions).where(inArray(websubSubscriptions.id, subscriptionIds));
  const pushes = await db.select().from(websubPushes).where(inArray(websubPushes.id, pushIds));
  const subById = new Map(subs.map((s) => [s.id, s]));
  const pushById = new Map(pushes.map((p) => [p.id, p]));
  const out: ClaimedDelivery[] = [];
  for (const c of claimed) {
    const sub = subById.get(Number(c.subscription_id));
    const push = pushById.get(Number(c.push_id));
    // Deleted between claim and read (unsubscribed, 410): the cascade removed the delivery too.
    if (!sub || !push) continue;
    out.push({
      id: Number(c.id),
      subscriptionId: sub.id,
      attempts: Number(c.attempts),
      callback: sub.callback,
      secret: sub.secret,
      topic: sub.topic,
      feedKey: sub.feedKey,
      format: sub.format,
      expiresAt: sub.expiresAt,
      contentType: push.contentType,
      body: push.body,
    });
  }
  return out;
}

export type DeliveryOutcome =
  | { state: 'delivered'; status: number }
  | { state: 'retry'; status: number | null; error: string; nextAttemptAt: Date }
  | { state: 'failed'; status: number | null; error: string }
  | { state: 'cancelled'; error: string };

/** Records the outcome of one attempt on the delivery and its subscription. */
export async function recordDelivery(db: Database, id: number, subscriptionId: number, outcome: DeliveryOutcome, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    if (outcome.state === 'retry') {
      await tx
        .update(websubDeliveries)
        .set({ lockedUntil: null, nextAttemptAt: outcome.nextAttemptAt, lastStatus: outcome.status, lastError: outcome.error })
        .where(eq(websubDeliveries.id, id));
    } else {
      await tx
        .update(websubDeliveries)
        .set({
          state: outcome.state,
          lockedUntil: null,
          finishedAt: now,
          lastStatus: outcome.state === 'cancelled' ? null : outcome.status,
          lastError: outcome.state === 'delivered' ? null : outcome.error,
        })
        .where(eq(websubDeliveries.id, id));
    }
    if (outcome.state === 'cancelled') return;
    await tx
      .update(websubSubscriptions)
      .set({
        lastDeliveryAt: now,
        lastDeliveryStatus: outcome.status,
        lastError: outcome.state === 'delivered' ? null : outcome.error,
        ...(outcome.state === 'failed' ? { failedDeliveries: sql`${websubSubscriptions.failedDeliveries} + 1` } : {}),
      })
      .where(eq(websubSubscriptions.id, subscriptionId));
  });
}

/** Gives claimed deliveries back untried (shutdown): claimable again at once, the attempt not counted. */
export async function releaseDeliveries(db: Database, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(websubDeliveries)
    .set({ lockedUntil: null, attempts: sql`greatest(${websubDeliveries.attempts} - 1, 0)` })
    .where(and(inArray(websubDeliveries.id, ids), eq(websubDeliveries.state, 'pending')));
}

/** Earliest next attempt of a pending delivery (to wake up for it), or null. */
export async function nextPendingAt(db: Database): Promise<Date | null> {
  const rows = await db
    .select({ at: websubDeliveries.nextAttemptAt })
    .from(websubDeliveries)
    .where(eq(websubDeliveries.state, 'pending'))
    .orderBy(asc(websubDeliveries.nextAttemptAt))
    .limit(1);
  return rows[0]?.at ?? null;
}

/**
 * Housekeeping: deletes subscriptions whose lease ended (their pending deliveries go with them),
 * finished deliveries older than `keepFinishedUntil`, and pushes no delivery refers to any more.
 */
export async function sweepWebsub(db: Database, options: { now: Date; keepFinishedUntil: Date }): Promise<{ expired: number }> {
  const expired = await db
    .delete(websubSubscriptions)
    .where(lte(websubSubscriptions.expiresAt, options.now))
    .returning({ id: websubSubscriptions.id });
  await db
    .delete(websubDeliveries)
    .where(and(or(eq(websubDeliveries.state, 'delivered'), eq(websubDeliveries.state, 'failed'), eq(websubDeliveries.state, 'cancelled')), lt(websubDeliveries.finishedAt, options.keepFinishedUntil)));
  await db.execute(
    sql`delete from websub_pushes p where p.created_at < ${options.keepFinishedUntil.toISOString()}::timestamptz
        and not exists (select 1 from websub_deliveries d where d.push_id = p.id)`,
  );
  return { expired: expired.length };
}

/** Every delivery, oldest first (tests and the admin view). */
export async function listDeliveries(db: Database): Promise<DeliveryRow[]> {
  return db.select().from(websubDeliveries).orderBy(asc(websubDeliveries.id));
}
