import { randomBytes } from 'node:crypto';
import { and, gte, lt, lte, sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { queryRows } from './db.js';
import { feedReaderStats, feedReaderVisits, readerStatsSalts } from './schema.js';

/**
 * Reader statistics storage. Days are UTC calendar days as 'YYYY-MM-DD'. Written in batches by each
 * instance's recorder (src/reader-stats.ts); nothing here stores an address.
 */

export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000));
}

/**
 * The salt of `day`, created by the first instance that asks (so every instance hashes a reader
 * the same way and distinct counts add up). Salts older than the day before are deleted: once a
 * salt is gone, the hashes made with it can no longer be tested against guesses.
 */
export async function dailySalt(db: Database, day: string): Promise<string> {
  await db.insert(readerStatsSalts).values({ day, salt: randomBytes(32).toString('base64url') }).onConflictDoNothing();
  const rows = await db.select({ salt: readerStatsSalts.salt }).from(readerStatsSalts).where(sql`${readerStatsSalts.day} = ${day}`);
  await db.delete(readerStatsSalts).where(lt(readerStatsSalts.day, addDays(day, -1)));
  return rows[0]!.salt;
}

/** Deletes the salts of days before `day`. */
export async function deleteSaltsBefore(db: Database, day: string): Promise<void> {
  await db.delete(readerStatsSalts).where(lt(readerStatsSalts.day, day));
}

export interface VisitRow {
  day: string;
  feedKey: string;
  readerHash: string;
}

export interface AggregatorRow {
  day: string;
  feedKey: string;
  format: string;
  client: string;
  subscribers: number;
  requests: number;
}

const CHUNK = 2000;

/** Stores a batch: new reader hashes (duplicates ignored) and aggregator maxima (kept the larger). */
export async function writeReaderBatch(db: Database, batch: { visits: VisitRow[]; aggregators: AggregatorRow[] }): Promise<void> {
  for (let i = 0; i < batch.visits.length; i += CHUNK) {
    await db.insert(feedReaderVisits).values(batch.visits.slice(i, i + CHUNK)).onConflictDoNothing();
  }
  // Sorted: two instances flushing at once lock the rows in the same order.
  const aggregators = [...batch.aggregators].sort((a, b) =>
    `${a.day}\u0000${a.feedKey}\u0000${a.format}\u0000${a.client}`.localeCompare(`${b.day}\u0000${b.feedKey}\u0000${b.format}\u0000${b.client}`),
  );
  for (let i = 0; i < aggregators.length; i += CHUNK) {
    await db
      .insert(feedReaderStats)
      .values(aggregators.slice(i, i + CHUNK))
      .onConflictDoUpdate({
        target: [feedReaderStats.day, feedReaderStats.feedKey, feedReaderStats.format, feedReaderStats.client],
        set: {
          subscribers: sql`greatest(${feedReaderStats.subscribers}, excluded.subscribers)`,
          requests: sql`${feedReaderStats.requests} + excluded.requests`,
        },
      });
  }
}

/**
 * Rolls the distinct-reader hashes of days before `beforeDay` up into feed_reader_stats (client '',
 * format '') and deletes them: only counts outlive the day after.
 */
export async function rollUpReaderDays(db: Database, beforeDay: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into feed_reader_stats (day, feed_key, format, client, subscribers, requests)
      select day, feed_key, '', '', count(*), 0 from feed_reader_visits where day < ${beforeDay}::date group by day, feed_key
      on conflict (day, feed_key, format, client) do update set subscribers = greatest(feed_reader_stats.subscribers, excluded.subscribers)`);
    await tx.delete(feedReaderVisits).where(lt(feedReaderVisits.day, beforeDay));
  });
}

export interface DayStats {
  day: string;
  feedKey: string;
  /** Distinct non-aggregator readers that day. */
  readers: number;
  /** Per aggregator and format: the most subscribers it announced that day. */
  aggregators: { client: string; format: string; subscribers: number; requests: number }[];
}

/** Statistics of every feed for the days fromDay..toDay (inclusive). */
export async function readReaderStats(db: Database, fromDay: string, toDay: string): Promise<DayStats[]> {
  const byKey = new Map<string, DayStats>();
  const entry = (day: string, feedKey: string) => {
    const key = `${day}\u0000${feedKey}`;
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { day, feedKey, readers: 0, aggregators: [] }));
    return e;
  };
  const stats = await db
    .select()
    .from(feedReaderStats)
    .where(and(gte(feedReaderStats.day, fromDay), lte(feedReaderStats.day, toDay)));
  for (const r of stats) {
    const e = entry(r.day, r.feedKey);
    if (r.client === '') e.readers = Math.max(e.readers, r.subscribers);
    else e.aggregators.push({ client: r.client, format: r.format, subscribers: r.subscribers, requests: Number(r.requests) });
  }
  const visits = await queryRows<{ day: string | Date; feed_key: string; n: string | number }>(
    db,
    sql`select day, feed_key, count(*) as n from feed_reader_visits where day >= ${fromDay}::date and day <= ${toDay}::date group by day, feed_key`,
  );
  for (const v of visits) {
    const day = typeof v.day === 'string' ? v.day.slice(0, 10) : dayOf(v.day);
    const e = entry(day, v.feed_key);
    e.readers = Math.max(e.readers, Number(v.n));
  }
  for (const e of byKey.values()) e.aggregators.sort((a, b) => b.subscribers - a.subscribers || a.client.localeCompare(b.client));
  return [...byKey.values()].sort((a, b) => (a.day === b.day ? a.feedKey.localeCompare(b.feedKey) : a.day < b.day ? 1 : -1));
}
