import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRITE_SLICE } from '../../src/ingest.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { articleBatch, articleInput, errorPaths, expectProblem, send, type Answer } from '../helpers/builders.js';

// Upsert semantics, retraction, batches (all-or-nothing), listing with cursor pagination, categories.

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t?.close());

const post = (body: unknown) => send(t.app, 'POST', '/api/v1/articles', { body });
const put = (externalId: string, body: unknown) => send(t.app, 'PUT', `/api/v1/articles/${encodeURIComponent(externalId)}`, { body });
const get = (externalId: string) => send(t.app, 'GET', `/api/v1/articles/${encodeURIComponent(externalId)}`);
const del = (externalId: string) => send(t.app, 'DELETE', `/api/v1/articles/${encodeURIComponent(externalId)}`);

async function listAll(query: string, limit: number): Promise<{ pages: Answer[]; externalIds: string[] }> {
  const pages: Answer[] = [];
  const externalIds: string[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams(query);
    params.set('limit', String(limit));
    if (cursor) params.set('cursor', cursor);
    const page = await send(t.app, 'GET', `/api/v1/articles?${params.toString()}`);
    expect(page.status, page.text).toBe(200);
    pages.push(page);
    externalIds.push(...(page.body.items as { externalId: string }[]).map((a) => a.externalId));
    cursor = page.body.nextCursor as string | null;
    expect(pages.length).toBeLessThan(1000);
  } while (cursor);
  return { pages, externalIds };
}

async function categoryCounts(): Promise<Map<string, { name: string; articleCount: number }>> {
  const answer = await send(t.app, 'GET', '/api/v1/categories', { token: null });
  expect(answer.status).toBe(200);
  return new Map((answer.body.items as { slug: string; name: string; articleCount: number }[]).map((c) => [c.slug, c]));
}

describe('POST /api/v1/articles upserts by externalId', () => {
  it('creates (201 + Location), then answers unchanged, updated with a stamped or given updatedAt; the guid never changes', async () => {
    t.clock.set('2026-11-29T09:00:00Z');
    const input = articleInput({ externalId: 'upsert-1', publishedAt: '2026-11-28T08:00:00Z' });

    const created = await post(input);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/articles/upsert-1');
    expect(created.body.status).toBe('created');
    const guid = created.body.article.guid as string;
    expect(guid).toMatch(/^tag:news\.example\.co\.uk,2026-11-29:article:\d+$/);
    expect(created.body.article).toMatchObject({
      externalId: 'upsert-1',
      title: input.title,
      createdAt: '2026-11-29T09:00:00.000Z',
      updatedAt: '2026-11-28T08:00:00.000Z',
      deletedAt: null,
    });
    expect(await get('upsert-1')).toMatchObject({ status: 200, body: created.body.article });

    // The same content again, later: nothing changes, not even updatedAt.
    t.clock.set('2026-11-29T10:00:00Z');
    const again = await post(input);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('unchanged');
    expect(again.body.article).toEqual(created.body.article);

    // Changed content, no updatedAt: stamped with the clock's now.
    t.clock.set('2026-11-29T11:30:00Z');
    const edited = await post({ ...input, title: 'Council approves new cycle lanes (updated)' });
    expect(edited.status).toBe(200);
    expect(edited.body.status).toBe('updated');
    expect(edited.body.article).toMatchObject({
      title: 'Council approves new cycle lanes (updated)',
      updatedAt: '2026-11-29T11:30:00.000Z',
      createdAt: '2026-11-29T09:00:00.000Z',
      guid,
    });

    // Changed content with a newer updatedAt: that value.
    t.clock.set('2026-11-29T12:00:00Z');
    const withDate = await post({ ...input, title: 'Third version', updatedAt: '2026-11-29T13:15:00+01:00' });
    expect(withDate.body.status).toBe('updated');
    expect(withDate.body.article).toMatchObject({ title: 'Third version', updatedAt: '2026-11-29T12:15:00.000Z', guid });

    // Changed content with an updatedAt older than the stored one: not newer, so now is stamped.
    t.clock.set('2026-11-29T14:00:00Z');
    const stale = await post({ ...input, title: 'Fourth version', updatedAt: '2026-11-29T10:00:00Z' });
    expect(stale.body.status).toBe('updated');
    expect(stale.body.article).toMatchObject({ title: 'Fourth version', updatedAt: '2026-11-29T14:00:00.000Z', guid });

    // Re-sent unchanged later still writes nothing.
    t.clock.set('2026-11-30T09:00:00Z');
    const resent = await post({ ...input, title: 'Fourth version', updatedAt: '2026-11-29T10:00:00Z' });
    expect(resent.body.status).toBe('unchanged');
    expect(resent.body.article.updatedAt).toBe('2026-11-29T14:00:00.000Z');

    // Re-categorised, re-dated, everything edited: still the same guid.
    const rewritten = await post(
      articleInput({ externalId: 'upsert-1', title: 'All new', url: 'https://news.example.co.uk/moved', categories: ['Elsewhere'], publishedAt: '2026-11-30T08:00:00Z' }),
    );
    expect(rewritten.body.status).toBe('updated');
    expect(rewritten.body.article.guid).toBe(guid);
    expect((await get('upsert-1')).body.guid).toBe(guid);
  });

  it('a replacing POST drops optional fields it no longer sends', async () => {
    await post(articleInput({ externalId: 'replace-1', summary: 'A summary', tags: ['a', 'b'], imageUrl: 'https://cdn.example.com/x.jpg' }));
    const bare = articleInput({ externalId: 'replace-1' });
    delete bare.summary;
    delete bare.tags;
    const answer = await post(bare);
    expect(answer.body.status).toBe('updated');
    expect(answer.body.article).toMatchObject({ summary: null, tags: [], imageUrl: null });
  });

  it('different articles get different guids', async () => {
    const a = await post(articleInput({ externalId: 'guid-a' }));
    const b = await post(articleInput({ externalId: 'guid-b' }));
    expect(a.body.article.guid).not.toBe(b.body.article.guid);
  });
});

