import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { articleInputSchema, type CategoryRef, type FieldError, type NormalizedArticle } from './domain/article-input.js';
import { normalizeArticle, normalizeCategories, normalizeExternalId } from './domain/normalize-article.js';
import { tagAuthority } from './domain/guid.js';
import type { Deps } from './deps.js';
import { prefixErrors, zodIssuesToFieldErrors } from './domain/field-errors.js';
import { allocateArticleIds, lockOrderKey, startArticleWriter, upsertArticles, type ArticleWriter, type UpsertResult } from './storage/articles.js';
import { allPodcastSlugs, ensureCategories, findPodcastSlugs } from './storage/categories.js';
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
 * must give its audio/video enclosures a real length (422 naming `enclosures.N.length`). A batch from
 * the API goes through ingestBatch, which applies the same rule.
 */
export async function storeArticles(deps: Pick<Deps, 'db' | 'config' | 'now'>, items: NormalizedArticle[]): Promise<UpsertResult> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const podcastSlugs = await findPodcastSlugs(tx, items.flatMap((a) => a.categories.map((c) => c.slug)));
    if (podcastSlugs.size > 0) {
      const errors = items.flatMap((a) => podcastEpisodeErrors(a, podcastSlugs));
      if (errors.length > 0) throw new ValidationError(errors);
    }
    return upsertArticles(tx, items, { now, guidAuthority: tagAuthority(deps.config.PUBLIC_BASE_URL) });
  });
}

/** Articles a batch sends to Postgres at a time (see ingestBatch). */
export const WRITE_SLICE = 100;
/** Articles validated between two turns of the event loop. */
const YIELD_EVERY = 10;

/**
 * Validates and stores a batch (`articles.N` in error paths) all-or-nothing, like validating every
 * article and then calling storeArticles, but with the two overlapped: once a slice of articles is
 * valid its upsert goes to Postgres, and the next slice is validated while Postgres writes. Validation
 * and the writes each took about half of a batch's time, one after the other (bench/, ingest).
 *
 * Articles are handled in lock order (by externalId, as every writer locks rows), not request order;
 * errors and results are reported in request order all the same. Every field error of the batch is
 * reported, as before; once one is found no more slices are sent, and the transaction rolls back.
 */
export async function ingestBatch(
  deps: Pick<Deps, 'db' | 'config' | 'now'>,
  raws: readonly unknown[],
  options: { defaultLanguage: string },
): Promise<UpsertResult> {
  const order = lockOrder(raws);
  const now = deps.now();
  const result = await deps.db.transaction(async (tx) => {
    // Categories first, as every writer takes them (they are locked before any article): those the
    // batch names, read off the request with the normaliser's own rules. An article that names one
    // otherwise fails validation, and the transaction rolls back. Sent together with the ids and the
    // podcast categories, and answered while the first slice validates.
    const setup = Promise.all([ensureCategories(tx, raws.flatMap(requestedCategories), now), allocateArticleIds(tx, raws.length), allPodcastSlugs(tx)]);
    setup.catch(() => {});
    let writer: ArticleWriter | undefined;
    const invalid: { index: number; errors: FieldError[] }[] = [];
    const podcastErrors: { index: number; errors: FieldError[] }[] = [];
    const firstIndex = new Map<string, number>();
    const written: { index: number; externalId: string }[] = [];
    let slice: { article: NormalizedArticle; index: number }[] = [];
    const flush = async (): Promise<void> => {
      const [categoryIds, ids, podcastSlugs] = await setup;
      for (const { article, index } of slice) {
        const episodeErrors = podcastEpisodeErrors(article, podcastSlugs);
        if (episodeErrors.length > 0) podcastErrors.push({ index, errors: prefixErrors(episodeErrors, `articles.${index}`) });
      }
      if (invalid.length === 0 && podcastErrors.length === 0) {
        writer ??= startArticleWriter(tx, { now, guidAuthority: tagAuthority(deps.config.PUBLIC_BASE_URL), categoryIds });
        // Ids in request order, as for any batch: among articles published at the same second, the
        // later in the request is listed first.
        writer.write(slice.map(({ article, index }) => ({ article, id: ids[index]! })));
        for (const { article, index } of slice) written.push({ index, externalId: article.externalId });
      }
      slice = [];
    };
    for (const [step, index] of order.entries()) {
      // Often enough that a statement handed to the socket is flushed, and Postgres's answer read (the
      // next statement goes out only then), while slices are validated: an article takes ~0.15 ms.
      if (step % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
      const checked = validateArticle(raws[index], { ...options, pathPrefix: `articles.${index}` });
      if (!checked.ok) {
        invalid.push({ index, errors: checked.errors });
        continue;
      }
      const { externalId } = checked.article;
      // Equal ids sort together in request order, so the one seen first is the earliest.
      const seen = firstIndex.get(externalId);
      if (seen !== undefined) {
        invalid.push({ index, errors: [{ path: `articles.${index}.externalId`, message: `duplicates articles.${seen}.externalId (${externalId})` }] });
        continue;
      }
      firstIndex.set(externalId, index);
      slice.push({ article: checked.article, index });
      if (slice.length === WRITE_SLICE) await flush();
    }
    if (invalid.length === 0) await flush();
    // Shape and normalisation errors first; the podcast rule (which depends on stored categories) is
    // reported only for an otherwise valid batch, as storeArticles does.
    const failed = invalid.length > 0 ? invalid : podcastErrors;
    if (failed.length > 0) {
      await Promise.allSettled([setup, writer?.settle()]);
      throw new ValidationError(failed.sort((a, b) => a.index - b.index).flatMap((f) => f.errors));
    }
    const stored = await writer!.finish();
    return { stored, written };
  });
  const outcomes = new Map(result.stored.results.map((r) => [r.externalId, r]));
  const byIndex: UpsertResult['results'] = new Array(raws.length);
  for (const { index, externalId } of result.written) byIndex[index] = outcomes.get(externalId)!;
  return { results: byIndex, touchedCategoryIds: result.stored.touchedCategoryIds };
}

/**
 * The categories a raw article names, as normalizeArticle will file them: the list passes the
 * article schema's own check first (at most 50 names of at most 200 characters), or yields none.
 */
function requestedCategories(raw: unknown): CategoryRef[] {
  const names = typeof raw === 'object' && raw !== null ? (raw as { categories?: unknown }).categories : undefined;
  const parsed = articleInputSchema.shape.categories.safeParse(names);
  return parsed.success ? normalizeCategories(parsed.data) : [];
}

/**
 * Request indices in lock order: by the externalId each article will have once normalised (byte
 * order), ties in request order. An article whose id is missing or not a string sorts first; it fails
 * validation anyway.
 */
function lockOrder(raws: readonly unknown[]): number[] {
  const keys = raws.map((raw) => {
    const id = typeof raw === 'object' && raw !== null ? (raw as { externalId?: unknown }).externalId : undefined;
    return lockOrderKey(typeof id === 'string' ? normalizeExternalId(id) : '');
  });
  return keys.map((_, i) => i).sort((a, b) => Buffer.compare(keys[a]!, keys[b]!) || a - b);
}
