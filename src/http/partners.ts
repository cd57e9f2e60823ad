import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import { parseMonth } from '../domain/archive.js';
import { cleanPlainText } from '../domain/clean-text.js';
import { zodIssuesToFieldErrors } from '../domain/field-errors.js';
import type { ViewPartner } from '../domain/feed-view.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { FeedRuntime } from '../feed-runtime.js';
import { feedViewsOf } from '../feed-views.js';
import { getCategoryBySlug } from '../storage/categories.js';
import { ALL_FEED } from '../storage/feed-state.js';
import {
  findActivePartnerByKeyHash,
  getPartner,
  insertPartner,
  listPartnerStats,
  listPartners,
  revokePartner,
  type PartnerStatsRow,
  type PartnerSummary,
} from '../storage/partners.js';
import { generateTokenSecret, hashToken, requireScope, type AuthVariables } from './auth.js';
import { serveFeedView, splitFeedFile } from './feed-views.js';
import { readJsonBody } from './json-body.js';
import { problemResponses } from './openapi.js';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What generateTokenSecret makes: `syn_` + 32 random bytes in base64url. Anything else is not a key. */
const KEY_SHAPE = /^syn_[A-Za-z0-9_-]{43}$/;
/** An embargo of up to a week. */
const MAX_EMBARGO_MINUTES = 7 * 24 * 60;

const createPartnerSchema = z.object({
  name: z.string().max(1000).transform(cleanPlainText).pipe(z.string().min(1, { message: 'must not be empty' }).max(200)),
  /** Category slugs; omitted or null: every category (and the `all` feed). */
  categories: z
    .array(
      z
        .string()
        .max(200)
        .regex(SLUG, { message: 'must be a category slug such as world-news' })
        .refine((s) => s !== ALL_FEED, { message: `omit categories to give access to every category (and '${ALL_FEED}')` }),
    )
    .min(1, { message: 'must name at least one category (omit it for every category)' })
    .max(1000)
    .nullish(),
  embargoMinutes: z.number().int().min(0).max(MAX_EMBARGO_MINUTES).default(0),
  content: z.enum(['full', 'summary']).default('full'),
});

function toPartnerJson(p: PartnerSummary, baseUrl: string, key?: string) {
  return {
    id: p.id,
    name: p.name,
    keyPrefix: p.keyPrefix,
    categories: p.categories,
    embargoMinutes: p.embargoMinutes,
    content: p.content,
    createdAt: p.createdAt.toISOString(),
    revokedAt: p.revokedAt?.toISOString() ?? null,
    ...(key ? { key, feedsUrl: `${baseUrl}/partners/${key}/feeds/` } : {}),
  };
}

function toStatsJson(s: PartnerStatsRow) {
  return {
    feed: s.feedPath,
    requests: s.requests,
    okResponses: s.okResponses,
    notModifiedResponses: s.notModifiedResponses,
    lastFetchAt: s.lastFetchAt?.toISOString() ?? null,
    lastUserAgent: s.lastUserAgent,
  };
}

/**
 * Admin API for partners (aggregator sites reading through a key of their own): create (the key is
 * returned once; only its sha256 is stored), list, read, revoke, and per-feed statistics.
 */
