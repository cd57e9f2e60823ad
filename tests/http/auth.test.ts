import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens } from '../../src/storage/schema.js';
import { ADMIN_TOKEN, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, expectProblem, send } from '../helpers/builders.js';

// Bearer tokens on every write route: 401 without a valid one, 403 without the scope, tokens stored
// hashed and shown once.

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
  // Something for the article routes to find.
  expect((await send(t.app, 'POST', '/api/v1/articles', { body: articleInput({ externalId: 'auth-existing' }) })).status).toBe(201);
});
afterAll(async () => t?.close());

const SOME_UUID = '00000000-0000-4000-8000-000000000000';

interface Route {
  method: string;
  path: string;
  body?: unknown;
}

const ingestRoutes: Route[] = [
  { method: 'POST', path: '/api/v1/articles', body: articleInput({ externalId: 'auth-post' }) },
  { method: 'POST', path: '/api/v1/articles', body: { articles: [articleInput({ externalId: 'auth-batch' })] } },
  { method: 'PUT', path: '/api/v1/articles/auth-put', body: articleInput({ externalId: 'auth-put' }) },
  { method: 'DELETE', path: '/api/v1/articles/auth-existing' },
  { method: 'GET', path: '/api/v1/articles' },
  { method: 'GET', path: '/api/v1/articles/auth-existing' },
];

const adminRoutes: Route[] = [
  { method: 'POST', path: '/api/v1/tokens', body: { name: 'sneaky', scopes: ['admin'] } },
  { method: 'GET', path: '/api/v1/tokens' },
  { method: 'DELETE', path: `/api/v1/tokens/${SOME_UUID}` },
  { method: 'PUT', path: '/api/v1/categories/auth-desk', body: { name: 'Auth Desk' } },
];

const allRoutes = [...ingestRoutes, ...adminRoutes];
const label = (r: Route) => `${r.method} ${r.path}${r.body && 'articles' in (r.body as object) ? ' (batch)' : ''}`;

async function createToken(name: string, scopes: string[]) {
  const answer = await send(t.app, 'POST', '/api/v1/tokens', { body: { name, scopes } });
  expect(answer.status, answer.text).toBe(201);
  return answer.body as { id: string; token: string; prefix: string; name: string; scopes: string[] };
}

/** Nothing a rejected request could have written is there. */
async function expectNothingWritten() {
  for (const id of ['auth-post', 'auth-batch', 'auth-put']) {
    expect((await send(t.app, 'GET', `/api/v1/articles/${id}`)).status, id).toBe(404);
  }
  expect((await send(t.app, 'GET', '/api/v1/articles/auth-existing')).body.deletedAt).toBeNull();
  const categories = await send(t.app, 'GET', '/api/v1/categories', { token: null });
  expect((categories.body.items as { slug: string }[]).map((c) => c.slug)).not.toContain('auth-desk');
  const tokens = await send(t.app, 'GET', '/api/v1/tokens');
  expect((tokens.body.items as { name: string }[]).map((x) => x.name)).not.toContain('sneaky');
}

