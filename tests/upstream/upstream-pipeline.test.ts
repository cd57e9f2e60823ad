import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { articleInputSchema } from '../../src/domain/article-input.js';
import { fetchFeed, type FetchFeedOptions } from '../../src/upstream/fetch-feed.js';
import { mapUpstreamItem } from '../../src/upstream/map-item.js';
import { parseFeed } from '../../src/upstream/parse-feed.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

/** fetch → parse → map → the CMS input schema, over a real local server, as the poller will chain them. */

let server: UpstreamServer;

const options = (): FetchFeedOptions => ({
  userAgent: 'syndicate-test/1.0',
  timeoutMs: 5_000,
  maxBytes: 1024 * 1024,
  maxRedirects: 3,
  allowPrivate: false,
  allowedAddresses: ['127.0.0.1'],
  lookup: async () => [{ address: '127.0.0.1', family: 4 }],
});

beforeAll(async () => {
  server = await startUpstreamServer();
});

afterAll(async () => {
  await server.close();
});

describe('upstream pipeline', () => {
  it.each([
    ['/br/rss2-full.xml', 2],
    ['/gzip/atom-full.xml', 2],
    ['/redirect/301/fixtures/jsonfeed-1.1.json', 2],
    ['/fixtures/rss-iso-8859-1-declared.xml', 1],
  ])('%s ends as valid article input', async (path, count) => {
    const fetched = await fetchFeed(`http://feeds.example.test:${server.port}${path}`, options());
    if (fetched.kind !== 'ok') throw new Error(JSON.stringify(fetched));
    const parsed = await parseFeed(fetched.body, { feedUrl: fetched.finalUrl });
    if (!parsed.ok) throw new Error(parsed.error);
    const mapped = parsed.feed.items.map((item) =>
      mapUpstreamItem(item, {
        feedLink: parsed.feed.homePageUrl ?? '',
        feedUrl: fetched.finalUrl,
        fallbackDate: new Date('2025-11-10T00:00:00Z'),
        categories: ['Partners'],
        useItemCategories: true,
        fullContent: true,
      }),
    );
    expect(mapped).toHaveLength(count);
    for (const { raw } of mapped) expect(articleInputSchema.safeParse(raw).error?.issues ?? []).toEqual([]);
  });

  it('an HTML page served where a feed was expected names the advertised feed, resolved against the final URL', async () => {
    const fetched = await fetchFeed(`http://feeds.example.test:${server.port}/fixtures/html-page.html`, options());
    if (fetched.kind !== 'ok') throw new Error(JSON.stringify(fetched));
    expect(await parseFeed(fetched.body, { feedUrl: fetched.finalUrl })).toEqual({
      ok: false,
      error: `got an HTML page, not a feed; the page advertises a feed at http://feeds.example.test:${server.port}/feed.xml`,
    });
  });
});
