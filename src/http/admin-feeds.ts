import { OpenAPIHono } from '@hono/zod-openapi';
import type { Deps } from '../deps.js';
import type { FeedRuntime } from '../feed-runtime.js';
import { requireScope, type AuthVariables } from './auth.js';
import { problemResponses } from './openapi.js';

/** POST /api/v1/feeds/refresh (admin): re-render every feed now and report what changed. */
export function createAdminFeedsRouter(deps: Deps, feeds: FeedRuntime) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>();
  app.post('/refresh', requireScope(deps, 'admin'), async (c) => c.json(await feeds.refresh('manual')));
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/refresh',
    summary: 'Re-render every feed now (admin); unchanged feeds keep their bytes and validators',
    tags: ['feeds'],
    security: [{ bearerAuth: [] }],
    responses: { 200: { description: 'What the refresh did' }, ...problemResponses(401, 403) },
  });
  return app;
}
