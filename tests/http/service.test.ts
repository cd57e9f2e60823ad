import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, expectProblem, readAnswer, send } from '../helpers/builders.js';

// Bad bodies (400, 415), problem+json on every error, request ids, health, OpenAPI and the docs page.

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t?.close());

/** Every route that reads a JSON body, with a valid body for it. */
const bodyRoutes = [
  { method: 'POST', path: '/api/v1/articles', valid: () => articleInput() },
  { method: 'PUT', path: '/api/v1/articles/body-put', valid: () => articleInput({ externalId: 'body-put' }) },
  { method: 'POST', path: '/api/v1/tokens', valid: () => ({ name: 'body', scopes: ['ingest'] }) },
  { method: 'PUT', path: '/api/v1/categories/body-desk', valid: () => ({ name: 'Body Desk' }) },
];

async function raw(method: string, path: string, body: RequestInit['body'], headers: Record<string, string>) {
  return readAnswer(await t.app.request(path, { method, body, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } }));
}

describe('bodies that are not JSON', () => {
  it.each(bodyRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: malformed JSON is a 400 problem', async (_, route) => {
    for (const body of ['{"externalId": "x",', '{externalId: "x"}', "{'a': 1}", '', '   ', '{"a":1}}']) {
      const answer = await raw(route.method, route.path, body, { 'content-type': 'application/json' });
      expectProblem(answer, 400);
      expect(answer.body.type).toBe('/problems/bad-request');
    }
  });

  it.each(bodyRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: a body that is not declared JSON is a 415 problem', async (_, route) => {
    const json = JSON.stringify(route.valid());
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json']) {
      const answer = await raw(route.method, route.path, json, { 'content-type': contentType });
      expectProblem(answer, 415);
      expect(answer.body.type).toBe('/problems/unsupported-media-type');
    }
    // No Content-Type at all.
    const bare = await t.app.request(route.path, { method: route.method, body: new Blob([json]), headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expectProblem(await readAnswer(bare), 415);
    // A form, as a browser or curl -d would send it.
    const form = new URLSearchParams({ externalId: 'form', title: 'x' });
    expectProblem(await raw(route.method, route.path, form, {}), 415);
  });

  it('JSON with a charset parameter, in upper case, or as a +json type is accepted', async () => {
    for (const [i, contentType] of ['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.syndicate+json'].entries()) {
      const answer = await raw('POST', '/api/v1/articles', JSON.stringify(articleInput({ externalId: `ct-${i}` })), { 'content-type': contentType });
      expect(answer.status, `${contentType}: ${answer.text}`).toBe(201);
      expect((await send(t.app, 'DELETE', `/api/v1/articles/ct-${i}`)).status).toBe(204);
    }
  });

  it('none of them stored anything', async () => {
    // The accepted ones above were retracted: only retractions remain.
    const deleted = await send(t.app, 'GET', '/api/v1/articles?deleted=true');
    expect((deleted.body.items as { externalId: string }[]).map((a) => a.externalId).sort()).toEqual(['ct-0', 'ct-1', 'ct-2']);
    expect((await send(t.app, 'GET', '/api/v1/articles/body-put')).status).toBe(404);
    expect((await send(t.app, 'GET', '/api/v1/articles?limit=200')).body.items).toEqual([]);
    expect((await send(t.app, 'GET', '/api/v1/tokens')).body.items).toEqual([]);
    const slugs = (await send(t.app, 'GET', '/api/v1/categories')).body.items.map((c: { slug: string }) => c.slug);
    expect(slugs).not.toContain('body-desk');
  });
});

describe('problem+json', () => {
  it('every kind of error answers application/problem+json with type, title, status and detail', async () => {
    const answers = [
      [400, await raw('POST', '/api/v1/articles', '{', { 'content-type': 'application/json' })],
      [401, await send(t.app, 'POST', '/api/v1/articles', { body: articleInput(), token: null })],
      [404, await send(t.app, 'GET', '/api/v1/articles/nope')],
      [404, await send(t.app, 'GET', '/no/such/route')],
      [415, await raw('POST', '/api/v1/articles', 'x', { 'content-type': 'text/plain' })],
      [422, await send(t.app, 'POST', '/api/v1/articles', { body: { title: 'only a title' } })],
    ] as const;
    for (const [status, answer] of answers) {
      expectProblem(answer, status);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body.type).toMatch(/^\/problems\/[a-z-]+$/);
      // Each type URI resolves to an explanation.
      const explained = await send(t.app, 'GET', answer.body.type as string, { token: null });
      expect(explained.status).toBe(200);
      expect(explained.text.length).toBeGreaterThan(10);
    }
  });

  it('a validation problem lists each error as {path, message}', async () => {
    const answer = await send(t.app, 'POST', '/api/v1/articles', { body: { externalId: 'v', title: 'x', url: 'nope', categories: [], publishedAt: '2026-11-28' } });
    expectProblem(answer, 422, ['url', 'categories', 'publishedAt']);
    expect(answer.body.title).toBe('Validation failed');
    expect(answer.body.detail).toContain('url');
    for (const e of answer.body.errors as { path: string; message: string }[]) expect(e.message.length).toBeGreaterThan(0);
  });

  it('an unknown route is a 404 problem, with or without a token, for any method', async () => {
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['POST', '/api/v1/nowhere'],
      ['GET', '/api/v2/articles'],
      ['DELETE', '/api/v1/categories/world'],
      ['GET', '/problems/no-such-problem'],
    ] as const) {
      for (const token of [null, ADMIN_TOKEN]) {
        const answer = await send(t.app, method, path, { token });
        expectProblem(answer, 404);
        expect(answer.body.type).toBe('/problems/not-found');
      }
    }
  });
});

