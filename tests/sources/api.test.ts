import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTokenSecret, hashToken } from '../../src/http/auth.js';
import { insertToken } from '../../src/storage/tokens.js';
import { expectProblem, send } from '../helpers/builders.js';
import { createSourcesContext, type SourcesContext } from './setup.js';

// The admin API over the real app: auth, validation as problem+json naming fields, the polling state
// in responses, and a poll on demand.

let s: SourcesContext;
let ingestToken: string;
beforeAll(async () => {
  s = await createSourcesContext();
  const { secret, prefix } = generateTokenSecret();
  await insertToken(s.t.deps.db, { name: 'cms', scopes: ['ingest'], tokenHash: hashToken(secret), prefix, createdAt: new Date() });
  ingestToken = secret;
});
afterAll(async () => s?.close());

const create = (body: unknown) => send(s.t.app, 'POST', '/api/v1/sources', { body });

describe('auth', () => {
  const routes: [string, string, unknown?][] = [
    ['POST', '/api/v1/sources', { url: 'https://wire.example.com/rss', categories: ['World'] }],
    ['GET', '/api/v1/sources'],
    ['GET', '/api/v1/sources/1'],
    ['PATCH', '/api/v1/sources/1', { enabled: false }],
    ['DELETE', '/api/v1/sources/1'],
    ['POST', '/api/v1/sources/1/poll'],
  ];
  it.each(routes)('%s %s: 401 without a token, 403 with an ingest token', async (method, path, body) => {
    expectProblem(await send(s.t.app, method, path, { body, token: null }), 401);
    expectProblem(await send(s.t.app, method, path, { body, token: 'not-a-real-token' }), 401);
    expectProblem(await send(s.t.app, method, path, { body, token: ingestToken }), 403);
  });
});

describe('POST /api/v1/sources', () => {
  it('creates a source with the defaults, due at once', async () => {
    const answer = await create({ url: ' https://Wire.Example.com/world/rss.xml#top ', categories: ['World'] });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.headers.get('location')).toBe(`/api/v1/sources/${answer.body.id}`);
    expect(answer.body).toEqual({
      id: expect.any(Number),
      url: 'https://wire.example.com/world/rss.xml',
      name: 'wire.example.com',
      categories: ['World'],
      pollIntervalSeconds: 900,
      enabled: true,
      useItemCategories: false,
      fullContent: false,
      lastPoll: null,
      consecutiveFailures: 0,
      nextPollAt: s.t.clock.now().toISOString(),
      retryAfterUntil: null,
      polling: false,
      createdAt: s.t.clock.now().toISOString(),
      updatedAt: s.t.clock.now().toISOString(),
    });
  });

  it('409 for a URL that is already a source', async () => {
    await create({ url: 'https://dupe.example.com/rss', categories: ['World'] });
    expectProblem(await create({ url: 'https://dupe.example.com/rss', categories: ['Other'] }), 409);
  });

  it.each([
    [{ categories: ['World'] }, ['url']],
    [{ url: 'ftp://wire.example.com/rss', categories: ['World'] }, ['url']],
    [{ url: 'javascript:alert(1)', categories: ['World'] }, ['url']],
    [{ url: 'not a url', categories: ['World'] }, ['url']],
    [{ url: 'https://wire.example.com/rss' }, ['categories']],
    [{ url: 'https://wire.example.com/rss', categories: [] }, ['categories']],
    [{ url: 'https://wire.example.com/rss', categories: ['  '] }, ['categories.0']],
    [{ url: 'https://wire.example.com/rss', categories: ['World', 'All'] }, ['categories.1']],
    [{ url: 'https://wire.example.com/rss', categories: ['World'], pollIntervalSeconds: 59 }, ['pollIntervalSeconds']],
    [{ url: 'https://wire.example.com/rss', categories: ['World'], pollIntervalSeconds: 90.5 }, ['pollIntervalSeconds']],
    [{ url: 'https://wire.example.com/rss', categories: ['World'], enabled: 'yes' }, ['enabled']],
    [{ url: 'https://wire.example.com/rss', categories: ['World'], name: '' }, ['name']],
    [{ url: 'https://wire.example.com/rss', categories: ['World'], pollInterval: 60 }, ['']],
  ])('422 naming the field: %j', async (body, paths) => {
    expectProblem(await create(body), 422, paths);
  });

  it.each([
    'http://127.0.0.1/feed',
    'http://10.0.0.8/feed',
    'http://[::1]/feed',
    'http://[::ffff:192.168.1.1]/feed',
    'http://169.254.169.254/latest',
    'http://localhost:8080/rss',
    'http://0.0.0.0/',
  ])('refuses a private or local address (%s) unless SOURCE_ALLOW_PRIVATE', async (url) => {
    const answer = await create({ url, categories: ['World'] });
    expectProblem(answer, 422, ['url']);
  });

  it('400 for malformed JSON, 415 for a non-JSON body', async () => {
    expectProblem(await send(s.t.app, 'POST', '/api/v1/sources', { body: '{"url":' }), 400);
    expectProblem(await send(s.t.app, 'POST', '/api/v1/sources', { body: 'url=x', headers: { 'content-type': 'text/plain' } }), 415);
  });
});

