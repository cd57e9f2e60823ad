import { and, asc, eq, isNull, lte, ne, or, sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { sources, type SourceItemError } from './schema.js';

export type SourceRow = typeof sources.$inferSelect;

export interface NewSource {
  url: string;
  name: string;
  categories: string[];
  pollIntervalSeconds: number;
  enabled: boolean;
  useItemCategories: boolean;
  fullContent: boolean;
}

/** Inserts a source due at once; undefined when a source with that URL exists already. */
export async function insertSource(db: Database, source: NewSource, now: Date): Promise<SourceRow | undefined> {
  const [row] = await db
    .insert(sources)
    .values({ ...source, nextPollAt: now, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: sources.url })
    .returning();
  return row;
}

export async function listSources(db: Database): Promise<SourceRow[]> {
  return db.select().from(sources).orderBy(asc(sources.id));
}

export async function getSource(db: Database, id: number): Promise<SourceRow | undefined> {
  const rows = await db.select().from(sources).where(eq(sources.id, id)).limit(1);
  return rows[0];
}

export async function findSourceByUrl(db: Database, url: string): Promise<SourceRow | undefined> {
  const rows = await db.select().from(sources).where(eq(sources.url, url)).limit(1);
  return rows[0];
}

export type SourcePatch = Partial<NewSource>;

/**
 * Applies an admin change. A new URL forgets the old one's validators and failures and is due at
 * once; so is a source being (re-)enabled. A new interval moves the next poll of a healthy source
 * to its last poll plus the new interval. Returns the row, or undefined when there is no such source
 * or the URL belongs to another source (`conflict`).
 */
export async function updateSource(
  db: Database,
  id: number,
  patch: SourcePatch,
  now: Date,
): Promise<{ row: SourceRow } | { conflict: true } | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(sources).where(eq(sources.id, id)).limit(1).for('update');
    if (!current) return undefined;
    const set: Partial<SourceRow> = { ...patch, updatedAt: now };
    const urlChanged = patch.url !== undefined && patch.url !== current.url;
    if (urlChanged) {
      const [taken] = await tx
        .select({ id: sources.id })
        .from(sources)
        .where(and(eq(sources.url, patch.url!), ne(sources.id, id)))
        .limit(1);
      if (taken) return { conflict: true as const };
      Object.assign(set, { etag: null, lastModified: null, consecutiveFailures: 0, retryAfterUntil: null, nextPollAt: now });
    }
    if (patch.enabled === true && !current.enabled) Object.assign(set, { consecutiveFailures: 0, nextPollAt: now });
    if (!urlChanged && patch.pollIntervalSeconds !== undefined && current.consecutiveFailures === 0 && current.lastPollAt) {
      set.nextPollAt = new Date(current.lastPollAt.getTime() + patch.pollIntervalSeconds * 1000);
    }
    const [row] = await tx.update(sources).set(set).where(eq(sources.id, id)).returning();
    return { row: row! };
  });
}

/** Deletes a source; its articles stay (articles.source_id becomes null). False when there is none. */
export async function deleteSource(db: Database, id: number): Promise<boolean> {
  const rows = await db.delete(sources).where(eq(sources.id, id)).returning({ id: sources.id });
  return rows.length > 0;
}

/**
 * Claims up to `limit` due sources (enabled, next_poll_at <= now, no live lease), oldest first, for
 * this poller: FOR UPDATE SKIP LOCKED lets several instances claim at once without waiting on or
 * taking each other's rows, and the same statement moves next_poll_at and lease_until to the end of
 * the lease. So a claimed source is not due for anyone else, and if this process dies it becomes
 * due again when the lease ends. The returned leaseUntil is the claim's token.
 */