describe('PUT /api/v1/articles/{externalId}', () => {
  it('creates (201), replaces (200 updated), and answers unchanged (200)', async () => {
    const body = articleInput();
    delete body.externalId;
    const created = await put('put-1', body);
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ status: 'created', article: { externalId: 'put-1', title: body.title } });

    const same = await put('put-1', { ...body, externalId: 'put-1' });
    expect(same.status).toBe(200);
    expect(same.body.status).toBe('unchanged');

    const replaced = await put('put-1', { ...body, title: 'Replaced title', tags: [] });
    expect(replaced.status).toBe(200);
    expect(replaced.body.status).toBe('updated');
    expect(replaced.body.article).toMatchObject({ title: 'Replaced title', tags: [], guid: created.body.article.guid });
    expect((await get('put-1')).body.title).toBe('Replaced title');
  });

  it('a body naming another externalId is a 422 at externalId and changes nothing', async () => {
    const mismatch = await put('put-2', articleInput({ externalId: 'put-other' }));
    expectProblem(mismatch, 422, ['externalId']);
    expect((await get('put-2')).status).toBe(404);
    expect((await get('put-other')).status).toBe(404);

    await put('put-3', articleInput({ externalId: 'put-3', title: 'Original' }));
    const replaced = await put('put-3', articleInput({ externalId: 'put-4', title: 'Hijacked' }));
    expectProblem(replaced, 422, ['externalId']);
    expect((await get('put-3')).body.title).toBe('Original');
  });

  it('validates like POST', async () => {
    const answer = await put('put-5', { ...articleInput(), externalId: undefined, categories: [] });
    expectProblem(answer, 422, ['categories']);
    expect((await get('put-5')).status).toBe(404);
  });

  it('an externalId with slashes and spaces works through PUT, GET and DELETE when percent-encoded', async () => {
    const externalId = 'wp/2026/11 post?id=7';
    const body = articleInput({ externalId });
    expect((await put(externalId, body)).status).toBe(201);
    expect((await put(externalId, { ...body, title: 'Edited' })).body.status).toBe('updated');
    expect((await get(externalId)).body).toMatchObject({ externalId, title: 'Edited' });
    expect((await del(externalId)).status).toBe(204);
    expect((await get(externalId)).body.deletedAt).not.toBeNull();
  });

  it('a URL externalId that normalisation would change (white space, control characters) is a 422, not stored elsewhere', async () => {
    for (const raw of ['%20padded%20', 'nul%00id', 'bell%07id']) {
      const answer = await send(t.app, 'PUT', `/api/v1/articles/${raw}`, { body: { ...articleInput(), externalId: undefined } });
      expectProblem(answer, 422, ['externalId']);
    }
    for (const stored of ['padded', 'nulid', 'bellid']) expect((await get(stored)).status).toBe(404);
  });

  it('an externalId over 200 characters in the URL is a 422', async () => {
    const answer = await put('z'.repeat(201), articleInput({ externalId: undefined }));
    expectProblem(answer, 422, ['externalId']);
  });
});

