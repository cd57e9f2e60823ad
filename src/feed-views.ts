import type { Deps } from './deps.js';
import { archiveMonthExists, archiveSealedFrom, IMMUTABLE_CACHE_CONTROL_SECONDS, monthEnd, monthOf, monthStart } from './domain/archive.js';
import { ARCHIVE_MAX_ITEMS, buildViewDocument, pathKeyOf, viewQuery, viewUpdated, type ViewRequest } from './domain/feed-view.js';
import { formatMonth } from './domain/archive.js';
import { entrySize, type SnapshotEntry } from './feed-cache.js';
import type { FeedRuntime } from './feed-runtime.js';
import { encodeSnapshot } from './jobs/render-feed.js';
import { PartnerStatsRecorder } from './partner-stats.js';
import { feedVersions, loadView } from './storage/feed-views.js';

/**
 * How on-demand feed views are kept (docs/decisions/0004-on-demand-feed-views.md). A view is
 * rendered when first asked for and kept in memory by its full URL (partner, path, canonical query)
 * until the first of:
 * - a change to one of its feeds: dropped at once when this or another instance announces new
 *   snapshots of the feed (the same LISTEN/NOTIFY path as the canonical feeds), and in any case
 *   caught within VIEW_VERIFY_MS by comparing the feeds' versions (one primary-key read) — so an edit
 *   to an old article that leaves the live snapshot's bytes unchanged still reaches archives and
 *   ?since views within a second;
 * - the next instant its content changes by itself: a scheduled article's publication, a partner's
 *   embargo ending (publishedAt + embargo of the next item), a month boundary (archive links);
 * - VIEW_TTL_MS, and memory bounds (least recently used first).
 */
export const VIEW_TTL_MS = 60_000;
export const VIEW_VERIFY_MS = 1_000;
const MAX_VIEWS = 1_000;
const MAX_VIEW_BYTES = 32 * 1024 * 1024;
/** Partner documents: not for shared caches (a revoked key must stop working at once), revalidated on use. */
export const PARTNER_CACHE_CONTROL = 'private, no-cache';

export type ViewOutcome =
  | { kind: 'ok'; entry: SnapshotEntry; cacheControl: string }
  /** Feeds among the keys that do not exist. */
  | { kind: 'missing'; keys: string[] }
  /** The archive month is in the future or before the feed's first article. */
  | { kind: 'no-archive' };

interface CachedView {
  entry: SnapshotEntry;
  keys: string[];
  versions: Record<string, number>;
  /** Clock time (deps.now) at which the content may change by itself. */
  expiresAt: number;
  /** performance.now() of the last version check. */
  verifiedAt: number;
  /** Clock time from which the archive month is served as immutable (null: never, e.g. live views). */
  sealedFrom: number | null;
  isPartner: boolean;
}

type Rendered = { kind: 'ok'; view: CachedView } | { kind: 'missing'; keys: string[] } | { kind: 'no-archive' };

const byRuntime = new WeakMap<FeedRuntime, FeedViews>();

/** The one FeedViews of a feed runtime (created on first use; stops with the runtime). */
export function feedViewsOf(deps: Deps, feeds: FeedRuntime): FeedViews {
  let views = byRuntime.get(feeds);
  if (!views) {
    views = new FeedViews(deps, feeds);
    byRuntime.set(feeds, views);
  }
  return views;
}

export class FeedViews {
  readonly stats: PartnerStatsRecorder;
  private readonly cache = new Map<string, CachedView>();
  private bytes = 0;
  private readonly inflight = new Map<string, Promise<Rendered>>();
  /** Bumped on every announced change: a render that started before it is served once, not kept. */
  private generation = 0;

  constructor(
    private readonly deps: Deps,
    private readonly feeds: FeedRuntime,
  ) {
    this.stats = new PartnerStatsRecorder(deps);
    this.stats.start();
    feeds.onFeedsChanged((keys) => this.drop(keys));
    feeds.onStop(() => this.stats.stop());
  }

