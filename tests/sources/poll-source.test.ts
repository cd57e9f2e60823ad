import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { pollDueSources, pollSource, sourceArticleExternalId } from '../../src/jobs/poll-sources.js';
import { sources } from '../../src/storage/schema.js';
import { claimSource, deleteSource } from '../../src/storage/sources.js';
import { BASE_URL } from '../helpers/app.js';
import { send } from '../helpers/builders.js';
import { createSourcesContext, type SourcesContext } from './setup.js';

// The poller end to end over the real fixture server: identity, updates, conditional GET, status
// handling, back-off, politeness, and items reaching the category feeds.

let s: SourcesContext;
beforeAll(async () => {
  s = await createSourcesContext({ SOURCE_CONCURRENCY: '3' });
});
afterAll(async () => s?.close());

const rss = (items: string) =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example.com/</link><description>d</description>${items}</channel></rss>`;
const item = (guid: string, title: string, date = 'Mon, 03 Nov 2025 09:00:00 GMT') =>
  `<item><guid isPermaLink="false">${guid}</guid><title>${title}</title><link>https://wire.example.com/${guid}</link><pubDate>${date}</pubDate><description>About ${title}.</description></item>`;

async function clearValidators(id: number) {
  await s.t.deps.db.update(sources).set({ etag: null, lastModified: null }).where(eq(sources.id, id));
}

describe('a first poll', () => {
  it('stores every item under the source, with its validators, politely asked for', async () => {
    const before = s.server.requests.length;
    const src = await s.addSource(s.at('/fixtures/rss2-full.xml'));
    const result = await s.poll(src.id);
    expect(result).toMatchObject({
      outcome: 'ok',
      status: 200,
      itemsSeen: 2,
      itemsNew: 2,
      itemsUpdated: 0,
      itemsSkipped: 0,
      errorCode: null,
    });

    const row = await s.source(src.id);
    expect(row).toMatchObject({ lastOutcome: 'ok', lastStatus: 200, itemsSeen: 2, itemsNew: 2, consecutiveFailures: 0, leaseUntil: null });
    expect(row.etag).toMatch(/^".+"$/);
    expect(row.lastModified).toBe('Mon, 03 Nov 2025 10:00:00 GMT');
    expect(row.nextPollAt.getTime() - s.t.clock.now().getTime()).toBe(900_000);

    const stored = await s.articlesOf(src.id);
    expect(stored).toHaveLength(2);
    for (const a of stored) {
      expect(a.externalId.startsWith(`source:${src.id}:`)).toBe(true);
      expect(a.categoryNames).toEqual(['World']);
      expect(a.guid).toMatch(/^tag:news\.example\.co\.uk,/);
    }

    const request = s.server.requests.slice(before).find((r) => r.path === '/fixtures/rss2-full.xml')!;
    expect(request.headers['user-agent']).toMatch(/^syndicate\/\S+ \(\+https:\/\/news\.example\.co\.uk; feed poller\)$/);
    expect(request.headers['user-agent']).toContain(BASE_URL);
    expect(request.headers.accept).toMatch(/application\/rss\+xml.*application\/atom\+xml.*application\/feed\+json/);
    expect(request.headers['accept-encoding']).toMatch(/gzip.*br.*deflate/);
    expect(s.changes.some((c) => c.sourceId === src.id && c.count === 2)).toBe(true);
  });

  it('sends the stored validators next time: a 304 is counted and changes nothing', async () => {
    const src = await s.addSource(s.at('/fixtures/atom-full.xml'));
    await s.poll(src.id);
    const stored = await s.articlesOf(src.id);
    const before = s.server.requests.length;
    s.t.clock.advance(900_000);
    const result = await s.poll(src.id);
    expect(result).toMatchObject({ outcome: 'not-modified', status: 304, itemsSeen: 0, itemsNew: 0 });
    const request = s.server.requests.slice(before).find((r) => r.path === '/fixtures/atom-full.xml')!;
    expect(request.headers['if-none-match']).toMatch(/^".+"$/);
    expect(request.headers['if-modified-since']).toBe('Mon, 03 Nov 2025 10:00:00 GMT');
    expect(await s.source(src.id)).toMatchObject({ lastOutcome: 'not-modified', lastStatus: 304, consecutiveFailures: 0 });
    expect(await s.articlesOf(src.id)).toEqual(stored);
    const metric = await s.t.deps.metrics.sourcePolls.get();
    expect(metric.values.find((v) => v.labels.outcome === 'not-modified')?.value).toBeGreaterThanOrEqual(1);
  });
});

