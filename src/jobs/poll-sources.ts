import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Config } from '../config.js';
import type { Deps } from '../deps.js';
import type { NormalizedArticle } from '../domain/article-input.js';
import { cleanPlainText } from '../domain/clean-text.js';
import { tagAuthority } from '../domain/guid.js';
import { RESERVED_CATEGORY_SLUG } from '../domain/normalize-article.js';
import { slugify } from '../domain/slug.js';
import { scheduleNextPoll, type PollOutcomeKind } from '../domain/source-schedule.js';
import { podcastEpisodeErrors } from '../domain/podcast.js';
import { validateArticle } from '../ingest.js';
import { PACKAGE_ROOT } from '../paths.js';
import { findPodcastSlugs } from '../storage/categories.js';
import { findArticleDates, upsertArticles } from '../storage/articles.js';
import type { Database } from '../storage/db.js';
import type { SourceItemError } from '../storage/schema.js';
import { claimDueSources, lockLeasedSource, recordPoll, releaseLease, renewLease, type SourceRow } from '../storage/sources.js';
import { fetchFeed, redactCredentials, type FetchOutcome } from '../upstream/fetch-feed.js';
import { mapUpstreamItem } from '../upstream/map-item.js';
import { parseFeed, type UpstreamFeed } from '../upstream/parse-feed.js';

/**
 * The sources job: claim due sources, poll each (conditional GET → parse → map → the same
 * validation as the CMS API → one transaction), and record every outcome on the source row.
 * Nothing here throws for an upstream's sake: a broken, hostile or absent feed is an outcome.
 */

export const MAX_REDIRECTS = 5;
/** Items taken from one document, in document order (newest first in practice); the rest are skipped. */
export const MAX_ITEMS_PER_POLL = 1000;
/** How long a claim holds a source before polling starts; each poll then renews to its own budget. */
export const CLAIM_LEASE_MS = 10 * 60_000;
/** Lease beyond the fetch timeout, for parsing and storing. */
const STORE_MARGIN_MS = 5 * 60_000;
/**
 * Upsert batches inside the one transaction: a statement carries at most 65,534 parameters, and on
 * PGlite (which runs on this thread) a smaller batch lets requests in between.
 */
const STORE_CHUNK = 250;
/** Reasons kept on the source for skipped items. */
const MAX_ITEM_ERRORS = 5;
/** Sources claimed per tick for each unit of SOURCE_CONCURRENCY. */
const CLAIM_PER_WORKER = 25;

export interface PollDeps extends Pick<Deps, 'config' | 'db' | 'log' | 'now' | 'metrics' | 'upstream'> {
  /** Told after a poll committed new or changed articles (the app asks the feeds to refresh). */
  onArticlesChanged?: (change: { sourceId: number; count: number; categoryIds: number[] }) => void;
}

export interface PollResult {
  sourceId: number;
  /** The URL polled, without credentials. */
  url: string;
  /** `skipped`: the lease was lost (another poller has the source, or it was deleted). */
  outcome: PollOutcomeKind | 'skipped';
  status: number | null;
  errorCode: string | null;
  error: string | null;
  itemsSeen: number;
  itemsNew: number;
  itemsUpdated: number;
  itemsSkipped: number;
  /** Where a 301/308 moved the source. */
  movedTo?: string;
  nextPollAt: Date | null;
  enabled: boolean;
  durationMs: number;
}

export interface PollTickSummary {
  claimed: number;
  outcomes: Record<PollResult['outcome'], number>;
  itemsNew: number;
  itemsUpdated: number;
  durationMs: number;
  results: PollResult[];
}

/** `syndicate/<version> (+<PUBLIC_BASE_URL>)`: names the service and where to find who runs it. */
export function pollerUserAgent(config: Pick<Config, 'PUBLIC_BASE_URL'>): string {
  return `syndicate/${PACKAGE_VERSION} (+${config.PUBLIC_BASE_URL}; feed poller)`;
}

const PACKAGE_VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '0';
  } catch {
    return '0';
  }
})();

/**
 * articles.external_id is global: a source's items are namespaced by the source id. Item keys are at
 * most 200 characters and so is external_id, so a key that does not fit with its prefix is hashed.
 */