describe('GET and DELETE /api/v1/articles/{externalId}', () => {
  it('GET and DELETE of an unknown externalId are 404 problems', async () => {
    expectProblem(await get('no-such-article'), 404);
    expectProblem(await del('no-such-article'), 404);
  });

  it('an externalId no stored article can have (a NUL in it) is a 404, not a database error', async () => {
    await post(articleInput({ externalId: 'nulab' }));
    expectProblem(await send(t.app, 'GET', '/api/v1/articles/nul%00ab'), 404);
    expectProblem(await send(t.app, 'DELETE', '/api/v1/articles/nul%00ab'), 404);
    expect((await get('nulab')).body.deletedAt).toBeNull();
  });

  it('DELETE retracts: 204, GET shows deletedAt, the list leaves it out, ?deleted=true lists it, the category count drops', async () => {
    t.clock.set('2026-12-01T10:00:00Z');
    await post(articleInput({ externalId: 'retract-1', categories: ['Retraction Desk'] }));
    await post(articleInput({ externalId: 'retract-2', categories: ['Retraction Desk'] }));
    expect((await categoryCounts()).get('retraction-desk')?.articleCount).toBe(2);

    t.clock.set('2026-12-01T11:00:00Z');
    const deleted = await del('retract-1');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');

    const got = await get('retract-1');
    expect(got.status).toBe(200);
    expect(got.body.deletedAt).toBe('2026-12-01T11:00:00.000Z');

    const listed = await listAll('category=retraction-desk', 50);
    expect(listed.externalIds).toEqual(['retract-2']);
    const deletedList = await listAll('category=retraction-desk&deleted=true', 50);
    expect(deletedList.externalIds).toEqual(['retract-1']);
    expect((await categoryCounts()).get('retraction-desk')?.articleCount).toBe(1);

    // A second DELETE is harmless and keeps the first retraction time.
    t.clock.set('2026-12-01T12:00:00Z');
    expect((await del('retract-1')).status).toBe(204);
    expect((await get('retract-1')).body.deletedAt).toBe('2026-12-01T11:00:00.000Z');
  });

  it('re-POSTing a retracted article restores it, with the same guid', async () => {
    const input = articleInput({ externalId: 'restore-1', categories: ['Restore Desk'] });
    const created = await post(input);
    await del('restore-1');
    expect((await categoryCounts()).get('restore-desk')?.articleCount).toBe(0);

    const restored = await post(input);
    expect(restored.status).toBe(200);
    expect(restored.body.status).toBe('updated');
    expect(restored.body.article.deletedAt).toBeNull();
    expect(restored.body.article.guid).toBe(created.body.article.guid);
    expect((await get('restore-1')).body.deletedAt).toBeNull();
    expect((await listAll('category=restore-desk', 50)).externalIds).toEqual(['restore-1']);
    expect((await listAll('category=restore-desk&deleted=true', 50)).externalIds).toEqual([]);
    expect((await categoryCounts()).get('restore-desk')?.articleCount).toBe(1);
  });
});