describe('identity: never duplicate', () => {
  it('re-polling the same feed (a full 200 again) creates and changes nothing', async () => {
    const src = await s.addSource(s.at('/generated/5'));
    expect(await s.poll(src.id)).toMatchObject({ itemsNew: 5 });
    const first = await s.articlesOf(src.id);
    s.t.clock.advance(3600_000);
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'ok', status: 200, itemsSeen: 5, itemsNew: 0, itemsUpdated: 0 });
    expect(await s.articlesOf(src.id)).toEqual(first);
  });

  it('a changed item updates its article (new updatedAt), which keeps its id and guid', async () => {
    s.server.setFeed('changing', rss(item('a', 'First headline') + item('b', 'Other story')));
    const src = await s.addSource(s.at('/feeds/changing'));
    await s.poll(src.id);
    const [a1] = (await s.articlesOf(src.id)).filter((a) => a.externalId.endsWith(':a'));

    s.server.setFeed('changing', rss(item('a', 'Corrected headline') + item('b', 'Other story')));
    s.t.clock.advance(900_000);
    const changesBefore = s.changes.length;
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'ok', itemsSeen: 2, itemsNew: 0, itemsUpdated: 1 });
    const [a2] = (await s.articlesOf(src.id)).filter((a) => a.externalId.endsWith(':a'));
    expect(a2!.title).toBe('Corrected headline');
    expect(a2!.id).toBe(a1!.id);
    expect(a2!.guid).toBe(a1!.guid);
    expect(a2!.updatedAt.getTime()).toBe(s.t.clock.now().getTime());
    expect(a2!.updatedAt.getTime()).toBeGreaterThan(a1!.updatedAt.getTime());
    expect(s.changes.length).toBe(changesBefore + 1);
  });

  it('guid, else link, else a hash of title and date; dateless items keep their first date', async () => {
    const src = await s.addSource(s.at('/fixtures/rss-missing-guid-link-date.xml'));
    expect(await s.poll(src.id)).toMatchObject({ itemsSeen: 4, itemsNew: 4, itemsSkipped: 0 });
    const keys = (await s.articlesOf(src.id)).map((a) => a.externalId.slice(`source:${src.id}:`.length));
    // Only a link: the link. A permalink guid: the guid. Neither: a hash of title + date (+ text).
    expect(keys).toEqual(expect.arrayContaining(['https://minimal.example.com/only-link', 'https://minimal.example.com/permalink-guid']));
    expect(keys.filter((k) => /^sha256:[0-9a-f]{64}$/.test(k))).toHaveLength(2);
    const first = await s.articlesOf(src.id);

    // A full fetch again, an hour later: the items without a date must not "change" to a new date.
    await clearValidators(src.id);
    s.t.clock.advance(3600_000);
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'ok', status: 200, itemsNew: 0, itemsUpdated: 0 });
    expect(await s.articlesOf(src.id)).toEqual(first);
  });

  it('a guid repeated inside one feed is stored once (the first copy)', async () => {
    // parseFeed already drops repeated guids and links (tests/upstream); what reaches the poller is 3 items.
    const src = await s.addSource(s.at('/fixtures/rss-duplicate-guids.xml'));
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'ok', itemsSeen: 3, itemsNew: 3, itemsSkipped: 0 });
    const titles = (await s.articlesOf(src.id)).map((a) => a.title);
    expect(titles).toContain('First copy (kept)');
    expect(titles).not.toContain('Second copy (dropped)');
  });

  it("items whose identities collide after mapping (a guid equal to another item's link) are stored once, the rest counted", async () => {
    s.server.setFeed(
      'collide',
      rss(
        `<item><guid>https://wire.example.com/x</guid><title>Has the guid</title></item>` +
          `<item><title>Only the link</title><link>https://wire.example.com/x</link></item>` +
          item('y', 'Unrelated'),
      ),
    );
    const src = await s.addSource(s.at('/feeds/collide'));
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'ok', itemsSeen: 3, itemsNew: 2, itemsSkipped: 1 });
    expect((await s.articlesOf(src.id)).map((a) => a.title).sort()).toEqual(['Has the guid', 'Unrelated']);
    const row = await s.source(src.id);
    expect(row.itemErrors).toEqual([{ item: 1, key: 'https://wire.example.com/x', message: 'duplicates item 0 (same identity)' }]);
    expect(row.lastError).toBe('1 of 3 items skipped: item 1: duplicates item 0 (same identity)');
  });

  it('two sources carrying the same item keep one article each (identity is per source)', async () => {
    const a = await s.addSource(s.at('/fixtures/jsonfeed-1.1.json'));
    const b = await s.addSource(s.at('/fixtures/jsonfeed-1.1.json', 'mirror.example.test'));
    await s.poll(a.id);
    await s.poll(b.id);
    expect((await s.articlesOf(a.id)).length).toBe(2);
    expect((await s.articlesOf(b.id)).length).toBe(2);
  });

  it('a long key still makes an externalId of at most 200 characters', () => {
    expect(sourceArticleExternalId(7, 'k')).toBe('source:7:k');
    const long = sourceArticleExternalId(7, `https://x.example.com/${'a'.repeat(190)}`);
    expect(long).toMatch(/^source:7:sha256:[0-9a-f]{64}$/);
    expect(long.length).toBeLessThanOrEqual(200);
  });

  it('an article retracted here stays retracted when the item is polled again', async () => {
    s.server.setFeed('retract', rss(item('keep', 'Kept') + item('gone', 'Retracted here')));
    const src = await s.addSource(s.at('/feeds/retract'));
    await s.poll(src.id);
    const externalId = sourceArticleExternalId(src.id, 'gone');
    expect((await send(s.t.app, 'DELETE', `/api/v1/articles/${encodeURIComponent(externalId)}`)).status).toBe(204);
    await clearValidators(src.id);
    s.t.clock.advance(900_000);
    expect(await s.poll(src.id)).toMatchObject({ itemsNew: 0, itemsUpdated: 0, itemsSkipped: 1 });
    const [row] = (await s.articlesOf(src.id)).filter((a) => a.externalId === externalId);
    expect(row!.deletedAt).not.toBeNull();
  });
});