export async function claimDueSources(db: Database, options: { now: Date; limit: number; leaseMs: number }): Promise<SourceRow[]> {
  const { now, limit } = options;
  const leaseUntil = new Date(now.getTime() + options.leaseMs);
  const due = db
    .select({ id: sources.id })
    .from(sources)
    .where(and(eq(sources.enabled, true), lte(sources.nextPollAt, now), or(isNull(sources.leaseUntil), lte(sources.leaseUntil, now))))
    .orderBy(asc(sources.nextPollAt), asc(sources.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  const rows = await db
    .update(sources)
    .set({ nextPollAt: leaseUntil, leaseUntil })
    .where(sql`${sources.id} in ${due}`)
    .returning();
  return rows.sort((a, b) => a.nextPollAt.getTime() - b.nextPollAt.getTime() || a.id - b.id);
}

/**
 * Takes the lease on one source for a poll on demand, enabled or not, unless another poller holds a
 * live lease on it. `busy` then; undefined when there is no such source.
 */
export async function claimSource(
  db: Database,
  id: number,
  options: { now: Date; leaseMs: number },
): Promise<SourceRow | 'busy' | undefined> {
  const leaseUntil = new Date(options.now.getTime() + options.leaseMs);
  const [row] = await db
    .update(sources)
    .set({ leaseUntil, nextPollAt: sql`greatest(${sources.nextPollAt}, ${leaseUntil.toISOString()}::timestamptz)` })
    .where(and(eq(sources.id, id), or(isNull(sources.leaseUntil), lte(sources.leaseUntil, options.now))))
    .returning();
  if (row) return row;
  return (await getSource(db, id)) ? 'busy' : undefined;
}

/**
 * Moves a lease this poller holds (`token`, the leaseUntil it was given) to a new end. Undefined when
 * the lease was lost meanwhile (it ran out and another poller claimed the source, or it was deleted):
 * compare-and-set on the token, so two pollers can never both go ahead with one source.
 */
export async function renewLease(db: Database, id: number, token: Date, leaseUntil: Date): Promise<SourceRow | undefined> {
  const [row] = await db
    .update(sources)
    .set({ leaseUntil, nextPollAt: leaseUntil })
    .where(and(eq(sources.id, id), eq(sources.leaseUntil, token)))
    .returning();
  return row;
}

/** Gives a claim back without polling (shutdown): the source is due at `nextPollAt` for anyone. */
export async function releaseLease(db: Database, id: number, token: Date, nextPollAt: Date): Promise<void> {
  await db
    .update(sources)
    .set({ leaseUntil: null, nextPollAt })
    .where(and(eq(sources.id, id), eq(sources.leaseUntil, token)));
}

/**
 * Locks the source row for the transaction that stores a poll's articles, if the lease is still
 * ours. A DELETE of the source then waits for the commit (and nulls the new articles' source_id).
 */
export async function lockLeasedSource(tx: Database, id: number, token: Date): Promise<SourceRow | undefined> {
  const [row] = await tx
    .select()
    .from(sources)
    .where(and(eq(sources.id, id), eq(sources.leaseUntil, token)))
    .limit(1)
    .for('update');
  return row;
}

export interface PollRecord {
  now: Date;
  outcome: NonNullable<SourceRow['lastOutcome']>;
  status: number | null;
  errorCode: string | null;
  error: string | null;
  durationMs: number;
  nextPollAt: Date;
  consecutiveFailures: number;
  /** false disables the source (a 410); true leaves `enabled` as it is now (an admin may have changed it meanwhile). */
  enabled: boolean;
  retryAfterUntil: Date | null;
  /** Only for polls that read a body: validators and item counts. */
  body?: {
    etag: string | null;
    lastModified: string | null;
    itemsSeen: number;
    itemsNew: number;
    itemsUpdated: number;
    itemsSkipped: number;
    itemErrors: SourceItemError[];
  };
  /** A permanent redirect's target, to become the source's URL. */
  movedTo?: string;
}

/**
 * Records a poll's outcome and ends the lease, if the lease (`token`) is still ours; returns the row,
 * or undefined when it was lost (the other poller records its own outcome). A permanent redirect to
 * a URL another source already polls leaves the URL as it is and says so in lastError.
 */
export async function recordPoll(tx: Database, id: number, token: Date, record: PollRecord): Promise<SourceRow | undefined> {
  const set: Partial<SourceRow> = {
    lastPollAt: record.now,
    lastOutcome: record.outcome,
    lastStatus: record.status,
    lastErrorCode: record.errorCode,
    lastError: record.error,
    lastDurationMs: record.durationMs,
    nextPollAt: record.nextPollAt,
    consecutiveFailures: record.consecutiveFailures,
    retryAfterUntil: record.retryAfterUntil,
    leaseUntil: null,
  };
  if (!record.enabled) set.enabled = false;
  // The counts describe the last poll: one that read no body saw no items.
  Object.assign(set, record.body ?? { itemsSeen: 0, itemsNew: 0, itemsUpdated: 0, itemsSkipped: 0, itemErrors: [] });
  if (record.movedTo) {
    const [taken] = await tx
      .select({ id: sources.id })
      .from(sources)
      .where(and(eq(sources.url, record.movedTo), ne(sources.id, id)))
      .limit(1);
    if (taken) {
      set.lastError = [record.error, `permanently redirected to ${record.movedTo}, which source ${taken.id} already polls; URL kept`]
        .filter(Boolean)
        .join('; ');
    } else {
      set.url = record.movedTo;
      set.updatedAt = record.now;
    }
  }
  const [row] = await tx
    .update(sources)
    .set(set)
    .where(and(eq(sources.id, id), eq(sources.leaseUntil, token)))
    .returning();
  return row;
}