describe('X-Request-Id', () => {
  it('is honoured when sent and echoed on the response, errors included', async () => {
    const ok = await send(t.app, 'GET', '/healthz', { headers: { 'x-request-id': 'cms-run-42' } });
    expect(ok.headers.get('x-request-id')).toBe('cms-run-42');

    const failed = await send(t.app, 'GET', '/api/v1/articles/nope', { headers: { 'x-request-id': 'cms-run-43' } });
    expect(failed.headers.get('x-request-id')).toBe('cms-run-43');
    expect(failed.body.requestId).toBe('cms-run-43');

    const unauthorized = await send(t.app, 'POST', '/api/v1/articles', { body: articleInput(), token: null, headers: { 'x-request-id': 'cms-run-44' } });
    expect(unauthorized.headers.get('x-request-id')).toBe('cms-run-44');
    expect(unauthorized.body.requestId).toBe('cms-run-44');
  });

  it('is generated when absent, different for each request', async () => {
    const a = await send(t.app, 'GET', '/healthz');
    const b = await send(t.app, 'GET', '/no/such/route');
    const idA = a.headers.get('x-request-id');
    const idB = b.headers.get('x-request-id');
    expect(idA).toMatch(/^[\w-]{8,}$/);
    expect(idB).toMatch(/^[\w-]{8,}$/);
    expect(idA).not.toBe(idB);
    expect(b.body.requestId).toBe(idB);
  });

  it('an unusable incoming id (unsafe characters, too long) is replaced, not echoed', async () => {
    for (const sent of ['a'.repeat(300), '<script>alert(1)</script>', 'two words', 'line\\nbreak']) {
      const answer = await t.app.request('/healthz', { headers: { 'x-request-id': sent } });
      const echoed = answer.headers.get('x-request-id');
      expect(echoed).not.toBe(sent);
      expect(echoed).toMatch(/^[\w-]{8,255}$/);
    }
  });
});

describe('operations', () => {
  it('GET /healthz is 200 without a token', async () => {
    const answer = await send(t.app, 'GET', '/healthz', { token: null });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 with the database and migrations ok', async () => {
    const answer = await send(t.app, 'GET', '/readyz', { token: null });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ready', database: 'ok', migrations: 'ok' });
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('GET /openapi.json is an OpenAPI 3.1 document with the article paths and the article request schema', async () => {
    const answer = await send(t.app, 'GET', '/openapi.json', { token: null });
    expect(answer.status).toBe(200);
    const doc = answer.body as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; security?: unknown[] }>>;
      components?: { securitySchemes?: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\.1\./);

    // Exactly the routes served: no trailing slash (/api/v1/articles/ is a 404).
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/articles', '/api/v1/articles/{externalId}', '/api/v1/tokens', '/api/v1/tokens/{id}', '/api/v1/categories', '/api/v1/categories/{slug}']));

    const articles = doc.paths['/api/v1/articles']!;
    expect(Object.keys(articles)).toEqual(expect.arrayContaining(['get', 'post']));
    const item = doc.paths['/api/v1/articles/{externalId}']!;
    expect(Object.keys(item)).toEqual(expect.arrayContaining(['get', 'put', 'delete']));

    // The request body schema is the one that validates: it names every article field and the required ones.
    const schemaText = JSON.stringify(articles.post!.requestBody!.content['application/json']!.schema);
    for (const field of ['externalId', 'title', 'url', 'summary', 'contentHtml', 'authors', 'categories', 'tags', 'publishedAt', 'updatedAt', 'imageUrl', 'language', 'enclosures', 'status']) {
      expect(schemaText).toContain(`"${field}"`);
    }
    expect(schemaText).toMatch(/"required":\[[^\]]*"externalId"/);
    expect(schemaText).toContain('"maxItems":1000');
    expect(schemaText).toMatch(/"enum":\["published","draft"\]/);
    expect(articles.post!.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components?.securitySchemes?.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('GET /docs serves an HTML page whose scripts and styles come from this service', async () => {
    const page = await send(t.app, 'GET', '/docs', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toContain('/docs/assets/swagger-ui-bundle.js');
    for (const asset of assets) {
      if (asset === '/openapi.json') continue;
      expect(asset, 'no CDN').toMatch(/^\/docs\/assets\//);
      const answer = await send(t.app, 'GET', asset, { token: null });
      expect(answer.status, asset).toBe(200);
      expect(answer.text.length, asset).toBeGreaterThan(asset.endsWith('init.js') ? 20 : 10_000);
      expect(answer.headers.get('content-type'), asset).toMatch(asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
    }
    const bundle = await send(t.app, 'GET', '/docs/assets/swagger-ui-bundle.js', { token: null });
    expect(bundle.text).toContain('SwaggerUIBundle');
    expectProblem(await send(t.app, 'GET', '/docs/assets/package.json', { token: null }), 404);
    expectProblem(await send(t.app, 'GET', '/docs/assets/..%2Fpackage.json', { token: null }), 404);
  });
});