export function sourceArticleExternalId(sourceId: number, key: string): string {
  const id = `source:${sourceId}:${key}`;
  return id.length <= 200 ? id : `source:${sourceId}:sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * Polls one source the caller has claimed (claimDueSources or claimSource: `source.leaseUntil` is the
 * lease token). Always resolves: every failure, ours or the upstream's, is recorded on the source.
 */
export async function pollSource(deps: PollDeps, source: SourceRow): Promise<PollResult> {
  const started = performance.now();
  const now = deps.now();
  const base = { sourceId: source.id, url: redactCredentials(source.url) };
  const empty = { itemsSeen: 0, itemsNew: 0, itemsUpdated: 0, itemsSkipped: 0 };
  const finish = (result: Omit<PollResult, 'durationMs' | keyof typeof base>): PollResult => {
    const done: PollResult = { ...base, ...result, durationMs: Math.round(performance.now() - started) };
    logPoll(deps, done);
    deps.metrics.sourcePolls.inc({ outcome: done.outcome });
    deps.metrics.sourcePollDuration.observe(done.durationMs / 1000);
    return done;
  };
  const skipped = (error: string) =>
    finish({ ...empty, outcome: 'skipped', status: null, errorCode: null, error, nextPollAt: null, enabled: source.enabled });

  let token = source.leaseUntil;
  try {
    if (!token) return skipped('not claimed');
    const leased = await renewLease(deps.db, source.id, token, new Date(now.getTime() + deps.config.SOURCE_TIMEOUT_MS + STORE_MARGIN_MS));
    if (!leased) return skipped('lease lost: another poller has this source, or it was deleted');
    token = leased.leaseUntil!;
    const fetched = await fetchFeed(leased.url, {
      etag: leased.etag,
      lastModified: leased.lastModified,
      userAgent: pollerUserAgent(deps.config),
      timeoutMs: deps.config.SOURCE_TIMEOUT_MS,
      maxBytes: deps.config.SOURCE_MAX_BYTES,
      maxRedirects: MAX_REDIRECTS,
      allowPrivate: deps.config.SOURCE_ALLOW_PRIVATE,
      ...(deps.upstream?.allowedAddresses ? { allowedAddresses: deps.upstream.allowedAddresses } : {}),
      ...(deps.upstream?.lookup ? { lookup: deps.upstream.lookup } : {}),
      now: deps.now,
    });
    const outcome = await settle(deps, leased, token, fetched, now, started);
    if (!outcome) return skipped('lease lost while polling');
    return finish(outcome);
  } catch (err) {
    // Our own failure (database down, a bug): still an outcome on the row, never an exception out.
    const message = `internal error: ${redactCredentials(err instanceof Error ? err.message : String(err))}`.slice(0, 1000);
    deps.log.error({ err, sourceId: source.id }, 'source poll failed');
    const decision = scheduleNextPoll({
      now,
      intervalSeconds: source.pollIntervalSeconds,
      outcome: 'error',
      previousFailures: source.consecutiveFailures,
      jitterSeed: source.id,
    });
    if (token) {
      await deps.db
        .transaction((tx) =>
          recordPoll(tx, source.id, token!, {
            now,
            outcome: 'error',
            status: null,
            errorCode: 'internal',
            error: message,
            durationMs: Math.round(performance.now() - started),
            ...decision,
          }),
        )
        .catch((recordErr: unknown) => deps.log.error({ err: recordErr, sourceId: source.id }, 'could not record a failed poll'));
    }
    return finish({
      ...empty,
      outcome: 'error',
      status: null,
      errorCode: 'internal',
      error: message,
      nextPollAt: decision.nextPollAt,
      enabled: source.enabled,
    });
  }
}

type Settled = Omit<PollResult, 'durationMs' | 'sourceId' | 'url'>;

/** Turns a fetch outcome into a recorded poll (storing the items of a 200); undefined when the lease was lost. */
async function settle(
  deps: PollDeps,
  source: SourceRow,
  token: Date,
  fetched: FetchOutcome,
  now: Date,
  started: number,
): Promise<Settled | undefined> {
  const empty = { itemsSeen: 0, itemsNew: 0, itemsUpdated: 0, itemsSkipped: 0 };
  const schedule = (outcome: PollOutcomeKind, retryAfterSeconds?: number) =>
    scheduleNextPoll({
      now,
      intervalSeconds: source.pollIntervalSeconds,
      outcome,
      previousFailures: source.consecutiveFailures,
      retryAfterSeconds,
      jitterSeed: source.id,
    });
  const durationMs = () => Math.round(performance.now() - started);

  /** Records an outcome that stores no items. */
  const record = async (
    outcome: PollOutcomeKind,
    status: number | null,
    errorCode: string | null,
    error: string | null,
    extra: { retryAfterSeconds?: number; movedTo?: string } = {},
  ) => {
    const decision = schedule(outcome, extra.retryAfterSeconds);
    const movedTo = extra.movedTo ? keepCredentials(source.url, extra.movedTo) : undefined;
    const row = await deps.db.transaction((tx) =>
      recordPoll(tx, source.id, token, {
        now,
        outcome,
        status,
        errorCode,
        error,
        durationMs: durationMs(),
        ...decision,
        ...(movedTo ? { movedTo } : {}),
      }),
    );
    if (!row) return undefined;
    const moved = movedTo && row.url === movedTo ? { movedTo: redactCredentials(movedTo) } : {};
    return { ...empty, outcome, status, errorCode, error: row.lastError, nextPollAt: decision.nextPollAt, enabled: row.enabled, ...moved };
  };

  switch (fetched.kind) {
    case 'not-modified':
      return record('not-modified', 304, null, null, fetched.permanentRedirectTo ? { movedTo: fetched.permanentRedirectTo } : {});
    case 'gone':
      return record('gone', 410, 'gone', 'HTTP 410 Gone: the feed was removed; source disabled');
    case 'rate-limited': {
      const wait = fetched.retryAfterSeconds === undefined ? 'without Retry-After' : `Retry-After ${fetched.retryAfterSeconds} s`;
      return record(
        'rate-limited',
        fetched.status,
        'rate-limited',
        `HTTP ${fetched.status} (${wait})`,
        fetched.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: fetched.retryAfterSeconds },
      );
    }
    case 'error':
      return record('error', fetched.status ?? null, fetched.code, fetched.message.slice(0, 1000));
    case 'ok':
      break;
  }

  const parsed = await parseFeed(fetched.body, { feedUrl: fetched.finalUrl });
  if (!parsed.ok) return record('error', fetched.status, 'parse', `not a usable feed: ${parsed.error}`.slice(0, 1000));

  const prepared = await prepareItems(deps, source, parsed.feed, fetched.finalUrl, now);
  const movedTo = fetched.permanentRedirectTo ? keepCredentials(source.url, fetched.permanentRedirectTo) : undefined;
  const decision = schedule('ok');
  const store = () =>
    deps.db.transaction(async (tx) => {
      if (!(await lockLeasedSource(tx, source.id, token))) return undefined;
      const { items, skipped } = await reconcileWithStored(tx, prepared);
      const counts = { created: 0, updated: 0 };
      const categoryIds = new Set<number>();
      for (let i = 0; i < items.length; i += STORE_CHUNK) {
        if (i > 0) await yieldToEventLoop();
        const result = await upsertArticles(tx, items.slice(i, i + STORE_CHUNK), {
          now,
          guidAuthority: tagAuthority(deps.config.PUBLIC_BASE_URL),
          sourceId: source.id,
        });
        for (const r of result.results) if (r.outcome !== 'unchanged') counts[r.outcome] += 1;
        for (const id of result.touchedCategoryIds) categoryIds.add(id);
      }
      const itemErrors = [...prepared.errors, ...skipped.errors].slice(0, MAX_ITEM_ERRORS);
      const itemsSkipped = prepared.skipped + skipped.count;
      const summary =
        itemsSkipped > 0 ? `${itemsSkipped} of ${prepared.seen} items skipped: ${itemErrors.map(describeItemError).join('; ')}` : null;
      const row = await recordPoll(tx, source.id, token, {
        now,
        outcome: 'ok',
        status: fetched.status,
        errorCode: null,
        error: summary?.slice(0, 1000) ?? null,
        durationMs: durationMs(),
        ...decision,
        body: {
          etag: fetched.etag,
          lastModified: fetched.lastModified,
          itemsSeen: prepared.seen,
          itemsNew: counts.created,
          itemsUpdated: counts.updated,
          itemsSkipped,
          itemErrors,
        },
        ...(movedTo ? { movedTo } : {}),
      });
      return row ? { row, counts, categoryIds: [...categoryIds], itemsSkipped } : undefined;
    });
  let stored: Awaited<ReturnType<typeof store>>;
  try {
    stored = await store();
  } catch (err) {
    // Nothing of this poll was kept (one transaction), validators included: the next poll fetches again.
    deps.log.error({ err, sourceId: source.id }, 'could not store a source poll');
    const message = redactCredentials(err instanceof Error ? err.message : String(err));
    return record('error', fetched.status, 'storage', `could not store the items: ${message}`.slice(0, 1000));
  }
  if (!stored) return undefined;
  const changed = stored.counts.created + stored.counts.updated;
  if (changed > 0) {
    deps.metrics.articlesIngested.inc({ outcome: 'changed', origin: 'source' }, changed);
    deps.onArticlesChanged?.({ sourceId: source.id, count: changed, categoryIds: stored.categoryIds });
  }
  return {
    outcome: 'ok',
    status: fetched.status,
    errorCode: null,
    error: stored.row.lastError,
    itemsSeen: prepared.seen,
    itemsNew: stored.counts.created,
    itemsUpdated: stored.counts.updated,
    itemsSkipped: stored.itemsSkipped,
    nextPollAt: decision.nextPollAt,
    enabled: stored.row.enabled,
    ...(movedTo && stored.row.url === movedTo ? { movedTo: redactCredentials(movedTo) } : {}),
  };
}

interface PreparedItem {
  article: NormalizedArticle;
  index: number;
  key: string;
  /** The date the item was given for lack of a usable one of its own (its first-seen time). */
  fallbackDate: Date;
}

interface PreparedItems {
  seen: number;
  items: PreparedItem[];
  skipped: number;
  errors: SourceItemError[];
}

/**
 * Maps and validates every item; a bad item is skipped and counted, never fails the poll. The first
 * copy of a duplicated identity wins. Yields to the event loop now and then: sanitising 10,000 items
 * must not hold up requests or other polls.
 */
async function prepareItems(deps: PollDeps, source: SourceRow, feed: UpstreamFeed, feedUrl: string, now: Date): Promise<PreparedItems> {
  const out: PreparedItems = { seen: feed.items.length, items: [], skipped: 0, errors: [] };
  const skip = (error: SourceItemError) => {
    out.skipped += 1;
    if (out.errors.length < MAX_ITEM_ERRORS) out.errors.push(error);
  };
  const firstIndex = new Map<string, number>();
  for (let index = 0; index < feed.items.length; index++) {
    if (out.items.length >= MAX_ITEMS_PER_POLL) {
      const rest = feed.items.length - index;
      out.skipped += rest;
      if (out.errors.length < MAX_ITEM_ERRORS)
        out.errors.push({ item: index, message: `${rest} items beyond the limit of ${MAX_ITEMS_PER_POLL} per poll` });
      break;
    }
    if (index % 100 === 99) await yieldToEventLoop();
    // Items without a usable date take the poll time, a millisecond apart, so they keep the feed's order.
    const fallbackDate = new Date(now.getTime() - index);
    try {
      const mapped = mapUpstreamItem(feed.items[index]!, {
        feedLink: feed.homePageUrl ?? '',
        feedUrl,
        fallbackDate,
        categories: source.categories,
        useItemCategories: source.useItemCategories,
        fullContent: source.fullContent,
        language: feed.language,
      });
      const externalId = sourceArticleExternalId(source.id, mapped.key);
      const seenAt = firstIndex.get(externalId);
      if (seenAt !== undefined) {
        skip({ item: index, key: mapped.key, message: `duplicates item ${seenAt} (same identity)` });
        continue;
      }
      firstIndex.set(externalId, index);
      const raw = { ...mapped.raw, externalId, categories: publishableCategories(mapped.raw.categories ?? [], source.categories) };
      const checked = validateArticle(raw, { defaultLanguage: deps.config.SITE_LANGUAGE });
      if (!checked.ok) {
        const first = checked.errors[0];
        skip({ item: index, key: mapped.key, ...(first ? { path: first.path, message: first.message } : { message: 'invalid' }) });
        continue;
      }
      out.items.push({ article: checked.article, index, key: mapped.key, fallbackDate });
    } catch (err) {
      skip({ item: index, message: `could not map the item: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300) });
    }
  }
  return out;
}

