import { articleInputSchema, type FieldError, type NormalizedArticle } from './domain/article-input.js';
import { normalizeArticle } from './domain/normalize-article.js';
import { tagAuthority } from './domain/guid.js';
import type { Deps } from './deps.js';
import { prefixErrors, zodIssuesToFieldErrors } from './domain/field-errors.js';
import { upsertArticles, type UpsertResult } from './storage/articles.js';
import { findPodcastSlugs } from './storage/categories.js';
import { podcastEpisodeErrors } from './domain/podcast.js';
import { ValidationError } from './errors.js';

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
  const unstorable = unstorableDates(normalized.article);
  if (unstorable.length > 0) return { ok: false, errors: prefixErrors(unstorable, prefix) };
  return normalized;
}

/**
 * Dates RFC 3339 allows but storage cannot round-trip, refused here (422) rather than failing the
 * batch (500) or coming back altered: Postgres has no year 0 (0000-…, or 0001-01-01T00:30+01:00 in
 * UTC) and rejects the insert; and drizzle reads timestamptz text with `new Date()`, whose legacy
 * parser takes years 1–99 as 1950–2049 ("0001-01-01 00:00:00+00" comes back as 2001).
 */
function unstorableDates(article: NormalizedArticle): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['publishedAt', 'updatedAt'] as const) {
    const date = article[field];
    if (date && date.getUTCFullYear() < 100) errors.push({ path: field, message: 'must be in the year 100 or later (UTC)' });
  }
  return errors;
}

/**
 * Stores already-validated articles atomically: either every one is stored or none is. Rules that
 * depend on stored state are checked here, in the transaction: an article filed in a podcast category
 * must give its audio/video enclosures a real length (422 naming `enclosures.N.length`, prefixed with
 * `paths[i]` for a batch).
 */
export async function storeArticles(
  deps: Pick<Deps, 'db' | 'config' | 'now'>,
  items: NormalizedArticle[],
  options: { paths?: string[] } = {},
): Promise<UpsertResult> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const podcastSlugs = await findPodcastSlugs(tx, items.flatMap((a) => a.categories.map((c) => c.slug)));
    if (podcastSlugs.size > 0) {
      const errors = items.flatMap((a, i) => prefixErrors(podcastEpisodeErrors(a, podcastSlugs), options.paths?.[i] ?? ''));
      if (errors.length > 0) throw new ValidationError(errors);
    }
    return upsertArticles(tx, items, { now, guidAuthority: tagAuthority(deps.config.PUBLIC_BASE_URL) });
  });
}
