import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { Deps } from './deps.js';
import { AppError, NotFoundError, PayloadTooLargeError, PROBLEM_DESCRIPTIONS, toProblem } from './errors.js';
import type { FeedRuntime } from './feed-runtime.js';
import { createAdminFeedsRouter } from './http/admin-feeds.js';
import { createArticlesRouter } from './http/articles.js';
import { createFeedsRouter } from './http/feeds.js';
import { createPagesRouter } from './http/pages.js';
import { feedUrls } from './domain/feed-builder.js';
import { routePath } from 'hono/route';
import { createCategoriesRouter } from './http/categories.js';
import { createHealthRouter } from './http/health.js';
import { createDocsRouter } from './http/openapi.js';
import { createTokensRouter } from './http/tokens.js';
import { createSourcesRouter } from './http/sources.js';
import { createArchivesRouter } from './http/feed-views.js';
import { createPartnerFeedsRouter, createPartnersRouter } from './http/partners.js';
import { createAssetsRouter } from './http/assets.js';
import { createFeedStatsRouter, recordFeedReaders } from './http/feed-stats.js';
import { createWebsubRouter } from './http/websub.js';
import { Realtime } from './realtime.js';


function problem(c: Context, err: unknown) {
  const body = toProblem(err, c.get('requestId') as string | undefined, new URL(c.req.url).pathname);
  if (err instanceof AppError) for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  c.header('Cache-Control', 'no-store');
  return c.body(JSON.stringify(body), body.status as 400, { 'Content-Type': 'application/problem+json; charset=utf-8' });
}

/** The HTTP application: middleware top to bottom, one router per resource, errors mapped once. */
/**
 * `realtime` (WebSub hub, deliveries, reader statistics) is started and stopped by whoever owns the
 * process (service.ts, tests); without one, the hub still accepts and verifies subscriptions but
 * nothing delivers.
 */
export function createApp(deps: Deps, feeds: FeedRuntime, realtime: Realtime = new Realtime(deps, feeds)) {
  const app = new OpenAPIHono();

  app.use('*', requestId());
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const elapsed = performance.now() - started;
    const durationMs = Math.round(elapsed * 10) / 10;
    const status = c.res.status;
    const route = status === 404 && !c.req.path.startsWith('/feeds/') ? 'unmatched' : routePath(c, -1);
    deps.metrics.httpRequests.inc({ method: c.req.method, route, status: String(status) });
    deps.metrics.httpDuration.observe({ method: c.req.method, route }, elapsed / 1000);
    // A partner's key is a secret in its URL: it stays out of the logs.
    const path = new URL(c.req.url).pathname.replace(/^\/partners\/[^/]+/, '/partners/{key}');
    const entry = { requestId: c.get('requestId'), method: c.req.method, path, status, durationMs };
    if (status >= 500) deps.log.error(entry, 'request');
    else deps.log.info(entry, 'request');
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: deps.config.BODY_LIMIT_BYTES,
      onError: () => {
        throw new PayloadTooLargeError(deps.config.BODY_LIMIT_BYTES);
      },
    }),
  );

  if (deps.config.STATS_ENABLED) app.use('/feeds/*', recordFeedReaders(deps, realtime.readers));

  app.route('/', createHealthRouter(deps));
  app.route('/', createFeedsRouter(deps, feeds));
  // Issue 6: RFC 5005 monthly archives, and partner feeds (/partners/{key}/feeds/…).
  app.route('/', createArchivesRouter(deps, feeds));
  app.route('/', createPartnerFeedsRouter(deps, feeds));
  app.route('/', createPagesRouter(deps, { audience: () => realtime.audience() }));
  app.route('/', createWebsubRouter(deps, feeds, realtime));
  app.route('/', createAssetsRouter());
  app.route(
    '/api/v1/articles',
    createArticlesRouter(deps, {
      articlesChanged: ({ count }) => {
        deps.metrics.articlesIngested.inc({ outcome: 'changed', origin: 'api' }, count);
        feeds.requestRefresh();
      },
    }),
  );
  app.route('/api/v1/tokens', createTokensRouter(deps));
  app.route('/api/v1/partners', createPartnersRouter(deps, feeds));
  app.route(
    '/api/v1/categories',
    createCategoriesRouter(deps, {
      links: (category) => ({ feeds: feedUrls(deps.config.PUBLIC_BASE_URL, category.slug) }),
      onChanged: () => feeds.requestRefresh(),
    }),
  );
  app.route('/api/v1/feeds', createAdminFeedsRouter(deps, feeds));
  app.route('/api/v1/feeds', createFeedStatsRouter(deps));
  app.route(
    '/api/v1/sources',
    createSourcesRouter(deps, {
      // The poll already counted its articles (origin: source); the feeds only need to refresh.
      articlesChanged: () => feeds.requestRefresh(),
    }),
  );
  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.metrics.registry.contentType);
    c.header('Cache-Control', 'no-store');
    return c.body(await deps.metrics.registry.metrics());
  });
  app.route('/docs', createDocsRouter());

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'syndicate',
      version: '1',
      description: 'Ingest articles and publish them as per-category RSS 2.0, Atom 1.0 and JSON Feed 1.1.',
    },
    servers: [{ url: deps.config.PUBLIC_BASE_URL }],
  });

  app.get('/problems/:kind', (c) => {
    const text = PROBLEM_DESCRIPTIONS[c.req.param('kind')];
    if (!text) throw new NotFoundError('No such problem type.');
    return c.text(`${text}\n`);
  });

  app.notFound((c) => problem(c, new NotFoundError(`No route for ${c.req.method} ${new URL(c.req.url).pathname}.`)));
  app.onError((err, c) => {
    if (!(err instanceof AppError)) {
      deps.log.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    }
    return problem(c, err);
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
