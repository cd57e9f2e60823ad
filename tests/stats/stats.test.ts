import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRobot, parseAggregator } from '../../src/domain/user-agent.js';
import { ReaderStats } from '../../src/reader-stats.js';
import { feedReaderStats, feedReaderVisits, readerStatsSalts } from '../../src/storage/schema.js';
import { activateSubscription } from '../../src/storage/websub.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, send } from '../helpers/builders.js';
import { startLiveApp } from '../websub/setup.js';

/**
 * Issue 7, "who reads what": aggregator subscriber counts from User-Agents (max per aggregator per
 * day), distinct other readers per day by a daily salted hash (no raw address stored), WebSub
 * subscribers; the API, the pages, and the cost on the serving path.
 */

describe('User-Agents that announce subscribers', () => {
  it('recognises the common aggregators and takes their count', () => {
    const cases: [string, string, number][] = [
      ['Feedly/1.0 (+http://www.feedly.com/fetcher.html; 16 subscribers; like FeedFetcher-Google)', 'Feedly', 16],
      ['Mozilla/5.0 (compatible; Inoreader/1.0; +https://www.inoreader.com; 23 subscribers)', 'Inoreader', 23],
      ['NewsBlur Feed Fetcher - 15 subscribers - https://www.newsblur.com/site/6211345/news (Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6))', 'NewsBlur', 15],
      ['Mozilla/5.0 (compatible; theoldreader.com; 5 subscribers; feed-id=0123abcd)', 'The Old Reader', 5],
      ['Feedbin feed-id:1234567 - 12 subscribers', 'Feedbin', 12],
      ['BazQux/2.4 (+https://bazqux.com/fetcher; 1 subscriber)', 'BazQux', 1],
      ['Netvibes (https://www.netvibes.com/; 3 subscribers; feedID: 42)', 'Netvibes', 3],
      ['SomeReader/2.0 (+https://somereader.example; 9 readers)', 'SomeReader', 9],
      ['Mozilla/5.0 (compatible; FancyFetcher/3.1; 4 subscribers)', 'FancyFetcher/3.1', 4],
    ];
    for (const [ua, client, subscribers] of cases) expect(parseAggregator(ua), ua).toEqual({ client: client.replace(/\/3\.1$/, ''), subscribers });
    expect(parseAggregator('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36')).toBeNull();
    expect(parseAggregator('NetNewsWire (RSS Reader; https://netnewswire.com/)')).toBeNull();
    expect(parseAggregator(undefined)).toBeNull();
    expect(isRobot('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)')).toBe(true);
    expect(isRobot('NetNewsWire (RSS Reader; https://netnewswire.com/)')).toBe(false);
  });
});

