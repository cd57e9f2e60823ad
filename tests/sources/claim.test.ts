import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLAIM_LEASE_MS, pollDueSources, type PollDeps } from '../../src/jobs/poll-sources.js';
import { startScheduler } from '../../src/jobs/scheduler.js';
import { openDb, type DbHandle } from '../../src/storage/db.js';
import { sources } from '../../src/storage/schema.js';
import { claimDueSources } from '../../src/storage/sources.js';
import { DB_KIND } from '../helpers/db.js';
import { createSourcesContext, type SourcesContext } from './setup.js';

// Claiming: FOR UPDATE SKIP LOCKED plus a lease in next_poll_at. Several pollers (instances) share
// the due sources without one source ever being polled twice, and a crashed poller loses nothing.

let s: SourcesContext;
beforeAll(async () => {
  s = await createSourcesContext({ SOURCE_CONCURRENCY: '4' });
});
afterAll(async () => s?.close());

beforeEach(async () => {
  // Each test starts from "nothing due".
  await s.t.deps.db.update(sources).set({ nextPollAt: new Date('2100-01-01T00:00:00Z'), leaseUntil: null });
});

describe('claimDueSources', () => {
  it('claims each due source once; the lease makes a crashed claim due again when it ends', async () => {
    const a = await s.addSource(s.at('/fixtures/rss2-full.xml?claim=a'));
    const b = await s.addSource(s.at('/fixtures/rss2-full.xml?claim=b'));
    const now = s.t.clock.now();
    const first = await claimDueSources(s.t.deps.db, { now, limit: 10, leaseMs: CLAIM_LEASE_MS });
    expect(first.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    for (const r of first) {
      expect(r.leaseUntil!.getTime()).toBe(now.getTime() + CLAIM_LEASE_MS);
      expect(r.nextPollAt.getTime()).toBe(now.getTime() + CLAIM_LEASE_MS);
    }
    expect(await claimDueSources(s.t.deps.db, { now, limit: 10, leaseMs: CLAIM_LEASE_MS })).toEqual([]);

    // The claimer "crashed": nothing happens until the lease ends, then the sources are due again.
    s.t.clock.advance(CLAIM_LEASE_MS - 1);
    expect(await claimDueSources(s.t.deps.db, { now: s.t.clock.now(), limit: 10, leaseMs: CLAIM_LEASE_MS })).toEqual([]);
    s.t.clock.advance(1);
    const again = await claimDueSources(s.t.deps.db, { now: s.t.clock.now(), limit: 10, leaseMs: CLAIM_LEASE_MS });
    expect(again.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
  });

  it('respects the limit, oldest due first, and never claims a disabled source', async () => {
    const now = s.t.clock.now().getTime();
    const older = await s.addSource(s.at('/fixtures/rss2-full.xml?claim=older'));
    const newer = await s.addSource(s.at('/fixtures/rss2-full.xml?claim=newer'));
    const off = await s.addSource(s.at('/fixtures/rss2-full.xml?claim=off'), { enabled: false });
    await s.t.deps.db
      .update(sources)
      .set({ nextPollAt: new Date(now - 60_000) })
      .where(eq(sources.id, older.id));
    await s.t.deps.db
      .update(sources)
      .set({ nextPollAt: new Date(now - 1000) })
      .where(eq(sources.id, newer.id));
    await s.t.deps.db
      .update(sources)
      .set({ nextPollAt: new Date(now - 120_000) })
      .where(eq(sources.id, off.id));
    const one = await claimDueSources(s.t.deps.db, { now: s.t.clock.now(), limit: 1, leaseMs: CLAIM_LEASE_MS });
    expect(one.map((r) => r.id)).toEqual([older.id]);
    const rest = await claimDueSources(s.t.deps.db, { now: s.t.clock.now(), limit: 10, leaseMs: CLAIM_LEASE_MS });
    expect(rest.map((r) => r.id)).toEqual([newer.id]);
  });

  it.skipIf(DB_KIND !== 'postgres')('skips rows another transaction has locked, without waiting for it (Postgres)', async () => {
    const locked = await s.addSource(s.at('/fixtures/rss2-full.xml?claim=locked'));
    const free = await s.addSource(s.at('/fixtures/rss2-full.xml?claim=free'));
    const other = await openDb({ databaseUrl: s.t.db.url!, dataDir: '', poolMax: 2 });
    try {
      await s.t.deps.db.transaction(async (tx) => {
        await tx.select().from(sources).where(eq(sources.id, locked.id)).for('update');
        const started = performance.now();
        const claimed = await claimDueSources(other.db, { now: s.t.clock.now(), limit: 10, leaseMs: CLAIM_LEASE_MS });
        expect(performance.now() - started).toBeLessThan(2000);
        expect(claimed.map((r) => r.id)).toEqual([free.id]);
      });
    } finally {
      await other.close();
    }
  });
});

describe('two pollers at once', () => {
  async function secondPoller(): Promise<{ deps: PollDeps; handle: DbHandle | null }> {
    if (DB_KIND !== 'postgres') return { deps: s.deps, handle: null };
    // Another "instance": its own connection pool to the same database.
    const handle = await openDb({ databaseUrl: s.t.db.url!, dataDir: '', poolMax: 5 });
    return { deps: { ...s.deps, db: handle.db }, handle };
  }

  it('never poll one source twice (requests counted at the server)', async () => {
    const paths: string[] = [];
    for (let i = 0; i < 24; i++) {
      const path = `/slow/40/rss2-full.xml?twice=${i}`;
      paths.push(path);
      // Six hosts: the per-host limit still leaves both pollers work to race for.
      await s.addSource(s.at(path, `race${i % 6}.example.test`));
    }
    const second = await secondPoller();
    const before = s.server.requests.length;
    try {
      const [x, y] = await Promise.all([pollDueSources(s.deps, { limit: 12 }), pollDueSources(second.deps, { limit: 12 })]);
      const rest = await pollDueSources(s.deps);
      const polled = [...x.results, ...y.results, ...rest.results].filter((r) => r.outcome === 'ok').map((r) => r.sourceId);
      expect(polled).toHaveLength(24);
      expect(new Set(polled).size).toBe(24);
    } finally {
      await second.handle?.close();
    }
    const counts = new Map<string, number>();
    for (const r of s.server.requests.slice(before)) counts.set(r.path, (counts.get(r.path) ?? 0) + 1);
    for (const path of paths) expect(counts.get(path), path).toBe(1);
  });
});

describe('the scheduler', () => {
  it('SOURCE_POLL_CRON runs pollDueSources (UTC, every second here) and stop() waits for the tick', async () => {
    const src = await s.addSource(s.at('/fixtures/rss2-full.xml?cron=1'));
    await s.t.deps.db.update(sources).set({ nextPollAt: s.t.clock.now() }).where(eq(sources.id, src.id));
    const scheduler = startScheduler(
      { ...s.t.deps, config: { ...s.t.config, SOURCE_POLL_CRON: '* * * * * *', FEED_REFRESH_CRON: '0 0 1 1 *' } },
      s.t.feeds,
    );
    try {
      const deadline = Date.now() + 10_000;
      while ((await s.source(src.id)).lastPollAt === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await scheduler.stop();
    }
    expect(await s.source(src.id)).toMatchObject({ lastOutcome: 'ok', itemsNew: 2, leaseUntil: null });
  });
});
