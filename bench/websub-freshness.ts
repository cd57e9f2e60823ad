/**
 * WebSub freshness (issue 7): time from the ingest API's 2xx to a subscriber receiving the new article
 * in a push, over N articles (default 100). The real service (startService: fast path, refresh on
 * change, hub, delivery worker) on 127.0.0.1, a minimal subscriber on 127.0.0.1, one article at a time
 * (each waits for its push: the figure is per article, not hidden by batching).
 *
 *   npx tsx bench/websub-freshness.ts                        # embedded PGlite (in memory)
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench npx tsx bench/websub-freshness.ts
 *   ARTICLES=300 npx tsx bench/websub-freshness.ts
 *
 * Prints a table and one JSON line. Target (issue 7): p99 under 2 s.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';

const ARTICLES = Number(process.env.ARTICLES ?? 100);
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdefghijklmnop';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function main(): Promise<void> {
  // The subscriber: echoes challenges, records when each article title first arrives in a push.
  const receivedAt = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const subscriber = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://subscriber');
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(url.searchParams.get('hub.challenge') ?? '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(204).end();
      const feed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items: { title?: string }[] };
      for (const item of feed.items) {
        if (item.title && !receivedAt.has(item.title)) {
          receivedAt.set(item.title, at);
          waiters.get(item.title)?.();
        }
      }
    });
  });
  await new Promise<void>((resolve) => subscriber.listen(0, '127.0.0.1', resolve));
  const callback = `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}/cb`;

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: origin,
    ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    DATABASE_URL: process.env.DATABASE_URL,
    WEBSUB_ALLOW_PRIVATE: 'true',
  });
  const service = await startService(config, createLogger('silent'));
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  try {
    await (await api('PUT', '/api/v1/categories/breaking', { name: 'Breaking' })).arrayBuffer();
    const topic = `${origin}/feeds/breaking.json`;
    await (await fetch(topic)).arrayBuffer();
    const subscribed = await fetch(`${origin}/websub`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': callback }).toString(),
    });
    if (subscribed.status !== 202) throw new Error(`subscribe: ${subscribed.status} ${await subscribed.text()}`);
    await service.realtime.verifyIdle();

    const latencies: number[] = [];
    let missed = 0;
    const started = Date.now();
    for (let i = 0; i < ARTICLES; i++) {
      const title = `Freshness ${i} ${started}`;
      const arrived = new Promise<void>((resolve) => waiters.set(title, resolve));
      const res = await api('POST', '/api/v1/articles', {
        externalId: `fresh-${started}-${i}`,
        title,
        url: `https://news.example.com/fresh/${i}`,
        summary: 'A freshness probe.',
        categories: ['Breaking'],
        publishedAt: new Date(Date.now() - 1000).toISOString(),
      });
      const acknowledged = performance.now();
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`ingest ${i}: ${res.status}`);
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
      if ((await Promise.race([arrived, timeout])) === 'timeout') {
        missed += 1;
        continue;
      }
      latencies.push(receivedAt.get(title)! - acknowledged);
      await new Promise((r) => setTimeout(r, 20));
    }
    latencies.sort((a, b) => a - b);
    const result = {
      benchmark: 'websub-freshness',
      database: service.deps.dbHandle.kind,
      articles: ARTICLES,
      received: latencies.length,
      missed,
      p50Ms: Math.round(percentile(latencies, 50)),
      p90Ms: Math.round(percentile(latencies, 90)),
      p99Ms: Math.round(percentile(latencies, 99)),
      maxMs: Math.round(latencies.at(-1)!),
      minMs: Math.round(latencies[0]!),
    };
    console.log('\nWebSub freshness: ingest 2xx → subscriber receives the push');
    console.log(`database ${result.database}, ${result.received}/${result.articles} received, ${result.missed} missed (10 s)`);
    console.log('  min     p50     p90     p99     max');
    console.log(`  ${[result.minMs, result.p50Ms, result.p90Ms, result.p99Ms, result.maxMs].map((v) => `${v} ms`.padEnd(8)).join('')}`);
    console.log(JSON.stringify(result));
    if (result.p99Ms > 2000 || missed > 0) process.exitCode = 1;
  } finally {
    await service.stop();
    await new Promise<void>((resolve) => subscriber.close(() => resolve()));
  }
}

await main();
