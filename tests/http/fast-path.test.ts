import { Agent, request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { createLogger } from '../../src/log.js';
import { feedSnapshots } from '../../src/storage/schema.js';
import { startService, type Service } from '../../src/service.js';
import { ADMIN_TOKEN, testConfig } from '../helpers/app.js';
import { articleInput } from '../helpers/builders.js';
import { TEST_DATABASE_URL, createTestDb, type TestDb } from '../helpers/db.js';

interface Answer {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

function get(port: number, path: string, method: string, headers: Record<string, string>, agent?: Agent | false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, ...(agent !== undefined ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
        resolve({ status: res.statusCode!, headers: pairs, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** What must agree between the fast path and the router (Date and the request id vary per request). */
function comparable(a: Answer) {
  return {
    status: a.status,
    headers: a.headers.filter(([k]) => !['date', 'x-request-id', 'connection', 'keep-alive'].includes(k)).sort(),
    body: a.body.toString('base64'),
  };
}

// The node:http fast path (src/http/fast-feeds.ts) answers memory hits without the router; this starts
// the real service on a port and checks both give the same answer for every kind of request.
describe('feed fast path', () => {
  let service: Service;
  let db: TestDb;
  const path = '/feeds/fast-lane.rss';

  beforeAll(async () => {
    db = await createTestDb();
    const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: 'memory://' };
    if (TEST_DATABASE_URL) env.DATABASE_URL = db.url!;
    service = await startService(testConfig(env), createLogger('silent'));
    const res = await fetch(`http://127.0.0.1:${service.port}/api/v1/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(articleInput({ categories: ['Fast Lane'], publishedAt: '2026-01-02T03:04:05Z' })),
    });
    expect(res.status).toBe(201);
    await service.feeds.refresh('change');
  });

  afterAll(async () => {
    await service?.stop();
    await db?.close();
  });

  it('answers a memory hit exactly as the router does, for every mix of method, coding and validators', async () => {
    const first = await get(service.port, path, 'GET', { 'accept-encoding': 'gzip' });
    expect(first.status).toBe(200);
    const etag = first.headers.find(([k]) => k === 'etag')![1];
    const lastModified = first.headers.find(([k]) => k === 'last-modified')![1];
    expect(service.feeds.cache.get('fast-lane', 'rss')).toBeDefined();

    const shapes: Record<string, string>[] = [];
    for (const ae of [undefined, 'gzip', 'br', 'identity', 'gzip;q=0']) {
      for (const inm of [undefined, etag, `W/${etag}`, '*', '"other"']) {
        for (const ims of [undefined, lastModified, 'garbage']) {
          const h: Record<string, string> = {};
          if (ae) h['accept-encoding'] = ae;
          if (inm) h['if-none-match'] = inm;
          if (ims) h['if-modified-since'] = ims;
          shapes.push(h);
        }
      }
    }
    // The router answers the same snapshot when the default limit is asked for explicitly.
    const hitsBefore = await service.deps.metrics.snapshotCache.get();
    for (const method of ['GET', 'HEAD']) {
      for (const headers of shapes) {
        const fast = await get(service.port, path, method, headers);
        const routed = await get(service.port, `${path}?limit=${service.deps.config.FEED_ITEM_LIMIT}`, method, headers);
        const f = comparable(fast);
        const r = comparable(routed);
        // The router's self link names the URL it was asked for; everything else must be identical.
        f.headers = f.headers.filter(([k]) => k !== 'link');
        r.headers = r.headers.filter(([k]) => k !== 'link');
        expect(f, `${method} ${JSON.stringify(headers)}`).toEqual(r);
        expect(fast.headers.some(([k]) => k === 'x-request-id')).toBe(true);
      }
    }
    const hitsAfter = await service.deps.metrics.snapshotCache.get();
    const count = (m: typeof hitsAfter) => m.values.filter((v) => v.labels.result === 'hit').reduce((a, v) => a + v.value, 0);
    expect(count(hitsAfter) - count(hitsBefore)).toBeGreaterThanOrEqual(shapes.length * 2 * 2);
  });

  it('keeps only gzip and br in memory, and answers identity with the body both stored codings decode to', async () => {
    await get(service.port, path, 'GET', { 'accept-encoding': 'gzip' });
    const cached = service.feeds.cache.get('fast-lane', 'rss')!;
    expect(cached.bodies.identity).toBeUndefined();
    const [stored] = await service.deps.db.select().from(feedSnapshots).where(and(eq(feedSnapshots.feedKey, 'fast-lane'), eq(feedSnapshots.format, 'rss')));
    const body = gunzipSync(stored!.bodyGzip);
    expect(Buffer.compare(brotliDecompressSync(stored!.bodyBrotli), body)).toBe(0);
    expect(stored!.identityLength).toBe(body.byteLength);
    expect(cached.identityLength).toBe(body.byteLength);
    const identity = await get(service.port, path, 'GET', {});
    expect(identity.status).toBe(200);
    expect(identity.headers.find(([k]) => k === 'content-encoding')).toBeUndefined();
    expect(Buffer.compare(identity.body, body)).toBe(0);
    expect(identity.body.toString('utf8')).toContain('<rss');
    const head = await get(service.port, path, 'HEAD', {});
    expect(head.headers.find(([k]) => k === 'content-length')?.[1]).toBe(String(body.byteLength));
    expect(head.body.byteLength).toBe(0);
  });

  it('a snapshot whose gzip will not decode gets a 500 problem for identity, not a crash; gzip still served', async () => {
    await get(service.port, path, 'GET', { 'accept-encoding': 'gzip' });
    const good = service.feeds.cache.get('fast-lane', 'rss')!;
    const broken = { ...good, bodies: { gzip: Buffer.from('not gzip at all'), br: good.bodies.br } };
    service.feeds.cache.set(broken);
    try {
      const identity = await get(service.port, path, 'GET', {});
      expect(identity.status).toBe(500);
      expect(identity.headers.find(([k]) => k === 'content-type')?.[1]).toContain('application/problem+json');
      const br = await get(service.port, path, 'GET', { 'accept-encoding': 'br' });
      expect(br.status).toBe(200);
    } finally {
      service.feeds.cache.set(good);
    }
  });

  it('echoes a sent X-Request-Id and counts every fast-path request in /metrics', async () => {
    const echoed = await get(service.port, path, 'GET', { 'x-request-id': 'fast-123' });
    expect(echoed.headers.find(([k]) => k === 'x-request-id')?.[1]).toBe('fast-123');
    // Without one (or with a malformed one) each answer gets its own id.
    const generated = new Set<string>();
    for (const headers of [{}, {}, { 'x-request-id': 'bad id with spaces' }] as Record<string, string>[]) {
      const id = (await get(service.port, path, 'GET', headers)).headers.find(([k]) => k === 'x-request-id')?.[1];
      expect(id).toMatch(/^[\w\-.:]{1,255}$/);
      generated.add(String(id));
    }
    expect(generated.size).toBe(3);
    const metrics = (await get(service.port, '/metrics', 'GET', {})).body.toString('utf8');
    const line = metrics.split('\n').find((l) => l.startsWith('syndicate_http_requests_total{') && l.includes('route="/feeds/:file"') && l.includes('status="200"') && l.includes('method="GET"'));
    expect(Number(line?.split(' ').pop())).toBeGreaterThan(0);
  });

  it('every fast-path answer is in the latency histogram: _count grows by exactly the requests made, in the text and JSON outputs', async () => {
    const series = (text: string, suffix: string, extra = '') =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`syndicate_http_request_duration_seconds_${suffix}{`) && l.includes('route="/feeds/:file"') && l.includes('method="HEAD"') && l.includes(extra))
          ?.split(' ')
          .pop() ?? 'NaN',
      );
    const scrape = async () => (await get(service.port, '/metrics', 'GET', {})).body.toString('utf8');
    await get(service.port, path, 'HEAD', {});
    const before = await scrape();
    for (let i = 0; i < 25; i++) await get(service.port, path, 'HEAD', {});
    const after = await scrape();
    expect(series(after, 'count') - series(before, 'count')).toBe(25);
    expect(series(after, 'bucket', 'le="+Inf"') - series(before, 'bucket', 'le="+Inf"')).toBe(25);
    expect(series(after, 'sum')).toBeGreaterThan(series(before, 'sum'));
    // Buckets stay cumulative: each bound holds at least the one below it.
    const buckets = after.split('\n').filter((l) => l.startsWith('syndicate_http_request_duration_seconds_bucket{') && l.includes('route="/feeds/:file"') && l.includes('method="HEAD"'));
    const values = buckets.map((l) => Number(l.split(' ').pop()));
    expect(values.length).toBe(13);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!);
    const json = await service.deps.metrics.httpDuration.get();
    const count = json.values.find((v) => v.metricName === 'syndicate_http_request_duration_seconds_count' && v.labels.method === 'HEAD' && v.labels.route === '/feeds/:file');
    expect(count?.value).toBe(series(after, 'count'));
  });

  it('one keep-alive connection changing what it asks gets the answer a fresh connection gets, each time', async () => {
    const first = await get(service.port, path, 'GET', { 'accept-encoding': 'gzip' }, false);
    const etag = first.headers.find(([k]) => k === 'etag')![1];
    const sequence: [string, Record<string, string>][] = [
      ['GET', { 'accept-encoding': 'gzip' }],
      ['GET', { 'accept-encoding': 'gzip' }],
      ['GET', { 'accept-encoding': 'gzip', 'if-none-match': etag }],
      ['GET', { 'accept-encoding': 'gzip', 'if-none-match': etag }],
      ['GET', { 'accept-encoding': 'br', 'if-none-match': etag }],
      ['HEAD', { 'accept-encoding': 'gzip' }],
      ['GET', {}],
      ['GET', { 'accept-encoding': 'gzip', 'if-none-match': '"other"' }],
      ['GET', { 'accept-encoding': 'gzip' }],
    ];
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    agent.on('free', (socket) => sockets.add(socket));
    try {
      for (const [method, headers] of sequence) {
        const kept = await get(service.port, path, method, headers, agent);
        const fresh = await get(service.port, path, method, headers, false);
        expect(comparable(kept), `${method} ${JSON.stringify(headers)}`).toEqual(comparable(fresh));
      }
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

