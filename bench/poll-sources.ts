/**
 * The cost of polling upstream sources: 100 feeds served locally, 100 sources registered, then
 * pollDueSources run as the cron tick runs it:
 *
 *   cold       first poll: every feed fetched, parsed, normalised and stored (20 items each)
 *   warm-304   next tick: conditional GET, every feed answers 304
 *   warm-200   a tick where the servers ignore validators: full bodies again, nothing changed
 *
 * and prints wall time per tick, per-poll latency and the process's memory (RSS, heap).
 *
 *   npx tsx bench/poll-sources.ts [--sources 100] [--items 20] [--one-host]
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/poll-sources.ts
 *
 * PGlite runs in memory (the embedded default's engine, without disk); with DATABASE_URL a scratch
 * database is created on that server and dropped afterwards. Each source has its own host name
 * (resolved to 127.0.0.1 by an injected lookup) unless --one-host, which makes the per-host limit
 * serialise every poll. SOURCE_CONCURRENCY (default 4) and the other SOURCE_* variables apply.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { loadConfig } from '../src/config.js';
import { pollDueSources, type PollDeps, type PollTickSummary } from '../src/jobs/poll-sources.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { openDb, queryRows, type DbHandle } from '../src/storage/db.js';
import { migrateDb } from '../src/storage/migrate.js';
import { sources } from '../src/storage/schema.js';
import { insertSource } from '../src/storage/sources.js';
import { sql } from 'drizzle-orm';

const { values: args } = parseArgs({
  options: {
    sources: { type: 'string', default: '100' },
    items: { type: 'string', default: '20' },
    'one-host': { type: 'boolean', default: false },
  },
});
const SOURCES = Number(args.sources);
const ITEMS = Number(args.items);

const WORDS =
  'council river bridge budget school harbour minister election storm market festival court hospital railway museum weather'.split(' ');

function paragraph(seed: number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[(seed * 31 + i * 17 + (i % 7)) % WORDS.length]!);
  return `${out.join(' ')}.`;
}

/** One RSS 2.0 feed: ITEMS items with guid, link, date, author, category, a summary and ~2 KB of content:encoded. */
function feedBody(feed: number): Buffer {
  const items: string[] = [];
  const start = Date.UTC(2026, 10, 29, 8, 0, 0);
  for (let i = 0; i < ITEMS; i++) {
    const body = Array.from({ length: 6 }, (_, p) => `<p>${paragraph(feed * 1000 + i * 10 + p, 50)}</p>`).join('');
    items.push(
      `<item><guid isPermaLink="false">feed-${feed}-item-${i}</guid><title>${paragraph(feed + i, 8)}</title>` +
        `<link>https://publisher${feed}.example.com/news/${i}</link><pubDate>${new Date(start - (feed * ITEMS + i) * 60_000).toUTCString()}</pubDate>` +
        `<dc:creator>Reporter ${i % 5}</dc:creator><category>Section ${i % 3}</category>` +
        `<description>${paragraph(feed * 7 + i, 30)}</description><content:encoded><![CDATA[${body}]]></content:encoded></item>`,
    );
  }
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
      `<channel><title>Publisher ${feed}</title><link>https://publisher${feed}.example.com/</link><description>Feed ${feed}</description><language>en-gb</language>${items.join('')}</channel></rss>`,
  );
}