describe('batches', () => {
  it('answers 200 with a created, updated or unchanged outcome per article, in order', async () => {
    await post(articleInput({ externalId: 'batch-existing', title: 'Before' }));
    const unchanged = articleInput({ externalId: 'batch-unchanged' });
    await post(unchanged);

    const answer = await post({
      articles: [
        articleInput({ externalId: 'batch-new-1' }),
        articleInput({ externalId: 'batch-existing', title: 'After' }),
        unchanged,
        articleInput({ externalId: 'batch-new-2' }),
      ],
    });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.results).toEqual([
      { index: 0, externalId: 'batch-new-1', status: 'created' },
      { index: 1, externalId: 'batch-existing', status: 'updated' },
      { index: 2, externalId: 'batch-unchanged', status: 'unchanged' },
      { index: 3, externalId: 'batch-new-2', status: 'created' },
    ]);
    expect(answer.body.counts).toEqual({ created: 2, updated: 1, unchanged: 1 });
    expect((await get('batch-new-1')).status).toBe(200);
    expect((await get('batch-existing')).body.title).toBe('After');
  });

  it('is all-or-nothing: one invalid article is a 422 naming articles.N.field, and nothing of the batch is stored', async () => {
    await post(articleInput({ externalId: 'atomic-existing', title: 'Untouched', categories: ['Atomic Old'] }));
    const before = await listAll('', 200);
    const categoriesBefore = await categoryCounts();

    const answer = await post({
      articles: [
        articleInput({ externalId: 'atomic-new', categories: ['Atomic Brand New'] }),
        articleInput({ externalId: 'atomic-existing', title: 'Changed' }),
        articleInput({ externalId: 'atomic-bad', title: 'x'.repeat(501) }),
        articleInput({ externalId: 'atomic-worse', url: '/relative', publishedAt: '2025-02-30T00:00:00Z' }),
      ],
    });
    expectProblem(answer, 422, ['articles.2.title', 'articles.3.url', 'articles.3.publishedAt']);
    expect(errorPaths(answer)).toHaveLength(3);

    expect((await get('atomic-new')).status).toBe(404);
    expect((await get('atomic-bad')).status).toBe(404);
    expect((await get('atomic-existing')).body.title).toBe('Untouched');
    expect((await listAll('', 200)).externalIds).toEqual(before.externalIds);
    const categoriesAfter = await categoryCounts();
    expect(categoriesAfter.has('atomic-brand-new')).toBe(false);
    expect([...categoriesAfter.keys()]).toEqual([...categoriesBefore.keys()]);
  });

  it('a large batch with errors far apart is all-or-nothing, errors in request order; mended, it is stored with results in request order', async () => {
    // Ids sort differently from the request order (rows are written in externalId order).
    const batch = articleBatch(260, 'chunked', (i) => ({ externalId: `chunked-${String((i * 37) % 260).padStart(3, '0')}`, categories: ['Chunked'] }));
    batch[3] = { ...batch[3]!, title: '' };
    batch[140] = { ...batch[140]!, url: 'ftp://nope.example' };
    batch[259] = { ...batch[259]!, externalId: batch[7]!.externalId };
    const answer = await post({ articles: batch });
    expectProblem(answer, 422, ['articles.3.title', 'articles.140.url', 'articles.259.externalId']);
    expect(errorPaths(answer)).toEqual(['articles.3.title', 'articles.140.url', 'articles.259.externalId']);
    expect(answer.body.errors[2].message).toContain('articles.7');
    expect((await categoryCounts()).has('chunked')).toBe(false);
    expect((await get(batch[0]!.externalId as string)).status).toBe(404);

    batch[3] = { ...batch[3]!, title: 'Mended' };
    batch[140] = { ...batch[140]!, url: 'https://news.example.co.uk/mended' };
    batch[259] = { ...batch[259]!, externalId: 'chunked-extra' };
    const stored = await post({ articles: batch });
    expect(stored.status, stored.text.slice(0, 300)).toBe(200);
    expect(stored.body.counts).toEqual({ created: 260, updated: 0, unchanged: 0 });
    // Results come back in request order, whatever order they were written in.
    expect((stored.body.results as { index: number; externalId: string }[]).map((r) => r.externalId)).toEqual(batch.map((a) => a.externalId));
    expect((await categoryCounts()).get('chunked')?.articleCount).toBe(260);
  });

  it('a database failure in a later slice of a batch is a 500 problem; nothing of the batch is stored, and the next batch goes through', async () => {
    // The batch is written in slices while it validates: the first slices are already sent when a
    // later one fails. A trigger stands in for any failure Postgres can raise mid-batch.
    const batch = articleBatch(WRITE_SLICE * 2 + 50, 'midway', () => ({ categories: ['Midway Desk'] }));
    const failing = `midway-${WRITE_SLICE + 10}`;
    await t.deps.db.execute(sql.raw(`
      create function midway_fail() returns trigger language plpgsql as $$
      begin
        if new.external_id = '${failing}' then raise exception 'midway failure'; end if;
        return new;
      end $$`));
    await t.deps.db.execute(sql.raw('create trigger midway_fail before insert on articles for each row execute function midway_fail()'));
    try {
      const answer = await post({ articles: batch });
      expect(answer.status, answer.text).toBe(500);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.text).not.toContain('midway failure');
      expect((await get('midway-0')).status).toBe(404);
      expect((await categoryCounts()).has('midway-desk')).toBe(false);
    } finally {
      await t.deps.db.execute(sql.raw('drop trigger midway_fail on articles'));
      await t.deps.db.execute(sql.raw('drop function midway_fail()'));
    }
    const again = await post({ articles: batch });
    expect(again.status, again.text.slice(0, 300)).toBe(200);
    expect(again.body.counts).toEqual({ created: batch.length, updated: 0, unchanged: 0 });
  });

  it('a large batch mixing new, re-categorised and unchanged articles links each to its categories only; a new category takes its first spelling in request order', async () => {
    const first = articleBatch(WRITE_SLICE + 50, 'mixed', () => ({ categories: ['Mixed One'] }));
    expect((await post({ articles: first })).status).toBe(200);
    const moved = first.slice(0, WRITE_SLICE).map((a, i) => ({ ...a, categories: i === 0 ? ['Mixed Three', 'Mixed Two'] : ['Mixed Two'] }));
    const unchanged = first.slice(WRITE_SLICE);
    // The new articles sort before the others (externalId byte order), so they are written first;
    // the new category is still named by the first article of the request.
    const fresh = articleBatch(WRITE_SLICE, 'a-mixed', () => ({ categories: ['Mixed One', 'mixed three!'] }));
    const answer = await post({ articles: [...moved, ...unchanged, ...fresh] });
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    expect(answer.body.counts).toEqual({ created: WRITE_SLICE, updated: WRITE_SLICE, unchanged: 50 });
    const counts = await categoryCounts();
    expect(counts.get('mixed-one')?.articleCount).toBe(50 + WRITE_SLICE);
    expect(counts.get('mixed-two')?.articleCount).toBe(WRITE_SLICE);
    expect(counts.get('mixed-three')).toEqual(expect.objectContaining({ name: 'Mixed Three', articleCount: WRITE_SLICE + 1 }));
  });

  it('a wrong-typed article inside a batch is named by its index', async () => {
    const answer = await post({ articles: [articleInput({ externalId: 'typed-ok' }), 'not an article', articleInput({ externalId: 'typed-2', categories: [] })] });
    expectProblem(answer, 422, ['articles.1', 'articles.2.categories']);
    expect((await get('typed-ok')).status).toBe(404);
  });

  it('two articles with the same externalId are a 422 naming the duplicate, and nothing is stored', async () => {
    const answer = await post({
      articles: [articleInput({ externalId: 'dup-1' }), articleInput({ externalId: 'dup-2' }), articleInput({ externalId: 'dup-1' })],
    });
    expectProblem(answer, 422, ['articles.2.externalId']);
    expect(answer.body.errors[0].message).toContain('articles.0');
    expect((await get('dup-1')).status).toBe(404);
    expect((await get('dup-2')).status).toBe(404);
  });

  it('externalIds that are equal after trimming are duplicates too', async () => {
    const answer = await post({ articles: [articleInput({ externalId: 'dup-trim' }), articleInput({ externalId: ' dup-trim ' })] });
    expectProblem(answer, 422, ['articles.1.externalId']);
    expect((await get('dup-trim')).status).toBe(404);
  });

  it('1,001 articles are a 422 at articles and nothing is stored; 1,000 are accepted', async () => {
    const tooMany = await post({ articles: articleBatch(1001, 'over') });
    expectProblem(tooMany, 422, ['articles']);
    expect((await get('over-0')).status).toBe(404);

    const max = await post({ articles: articleBatch(1000, 'max', (i) => ({ categories: ['Max Batch', `Max Batch ${i % 3}`] })) });
    expect(max.status, max.text.slice(0, 500)).toBe(200);
    expect(max.body.counts).toEqual({ created: 1000, updated: 0, unchanged: 0 });
    expect((await get('max-999')).status).toBe(200);
    expect((await categoryCounts()).get('max-batch')?.articleCount).toBe(1000);
  });

  it('a full batch of articles with many categories each is stored (not rejected by the database)', async () => {
    // 1,000 articles × 20 categories = 20,000 links: more bind parameters than one statement may carry.
    const categories = Array.from({ length: 20 }, (_, i) => `Wide ${i}`);
    const answer = await post({ articles: articleBatch(1000, 'wide', () => ({ categories })) });
    expect(answer.status, answer.text.slice(0, 500)).toBe(200);
    const counts = await categoryCounts();
    for (let i = 0; i < 20; i += 1) expect(counts.get(`wide-${i}`)?.articleCount).toBe(1000);
  });

  it('an empty batch, or articles that are not a list, are a 422 at articles', async () => {
    expectProblem(await post({ articles: [] }), 422, ['articles']);
    expectProblem(await post({ articles: { externalId: 'x' } }), 422, ['articles']);
  });

  it('creates categories on first use with slugs, listed in GET /api/v1/categories with article counts', async () => {
    const answer = await post({
      articles: [
        articleInput({ externalId: 'cat-1', categories: ['Breaking News', 'World Affairs'] }),
        articleInput({ externalId: 'cat-2', categories: ['Breaking News'] }),
        articleInput({ externalId: 'cat-3', categories: ['Breaking News'], status: 'draft' }),
      ],
    });
    expect(answer.status).toBe(200);
    const counts = await categoryCounts();
    // Drafts are stored but not listed in feeds, so they do not count.
    expect(counts.get('breaking-news')).toMatchObject({ name: 'Breaking News', articleCount: 2 });
    expect(counts.get('world-affairs')).toMatchObject({ name: 'World Affairs', articleCount: 1 });
    expect((await get('cat-1')).body.categories).toEqual([
      { slug: 'breaking-news', name: 'Breaking News' },
      { slug: 'world-affairs', name: 'World Affairs' },
    ]);

    // Moving an article to another category moves the counts.
    await post(articleInput({ externalId: 'cat-2', categories: ['World Affairs'] }));
    const moved = await categoryCounts();
    expect(moved.get('breaking-news')?.articleCount).toBe(1);
    expect(moved.get('world-affairs')?.articleCount).toBe(2);
  });
});