/**
 * The item's own categories may name the all-articles feed ("All") or clean to nothing; they are
 * dropped rather than failing the item. The source's own categories were checked when it was saved.
 */
function publishableCategories(names: string[], configured: string[]): string[] {
  const kept = names.filter((name, i) => {
    if (i < configured.length) return true;
    const clean = cleanPlainText(name);
    return clean !== '' && slugify(clean) !== RESERVED_CATEGORY_SLUG;
  });
  return kept.length > 0 ? kept : configured;
}

/**
 * Against what is stored: an item whose date was the poll time keeps the date it was first stored
 * with (else every poll would "change" it), and an article retracted here stays retracted (a
 * re-poll would otherwise restore it every few minutes).
 */
async function reconcileWithStored(
  tx: Database,
  prepared: PreparedItems,
): Promise<{ items: NormalizedArticle[]; skipped: { count: number; errors: SourceItemError[] } }> {
  const stored = await findArticleDates(
    tx,
    prepared.items.map((p) => p.article.externalId),
  );
  const items: NormalizedArticle[] = [];
  const skipped = { count: 0, errors: [] as SourceItemError[] };
  // The CMS rule for podcast categories (storeArticles): upstream media of unknown size (length 0, as
  // many feeds send) cannot be an episode there, so such items are skipped rather than failing the poll.
  const podcastSlugs = await findPodcastSlugs(
    tx,
    prepared.items.flatMap((p) => p.article.categories.map((c) => c.slug)),
  );
  for (const p of prepared.items) {
    const podcastErrors = podcastSlugs.size > 0 ? podcastEpisodeErrors(p.article, podcastSlugs) : [];
    if (podcastErrors.length > 0) {
      skipped.count += 1;
      if (skipped.errors.length < MAX_ITEM_ERRORS) skipped.errors.push({ item: p.index, key: p.key, path: podcastErrors[0]!.path, message: podcastErrors[0]!.message });
      continue;
    }
    const existing = stored.get(p.article.externalId);
    if (existing?.deletedAt) {
      skipped.count += 1;
      if (skipped.errors.length < MAX_ITEM_ERRORS)
        skipped.errors.push({ item: p.index, key: p.key, message: 'retracted here; not restored' });
      continue;
    }
    if (existing && p.article.publishedAt.getTime() === p.fallbackDate.getTime()) {
      items.push({ ...p.article, publishedAt: existing.publishedAt });
    } else {
      items.push(p.article);
    }
  }
  return { items, skipped };
}

