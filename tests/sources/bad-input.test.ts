import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollDueSources, type PollTickSummary } from '../../src/jobs/poll-sources.js';
import type { SourceRow } from '../../src/storage/sources.js';
import { createSourcesContext, MISSING_HOST, PRIVATE_HOST, type SourcesContext } from './setup.js';

// Every bad input from the issue, all due in one tick next to healthy sources: each ends as an outcome
// recorded on its source (status, error, next poll) and none stops, stalls or harms the others.

interface Case {
  name: string;
  /** Path on the fixture server (or a full URL). */
  path: string;
  outcome: 'ok' | 'error' | 'not-modified' | 'rate-limited' | 'gone';
  errorCode?: string | null;
  status?: number | null;
  error?: RegExp;
  check?: (source: SourceRow, s: SourcesContext) => Promise<void> | void;
}

const cases: Case[] = [
  { name: 'malformed XML', path: '/fixtures/malformed.xml', outcome: 'error', errorCode: 'parse', status: 200, error: /not a usable feed/ },
  {
    name: 'HTML instead of a feed',
    path: '/fixtures/html-page.html',
    outcome: 'error',
    errorCode: 'parse',
    status: 200,
    error: /HTML page, not a feed.*advertises a feed/,
  },
  { name: 'an empty body', path: '/empty', outcome: 'error', errorCode: 'parse', status: 200, error: /empty body/ },
  { name: 'a feed of 50 MB', path: '/big', outcome: 'error', errorCode: 'too-large', error: /larger than/ },
  { name: 'a declared 50 MB', path: '/big-declared', outcome: 'error', errorCode: 'too-large' },
  { name: 'a gzip bomb', path: '/gzip-bomb', outcome: 'error', errorCode: 'too-large' },
  { name: 'headers then a stall (slowloris)', path: '/slowloris', outcome: 'error', errorCode: 'timeout' },
  { name: 'no answer at all', path: '/stall', outcome: 'error', errorCode: 'timeout' },
  { name: 'a redirect loop', path: '/loop/a', outcome: 'error', errorCode: 'too-many-redirects', error: /redirect loop/ },
  { name: 'too many redirects', path: '/chain/7', outcome: 'error', errorCode: 'too-many-redirects' },
  {
    name: 'a redirect to a private address',
    path: '/redirect-to?status=302&to=http://10.1.2.3/feed.xml',
    outcome: 'error',
    errorCode: 'forbidden-address',
    error: /10\.1\.2\.3/,
  },
  {
    name: 'a redirect to the metadata address',
    path: '/redirect-to?status=301&to=http://169.254.169.254/latest/',
    outcome: 'error',
    errorCode: 'forbidden-address',
    error: /link-local/,
  },
  {
    name: 'a redirect to a name resolving privately',
    path: `/redirect-to?status=302&to=http://${PRIVATE_HOST}/feed.xml`,
    outcome: 'error',
    errorCode: 'forbidden-address',
  },
  {
    name: 'a billion-laughs document',
    path: '/fixtures/billion-laughs.xml',
    outcome: 'error',
    errorCode: 'parse',
    check: (src) => expect(src.lastError).not.toContain('lollol'),
  },
  {
    name: 'an external-entity document',
    path: '/fixtures/xxe.xml',
    outcome: 'error',
    errorCode: 'parse',
    check: (src) => expect(src.lastError ?? '').not.toMatch(/root:/),
  },
  { name: 'bad gzip', path: '/bad-gzip', outcome: 'error', errorCode: 'decoding' },
  { name: 'an HTTP 500', path: '/status/500', outcome: 'error', errorCode: 'http-status', status: 500 },
  { name: 'a 503 without Retry-After', path: '/status/503', outcome: 'error', errorCode: 'http-status', status: 503 },
  { name: 'a 503 with Retry-After', path: '/status/503-date', outcome: 'rate-limited', errorCode: 'rate-limited', status: 503 },
  { name: 'a 429 with Retry-After', path: '/status/429', outcome: 'rate-limited', errorCode: 'rate-limited', status: 429 },
  { name: 'a 410', path: '/status/410', outcome: 'gone', errorCode: 'gone', status: 410, check: (src) => expect(src.enabled).toBe(false) },
  {
    name: 'a DNS failure (unresolvable host)',
    path: 'dns',
    outcome: 'error',
    errorCode: 'dns',
    error: /cannot resolve nxdomain\.example\.test/,
  },
  {
    name: 'a TLS failure (https to a plain-HTTP port)',
    path: 'tls',
    outcome: 'error',
    check: (src) => expect(['tls', 'connection', 'protocol']).toContain(src.lastErrorCode),
  },
  {
    name: 'a JSON Feed with a missing id',
    path: '/fixtures/jsonfeed-missing-id.json',
    outcome: 'ok',
    status: 200,
    check: async (src, s) => expect((await s.articlesOf(src.id)).length).toBe(src.itemsNew),
  },
  {
    name: 'items without guid, link or date',
    path: '/fixtures/rss-missing-guid-link-date.xml',
    outcome: 'ok',
    check: (src) => expect(src.itemsNew).toBe(4),
  },
  {
    name: 'invalid dates',
    path: '/fixtures/rss-invalid-dates.xml',
    outcome: 'ok',
    check: async (src, s) => {
      expect(src.itemsSkipped).toBe(0);
      for (const a of await s.articlesOf(src.id)) expect(Number.isNaN(a.publishedAt.getTime())).toBe(false);
    },
  },
  {
    name: 'relative links',
    path: '/fixtures/rss-relative-links.xml',
    outcome: 'ok',
    check: async (src, s) => {
      for (const a of await s.articlesOf(src.id)) expect(a.url).toMatch(/^https?:\/\//);
    },
  },
  {
    name: 'a title of 10,000 characters',
    path: '/fixtures/rss-long-title.xml',
    outcome: 'ok',
    check: async (src, s) => {
      const [a] = await s.articlesOf(src.id);
      expect(a!.title.length).toBeLessThanOrEqual(500);
      expect(a!.title.endsWith('…')).toBe(true);
    },
  },
  {
    name: 'duplicate guids inside one feed',
    path: '/fixtures/rss-duplicate-guids.xml',
    outcome: 'ok',
    check: (src) => expect(src.itemsNew).toBe(3),
  },
  {
    name: '10,000 items in one feed',
    path: '/generated/10000',
    outcome: 'ok',
    check: (src) => expect([src.itemsNew, src.itemsSkipped]).toEqual([1000, 9000]),
  },
];

let s: SourcesContext;
let tick: PollTickSummary;
let tickMs: number;
const ids = new Map<string, number>();
let healthy: number[] = [];

beforeAll(async () => {
  // Everything shares this thread: the fixture server, the poller and, on PGlite, the database, whose
  // 1,000-item store holds the event loop for up to a second at a time. An 8 s timeout and a 4 MB cap
  // (the 10,000-item feed is 2.3 MB) keep the slow-but-legitimate polls well inside their budget.
  s = await createSourcesContext({ SOURCE_CONCURRENCY: '8', SOURCE_TIMEOUT_MS: '8000', SOURCE_MAX_BYTES: String(4 * 1024 * 1024) });
  // The fixture server builds its gzip bomb on first use, in this process: build it before the clock
  // starts, or its CPU time shows up as timeouts in unrelated sources.
  await new Promise<void>((resolve, reject) => {
    http.get(`http://127.0.0.1:${s.server.port}/gzip-bomb`, (res) => res.resume().on('end', resolve)).on('error', reject);
  });
  // Each case on its own host name, so the per-host limit does not serialise them.
  for (const [i, c] of cases.entries()) {
    const host = `case${i}.example.test`;
    const url =
      c.path === 'dns'
        ? s.at('/fixtures/rss2-full.xml', MISSING_HOST)
        : c.path === 'tls'
          ? s.at('/fixtures/rss2-full.xml', host).replace('http:', 'https:')
          : s.at(c.path, host);
    ids.set(c.name, (await s.addSource(url)).id);
  }
  healthy = [
    (await s.addSource(s.at('/fixtures/rss2-full.xml', 'good1.example.test'))).id,
    (await s.addSource(s.at('/gzip/atom-full.xml', 'good2.example.test'))).id,
    (await s.addSource(s.at('/br/jsonfeed-1.1.json', 'good3.example.test'))).id,
  ];
  const started = performance.now();
  tick = await pollDueSources(s.deps);
  tickMs = performance.now() - started;
}, 120_000);
afterAll(async () => s?.close());

describe('one tick over every bad input', () => {
  it('claims and settles every source; the stalls cost one timeout, not one each', () => {
    expect(tick.claimed).toBe(cases.length + healthy.length);
    expect(tick.results).toHaveLength(tick.claimed);
    expect(tick.outcomes.skipped).toBe(0);
    // Four sources stall until the 8 s timeout, 8 polls at a time: the tick costs about one timeout,
    // not the sum of four.
    expect(tickMs).toBeLessThan(20_000);
  });

  it('the healthy sources polled in the same tick stored their items', async () => {
    for (const id of healthy) {
      const src = await s.source(id);
      expect(src.lastOutcome, src.lastError ?? '').toBe('ok');
      expect((await s.articlesOf(id)).length).toBe(2);
    }
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const src = await s.source(ids.get(c.name)!);
    const now = s.t.clock.now().getTime();
    expect(src.lastOutcome, `${src.lastErrorCode}: ${src.lastError}`).toBe(c.outcome);
    expect(src.lastPollAt?.getTime()).toBe(now);
    expect(src.leaseUntil).toBeNull();
    if (c.errorCode !== undefined) expect(src.lastErrorCode).toBe(c.errorCode);
    if (c.status !== undefined) expect(src.lastStatus).toBe(c.status);
    if (c.error) expect(src.lastError).toMatch(c.error);
    if (c.outcome === 'ok') {
      expect(src.consecutiveFailures).toBe(0);
      expect(src.nextPollAt.getTime()).toBe(now + 900_000);
    } else {
      expect(src.consecutiveFailures).toBe(1);
      expect(src.lastError).toBeTruthy();
      // Failures wait at least twice the interval (back-off), never less.
      if (c.outcome !== 'gone') expect(src.nextPollAt.getTime()).toBeGreaterThanOrEqual(now + 1_800_000);
    }
    await c.check?.(src, s);
  });
});

describe('nothing stored is lost when a feed goes bad', () => {
  it.each([
    ['malformed XML', '<rss version="2.0"><channel><item><title>oops</ti'],
    ['HTML', '<!doctype html><html><head><title>Moved</title></head><body>Our feed moved</body></html>'],
    ['an empty document', ''],
  ])('%s after a good poll keeps every article and the validators', async (_name, bad) => {
    const name = `goes-bad-${Math.random().toString(36).slice(2)}`;
    s.server.setFeed(
      name,
      '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://ok.example.com/</link><description>d</description>' +
        '<item><guid>k1</guid><title>Kept one</title><link>https://ok.example.com/1</link><pubDate>Mon, 03 Nov 2025 09:00:00 GMT</pubDate></item>' +
        '<item><guid>k2</guid><title>Kept two</title><link>https://ok.example.com/2</link><pubDate>Mon, 03 Nov 2025 08:00:00 GMT</pubDate></item>' +
        '</channel></rss>',
    );
    const src = await s.addSource(s.at(`/feeds/${name}`, 'bad-later.example.test'));
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'ok', itemsNew: 2 });
    const before = await s.articlesOf(src.id);
    const good = await s.source(src.id);

    s.server.setFeed(name, bad);
    s.t.clock.advance(900_000);
    expect(await s.poll(src.id)).toMatchObject({ outcome: 'error', errorCode: 'parse', status: 200 });
    expect(await s.articlesOf(src.id)).toEqual(before);
    // The validators of the last good response stay, so the bad body is not mistaken for "unchanged".
    expect((await s.source(src.id)).etag).toBe(good.etag);
  });
});