export function createPartnersRouter(deps: Deps, feeds: FeedRuntime) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>();
  const base = deps.config.PUBLIC_BASE_URL;
  app.use('*', requireScope(deps, 'admin'));

  app.post('/', async (c) => {
    const parsed = createPartnerSchema.safeParse(await readJsonBody(c));
    if (!parsed.success) throw new ValidationError(zodIssuesToFieldErrors(parsed.error));
    const categories = parsed.data.categories ? [...new Set(parsed.data.categories)].sort() : null;
    if (categories) {
      const errors = [];
      for (const [i, slug] of (parsed.data.categories ?? []).entries()) {
        if (!(await getCategoryBySlug(deps.db, slug))) errors.push({ path: `categories.${i}`, message: `no category with slug '${slug}'` });
      }
      if (errors.length > 0) throw new ValidationError(errors);
    }
    const { secret, prefix } = generateTokenSecret();
    const row = await insertPartner(deps.db, {
      name: parsed.data.name,
      keyHash: hashToken(secret),
      keyPrefix: prefix,
      categories,
      embargoMinutes: parsed.data.embargoMinutes,
      content: parsed.data.content,
      createdAt: deps.now(),
    });
    c.header('Location', `/api/v1/partners/${row.id}`);
    c.header('Cache-Control', 'no-store');
    return c.json(toPartnerJson(row, base, secret), 201);
  });

  app.get('/', async (c) => c.json({ items: (await listPartners(deps.db)).map((p) => toPartnerJson(p, base)) }));

  const partnerOr404 = async (id: string) => {
    const partner = UUID.test(id) ? await getPartner(deps.db, id) : undefined;
    if (!partner) throw new NotFoundError(`No partner with id '${id}'.`);
    return partner;
  };

  app.get('/:id', async (c) => c.json(toPartnerJson(await partnerOr404(c.req.param('id')), base)));

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    if (!UUID.test(id) || !(await revokePartner(deps.db, id, deps.now()))) throw new NotFoundError(`No partner with id '${id}'.`);
    return c.body(null, 204);
  });

  app.get('/:id/stats', async (c) => {
    const partner = await partnerOr404(c.req.param('id'));
    // This instance's counts not yet written are included (other instances flush within seconds).
    await feedViewsOf(deps, feeds).stats.flush();
    const rows = await listPartnerStats(deps.db, partner.id);
    return c.json({ partnerId: partner.id, items: rows.map(toStatsJson) });
  });

  const security = [{ bearerAuth: [] }];
  const idParam = z.object({ id: z.string().uuid() });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/',
    summary: 'Create a partner: allowed categories (or all), embargo, full text or summaries; the key is shown once',
    tags: ['partners'],
    security,
    request: { body: { required: true, content: { 'application/json': { schema: createPartnerSchema } } } },
    responses: { 201: { description: 'The partner, with its key and feeds URL' }, ...problemResponses(400, 401, 403, 415, 422) },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    summary: 'List partners (never their keys)',
    tags: ['partners'],
    security,
    responses: { 200: { description: 'Partners' }, ...problemResponses(401, 403) },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/{id}',
    summary: 'Read one partner',
    tags: ['partners'],
    security,
    request: { params: idParam },
    responses: { 200: { description: 'The partner' }, ...problemResponses(401, 403, 404) },
  });
  app.openAPIRegistry.registerPath({
    method: 'delete',
    path: '/{id}',
    summary: "Revoke a partner's key: its feeds answer 404 from the next request, on every instance",
    tags: ['partners'],
    security,
    request: { params: idParam },
    responses: { 204: { description: 'Revoked' }, ...problemResponses(401, 403, 404) },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/{id}/stats',
    summary: 'Requests per feed: total, 200 and 304 answers, last fetch and its user agent',
    tags: ['partners'],
    security,
    request: { params: idParam },
    responses: { 200: { description: 'Per-feed statistics' }, ...problemResponses(401, 403, 404) },
  });
  return app;
}

/** The one answer to every partner feed path that cannot be served: a wrong key, a category it may not read, no such feed. */
function noSuchFeed(): NotFoundError {
  return new NotFoundError('No such feed.');
}

/**
 * GET/HEAD /partners/{key}/feeds/… : everything under /feeds/ (categories, `all`, combinations,
 * ?limit, ?since, archives), limited to the partner's categories and terms. The key is checked
 * against the database on every request, so a revocation stops access at once on every instance.
 * Every "not found" is the same answer, whatever the reason (no oracle for keys or categories).
 */
export function createPartnerFeedsRouter(deps: Deps, feeds: FeedRuntime) {
  const app = new Hono();
  const views = feedViewsOf(deps, feeds);

  async function resolvePartner(key: string): Promise<ViewPartner> {
    if (!KEY_SHAPE.test(key)) throw noSuchFeed();
    const row = await findActivePartnerByKeyHash(deps.db, hashToken(key));
    if (!row) throw noSuchFeed();
    return { id: row.id, key, categories: row.categories, embargoMinutes: row.embargoMinutes, content: row.content };
  }

  async function serve(c: Context, keysText: string, file: { name: string; format: 'rss' | 'atom' | 'json' }, archive: boolean) {
    const partner = await resolvePartner(c.req.param('key')!);
    const month = archive ? parseMonth(file.name) : null;
    if (archive && !month) throw noSuchFeed();
    try {
      const served = await serveFeedView(c, deps, views, { keysText, format: file.format, month, partner });
      if (served.status === 200 || served.status === 304) views.stats.record(partner.id, served.path, served.status, c.req.header('user-agent'));
      return served.response;
    } catch (err) {
      // Whatever the reason (unknown feed, a category outside its list, a month out of range): one answer.
      throw err instanceof NotFoundError ? noSuchFeed() : err;
    }
  }

  app.get('/partners/:key/feeds/:file{[^/]+\\.[A-Za-z0-9]+}', async (c) => {
    const file = splitFeedFile(c.req.param('file'));
    if (!file) throw noSuchFeed();
    return serve(c, file.name, file, false);
  });

  app.get('/partners/:key/feeds/:keys/archive/:file', async (c) => {
    const file = splitFeedFile(c.req.param('file'));
    if (!file) throw noSuchFeed();
    return serve(c, c.req.param('keys'), file, true);
  });

  return app;
}