describe('reading, changing, deleting', () => {
  it('GET lists sources and shows one; unknown or malformed ids are 404', async () => {
    const created = (await create({ url: 'https://list.example.com/rss', name: 'Lister', categories: ['Listed'] })).body;
    const list = await send(s.t.app, 'GET', '/api/v1/sources');
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { id: number }) => i.id)).toContain(created.id);
    const one = await send(s.t.app, 'GET', `/api/v1/sources/${created.id}`);
    expect(one.body).toMatchObject({ id: created.id, name: 'Lister', categories: ['Listed'] });
    for (const id of ['999999', 'abc', '0', '1.5', '99999999999']) expectProblem(await send(s.t.app, 'GET', `/api/v1/sources/${id}`), 404);
  });

  it('PATCH changes fields; a new URL forgets validators and is due at once; validation names fields', async () => {
    const created = (await create({ url: 'https://patch.example.com/rss', categories: ['World'] })).body;
    s.t.clock.advance(60_000);
    const answer = await send(s.t.app, 'PATCH', `/api/v1/sources/${created.id}`, {
      body: { name: 'Renamed', pollIntervalSeconds: 300, categories: ['World', 'Europe'], fullContent: true, useItemCategories: true },
    });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({
      name: 'Renamed',
      pollIntervalSeconds: 300,
      categories: ['World', 'Europe'],
      fullContent: true,
      useItemCategories: true,
    });
    expect(answer.body.updatedAt).toBe(s.t.clock.now().toISOString());

    const moved = await send(s.t.app, 'PATCH', `/api/v1/sources/${created.id}`, { body: { url: 'https://patch.example.com/new-rss' } });
    expect(moved.body).toMatchObject({ url: 'https://patch.example.com/new-rss', nextPollAt: s.t.clock.now().toISOString() });

    expectProblem(
      await send(s.t.app, 'PATCH', `/api/v1/sources/${created.id}`, { body: { pollIntervalSeconds: 10, url: 'gopher://x' } }),
      422,
      ['pollIntervalSeconds', 'url'],
    );
    expectProblem(await send(s.t.app, 'PATCH', `/api/v1/sources/${created.id}`, { body: { url: 'http://192.168.0.1/rss' } }), 422, ['url']);
    expectProblem(await send(s.t.app, 'PATCH', '/api/v1/sources/999999', { body: { enabled: false } }), 404);
    await create({ url: 'https://taken.example.com/rss', categories: ['World'] });
    expectProblem(await send(s.t.app, 'PATCH', `/api/v1/sources/${created.id}`, { body: { url: 'https://taken.example.com/rss' } }), 409);
  });

  it('disabling hides the next poll; re-enabling makes it due at once', async () => {
    const created = (await create({ url: 'https://toggle.example.com/rss', categories: ['World'] })).body;
    const off = await send(s.t.app, 'PATCH', `/api/v1/sources/${created.id}`, { body: { enabled: false } });
    expect(off.body).toMatchObject({ enabled: false, nextPollAt: null });
    s.t.clock.advance(5_000);
    const on = await send(s.t.app, 'PATCH', `/api/v1/sources/${created.id}`, { body: { enabled: true } });
    expect(on.body).toMatchObject({ enabled: true, nextPollAt: s.t.clock.now().toISOString() });
  });

  it('DELETE removes the source (204), then 404', async () => {
    const created = (await create({ url: 'https://delete.example.com/rss', categories: ['World'] })).body;
    expect((await send(s.t.app, 'DELETE', `/api/v1/sources/${created.id}`)).status).toBe(204);
    expectProblem(await send(s.t.app, 'GET', `/api/v1/sources/${created.id}`), 404);
    expectProblem(await send(s.t.app, 'DELETE', `/api/v1/sources/${created.id}`), 404);
  });

  it('a password in the URL is never shown', async () => {
    const answer = await create({ url: 'https://user:hunter2@private-feed.example.com/rss', categories: ['World'] });
    expect(answer.status).toBe(201);
    expect(answer.body.url).toBe('https://user:***@private-feed.example.com/rss');
    expect((await send(s.t.app, 'GET', '/api/v1/sources')).text).not.toContain('hunter2');
  });
});