describe('GET /api/v1/articles', () => {
  it('lists newest first and walks every page of a category without duplicates or gaps', async () => {
    // Seven articles, several sharing a publishedAt: ties are broken by creation order, newest first.
    const dates = [
      '2026-10-01T08:00:00Z',
      '2026-10-03T08:00:00Z',
      '2026-10-02T08:00:00Z',
      '2026-10-03T08:00:00Z',
      '2026-10-03T08:00:00Z',
      '2026-10-01T08:00:00Z',
      '2026-10-02T09:00:00+01:00', // the same instant as 2026-10-02T08:00Z
    ];
    for (const [i, publishedAt] of dates.entries()) {
      const answer = await post(articleInput({ externalId: `page-${i}`, publishedAt, categories: ['Pagination Desk'] }));
      expect(answer.status).toBe(201);
    }
    const expected = ['page-4', 'page-3', 'page-1', 'page-6', 'page-2', 'page-5', 'page-0'];

    for (const limit of [1, 2, 3, 7, 50]) {
      const walked = await listAll('category=pagination-desk', limit);
      expect(walked.externalIds, `limit ${limit}`).toEqual(expected);
      expect(walked.pages.length).toBe(Math.max(1, Math.ceil(7 / limit)));
      for (const page of walked.pages.slice(0, -1)) {
        expect(page.body.items).toHaveLength(limit);
        expect(page.headers.get('link')).toMatch(/^<\/api\/v1\/articles\?.*cursor=[^>]+>; rel="next"$/);
      }
      expect(walked.pages.at(-1)!.body.nextCursor).toBeNull();
      expect(walked.pages.at(-1)!.headers.get('link')).toBeNull();
    }
  });

  it('the unfiltered list is newest first, and small pages give exactly what large pages give', async () => {
    const large = await listAll('', 200);
    const small = await listAll('', 37);
    expect(large.externalIds.length).toBeGreaterThan(7);
    expect(small.externalIds).toEqual(large.externalIds);
    expect(new Set(small.externalIds).size).toBe(small.externalIds.length);
    const dates = large.pages.flatMap((p) => (p.body.items as { publishedAt: string }[]).map((a) => a.publishedAt));
    for (let i = 1; i < dates.length; i += 1) expect(dates[i - 1]! >= dates[i]!).toBe(true);
  });

  it('defaults to 50 items a page and shows the stored article shape', async () => {
    // Enough articles for more than one default page, whatever ran before.
    const seeded = await post({ articles: articleBatch(51, 'default-page') });
    expect(seeded.status).toBe(200);
    const page = await send(t.app, 'GET', '/api/v1/articles');
    expect(page.status).toBe(200);
    const all = await listAll('', 200);
    expect((page.body.items as { externalId: string }[]).map((a) => a.externalId)).toEqual(all.externalIds.slice(0, 50));
    expect(page.body.nextCursor).toEqual(expect.any(String));
    expect(page.body.items[0]).toEqual(
      expect.objectContaining({ externalId: expect.any(String), guid: expect.any(String), categories: expect.any(Array), deletedAt: null }),
    );
    expect(page.body.items[0]).not.toHaveProperty('contentHash');
  });

  it('an unknown category lists nothing', async () => {
    const page = await send(t.app, 'GET', '/api/v1/articles?category=no-such-category');
    expect(page.body).toEqual({ items: [], nextCursor: null });
  });

  it.each(['limit=0', 'limit=-1', 'limit=201', 'limit=abc', 'limit=2.5', 'deleted=maybe', 'category=a%00b'])('?%s is a 422 problem naming the parameter', async (query) => {
    const answer = await send(t.app, 'GET', `/api/v1/articles?${query}`);
    expectProblem(answer, 422, [query.split('=')[0]!]);
  });

  it.each([
    'garbage',
    Buffer.from('12.x').toString('base64url'),
    ''.padEnd(201, 'a'),
    Buffer.from('999999999999999.1').toString('base64url'), // past the last representable date
    Buffer.from('-99999999999999.1').toString('base64url'), // before the year 1
    Buffer.from('1764316800000.999999999999999999').toString('base64url'), // not a safe integer id
  ])('a cursor that is not ours (%s) is a 4xx problem naming cursor', async (cursor) => {
    const answer = await send(t.app, 'GET', `/api/v1/articles?cursor=${cursor}`);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expectProblem(answer, answer.status, ['cursor']);
  });
});