function describeItemError(e: SourceItemError): string {
  return `item ${e.item}${e.path ? ` ${e.path}` : ''}: ${e.message}`;
}

/** A permanent redirect on the same origin keeps the credentials the stored URL carries. */
function keepCredentials(stored: string, target: string): string {
  try {
    const from = new URL(stored);
    const to = new URL(target);
    if ((from.username || from.password) && from.origin === to.origin) {
      to.username = from.username;
      to.password = from.password;
    }
    return to.href;
  } catch {
    return target;
  }
}

function logPoll(deps: PollDeps, r: PollResult): void {
  const entry = {
    sourceId: r.sourceId,
    url: r.url,
    outcome: r.outcome,
    status: r.status,
    errorCode: r.errorCode,
    error: r.error,
    itemsSeen: r.itemsSeen,
    itemsNew: r.itemsNew,
    itemsUpdated: r.itemsUpdated,
    itemsSkipped: r.itemsSkipped,
    movedTo: r.movedTo,
    nextPollAt: r.nextPollAt?.toISOString(),
    durationMs: r.durationMs,
  };
  if (r.outcome === 'error' || r.outcome === 'gone' || r.outcome === 'rate-limited') deps.log.warn(entry, 'source polled');
  else deps.log.info(entry, 'source polled');
}

