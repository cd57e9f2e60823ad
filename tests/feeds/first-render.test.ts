import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput } from '../helpers/builders.js';
import { counterValue, FORMATS, ingest, request, snapshotSeqs, type Format, type RawFeed } from '../helpers/feeds.js';

/**
 * A feed's first request renders it on demand, stores it and answers with the bytes it rendered,
 * without reading them back (FeedRuntime.loadOrRender). That answer must be the one every later
 * request gets from the stored row: same bytes, validators and Link header, cached under the seq
 * the row was stored with.
 */

const SLUG = 'first-render';
const ENCODINGS = ['identity', 'gzip', 'br'] as const;

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext({ env: { WEBSUB_HUBS: 'https://hub.example.net/' } });
  await ingest(t, [
    articleInput({ externalId: 'fr-1', title: 'Rendered on demand', categories: ['First Render'], publishedAt: '2026-11-28T09:00:00Z' }),
    articleInput({ externalId: 'fr-2', title: 'And read back', categories: ['First Render'], publishedAt: '2026-11-28T10:00:00Z' }),
  ]);
});
afterAll(async () => {
  await t.close();
});

function answer(raw: RawFeed) {
  const h = raw.headers;
  return {
    status: raw.status,
    etag: h.get('etag'),
    lastModified: h.get('last-modified'),
    link: h.get('link'),
    encoding: h.get('content-encoding'),
    length: h.get('content-length'),
    body: raw.bytes.toString('base64'),
  };
}

async function allAnswers(format: Format) {
  const out: Record<string, ReturnType<typeof answer>> = {};
  for (const encoding of ENCODINGS) out[encoding] = answer(await request(t, `/feeds/${SLUG}.${format}`, { headers: { 'accept-encoding': encoding } }));
  return out;
}

describe('the first request of a feed never rendered', () => {
  it('answers with exactly what a later request reads from the stored row, for every format and coding', async () => {
    const renders = await counterValue(t.deps.metrics.snapshotCache, { result: 'render' });
    const first: Record<string, Awaited<ReturnType<typeof allAnswers>>> = {};
    for (const format of FORMATS) first[format] = await allAnswers(format);
    // One render for the feed: the other formats' first requests find the rows it stored.
    expect((await counterValue(t.deps.metrics.snapshotCache, { result: 'render' })) - renders).toBe(1);

    const seqs = await snapshotSeqs(t);
    for (const format of FORMATS) {
      const cached = t.feeds.cache.get(SLUG, format);
      expect(cached, format).toBeDefined();
      expect(cached!.seq, `${format}: cached under the stored seq`).toBe(seqs.get(`${SLUG}.${format}`));
      expect(cached!.link, format).toContain('hub.example.net');
    }

    const loads = await counterValue(t.deps.metrics.snapshotCache, { result: 'load' });
    for (const format of FORMATS) t.feeds.cache.delete(SLUG, format);
    for (const format of FORMATS) {
      const again = await allAnswers(format);
      expect(again, format).toEqual(first[format]);
      for (const encoding of ENCODINGS) expect(again[encoding]!.status).toBe(200);
    }
    expect((await counterValue(t.deps.metrics.snapshotCache, { result: 'load' })) - loads).toBe(FORMATS.length);
  });
});