  /** The document for a view, from memory when still valid, else rendered now (once for concurrent requests). */
  async get(req: ViewRequest): Promise<ViewOutcome> {
    const key = cacheKey(req);
    const cached = this.cache.get(key);
    if (cached && (await this.stillValid(key, cached))) {
      // Map order is recency: re-inserting marks it most recently used.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return this.answer(cached);
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.render(key, req).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const rendered = await pending;
    if (rendered.kind !== 'ok') return rendered;
    return this.answer(rendered.view);
  }

  private answer(view: CachedView): ViewOutcome {
    const immutable = view.sealedFrom !== null && this.deps.now().getTime() >= view.sealedFrom;
    let cacheControl: string;
    if (immutable) cacheControl = `${view.isPartner ? 'private' : 'public'}, max-age=${IMMUTABLE_CACHE_CONTROL_SECONDS}, immutable`;
    else cacheControl = view.isPartner ? PARTNER_CACHE_CONTROL : this.feeds.cacheControl;
    return { kind: 'ok', entry: view.entry, cacheControl };
  }

  private async stillValid(key: string, view: CachedView): Promise<boolean> {
    if (this.deps.now().getTime() >= view.expiresAt) return this.evict(key);
    if (performance.now() - view.verifiedAt < VIEW_VERIFY_MS) return true;
    const versions = await feedVersions(this.deps.db, view.keys);
    if (view.keys.some((k) => versions[k] !== view.versions[k])) return this.evict(key);
    view.verifiedAt = performance.now();
    return true;
  }

  private evict(key: string): false {
    const view = this.cache.get(key);
    if (view) {
      this.cache.delete(key);
      this.bytes -= entrySize(view.entry);
    }
    return false;
  }

  private drop(keys: string[]): void {
    this.generation += 1;
    const changed = new Set(keys);
    for (const [key, view] of this.cache) if (view.keys.some((k) => changed.has(k))) this.evict(key);
  }

  private async render(key: string, req: ViewRequest): Promise<Rendered> {
    const generation = this.generation;
    const started = performance.now();
    const now = this.deps.now();
    const embargoMs = (req.partner?.embargoMinutes ?? 0) * 60_000;
    const viewNow = new Date(now.getTime() - embargoMs);
    const { month } = req;
    const limit = req.limit ?? (month ? ARCHIVE_MAX_ITEMS : this.deps.config.FEED_ITEM_LIMIT);
    const loaded = await loadView(this.deps.db, req.keys, {
      now,
      embargoMs,
      limit,
      since: req.since,
      range: month ? { start: monthStart(month), end: monthEnd(month) } : null,
      liveLinks: !month && !req.since,
    });
    if (!loaded.found) return { kind: 'missing', keys: loaded.missing };
    const { content } = loaded;
    if (month && !archiveMonthExists(month, content.firstPublishedAt, viewNow)) return { kind: 'no-archive' };

    const updated = viewUpdated(req, content);
    const doc = buildViewDocument({
      site: this.feeds.renderContext.site,
      req,
      content,
      viewNow,
      updated,
      defaultLimit: this.deps.config.FEED_ITEM_LIMIT,
    });
    // Last-Modified must not be later than the response's Date.
    const lastModified = new Date(Math.min(updated.getTime(), now.getTime()));
    const entry = await encodeSnapshot(doc, req.format, { feedKey: pathKeyOf(req.keys), lastModified });

    // The content changes by itself at the next item's appearance or at the reader's month boundary.
    let expiresAt = Math.min(now.getTime() + VIEW_TTL_MS, monthEnd(monthOf(viewNow)).getTime() + embargoMs);
    if (content.nextVisibleAt) expiresAt = Math.min(expiresAt, content.nextVisibleAt.getTime());
    let sealedFrom: number | null = null;
    if (month && req.since === null && req.limit === null) {
      // A rename or podcast change of a member category changes every archive page of it.
      const categoriesChanged = Math.max(0, ...content.categories.map((c) => c.updatedAt.getTime()));
      const lastChange = Math.max(content.lastChangeAt?.getTime() ?? 0, categoriesChanged);
      sealedFrom = archiveSealedFrom(month, lastChange > 0 ? new Date(lastChange) : null, embargoMs).getTime();
    }
    const view: CachedView = {
      entry,
      keys: req.keys,
      versions: content.versions,
      expiresAt,
      verifiedAt: performance.now(),
      sealedFrom,
      isPartner: req.partner !== null,
    };
    this.deps.metrics.feedRenders.inc({ outcome: 'view' });
    this.deps.metrics.feedRenderDuration.observe((performance.now() - started) / 1000);
    if (generation === this.generation) this.store(key, view);
    return { kind: 'ok', view };
  }

  private store(key: string, view: CachedView): void {
    const size = entrySize(view.entry);
    if (size > MAX_VIEW_BYTES / 4) return;
    this.evict(key);
    this.cache.set(key, view);
    this.bytes += size;
    for (const [k] of this.cache) {
      if (this.cache.size <= MAX_VIEWS && this.bytes <= MAX_VIEW_BYTES) break;
      this.evict(k);
    }
  }
}

function cacheKey(req: ViewRequest): string {
  const month = req.month ? formatMonth(req.month) : '-';
  return `${req.partner?.id ?? '-'} ${pathKeyOf(req.keys)} ${month} ${req.format} ${viewQuery(req)}`;
}