describe('categories', () => {
  it('PUT /api/v1/categories/{slug} creates (201) and renames (200); the new name shows everywhere', async () => {
    const created = await send(t.app, 'PUT', '/api/v1/categories/weather', { body: { name: 'Weather', description: 'Forecasts' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ slug: 'weather', name: 'Weather', description: 'Forecasts' });

    await post(articleInput({ externalId: 'weather-1', categories: ['Weather'] }));
    const renamed = await send(t.app, 'PUT', '/api/v1/categories/weather', { body: { name: 'Weather & Climate' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Weather & Climate', description: null });

    const counts = await categoryCounts();
    expect(counts.get('weather')).toMatchObject({ name: 'Weather & Climate', articleCount: 1 });
    expect((await get('weather-1')).body.categories).toEqual([{ slug: 'weather', name: 'Weather & Climate' }]);
  });

  it('PUT validates the slug and the body', async () => {
    expectProblem(await send(t.app, 'PUT', '/api/v1/categories/Not%20A%20Slug', { body: { name: 'X' } }), 422, ['slug']);
    expectProblem(await send(t.app, 'PUT', '/api/v1/categories/all', { body: { name: 'All' } }), 422, ['slug']);
    expectProblem(await send(t.app, 'PUT', '/api/v1/categories/ok-slug', { body: { name: '  ' } }), 422, ['name']);
    expectProblem(await send(t.app, 'PUT', '/api/v1/categories/ok-slug', { body: {} }), 422, ['name']);
    expect((await categoryCounts()).has('ok-slug')).toBe(false);
  });

  it('GET /api/v1/categories needs no token and shows slug, name, description and count', async () => {
    await post(articleInput({ categories: ['Listing Desk'] }));
    const answer = await send(t.app, 'GET', '/api/v1/categories', { token: null });
    expect(answer.status).toBe(200);
    expect(answer.body.items.length).toBeGreaterThan(0);
    for (const item of answer.body.items as unknown[]) {
      expect(item).toEqual(
        expect.objectContaining({ slug: expect.any(String), name: expect.any(String), description: expect.toSatisfy((d) => d === null || typeof d === 'string'), articleCount: expect.any(Number) }),
      );
    }
  });
});