/**
 * One tick: claims the due sources (up to SOURCE_CONCURRENCY × 25) and polls them, at most
 * SOURCE_CONCURRENCY at once and one at a time per host. Resolves with a summary; never rejects
 * for an upstream's sake (a failed claim, i.e. the database, does reject).
 */
export async function pollDueSources(deps: PollDeps, options: { limit?: number; signal?: AbortSignal } = {}): Promise<PollTickSummary> {
  const started = performance.now();
  const concurrency = deps.config.SOURCE_CONCURRENCY;
  const claimed = await claimDueSources(deps.db, {
    now: deps.now(),
    limit: options.limit ?? concurrency * CLAIM_PER_WORKER,
    leaseMs: CLAIM_LEASE_MS,
  });
  const ran = await runPerHost(
    claimed,
    concurrency,
    (s) => hostKey(s.url),
    (s) => pollSource(deps, s),
    () => options.signal?.aborted ?? false,
  );
  const results: PollResult[] = [];
  for (const [i, r] of ran.entries()) {
    if (r) {
      results.push(r);
      continue;
    }
    // Shutting down: hand back what was claimed (it was due) but not started, due at once for any instance.
    const source = claimed[i]!;
    await releaseLease(deps.db, source.id, source.leaseUntil!, deps.now()).catch((err: unknown) =>
      deps.log.warn({ err, sourceId: source.id }, 'could not release a claimed source'),
    );
    results.push({
      sourceId: source.id,
      url: redactCredentials(source.url),
      outcome: 'skipped',
      status: null,
      errorCode: null,
      error: 'shutting down',
      itemsSeen: 0,
      itemsNew: 0,
      itemsUpdated: 0,
      itemsSkipped: 0,
      nextPollAt: null,
      enabled: source.enabled,
      durationMs: 0,
    });
  }
  const outcomes: PollTickSummary['outcomes'] = { ok: 0, 'not-modified': 0, 'rate-limited': 0, gone: 0, error: 0, skipped: 0 };
  let itemsNew = 0;
  let itemsUpdated = 0;
  for (const r of results) {
    outcomes[r.outcome] += 1;
    itemsNew += r.itemsNew;
    itemsUpdated += r.itemsUpdated;
  }
  const summary = {
    claimed: claimed.length,
    outcomes,
    itemsNew,
    itemsUpdated,
    durationMs: Math.round(performance.now() - started),
    results,
  };
  if (claimed.length > 0) {
    deps.log.info({ claimed: summary.claimed, outcomes, itemsNew, itemsUpdated, durationMs: summary.durationMs }, 'sources tick');
  }
  return summary;
}

