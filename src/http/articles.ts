import { OpenAPIHono, z } from '@hono/zod-openapi';
import { articleInputSchema, type NormalizedArticle } from '../domain/article-input.js';
import type { Deps } from '../deps.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { ingestBatch, storeArticles, validateArticle } from '../ingest.js';
import { getArticleByExternalId, getArticlesByIds, listArticles, retractArticle, type UpsertResult } from '../storage/articles.js';
import { toArticleJson } from './article-json.js';
import { requireScope, type AuthVariables } from './auth.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { readJsonBody } from './json-body.js';
import { problemResponses } from './openapi.js';

export const MAX_BATCH = 1000;

export interface ArticleEvents {
  /** Called after a commit that changed articles, with the categories whose feeds changed. */
  articlesChanged(change: { categoryIds: number[]; count: number }): void;
}

const listQuerySchema = z.object({
  category: z.string().min(1).max(200).refine(storable, { message: 'must not contain U+0000' }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  deleted: z.enum(['true', 'false']).optional(),
});

/**
 * Postgres text cannot hold U+0000 (the query fails): an id with one was never stored, so it is an
 * unknown article (404), not a server error.
 */
function storable(value: string): boolean {
  return !value.includes('\u0000');
}

/** `{"articles": [...]}` is a batch; anything else is one article. */
function isBatch(body: unknown): body is { articles: unknown } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'articles' in body && !('externalId' in body);
}

export function createArticlesRouter(deps: Deps, events?: ArticleEvents) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>();
  const validationOptions = { defaultLanguage: deps.config.SITE_LANGUAGE };

  function reportChange(result: UpsertResult): void {
    const count = result.results.filter((r) => r.outcome !== 'unchanged').length;
    if (count > 0) events?.articlesChanged({ categoryIds: result.touchedCategoryIds, count });
  }

  async function storeOne(article: NormalizedArticle) {
    const result = await storeArticles(deps, [article]);
    reportChange(result);
    const outcome = result.results[0]!;
    const [stored] = await getArticlesByIds(deps.db, [outcome.id]);
    return { outcome: outcome.outcome, article: toArticleJson(stored!) };
  }

  app.use('*', requireScope(deps, 'ingest'));

  app.post('/', async (c) => {
    const body = await readJsonBody(c);
    if (!isBatch(body)) {
      const checked = validateArticle(body, validationOptions);
      if (!checked.ok) throw new ValidationError(checked.errors);
      const { outcome, article } = await storeOne(checked.article);
      c.header('Location', `/api/v1/articles/${encodeURIComponent(article.externalId)}`);
      return c.json({ status: outcome, article }, outcome === 'created' ? 201 : 200);
    }
    const rawItems = body.articles;
    if (!Array.isArray(rawItems)) throw new ValidationError([{ path: 'articles', message: 'must be an array of articles' }]);
    if (rawItems.length === 0) throw new ValidationError([{ path: 'articles', message: 'must hold at least one article' }]);
    if (rawItems.length > MAX_BATCH) {
      throw new ValidationError([{ path: 'articles', message: `must hold at most ${MAX_BATCH} articles (got ${rawItems.length})` }]);
    }
    const result = await ingestBatch(deps, rawItems, validationOptions);
    reportChange(result);
    const counts = { created: 0, updated: 0, unchanged: 0 };
    for (const r of result.results) counts[r.outcome] += 1;
    return c.json({
      counts,
      results: result.results.map((r, index) => ({ index, externalId: r.externalId, status: r.outcome })),
    });
  });

  app.get('/', async (c) => {
    const parsed = listQuerySchema.safeParse(c.req.query());
    if (!parsed.success) {
      throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    }
    const q = parsed.data;
    const page = await listArticles(deps.db, {
      categorySlug: q.category,
      limit: q.limit,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
      deleted: q.deleted === 'true',
    });
    const nextCursor = page.next ? encodeCursor(page.next) : null;
    if (nextCursor) {
      const next = new URL(c.req.url);
      next.searchParams.set('cursor', nextCursor);
      c.header('Link', `<${next.pathname}${next.search}>; rel="next"`);
    }
    return c.json({ items: page.items.map(toArticleJson), nextCursor });
  });

  app.get('/:externalId{.+}', async (c) => {
    const externalId = c.req.param('externalId');
    const article = storable(externalId) ? await getArticleByExternalId(deps.db, externalId) : undefined;
    if (!article) throw new NotFoundError(`No article with externalId '${externalId}'.`);
    return c.json(toArticleJson(article));
  });

  app.put('/:externalId{.+}', async (c) => {
    const externalId = c.req.param('externalId');
    const body = await readJsonBody(c);
    let raw = body;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const given = (body as { externalId?: unknown }).externalId;
      if (given !== undefined && given !== externalId) {
        throw new ValidationError([{ path: 'externalId', message: `must match the URL ('${externalId}') or be omitted` }]);
      }
      raw = { ...body, externalId };
    }
    const checked = validateArticle(raw, validationOptions);
    if (!checked.ok) throw new ValidationError(checked.errors);
    // Normalisation trims and strips control characters: the article must live at the URL it was put to.
    if (checked.article.externalId !== externalId) {
      throw new ValidationError([{ path: 'externalId', message: 'must not have surrounding white space or control characters' }]);
    }
    const { outcome, article } = await storeOne(checked.article);
    return c.json({ status: outcome, article }, outcome === 'created' ? 201 : 200);
  });

  app.delete('/:externalId{.+}', async (c) => {
    const externalId = c.req.param('externalId');
    const retracted = storable(externalId) ? await deps.db.transaction((tx) => retractArticle(tx, externalId, deps.now())) : null;
    if (!retracted) throw new NotFoundError(`No article with externalId '${externalId}'.`);
    if (!retracted.alreadyDeleted) events?.articlesChanged({ categoryIds: retracted.touchedCategoryIds, count: 1 });
    return c.body(null, 204);
  });

  registerArticleDocs(app);
  return app;
}