describe('status handling', () => {
  it('301 moves the stored URL; 302 does not', async () => {
    const moved = await s.addSource(s.at('/redirect/301/fixtures/rss091.xml'));
    const result = await s.poll(moved.id);
    expect(result).toMatchObject({ outcome: 'ok', movedTo: s.at('/fixtures/rss091.xml') });
    expect((await s.source(moved.id)).url).toBe(s.at('/fixtures/rss091.xml'));

    const temporary = await s.addSource(s.at('/redirect/302/fixtures/rss1-rdf.xml'));
    expect(await s.poll(temporary.id)).toMatchObject({ outcome: 'ok' });
    expect((await s.source(temporary.id)).url).toBe(s.at('/redirect/302/fixtures/rss1-rdf.xml'));
  });

  it('a 301 to a URL another source already polls keeps the URL and says why', async () => {
    await s.addSource(s.at('/fixtures/rss-no-version.xml'));
    const src = await s.addSource(s.at('/redirect/308/fixtures/rss-no-version.xml'));
    const result = await s.poll(src.id);
    expect(result.outcome).toBe('ok');
    expect(result.movedTo).toBeUndefined();
    const row = await s.source(src.id);
    expect(row.url).toBe(s.at('/redirect/308/fixtures/rss-no-version.xml'));
    expect(row.lastError).toMatch(/already polls; URL kept/);
  });

  it('429 with Retry-After: recorded, and the source is not polled again before it ends', async () => {
    const src = await s.addSource(s.at('/status/429'));
    const now = s.t.clock.now().getTime();
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'rate-limited', status: 429, errorCode: 'rate-limited' });
    const row = await s.source(src.id);
    expect(row).toMatchObject({ lastOutcome: 'rate-limited', lastStatus: 429, consecutiveFailures: 1 });
    expect(row.retryAfterUntil!.getTime()).toBe(now + 120_000);
    expect(row.nextPollAt.getTime()).toBeGreaterThanOrEqual(now + 120_000);
    const answer = await send(s.t.app, 'POST', `/api/v1/sources/${src.id}/poll`);
    expect(answer.status).toBe(409);
    expect(answer.body.detail).toMatch(/Retry-After/);
  });

  it('410 disables the source: no tick claims it again', async () => {
    const src = await s.addSource(s.at('/status/410'));
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'gone', status: 410, enabled: false });
    expect(await s.source(src.id)).toMatchObject({ enabled: false, lastOutcome: 'gone', lastStatus: 410 });
    s.t.clock.advance(2 * 86400_000);
    const tick = await pollDueSources(s.deps);
    expect(tick.results.map((r) => r.sourceId)).not.toContain(src.id);
  });

  it('failures back off exponentially and the next success recovers at once', async () => {
    const src = await s.addSource(s.at('/feeds/flaky'), { pollIntervalSeconds: 60 });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await s.poll(src.id);
      expect(r).toMatchObject({ outcome: 'error', status: 404, errorCode: 'http-status' });
      const row = await s.source(src.id);
      expect(row.consecutiveFailures).toBe(i + 1);
      waits.push(row.nextPollAt.getTime() - s.t.clock.now().getTime());
      s.t.clock.set(row.nextPollAt.toISOString());
    }
    expect(waits[0]).toBeGreaterThanOrEqual(120_000);
    expect(waits[1]).toBeGreaterThan(waits[0]!);
    expect(waits[2]).toBeGreaterThan(waits[1]!);
    expect(waits[2]).toBeGreaterThanOrEqual(480_000);

    s.server.setFeed('flaky', rss(item('f1', 'Back again')));
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'ok', itemsNew: 1 });
    const row = await s.source(src.id);
    expect(row.consecutiveFailures).toBe(0);
    expect(row.lastError).toBeNull();
    expect(row.nextPollAt.getTime() - s.t.clock.now().getTime()).toBe(60_000);
  });
});

