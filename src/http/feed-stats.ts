import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import { ValidationError } from '../errors.js';
import { feedAudience } from '../reader-stats.js';
import { listCategories } from '../storage/categories.js';
import { addDays, dayOf, readReaderStats } from '../storage/reader-stats.js';
import { ALL_FEED_KEY } from '../domain/feed-builder.js';
import { requireScope, type AuthVariables } from './auth.js';
import { problemResponses } from './openapi.js';

const querySchema = z.object({
  days: z.coerce.number().int().min(1).max(90).default(7),
});

/**
 * GET /api/v1/feeds/stats (ingest scope: the CMS shows it to editors): per feed, the current audience
 * (aggregator subscribers + distinct readers + WebSub subscribers) and the daily history behind it.
 */
export function createFeedStatsRouter(deps: Deps) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>();

  app.get('/stats', requireScope(deps, 'ingest'), async (c) => {
    const parsed = querySchema.safeParse(c.req.query());
    if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    const now = deps.now();
    const today = dayOf(now);
    const [audience, history, categories] = await Promise.all([
      feedAudience(deps.db, now),
      readReaderStats(deps.db, addDays(today, 1 - parsed.data.days), today),
      listCategories(deps.db),
    ]);
    const names = new Map<string, string>([[ALL_FEED_KEY, 'All articles'], ...categories.map((cat) => [cat.slug, cat.name] as [string, string])]);
    const keys = new Set<string>([...names.keys(), ...audience.keys()]);
    const feeds = [...keys].sort().map((feedKey) => {
      const a = audience.get(feedKey);
      return {
        feedKey,
        name: names.get(feedKey) ?? null,
        subscribers: a?.subscribers ?? 0,
        aggregators: a?.aggregators ?? [],
        readers: a?.readers ?? 0,
        websub: a?.websub ?? 0,
        history: history
          .filter((d) => d.feedKey === feedKey)
          .map((d) => ({
            day: d.day,
            readers: d.readers,
            aggregatorSubscribers: d.aggregators.reduce((sum, x) => sum + x.subscribers, 0),
            aggregators: d.aggregators,
          })),
      };
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ generatedAt: now.toISOString(), day: today, days: parsed.data.days, feeds });
  });

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/stats',
    summary: 'Readers per feed: aggregator subscribers, distinct readers per day, WebSub subscribers (ingest)',
    tags: ['feeds'],
    security: [{ bearerAuth: [] }],
    request: { query: querySchema },
    responses: { 200: { description: 'Audience per feed with daily history' }, ...problemResponses(401, 403, 422) },
  });
  return app;
}

const FEED_PATH = /^\/feeds\/([a-z0-9]+(?:-[a-z0-9]+)*)\.(rss|atom|json)$/;

/**
 * The client address a reader is counted by: the socket's, or (STATS_TRUST_FORWARDED_FOR, behind a
 * proxy or CDN that sets it) the first X-Forwarded-For entry.
 */
export function readerAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustForwarded: boolean): string | undefined {
  if (trustForwarded && forwardedFor) {
    const first = (Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return socketAddress;
}

/**
 * Middleware counting answered feed requests (200/304) that reach the router — the fast path counts
 * its own. Recording only adds to a tally in memory, after the response is ready.
 */
export function recordFeedReaders(deps: Deps, readers: { record(feedKey: string, format: string, address: string | undefined, userAgent: string | undefined, connection?: object): void }): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    if (status !== 200 && status !== 304) return;
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return;
    const match = FEED_PATH.exec(c.req.path);
    if (!match) return;
    const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
    const address = readerAddress(incoming?.socket?.remoteAddress, c.req.header('x-forwarded-for'), deps.config.STATS_TRUST_FORWARDED_FOR);
    readers.record(match[1]!, match[2]!, address, c.req.header('user-agent'), incoming?.socket);
  };
}
