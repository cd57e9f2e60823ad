import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, jsonRequest, type TestContext } from '../helpers/app.js';
import { articleInput } from '../helpers/builders.js';

describe('smoke', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(async () => t.close());

  it('creates and reads back an article', async () => {
    const input = articleInput();
    const res = await t.app.request('/api/v1/articles', jsonRequest('POST', input));
    expect(res.status).toBe(201);
    const got = await t.app.request(`/api/v1/articles/${input.externalId}`, { headers: { authorization: jsonRequest('GET', null).headers ? `Bearer ${t.config.ADMIN_TOKEN}` : '' } });
    expect(got.status).toBe(200);
    const body = (await got.json()) as { title: string; guid: string };
    expect(body.title).toBe(input.title);
    expect(body.guid).toMatch(/^tag:news\.example\.co\.uk,2026-11-29:article:\d+$/);
  });
});
