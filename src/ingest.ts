import { articleInputSchema, type FieldError, type NormalizedArticle } from './domain/article-input.js';
import { normalizeArticle } from './domain/normalize-article.js';
import { tagAuthority } from './domain/guid.js';
import type { Deps } from './deps.js';
import { prefixErrors, zodIssuesToFieldErrors } from './domain/field-errors.js';
import { upsertArticles, type UpsertResult } from './storage/articles.js';

/**
 * The one way in for articles, from the CMS API and from upstream feeds alike: shape check (zod), then
 * normalisation, then an upsert in one transaction.
 */
export function validateArticle(
  raw: unknown,
  options: { defaultLanguage: string; pathPrefix?: string },
): { ok: true; article: NormalizedArticle } | { ok: false; errors: FieldError[] } {
  const prefix = options.pathPrefix ?? '';
  const parsed = articleInputSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodIssuesToFieldErrors(parsed.error, prefix) };
  const normalized = normalizeArticle(parsed.data, { defaultLanguage: options.defaultLanguage });
  if (!normalized.ok) return { ok: false, errors: prefixErrors(normalized.errors, prefix) };
  return normalized;
}

/** Stores already-validated articles atomically: either every one is stored or none is. */
export async function storeArticles(
  deps: Pick<Deps, 'db' | 'config' | 'now'>,
  items: NormalizedArticle[],
): Promise<UpsertResult> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    return upsertArticles(tx, items, { now, guidAuthority: tagAuthority(deps.config.PUBLIC_BASE_URL) });
  });
}