describe('counting readers', () => {
  let t: TestContext;
  const DAY0 = '2026-11-29';

  async function get(path: string, ua: string, ip = '198.51.100.1'): Promise<number> {
    const res = await t.app.request(path, { headers: { 'User-Agent': ua, 'X-Forwarded-For': `${ip}, 10.0.0.1` } });
    await res.arrayBuffer();
    return res.status;
  }

  beforeAll(async () => {
    t = await createTestContext({ env: { STATS_TRUST_FORWARDED_FOR: 'true', STATS_FLUSH_INTERVAL_MS: '600000' } });
    for (const cat of ['World', 'Sport']) {
      expect((await send(t.app, 'POST', '/api/v1/articles', { body: articleInput({ categories: [cat] }) })).status).toBe(201);
    }
    await t.feeds.refresh('change');
  });
  afterAll(async () => t?.close());

  it('aggregators: the largest count per aggregator, format and day; readers: distinct address + User-Agent; robots and 404s not at all', async () => {
    expect(await get('/feeds/world.rss', 'Feedly/1.0 (+http://www.feedly.com/fetcher.html; 16 subscribers; like FeedFetcher-Google)', '192.0.2.10')).toBe(200);
    expect(await get('/feeds/world.rss', 'Feedly/1.0 (+http://www.feedly.com/fetcher.html; 20 subscribers; like FeedFetcher-Google)', '192.0.2.11')).toBe(200);
    expect(await get('/feeds/world.rss', 'Feedly/1.0 (+http://www.feedly.com/fetcher.html; 18 subscribers; like FeedFetcher-Google)', '192.0.2.12')).toBe(200);
    expect(await get('/feeds/world.atom', 'Feedly/1.0 (+http://www.feedly.com/fetcher.html; 5 subscribers; like FeedFetcher-Google)')).toBe(200);
    expect(await get('/feeds/world.json', 'Mozilla/5.0 (compatible; Inoreader/1.0; +https://www.inoreader.com; 7 subscribers)')).toBe(200);
    // Three distinct readers (two polling several times, one with two formats), one robot, one 404.
    for (let i = 0; i < 3; i++) await get('/feeds/world.rss', 'NetNewsWire (RSS Reader; https://netnewswire.com/)', '203.0.113.7');
    await get('/feeds/world.atom', 'NetNewsWire (RSS Reader; https://netnewswire.com/)', '203.0.113.7');
    await get('/feeds/world.rss', 'NetNewsWire (RSS Reader; https://netnewswire.com/)', '203.0.113.8');
    await get('/feeds/world.rss?limit=5', 'Thunderbird/128.0', '203.0.113.7');
    await get('/feeds/world.rss', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', '66.249.66.1');
    expect(await get('/feeds/nowhere.rss', 'Thunderbird/128.0', '203.0.113.99')).toBe(404);
    // A 304 is a reader polling too.
    const reeder = { 'User-Agent': 'Reeder/5', 'X-Forwarded-For': '198.51.100.200' };
    const etag = (await t.app.request('/feeds/sport.rss', { headers: reeder })).headers.get('etag')!;
    const notModified = await t.app.request('/feeds/sport.rss', { headers: { 'If-None-Match': etag, ...reeder } });
    expect(notModified.status).toBe(304);
    await activateSubscription(t.deps.db, {
      topic: 'https://news.example.co.uk/feeds/world.atom',
      feedKey: 'world',
      format: 'atom',
      callback: 'https://reader.example.org/cb',
      secret: null,
      leaseSeconds: 3600,
      now: t.clock.now(),
    });
    await t.realtime.readers.flush();

    const stats = await send(t.app, 'GET', '/api/v1/feeds/stats');
    expect(stats.status, stats.text).toBe(200);
    const world = (stats.body.feeds as { feedKey: string }[]).find((f) => f.feedKey === 'world');
    expect(world).toMatchObject({
      feedKey: 'world',
      name: 'World',
      readers: 3,
      websub: 1,
      aggregators: [
        { client: 'Feedly', format: 'rss', subscribers: 20 },
        { client: 'Inoreader', format: 'json', subscribers: 7 },
        { client: 'Feedly', format: 'atom', subscribers: 5 },
      ],
      subscribers: 20 + 7 + 5 + 3 + 1,
    });
    const sport = (stats.body.feeds as { feedKey: string }[]).find((f) => f.feedKey === 'sport');
    expect(sport).toMatchObject({ readers: 1, subscribers: 1 });
    expect((stats.body.feeds as { feedKey: string }[]).map((f) => f.feedKey)).not.toContain('nowhere');
    expect(stats.body.day).toBe(DAY0);
  });

  it('never stores an address: salted hashes only, and only today and yesterday keep a salt', async () => {
    const visits = await t.deps.db.select().from(feedReaderVisits);
    const stats = await t.deps.db.select().from(feedReaderStats);
    const stored = JSON.stringify([visits, stats]);
    for (const ip of ['203.0.113.7', '203.0.113.8', '198.51.100.200', '192.0.2.10', '66.249.66.1']) expect(stored).not.toContain(ip);
    expect(stored).not.toContain('NetNewsWire');
    expect(visits.every((v) => /^[A-Za-z0-9_-]{22}$/.test(v.readerHash))).toBe(true);
    expect((await t.deps.db.select().from(readerStatsSalts)).map((s) => s.day)).toEqual([DAY0]);
  });

  it('needs a token with the ingest scope', async () => {
    expect((await send(t.app, 'GET', '/api/v1/feeds/stats', { token: null })).status).toBe(401);
    const created = await send(t.app, 'POST', '/api/v1/tokens', { body: { name: 'cms', scopes: ['ingest'] } });
    expect(created.status).toBe(201);
    expect((await send(t.app, 'GET', '/api/v1/feeds/stats', { token: created.body.token })).status).toBe(200);
    expect((await send(t.app, 'GET', '/api/v1/feeds/stats?days=0')).status).toBe(422);
  });

  it('the index page shows a subscriber line for every feed, the preview page its count', async () => {
    const index = await (await t.app.request('/')).text();
    expect(index).toMatch(/World<\/a><\/h2>[\s\S]*?<span class="subscribers">36 subscribers<\/span>/);
    expect(index).toMatch(/Sport<\/a><\/h2>[\s\S]*?<span class="subscribers">1 subscriber<\/span>/);
    expect(index).toMatch(/All articles<\/a><\/h2><div class="meta subscribers">0 subscribers<\/div>/);
    const preview = await (await t.app.request('/feeds/world')).text();
    expect(preview).toContain('<p class="meta subscribers">36 subscribers</p>');
  });

  it('days roll over: yesterday still counts, then its hashes become a count and its salt is deleted', async () => {
    t.clock.set('2026-11-30T08:00:00Z');
    await t.app.request('/feeds/world.rss', { headers: { 'User-Agent': 'NetNewsWire (RSS Reader; https://netnewswire.com/)', 'X-Forwarded-For': '203.0.113.7' } });
    await t.realtime.readers.flush();
    let stats = await send(t.app, 'GET', '/api/v1/feeds/stats');
    let world = (stats.body.feeds as { feedKey: string; readers: number; history: { day: string; readers: number }[] }[]).find((f) => f.feedKey === 'world')!;
    // The larger of today's (1) and yesterday's (3).
    expect(world.readers).toBe(3);
    expect(world.history.map((d) => [d.day, d.readers])).toEqual([
      ['2026-11-30', 1],
      [DAY0, 3],
    ]);
    // The same reader on another day is a different hash: days cannot be linked.
    const hashes = await t.deps.db.select().from(feedReaderVisits);
    const day0 = new Set(hashes.filter((h) => h.day === DAY0).map((h) => h.readerHash));
    expect(hashes.filter((h) => h.day === '2026-11-30').some((h) => day0.has(h.readerHash))).toBe(false);

    t.clock.set('2026-12-01T08:00:00Z');
    await t.realtime.readers.flush();
    expect((await t.deps.db.select().from(feedReaderVisits)).filter((v) => v.day === DAY0)).toEqual([]);
    stats = await send(t.app, 'GET', '/api/v1/feeds/stats?days=7');
    world = (stats.body.feeds as { feedKey: string; readers: number; history: { day: string; readers: number }[] }[]).find((f) => f.feedKey === 'world')!;
    expect(world.history.find((d) => d.day === DAY0)?.readers).toBe(3);
    expect((await t.deps.db.select().from(readerStatsSalts)).map((s) => s.day).sort()).not.toContain(DAY0);
  });
});

describe('the serving path', () => {
  const feedly = (subscribers: number) => `Feedly/1.0 (+http://www.feedly.com/fetcher.html; ${subscribers} subscribers; like FeedFetcher-Google)`;

  /** A live server (fast path in front of the router) with one World article; poll() fetches its RSS feed. */
  async function liveWorldFeed() {
    const live = await startLiveApp();
    expect((await send(live.t.app, 'POST', '/api/v1/articles', { body: articleInput({ categories: ['World'] }) })).status).toBe(201);
    const poll = async (ua: string) => {
      const res = await fetch(`${live.origin}/feeds/world.rss`, { headers: { 'User-Agent': ua } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    const rows = async () => {
      await live.t.realtime.readers.flush();
      return live.t.deps.db.select().from(feedReaderStats);
    };
    return { live, poll, rows };
  }

  it('the fast path counts its memory hits too', async () => {
    const { live, poll, rows } = await liveWorldFeed();
    try {
      for (let i = 0; i < 3; i++) await poll(feedly(42));
      expect(live.t.feeds.cache.get('world', 'rss')).toBeDefined();
      expect(await rows()).toEqual([expect.objectContaining({ feedKey: 'world', format: 'rss', client: 'Feedly', subscribers: 42, requests: 3 })]);
    } finally {
      await live.close();
    }
  });

  it('on one keep-alive connection a new User-Agent is a new tally, and a drain between two polls loses no request', async () => {
    const { live, poll, rows } = await liveWorldFeed();
    try {
      const sockets = new Set<string>();
      live.server.on('connection', (socket: { remotePort?: number }) => sockets.add(String(socket.remotePort)));
      await poll(feedly(10));
      await poll(feedly(10));
      // From here on the feed is answered from memory (the fast path), not by the router.
      expect(live.t.feeds.cache.get('world', 'rss')).toBeDefined();
      // The drain takes the tally the connection remembers: the next poll must start a new one.
      await live.t.realtime.readers.flush();
      await poll(feedly(10));
      await poll(feedly(30));
      await poll(feedly(30));
      await poll(feedly(10));
      expect(await rows()).toEqual([expect.objectContaining({ feedKey: 'world', format: 'rss', client: 'Feedly', subscribers: 30, requests: 6 })]);
      expect(sockets.size).toBe(1);
    } finally {
      await live.close();
    }
  });

  it('a keep-alive connection polling one feed is one tally: a million requests are all counted, and a flood of new clients is capped', async () => {
    const t = await createTestContext();
    try {
      const stats = t.realtime.readers;
      const connection = {};
      const feedly = 'Feedly/1.0 (+http://www.feedly.com/fetcher.html; 7 subscribers; like FeedFetcher-Google)';
      for (let i = 0; i < 1_000_000; i++) stats.record('world', 'rss', '203.0.113.7', feedly, connection);
      // The same client without a connection to remember it by, and another feed on the connection.
      for (let i = 0; i < 10; i++) stats.record('world', 'rss', '203.0.113.7', feedly);
      stats.record('world', 'atom', '203.0.113.7', feedly, connection);
      await stats.flush();
      const rows = await t.deps.db.select().from(feedReaderStats);
      expect(rows.map((r) => [r.format, r.client, r.subscribers, r.requests]).sort()).toEqual([
        ['atom', 'Feedly', 7, 1],
        ['rss', 'Feedly', 7, 1_000_010],
      ]);
      // After a drain the connection's remembered tally is stale: counting starts afresh.
      stats.record('world', 'rss', '203.0.113.7', feedly, connection);
      await stats.flush();
      expect((await t.deps.db.select().from(feedReaderStats)).find((r) => r.format === 'rss')?.requests).toBe(1_000_011);

      const dropped = async () => (await t.deps.metrics.readerRequests.get()).values.find((v) => v.labels.kind === 'dropped')?.value ?? 0;
      for (let i = 0; i < 100_005; i++) stats.record('world', 'rss', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'SomeReader/1.0');
      await stats.flush();
      expect(await dropped()).toBe(5);
    } finally {
      await t.close();
    }
  });
});