describe('our own failures', () => {
  it('a database error while storing is recorded on the source (storage), keeps nothing and throws nothing', async () => {
    const src = await s.addSource(s.at('/fixtures/rss2-full.xml', 'storage.example.test'));
    const claimed = await claimSource(s.t.deps.db, src.id, { now: s.t.clock.now(), leaseMs: 600_000 });
    if (!claimed || claimed === 'busy') throw new Error('claim failed');
    let failed = false;
    // The first transaction (the store) fails as a dropped connection would; the rest work.
    const db = new Proxy(s.t.deps.db, {
      get(target, prop, receiver) {
        if (prop === 'transaction' && !failed) {
          failed = true;
          return async () => {
            throw new Error('Connection terminated unexpectedly');
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const result = await pollSource({ ...s.deps, db }, claimed);
    expect(result).toMatchObject({ outcome: 'error', status: 200, errorCode: 'storage', itemsNew: 0 });
    expect(result.error).toMatch(/could not store the items: Connection terminated unexpectedly/);
    const row = await s.source(src.id);
    expect(row).toMatchObject({ lastOutcome: 'error', lastErrorCode: 'storage', consecutiveFailures: 1, etag: null, leaseUntil: null });
    expect(await s.articlesOf(src.id)).toEqual([]);
  });
});

describe('leases', () => {
  it('a poller whose lease was taken over polls nothing and records nothing', async () => {
    const src = await s.addSource(s.at('/fixtures/rss2-full.xml', 'lease.example.test'));
    const stale = await claimSource(s.t.deps.db, src.id, { now: s.t.clock.now(), leaseMs: 1000 });
    if (!stale || stale === 'busy') throw new Error('claim failed');
    s.t.clock.advance(2000);
    const fresh = await claimSource(s.t.deps.db, src.id, { now: s.t.clock.now(), leaseMs: 600_000 });
    expect(fresh).not.toBe('busy');
    expect(await claimSource(s.t.deps.db, src.id, { now: s.t.clock.now(), leaseMs: 600_000 })).toBe('busy');
    const before = s.server.requests.length;
    const result = await pollSource(s.deps, stale);
    expect(result.outcome).toBe('skipped');
    expect(s.server.requests.length).toBe(before);
    expect((await s.source(src.id)).lastPollAt).toBeNull();
  });

  it('deleting a source keeps its articles (they no longer update)', async () => {
    const src = await s.addSource(s.at('/fixtures/rss-enclosure-quirks.xml'));
    await s.poll(src.id);
    const stored = await s.articlesOf(src.id);
    expect(stored.length).toBeGreaterThan(0);
    expect(await deleteSource(s.t.deps.db, src.id)).toBe(true);
    const answer = await send(s.t.app, 'GET', `/api/v1/articles/${encodeURIComponent(stored[0]!.externalId)}`);
    expect(answer.status).toBe(200);
    expect(await s.articlesOf(src.id)).toEqual([]);
  });
});

describe('politeness across sources', () => {
  it('at most SOURCE_CONCURRENCY polls at once, and one at a time per host', async () => {
    // Make every earlier source not due, so this tick only sees the new ones.
    await s.t.deps.db.update(sources).set({ nextPollAt: new Date('2100-01-01T00:00:00Z') });
    const hosts = ['h1', 'h2', 'h3', 'h4'];
    for (const h of hosts) {
      for (let i = 0; i < 2; i++) await s.addSource(s.at(`/slow/150/rss2-full.xml?n=${i}`, `${h}.example.test`));
    }
    s.server.resetPeaks();
    const tick = await pollDueSources(s.deps);
    expect(tick.claimed).toBe(8);
    expect(tick.outcomes.ok).toBe(8);
    const peaks = s.server.peakInFlight();
    expect(peaks.total).toBeLessThanOrEqual(3);
    expect(peaks.total).toBeGreaterThanOrEqual(2);
    for (const h of hosts) expect(peaks.byHost[`${h}.example.test:${s.server.port}`]).toBe(1);
  });
});

describe('into the feeds', () => {
  it('polled items appear in their category feeds (and item categories when asked)', async () => {
    s.server.setFeed(
      'sport',
      rss(
        `<item><guid>s1</guid><title>Cup final tonight</title><link>https://wire.example.com/s1</link><category>Football</category><pubDate>Mon, 03 Nov 2025 11:00:00 GMT</pubDate></item>`,
      ),
    );
    const src = await s.addSource(s.at('/feeds/sport'), { categories: ['Wire Sport'], useItemCategories: true });
    await s.poll(src.id);
    await s.t.feeds.refresh('manual');
    const parser = new Parser();
    for (const slug of ['wire-sport', 'football']) {
      const res = await s.t.app.request(`/feeds/${slug}.rss`);
      expect(res.status).toBe(200);
      const feed = await parser.parseString(await res.text());
      expect(feed.items.map((i) => i.title)).toContain('Cup final tonight');
    }
  });

  it('10,000 items in one feed: the first 1,000 are stored, the rest counted as skipped', async () => {
    const src = await s.addSource(s.at('/generated/10000'));
    const started = performance.now();
    const result = await s.poll(src.id);
    expect(result).toMatchObject({ outcome: 'ok', itemsSeen: 10_000, itemsNew: 1000, itemsSkipped: 9000 });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect((await s.source(src.id)).lastError).toMatch(/9000 items beyond the limit of 1000 per poll/);
  });
});

describe('logs', () => {
  it('one line per poll, without the credentials of a URL', async () => {
    const lines: string[] = [];
    const log = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const src = await s.addSource(s.at('/auth').replace('http://', 'http://user:secret@'));
    const claimed = await claimSource(s.t.deps.db, src.id, { now: s.t.clock.now(), leaseMs: 600_000 });
    if (!claimed || claimed === 'busy') throw new Error('claim failed');
    const result = await pollSource({ ...s.deps, log }, claimed);
    expect(result).toMatchObject({ outcome: 'ok', itemsNew: 2 });
    await new Promise((r) => setImmediate(r));
    const polled = lines.filter((l) => l.includes('"source polled"'));
    expect(polled).toHaveLength(1);
    expect(JSON.parse(polled[0]!)).toMatchObject({ sourceId: src.id, outcome: 'ok', status: 200, itemsNew: 2 });
    expect(lines.join('')).not.toContain('secret');
  });
});