function hostKey(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return url;
  }
}

/**
 * Runs `work` over `items` with at most `concurrency` running and at most one per host; results in
 * input order, undefined for items not started because `stop()` turned true. `work` must not reject
 * (pollSource never does); a rejection is rethrown at the end.
 */
export async function runPerHost<T, R>(
  items: T[],
  concurrency: number,
  hostOf: (item: T) => string,
  work: (item: T) => Promise<R>,
  stop: () => boolean = () => false,
): Promise<(R | undefined)[]> {
  const results = new Array<R | undefined>(items.length).fill(undefined);
  const pending = items.map((item, index) => ({ item, index, host: hostOf(item) }));
  const busy = new Set<string>();
  let running = 0;
  let failure: { err: unknown } | null = null;
  await new Promise<void>((resolve) => {
    const launch = () => {
      if (stop()) pending.length = 0;
      while (running < concurrency) {
        const next = pending.findIndex((p) => !busy.has(p.host));
        if (next === -1) break;
        const [job] = pending.splice(next, 1);
        busy.add(job!.host);
        running += 1;
        work(job!.item)
          .then((r) => {
            results[job!.index] = r;
          })
          .catch((err: unknown) => {
            failure ??= { err };
          })
          .finally(() => {
            busy.delete(job!.host);
            running -= 1;
            launch();
          });
      }
      if (running === 0 && pending.length === 0) resolve();
    };
    launch();
  });
  if (failure) throw (failure as { err: unknown }).err;
  return results;
}
