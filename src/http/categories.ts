import { OpenAPIHono, z } from '@hono/zod-openapi';
import { cleanPlainText } from '../domain/clean-text.js';
import { zodIssuesToFieldErrors } from '../domain/field-errors.js';
import type { Deps } from '../deps.js';
import { ValidationError } from '../errors.js';
import { listCategories, putCategory, type CategoryRow } from '../storage/categories.js';
import { requireScope, type AuthVariables } from './auth.js';
import { readJsonBody } from './json-body.js';
import { problemResponses } from './openapi.js';

/** Slugs are what category names turn into; `all` is the every-article feed. */
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

const putCategorySchema = z.object({
  name: z
    .string()
    .max(1000)
    .transform(cleanPlainText)
    .pipe(z.string().min(1, { message: 'must not be empty' }).max(200)),
  description: z
    .string()
    .max(10_000)
    .transform(cleanPlainText)
    .pipe(z.string().max(2000))
    .nullish()
    .transform((v) => (v ? v : null)),
});

export interface CategoryLinks {
  /** Extra fields for each category (feed URLs, added by the feeds module). */
  (category: CategoryRow): Record<string, unknown>;
}

function toCategoryJson(c: CategoryRow, extra: Record<string, unknown> = {}) {
  return {
    slug: c.slug,
    name: c.name,
    description: c.description,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    ...extra,
  };
}

export function createCategoriesRouter(deps: Deps, options: { links?: CategoryLinks; onChanged?: (c: CategoryRow) => void } = {}) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>();
  const links = options.links ?? (() => ({}));

  app.get('/', async (c) => {
    const rows = await listCategories(deps.db);
    return c.json({ items: rows.map((r) => toCategoryJson(r, { articleCount: r.articleCount, ...links(r) })) });
  });

  app.put('/:slug', requireScope(deps, 'admin'), async (c) => {
    const slug = c.req.param('slug');
    const errors = [];
    if (!SLUG_PATTERN.test(slug) || slug.length > 200) errors.push({ path: 'slug', message: 'must be lowercase letters, digits and single hyphens, e.g. breaking-news' });
    if (slug === 'all') errors.push({ path: 'slug', message: "'all' is reserved for the feed of every article" });
    const parsed = putCategorySchema.safeParse(await readJsonBody(c));
    if (!parsed.success) errors.push(...zodIssuesToFieldErrors(parsed.error));
    if (errors.length > 0 || !parsed.success) throw new ValidationError(errors);
    const result = await putCategory(deps.db, slug, { name: parsed.data.name, description: parsed.data.description ?? null }, deps.now());
    if (result.changed) options.onChanged?.(result.category);
    return c.json(toCategoryJson(result.category, links(result.category)), result.created ? 201 : 200);
  });

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    summary: 'List categories with their article counts',
    tags: ['categories'],
    responses: { 200: { description: 'Categories' } },
  });
  app.openAPIRegistry.registerPath({
    method: 'put',
    path: '/{slug}',
    summary: 'Create a category or change its name and description (admin)',
    tags: ['categories'],
    security: [{ bearerAuth: [] }],
    request: {
      params: z.object({ slug: z.string().regex(SLUG_PATTERN) }),
      body: { required: true, content: { 'application/json': { schema: putCategorySchema } } },
    },
    responses: { 200: { description: 'Updated' }, 201: { description: 'Created' }, ...problemResponses(400, 401, 403, 415, 422) },
  });
  return app;
}
