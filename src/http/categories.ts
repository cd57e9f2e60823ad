import { OpenAPIHono, z } from '@hono/zod-openapi';
import { httpUrlSchema } from '../domain/article-input.js';
import { cleanPlainText } from '../domain/clean-text.js';
import { APPLE_CATEGORIES, type PodcastConfig } from '../domain/podcast.js';
import { zodIssuesToFieldErrors } from '../domain/field-errors.js';
import type { Deps } from '../deps.js';
import { ValidationError } from '../errors.js';
import { listCategories, putCategory, type CategoryRow } from '../storage/categories.js';
import { requireScope, type AuthVariables } from './auth.js';
import { readJsonBody } from './json-body.js';
import { problemResponses } from './openapi.js';

/** Slugs are what category names turn into; `all` is the every-article feed. */
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

const plainLabel = (max: number) =>
  z
    .string()
    .max(max * 4)
    .transform(cleanPlainText)
    .pipe(z.string().min(1, { message: 'must not be empty' }).max(max));

// RFC 5322 dot-atom @ a DNS name with a dot, as for article authors.
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/**
 * A category's podcast settings: Apple's required show tags (author, owner, artwork, category,
 * explicit, type) must all be given; values are plain text of at most 255 characters (Apple).
 */
export const podcastConfigSchema = z
  .object({
    author: plainLabel(255),
    ownerName: plainLabel(255),
    ownerEmail: z.string().max(320).trim().regex(EMAIL, { message: 'must be an email address such as podcasts@example.com' }),
    // Apple: JPEG or PNG, and the URL's extension must match the type.
    imageUrl: httpUrlSchema
      .transform((v) => v.trim())
      .refine((v) => /\.(jpe?g|png)$/i.test(new URL(v).pathname), { message: 'must be a .jpg, .jpeg or .png image URL (Apple: JPEG or PNG artwork)' }),
    itunesCategory: z.string().refine((v) => Object.hasOwn(APPLE_CATEGORIES, v), {
      message: `must be one of Apple's podcast categories: ${Object.keys(APPLE_CATEGORIES).join(', ')}`,
    }),
    itunesSubcategory: z.string().optional(),
    explicit: z.boolean(),
    type: z.enum(['episodic', 'serial']),
    copyright: plainLabel(1000).optional(),
    locked: z.boolean().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.itunesSubcategory === undefined || !Object.hasOwn(APPLE_CATEGORIES, value.itunesCategory)) return;
    const allowed = APPLE_CATEGORIES[value.itunesCategory]!;
    if (!allowed.includes(value.itunesSubcategory)) {
      ctx.addIssue({
        code: 'custom',
        path: ['itunesSubcategory'],
        message: allowed.length > 0 ? `must be one of ${value.itunesCategory}'s subcategories: ${allowed.join(', ')}` : `${value.itunesCategory} has no subcategories`,
      });
    }
  })
  .transform((v): PodcastConfig => {
    // Only the fields given, in one order: a stable JSON value, so an identical PUT changes nothing.
    const config: PodcastConfig = {
      author: v.author,
      ownerName: v.ownerName,
      ownerEmail: v.ownerEmail,
      imageUrl: v.imageUrl,
      itunesCategory: v.itunesCategory,
      explicit: v.explicit,
      type: v.type,
    };
    if (v.itunesSubcategory !== undefined) config.itunesSubcategory = v.itunesSubcategory;
    if (v.copyright !== undefined) config.copyright = v.copyright;
    if (v.locked !== undefined) config.locked = v.locked;
    return config;
  });

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
  /** An object makes the category a podcast; null turns that off; omitted leaves it as it is. */
  podcast: podcastConfigSchema.nullable().optional(),
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
    podcast: c.podcast ?? null,
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
    const fields: Parameters<typeof putCategory>[2] = { name: parsed.data.name, description: parsed.data.description ?? null };
    if (parsed.data.podcast !== undefined) fields.podcast = parsed.data.podcast;
    const result = await putCategory(deps.db, slug, fields, deps.now());
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
    summary: 'Create a category or change its name, description and podcast settings (admin)',
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