function registerArticleDocs(app: OpenAPIHono<{ Variables: AuthVariables }>) {
  const security = [{ bearerAuth: [] }];
  const batchSchema = z.object({ articles: z.array(articleInputSchema).min(1).max(MAX_BATCH) });
  const externalIdParam = z.object({ externalId: z.string().min(1).max(200) });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/',
    summary: 'Create or update one article, or a batch of up to 1,000 (all-or-nothing)',
    tags: ['articles'],
    security,
    request: { body: { required: true, content: { 'application/json': { schema: z.union([articleInputSchema, batchSchema]) } } } },
    responses: {
      200: { description: 'Updated (or unchanged); for a batch, per-article outcomes' },
      201: { description: 'Created' },
      ...problemResponses(400, 401, 403, 413, 415, 422),
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    summary: 'List articles, newest first, with cursor pagination',
    tags: ['articles'],
    security,
    request: { query: listQuerySchema },
    responses: { 200: { description: 'A page of articles and the next cursor' }, ...problemResponses(400, 401, 422) },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/{externalId}',
    summary: 'Read one article',
    tags: ['articles'],
    security,
    request: { params: externalIdParam },
    responses: { 200: { description: 'The article' }, ...problemResponses(401, 404) },
  });
  app.openAPIRegistry.registerPath({
    method: 'put',
    path: '/{externalId}',
    summary: 'Create or replace one article',
    tags: ['articles'],
    security,
    request: { params: externalIdParam, body: { required: true, content: { 'application/json': { schema: articleInputSchema.partial({ externalId: true }) } } } },
    responses: { 200: { description: 'Updated or unchanged' }, 201: { description: 'Created' }, ...problemResponses(400, 401, 403, 413, 415, 422) },
  });
  app.openAPIRegistry.registerPath({
    method: 'delete',
    path: '/{externalId}',
    summary: 'Retract an article: it leaves every feed; the row is kept for tombstones',
    tags: ['articles'],
    security,
    request: { params: externalIdParam },
    responses: { 204: { description: 'Retracted' }, ...problemResponses(401, 403, 404) },
  });
}
