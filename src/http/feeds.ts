import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import { ALL_FEED_KEY, feedUrls } from '../domain/feed-builder.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import type { FeedRuntime } from '../feed-runtime.js';
import { renderOpml } from '../render/opml.js';
import { listCategories } from '../storage/categories.js';
import type { FeedFormat } from '../storage/feeds.js';
import { answerFeedRequest, ifNoneMatchMatches } from './feed-response.js';
import { feedViewsOf } from '../feed-views.js';
import { serveFeedView, splitFeedFile } from './feed-views.js';

const FEED_FILE = /^([a-z0-9]+(?:-[a-z0-9]+)*)\.(rss|atom|json)$/;

/** `?limit=` must be an integer 1..200; absent means the canonical (pre-rendered) feed. */
export function parseLimit(value: string | undefined, defaultLimit: number): number | null {
  if (value === undefined) return null;
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 200) {
    throw new BadRequestError('limit must be an integer from 1 to 200', [{ path: 'limit', message: 'must be an integer from 1 to 200' }]);
  }
  const limit = Number(value);
  return limit === defaultLimit ? null : limit;
}

function send(answer: ReturnType<typeof answerFeedRequest>): Response {
  return new Response(answer.body as ConstructorParameters<typeof Response>[0], { status: answer.status, headers: answer.headers });
}

/** GET/HEAD /feeds/{slug}.{rss|atom|json} and /feeds.opml: pre-rendered bytes plus validator checks. */
export function createFeedsRouter(deps: Deps, feeds: FeedRuntime) {
  const app = new Hono();

  app.get('/feeds/:file{[^/]+\\.[A-Za-z0-9]+}', async (c) => {
    const match = FEED_FILE.exec(c.req.param('file'));
    // Combinations (/feeds/a+b.rss) and increments (?since=) are views rendered on demand (issue 6).
    const view = match && c.req.query('since') === undefined ? null : splitFeedFile(c.req.param('file'));
    if (view) return (await serveFeedView(c, deps, feedViewsOf(deps, feeds), { keysText: view.name, format: view.format, month: null, partner: null })).response;
    if (!match) throw new NotFoundError('No such feed. Feeds are /feeds/{category}.rss, .atom or .json.');
    const [, slug, ext] = match as unknown as [string, string, FeedFormat];
    const limit = parseLimit(c.req.query('limit'), deps.config.FEED_ITEM_LIMIT);
    const entry = limit === null ? await feeds.getSnapshot(slug, ext) : await feeds.getVariant(slug, ext, { limit });
    if (!entry) throw new NotFoundError(`No feed named '${slug}'.`);
    const answer = answerFeedRequest(
      entry,
      {
        method: c.req.method,
        acceptEncoding: c.req.header('accept-encoding'),
        ifNoneMatch: c.req.header('if-none-match'),
        ifModifiedSince: c.req.header('if-modified-since'),
      },
      feeds.cacheControl,
    );
    if (answer.status === 304) deps.metrics.notModified.inc();
    return send(answer);
  });

  app.get('/feeds.opml', async (c) => {
    const categories = await listCategories(deps.db);
    const base = deps.config.PUBLIC_BASE_URL;
    const all = feedUrls(base, ALL_FEED_KEY);
    const newest = categories.reduce((max, cat) => Math.max(max, cat.updatedAt.getTime(), cat.createdAt.getTime()), 0);
    const body = renderOpml({
      title: `${deps.config.SITE_TITLE} feeds`,
      ownerName: deps.config.SITE_TITLE,
      dateCreated: new Date(newest),
      outlines: [
        { title: `${deps.config.SITE_TITLE}: all articles`, xmlUrl: all.rss, htmlUrl: all.html, type: 'rss' as const },
        ...categories.map((cat) => {
          const urls = feedUrls(base, cat.slug);
          return { title: `${deps.config.SITE_TITLE}: ${cat.name}`, description: cat.description ?? undefined, xmlUrl: urls.rss, htmlUrl: urls.html, type: 'rss' as const };
        }),
      ],
    });
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const headers = {
      ETag: etag,
      'Cache-Control': feeds.cacheControl,
      'Access-Control-Allow-Origin': '*',
      'Content-Type': 'text/x-opml; charset=utf-8',
    };
    const inm = c.req.header('if-none-match');
    if (inm && ifNoneMatchMatches(inm, etag)) {
      const { 'Content-Type': _ignored, ...rest } = headers;
      return c.body(null, 304, rest);
    }
    return c.body(body, 200, headers);
  });

  return app;
}
