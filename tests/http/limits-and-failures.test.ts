import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { ADMIN_TOKEN, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, expectProblem, readAnswer, send } from '../helpers/builders.js';

// A small BODY_LIMIT_BYTES (413 for declared and streamed bodies), then the database goes away
// (500 problem with a request id and no stack; /readyz 503). One context: the failures run last.

const LIMIT = 2048;

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext({ env: { BODY_LIMIT_BYTES: String(LIMIT) } });
});
afterAll(async () => {
  // The database was closed on purpose below; closing again may complain.
  await t?.close().catch(() => {});
});

const bodyRoutes = [
  { method: 'POST', path: '/api/v1/articles' },
  { method: 'PUT', path: '/api/v1/articles/big-put' },
  { method: 'POST', path: '/api/v1/tokens' },
  { method: 'PUT', path: '/api/v1/categories/big-desk' },
];

/** A valid article whose JSON is `bytes` long (give or take a few), padded in its summary. */
function articleOfSize(bytes: number, externalId: string): string {
  const base = articleInput({ externalId, summary: '' });
  const padding = bytes - JSON.stringify(base).length;
  return JSON.stringify({ ...base, summary: 's'.repeat(Math.max(0, padding)) });
}

/** A body delivered as a stream of small chunks, without Content-Length (chunked transfer). */
function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + 256));
      offset += 256;
    },
  });
}

async function request(method: string, path: string, body: NonNullable<RequestInit['body']>, headers: Record<string, string> = {}) {
  const init: RequestInit & { duplex?: 'half' } = {
    method,
    body,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers },
  };
  if (body instanceof ReadableStream) init.duplex = 'half';
  return readAnswer(await t.app.request(path, init));
}

describe('BODY_LIMIT_BYTES', () => {
  it('a body within the limit is accepted', async () => {
    const body = articleOfSize(LIMIT - 50, 'fits');
    expect(body.length).toBeLessThanOrEqual(LIMIT);
    const answer = await request('POST', '/api/v1/articles', body);
    expect(answer.status, answer.text).toBe(201);
  });

  it.each(bodyRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: a declared Content-Length over the limit is a 413 problem', async (_, route) => {
    const body = articleOfSize(LIMIT + 1, 'big-put');
    const answer = await request(route.method, route.path, body, { 'content-length': String(Buffer.byteLength(body)) });
    expectProblem(answer, 413);
    expect(answer.body.type).toBe('/problems/payload-too-large');
    expect(answer.body.detail).toContain(String(LIMIT));
  });

  it.each(bodyRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: a streamed body without Content-Length over the limit is a 413 problem', async (_, route) => {
    const answer = await request(route.method, route.path, streamOf(articleOfSize(LIMIT * 4, 'big-put')), { 'x-request-id': 'streamed-413' });
    expectProblem(answer, 413);
    expect(answer.body.type).toBe('/problems/payload-too-large');
    expect(answer.body.requestId).toBe('streamed-413');
    expect(answer.headers.get('x-request-id')).toBe('streamed-413');
  });

  it('an oversize Content-Length is refused from the header alone, before the body is read', async () => {
    // The body itself is tiny (and would be a 422): only the declared length can make this a 413.
    const answer = await request('POST', '/api/v1/articles', '{}', { 'content-length': String(10 * 1024 * 1024) });
    expectProblem(answer, 413);
  });

  it('a body over the limit is measured in bytes, not characters', async () => {
    // 1,000 two-byte characters: under the limit in UTF-16 units, over it in UTF-8 bytes.
    const body = articleOfSize(0, 'multibyte').replace('"summary":""', `"summary":"${'é'.repeat(1000)}"`);
    expect(body.length).toBeLessThan(LIMIT);
    expect(Buffer.byteLength(body)).toBeGreaterThan(LIMIT);
    expectProblem(await request('POST', '/api/v1/articles', streamOf(body)), 413);
  });

  it('a batch over the limit is a 413 and stores nothing', async () => {
    const batch = JSON.stringify({ articles: [1, 2, 3, 4, 5, 6].map((i) => articleInput({ externalId: `big-batch-${i}` })) });
    expect(batch.length).toBeGreaterThan(LIMIT);
    expectProblem(await request('POST', '/api/v1/articles', batch), 413);
    expectProblem(await request('POST', '/api/v1/articles', streamOf(batch)), 413);
    expect((await send(t.app, 'GET', '/api/v1/articles/big-batch-1')).status).toBe(404);
  });

  it('nothing over the limit was stored', async () => {
    const list = await send(t.app, 'GET', '/api/v1/articles?limit=200');
    expect((list.body.items as { externalId: string }[]).map((a) => a.externalId)).toEqual(['fits']);
    expect((await send(t.app, 'GET', '/api/v1/tokens')).body.items).toEqual([]);
    const slugs = (await send(t.app, 'GET', '/api/v1/categories')).body.items.map((c: { slug: string }) => c.slug);
    expect(slugs).not.toContain('big-desk');
  });
});

describe('readiness', () => {
  it('GET /readyz is 503 while a committed migration is not applied', async () => {
    expect((await send(t.app, 'GET', '/readyz', { token: null })).status).toBe(200);
    await t.deps.db.execute(sql`delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations)`);
    const answer = await send(t.app, 'GET', '/readyz', { token: null });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ status: 'not-ready', database: 'ok', migrations: 'pending' });
  });
});

describe('when the database is gone', () => {
  const logged: Record<string, unknown>[] = [];

  beforeAll(async () => {
    t.deps.log = createLogger('info', { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    await t.deps.dbHandle.close();
  });

  it('an unexpected error is a 500 problem with the request id, and no stack or internals reach the client', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/v1/articles', undefined],
      ['GET', '/api/v1/articles/fits', undefined],
      ['POST', '/api/v1/articles', articleInput({ externalId: 'while-down' })],
      ['GET', '/api/v1/categories', undefined],
    ] as const) {
      const requestId = `down-${method}-${path.length}`;
      const answer = await send(t.app, method, path, { body, headers: { 'x-request-id': requestId } });
      expectProblem(answer, 500);
      expect(answer.body).toEqual({
        type: '/problems/internal-error',
        title: 'Internal server error',
        status: 500,
        detail: expect.stringContaining(requestId),
        instance: path,
        requestId,
      });
      expect(answer.headers.get('x-request-id')).toBe(requestId);
      expect(answer.text).not.toMatch(/\bat \S+ \(|\.ts:\d+|node_modules|stack|PGlite|postgres|closed|ended/i);
    }
  });

  it('the unexpected error is logged with its stack and request id', async () => {
    const entry = logged.find((l) => l.msg === 'unhandled error' && l.requestId === 'down-GET-16');
    expect(entry).toBeDefined();
    const err = entry!.err as { stack?: string; message?: string };
    expect(err.stack).toMatch(/\n\s+at /);
    const request = logged.find((l) => l.msg === 'request' && l.requestId === 'down-GET-16');
    expect(request).toMatchObject({ status: 500, method: 'GET', path: '/api/v1/articles' });
  });

  it('GET /readyz is 503 naming the database; GET /healthz is still 200', async () => {
    const ready = await send(t.app, 'GET', '/readyz', { token: null });
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not-ready', database: 'unreachable' });
    expect((await send(t.app, 'GET', '/healthz', { token: null })).status).toBe(200);
  });
});