describe('POST /api/v1/sources/{id}/poll', () => {
  it('polls now and returns the outcome and the polling state', async () => {
    const created = (await create({ url: s.at('/fixtures/rss2-full.xml', 'api.example.test'), categories: ['World'] })).body;
    const answer = await send(s.t.app, 'POST', `/api/v1/sources/${created.id}/poll`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.result).toMatchObject({
      outcome: 'ok',
      httpStatus: 200,
      itemsSeen: 2,
      itemsNew: 2,
      itemsUpdated: 0,
      itemsSkipped: 0,
      error: null,
    });
    expect(answer.body.source.lastPoll).toMatchObject({
      at: s.t.clock.now().toISOString(),
      outcome: 'ok',
      httpStatus: 200,
      itemsSeen: 2,
      itemsNew: 2,
      itemsUpdated: 0,
      errorCode: null,
      error: null,
    });
    expect(answer.body.source.nextPollAt).toBe(new Date(s.t.clock.now().getTime() + 900_000).toISOString());

    // The feeds refresh after the change: the items reach /feeds/world.
    await s.t.feeds.refresh('change');
    const feed = await s.t.app.request('/feeds/world.json');
    const titles = ((await feed.json()) as { items: { title: string }[] }).items.map((i) => i.title);
    expect(titles).toContain('Council approves new bridge');

    const again = await send(s.t.app, 'POST', `/api/v1/sources/${created.id}/poll`);
    expect(again.body.result).toMatchObject({ outcome: 'not-modified', httpStatus: 304 });
    expect(again.body.source.lastPoll).toMatchObject({ outcome: 'not-modified', httpStatus: 304, itemsSeen: 0 });
  });

  it('a failing upstream is an outcome (200), not an API error', async () => {
    const created = (await create({ url: s.at('/fixtures/malformed.xml', 'api.example.test'), categories: ['World'] })).body;
    const answer = await send(s.t.app, 'POST', `/api/v1/sources/${created.id}/poll`);
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ outcome: 'error', errorCode: 'parse', httpStatus: 200 });
    expect(answer.body.source).toMatchObject({ consecutiveFailures: 1, lastPoll: { outcome: 'error', errorCode: 'parse' } });
  });

  it('polling a disabled source on demand does not enable it', async () => {
    const created = (await create({ url: s.at('/fixtures/atom-text-link.xml', 'api.example.test'), categories: ['World'], enabled: false }))
      .body;
    const answer = await send(s.t.app, 'POST', `/api/v1/sources/${created.id}/poll`);
    expect(answer.body.result.outcome).toBe('ok');
    expect(answer.body.source).toMatchObject({ enabled: false, nextPollAt: null, lastPoll: { outcome: 'ok' } });
  });

  it('409 while another poller holds the source; 404 for an unknown source', async () => {
    const created = (await create({ url: s.at('/fixtures/rss091.xml', 'api.example.test'), categories: ['World'] })).body;
    const { claimSource } = await import('../../src/storage/sources.js');
    await claimSource(s.t.deps.db, created.id, { now: s.t.clock.now(), leaseMs: 60_000 });
    expect((await send(s.t.app, 'GET', `/api/v1/sources/${created.id}`)).body.polling).toBe(true);
    expectProblem(await send(s.t.app, 'POST', `/api/v1/sources/${created.id}/poll`), 409);
    expectProblem(await send(s.t.app, 'POST', '/api/v1/sources/999999/poll'), 404);
  });
});

describe('OpenAPI', () => {
  it('documents every sources route', async () => {
    const doc = (await (await s.t.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/sources'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/v1/sources/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'patch']);
    expect(Object.keys(doc.paths['/api/v1/sources/{id}/poll'] ?? {})).toEqual(['post']);
  });
});