async function startFeedServer(honourValidators: { on: boolean }) {
  const bodies = Array.from({ length: SOURCES }, (_, i) => feedBody(i));
  const etags = bodies.map((b) => `"${createHash('sha256').update(b).digest('hex').slice(0, 16)}"`);
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    const m = /^\/feed\/(\d+)\.xml$/.exec(req.url ?? '');
    const i = m ? Number(m[1]) : -1;
    if (!m || i >= SOURCES) {
      res.writeHead(404).end();
      return;
    }
    if (honourValidators.on && req.headers['if-none-match'] === etags[i]) {
      res.writeHead(304, { ETag: etags[i] }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/rss+xml', ETag: etags[i]!, 'Content-Length': bodies[i]!.length }).end(bodies[i]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    bytesPerFeed: bodies[0]!.length,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function openBenchDb(): Promise<{ handle: DbHandle; kind: string; cleanup(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const handle = await openDb({ dataDir: 'memory://' });
    return { handle, kind: 'pglite (memory)', cleanup: () => handle.close() };
  }
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const name = `syndicate_bench_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`create database "${name}"`);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  const handle = await openDb({ databaseUrl: dbUrl.toString(), dataDir: '', poolMax: 10 });
  return {
    handle,
    kind: `postgres (${(await queryRows<{ v: string }>(handle.db, sql`select current_setting('server_version') as v`))[0]?.v})`,
    async cleanup() {
      await handle.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main() {
  const honour = { on: true };
  const server = await startFeedServer(honour);
  const db = await openBenchDb();
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? 'https://news.example.co.uk',
  });
  let clock = Date.parse('2026-11-29T09:00:00Z');
  const deps: PollDeps = {
    config,
    db: db.handle.db,
    log: createLogger('silent'),
    now: () => new Date(clock),
    metrics: createMetrics(),
    upstream: { lookup: async () => [{ address: '127.0.0.1', family: 4 }], allowedAddresses: ['127.0.0.1'] },
  };
  try {
    await migrateDb(db.handle);
    for (let i = 0; i < SOURCES; i++) {
      const host = args['one-host'] ? 'feeds.bench.test' : `publisher${i}.bench.test`;
      await insertSource(
        db.handle.db,
        {
          url: `http://${host}:${server.port}/feed/${i}.xml`,
          name: `Publisher ${i}`,
          categories: [`Bench ${i % 10}`],
          pollIntervalSeconds: 900,
          enabled: true,
          useItemCategories: false,
          fullContent: true,
        },
        deps.now(),
      );
    }
    global.gc?.();
    const baseline = process.memoryUsage();
    const rows: Record<string, unknown>[] = [];

    const tick = async (label: string) => {
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
      const requestsBefore = server.requests();
      const started = performance.now();
      const summary: PollTickSummary = await pollDueSources(deps);
      const ms = performance.now() - started;
      clearInterval(sampler);
      const mem = process.memoryUsage();
      peakRss = Math.max(peakRss, mem.rss);
      const polls = summary.results.map((r) => r.durationMs);
      rows.push({
        tick: label,
        claimed: summary.claimed,
        requests: server.requests() - requestsBefore,
        ok: summary.outcomes.ok,
        '304': summary.outcomes['not-modified'],
        errors: summary.outcomes.error,
        itemsNew: summary.itemsNew,
        itemsUpdated: summary.itemsUpdated,
        tickMs: Math.round(ms),
        msPerSource: Math.round((ms / Math.max(1, summary.claimed)) * 10) / 10,
        pollP50Ms: percentile(polls, 50),
        pollP95Ms: percentile(polls, 95),
        rssMB: mb(mem.rss),
        peakRssMB: mb(peakRss),
        heapUsedMB: mb(mem.heapUsed),
      });
    };

    await tick('cold');
    clock += 901_000;
    await tick('warm-304');
    clock += 901_000;
    honour.on = false;
    await tick('warm-200');

    const articles = (await queryRows<{ n: string | number }>(db.handle.db, sql`select count(*) as n from articles`))[0]?.n;
    const sourcesOk = (
      await queryRows<{ n: string | number }>(db.handle.db, sql`select count(*) as n from ${sources} where last_outcome = 'ok'`)
    )[0]?.n;
    const info = {
      database: db.kind,
      sources: SOURCES,
      itemsPerFeed: ITEMS,
      feedBytes: server.bytesPerFeed,
      hosts: args['one-host'] ? 1 : SOURCES,
      concurrency: config.SOURCE_CONCURRENCY,
      node: process.version,
      articlesStored: Number(articles),
      sourcesOk: Number(sourcesOk),
      baselineRssMB: mb(baseline.rss),
      baselineHeapMB: mb(baseline.heapUsed),
    };
    console.log(info);
    console.table(rows);
    console.log(JSON.stringify({ ...info, ticks: rows }));
  } finally {
    await db.cleanup();
    await server.close();
  }
}

await main();