describe('without a valid token', () => {
  it.each(allRoutes.map((r) => [label(r), r] as const))('%s without a token is 401 with WWW-Authenticate: Bearer', async (_, route) => {
    const answer = await send(t.app, route.method, route.path, { body: route.body, token: null });
    expectProblem(answer, 401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(answer.body.type).toBe('/problems/unauthorized');
  });

  it.each(allRoutes.map((r) => [label(r), r] as const))('%s with an unknown token is 401', async (_, route) => {
    const answer = await send(t.app, route.method, route.path, { body: route.body, token: 'syn_not-a-real-token-at-all-0000000000000' });
    expectProblem(answer, 401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b.*error="invalid_token"/);
  });

  it.each([
    ['a Basic credential', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`],
    ['the scheme alone', 'Bearer'],
    ['the token without a scheme', ADMIN_TOKEN],
    ['the admin token with a character more', `Bearer ${ADMIN_TOKEN}x`],
    ['the admin token with a character less', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
    ['two tokens', `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`],
  ])('%s is 401', async (_, authorization) => {
    const answer = await send(t.app, 'POST', '/api/v1/tokens', { body: { name: 'sneaky', scopes: ['admin'] }, token: null, headers: { authorization } });
    expectProblem(answer, 401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  });

  it('none of the rejected requests wrote anything', async () => {
    await expectNothingWritten();
  });
});

describe('tokens', () => {
  it('admin creates a token: 201, the secret shown once, never listed, stored only as its hash', async () => {
    const created = await send(t.app, 'POST', '/api/v1/tokens', { body: { name: ' CMS production ', scopes: ['ingest', 'ingest'] } });
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const token = created.body as Record<string, unknown> & { id: string; token: string; prefix: string };
    expect(created.headers.get('location')).toBe(`/api/v1/tokens/${token.id}`);
    expect(token).toMatchObject({ name: 'CMS production', scopes: ['ingest'], lastUsedAt: null, revokedAt: null });
    expect(token.token).toMatch(/^syn_[A-Za-z0-9_-]{43}$/);
    expect(token.token.startsWith(token.prefix)).toBe(true);
    expect(token.prefix.length).toBeLessThan(token.token.length / 2);
    expect(token).not.toHaveProperty('tokenHash');

    const hash = createHash('sha256').update(token.token).digest('hex');
    const listed = await send(t.app, 'GET', '/api/v1/tokens');
    expect(listed.status).toBe(200);
    const item = (listed.body.items as Record<string, unknown>[]).find((x) => x.id === token.id)!;
    expect(item).toEqual({ id: token.id, name: 'CMS production', scopes: ['ingest'], prefix: token.prefix, createdAt: expect.any(String), lastUsedAt: null, revokedAt: null });
    expect(listed.text).not.toContain(token.token);
    expect(listed.text).not.toContain(hash);
    expect(listed.text).not.toMatch(/tokenHash|token_hash|"token"/);

    // In the database: the hash, never the secret.
    const rows = await t.deps.db.select().from(apiTokens);
    const row = rows.find((r) => r.id === token.id)!;
    expect(row.tokenHash).toBe(hash);
    expect(JSON.stringify(rows)).not.toContain(token.token);
    expect(JSON.stringify(rows)).not.toContain(token.token.slice(token.prefix.length));
  });

  it('a token name is cleaned like any label: control characters out, white space collapsed', async () => {
    const answer = await send(t.app, 'POST', '/api/v1/tokens', { body: { name: ' CMS\u0000  staging\u0007 ', scopes: ['ingest'] } });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.name).toBe('CMS staging');
    expectProblem(await send(t.app, 'POST', '/api/v1/tokens', { body: { name: '\u0000', scopes: ['ingest'] } }), 422, ['name']);
  });

  it('validates the request', async () => {
    expectProblem(await send(t.app, 'POST', '/api/v1/tokens', { body: { scopes: ['ingest'] } }), 422, ['name']);
    expectProblem(await send(t.app, 'POST', '/api/v1/tokens', { body: { name: '  ', scopes: ['ingest'] } }), 422, ['name']);
    expectProblem(await send(t.app, 'POST', '/api/v1/tokens', { body: { name: 'x', scopes: [] } }), 422, ['scopes']);
    expectProblem(await send(t.app, 'POST', '/api/v1/tokens', { body: { name: 'x', scopes: ['root'] } }), 422, ['scopes.0']);
    expectProblem(await send(t.app, 'POST', '/api/v1/tokens', { body: { name: 'x' } }), 422, ['scopes']);
  });

  it('an ingest token can write and read articles', async () => {
    const { token } = await createToken('cms', ['ingest']);
    const created = await send(t.app, 'POST', '/api/v1/articles', { body: articleInput({ externalId: 'by-ingest' }), token });
    expect(created.status).toBe(201);
    const put = await send(t.app, 'PUT', '/api/v1/articles/by-ingest-put', { body: articleInput({ externalId: 'by-ingest-put' }), token });
    expect(put.status).toBe(201);
    const batch = await send(t.app, 'POST', '/api/v1/articles', { body: { articles: [articleInput({ externalId: 'by-ingest-batch' })] }, token });
    expect(batch.status).toBe(200);
    expect((await send(t.app, 'GET', '/api/v1/articles/by-ingest', { token })).status).toBe(200);
    expect((await send(t.app, 'GET', '/api/v1/articles', { token })).status).toBe(200);
    expect((await send(t.app, 'DELETE', '/api/v1/articles/by-ingest-put', { token })).status).toBe(204);
  });

  it.each(adminRoutes.map((r) => [label(r), r] as const))('an ingest token on %s is 403 and changes nothing', async (_, route) => {
    const { token } = await createToken(`ingest for ${label(route)}`, ['ingest']);
    const answer = await send(t.app, route.method, route.path, { body: route.body, token });
    expectProblem(answer, 403);
    expect(answer.body.type).toBe('/problems/forbidden');
    await expectNothingWritten();
  });

  it('an ingest token cannot revoke an admin token', async () => {
    const admin = await createToken('second admin', ['admin']);
    const { token } = await createToken('ingest only', ['ingest']);
    expectProblem(await send(t.app, 'DELETE', `/api/v1/tokens/${admin.id}`, { token }), 403);
    expect((await send(t.app, 'GET', '/api/v1/tokens', { token: admin.token })).status).toBe(200);
  });

  it('a created admin token can do what ADMIN_TOKEN does: manage tokens, categories and articles', async () => {
    const { token } = await createToken('ops', ['admin']);
    const made = await send(t.app, 'POST', '/api/v1/tokens', { body: { name: 'made by ops', scopes: ['ingest'] }, token });
    expect(made.status).toBe(201);
    expect((await send(t.app, 'GET', '/api/v1/tokens', { token })).status).toBe(200);
    expect((await send(t.app, 'PUT', '/api/v1/categories/ops-desk', { body: { name: 'Ops Desk' }, token })).status).toBe(201);
    expect((await send(t.app, 'POST', '/api/v1/articles', { body: articleInput({ externalId: 'by-ops' }), token })).status).toBe(201);
    expect((await send(t.app, 'DELETE', `/api/v1/tokens/${made.body.id}`, { token })).status).toBe(204);
  });

  it('a revoked token is 401 on the next request; the listing shows when it was revoked', async () => {
    const { id, token } = await createToken('to revoke', ['admin']);
    expect((await send(t.app, 'GET', '/api/v1/tokens', { token })).status).toBe(200);

    t.clock.set('2026-11-29T15:00:00Z');
    const revoked = await send(t.app, 'DELETE', `/api/v1/tokens/${id}`);
    expect(revoked.status).toBe(204);

    for (const route of [...ingestRoutes, ...adminRoutes]) {
      const answer = await send(t.app, route.method, route.path, { body: route.body, token });
      expectProblem(answer, 401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    }
    const listed = await send(t.app, 'GET', '/api/v1/tokens');
    expect((listed.body.items as { id: string; revokedAt: string | null }[]).find((x) => x.id === id)?.revokedAt).toBe('2026-11-29T15:00:00.000Z');

    // Revoking again keeps the first time.
    t.clock.set('2026-11-29T16:00:00Z');
    expect((await send(t.app, 'DELETE', `/api/v1/tokens/${id}`)).status).toBe(204);
    const again = await send(t.app, 'GET', '/api/v1/tokens');
    expect((again.body.items as { id: string; revokedAt: string | null }[]).find((x) => x.id === id)?.revokedAt).toBe('2026-11-29T15:00:00.000Z');
    await expectNothingWritten();
  });

  it('revoking an unknown token is 404', async () => {
    expectProblem(await send(t.app, 'DELETE', `/api/v1/tokens/${SOME_UUID}`), 404);
    expectProblem(await send(t.app, 'DELETE', '/api/v1/tokens/not-a-uuid'), 404);
  });

  it('the categories listing is public', async () => {
    expect((await send(t.app, 'GET', '/api/v1/categories', { token: null })).status).toBe(200);
  });
});
