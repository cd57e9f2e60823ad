import type { Config } from './config.js';
import { SnapshotCache, type RenderedSnapshot, type SnapshotEntry } from './feed-cache.js';
import { buildFeedDocument, feedUrls, newestChange, type FeedSite } from './domain/feed-builder.js';
import { advertisedHubs, feedLinkHeader } from './domain/websub.js';
import { encodeSnapshot, httpDate, renderFeed, type RenderContext, type RenderOutcome } from './jobs/render-feed.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Database, DbHandle } from './storage/db.js';
import { sql } from 'drizzle-orm';
import {
  findStaleFeeds,
  getSnapshot,
  latestSnapshotSeq,
  listFeedStates,
  loadFeedContent,
  snapshotsChangedSince,
  type FeedFormat,
  type SnapshotHead,
} from './storage/feeds.js';

export const SNAPSHOT_CHANNEL = 'syndicate_snapshots';
/** Advisory lock key of the refresh leader ("synf"). */
export const REFRESH_LOCK_KEY = 0x73796e66;
/** A change is in its feeds within this long of the API's answer (the issue allows 250 ms). */
export const CHANGE_DEBOUNCE_MS = 100;
/**
 * Under a stream of changes (bulk ingest, many sources at once) change-triggered refreshes start at
 * most this often, so one render covers several batches instead of one per batch; a change still
 * reaches its feeds within this plus one render (well inside the one-second promise).
 */
export const MIN_CHANGE_REFRESH_INTERVAL_MS = 400;
/** Fallback for a missed NOTIFY: how often each instance checks for newer snapshots. */
export const SYNC_INTERVAL_MS = 1000;
/** How far behind the newest seen seq each sync looks, for writes that committed out of order. */
const SYNC_LOOKBACK = 64;

export interface RefreshSummary {
  trigger: 'cron' | 'change' | 'manual';
  feedsChecked: number;
  feedsRendered: number;
  feedsChanged: number;
  durationMs: number;
  /** Set when another instance holds the refresh lock (cron ticks only). */
  skipped?: 'not-leader';
}

/** Parameterised variants kept per instance, and for how long (they are also dropped on change). */
const MAX_VARIANTS = 500;
const VARIANT_TTL_MS = 60_000;

export function feedSiteFromConfig(config: Config): FeedSite {
  return {
    baseUrl: config.PUBLIC_BASE_URL,
    title: config.SITE_TITLE,
    description: config.SITE_DESCRIPTION,
    language: config.SITE_LANGUAGE,
    ttlMinutes: Math.max(1, Math.ceil(config.FEED_CACHE_MAX_AGE_SECONDS / 60)),
    // WebSub §4: our hub (PUBLIC_BASE_URL/websub) and any WEBSUB_HUBS, in every format and Link header.
    hubs: advertisedHubs(config.PUBLIC_BASE_URL, config.WEBSUB_HUBS),
  };
}

function entryFromRow(row: SnapshotHead, site?: FeedSite): SnapshotEntry {
  const hash = row.etag.slice(1, -1);
  return {
    feedKey: row.feedKey,
    format: row.format,
    bodies: { gzip: row.bodyGzip, br: row.bodyBrotli },
    identityLength: row.identityLength,
    etags: { identity: row.etag, gzip: `"${hash}-gz"`, br: `"${hash}-br"` },
    lastModified: row.lastModified,
    lastModifiedHttp: httpDate(row.lastModified),
    itemCount: row.itemCount,
    seq: row.seq,
    ...(site ? { link: canonicalLink(site, row.feedKey, row.format) } : {}),
  };
}

/**
 * A just-rendered snapshot as entryFromRow would have read it back, with its canonical URL's Link
 * header (the cache drops the identity body itself).
 */
function cacheable(rendered: RenderedSnapshot, site: FeedSite): SnapshotEntry {
  return { ...rendered, link: canonicalLink(site, rendered.feedKey, rendered.format) };
}

/** A canonical snapshot is served at its canonical URL: that is its self in the Link header. */
function canonicalLink(site: FeedSite, feedKey: string, format: FeedFormat): string {
  return feedLinkHeader(site.hubs, feedUrls(site.baseUrl, feedKey)[format]);
}

/**
 * Per-instance feed machinery: the memory copy of snapshots, single-flight loads and renders, the
 * debounced refresh after a change, and the sync that drops copies another instance replaced.
 */
export class FeedRuntime {
  readonly cache: SnapshotCache;
  readonly renderContext: RenderContext;
  readonly cacheControl: string;
  private readonly inflight = new Map<string, Promise<SnapshotEntry | null>>();
  /** On-demand renders in flight, by feed: one render writes all three formats. */
  private readonly rendering = new Map<string, Promise<RenderOutcome>>();
  private lastSeq = 0;
  /** Newest seq seen per feed × format: a slow load must not cache a copy older than that. */
  private readonly newestSeq = new Map<string, number>();
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private refreshing: Promise<RefreshSummary> | null = null;
  private changeTimer: NodeJS.Timeout | null = null;
  /** performance.now() when the last change-triggered refresh started. */
  private lastChangeRefreshAt = -Infinity;
  /** The run that serves changes requested while another run was in progress. */
  private followUp: Promise<RefreshSummary> | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private stopped = false;
  private readonly variants = new Map<string, { entry: SnapshotEntry; expiresAt: number }>();
  /** Bumped on every change: a variant rendered across a change is not cached. */
  private variantGeneration = 0;
  /** Listeners told about every feed whose snapshot changed (WebSub, parameterised caches). */
  private readonly changeListeners: ((feedKeys: string[]) => void)[] = [];
  private readonly stopHooks: (() => Promise<void>)[] = [];

  constructor(
    private readonly deps: { config: Config; db: Database; dbHandle: DbHandle; log: Logger; now: () => Date; metrics: Metrics },
  ) {
    const { config } = deps;
    this.cache = new SnapshotCache(config.FEED_CACHE_MAX_BYTES);
    this.renderContext = { db: deps.db, site: feedSiteFromConfig(config), itemLimit: config.FEED_ITEM_LIMIT, now: deps.now };
    const maxAge = config.FEED_CACHE_MAX_AGE_SECONDS;
    this.changeListeners.push((keys) => this.dropVariants(keys));
    this.cacheControl = `public, max-age=${maxAge}, stale-while-revalidate=${Math.max(60, maxAge * 5)}, stale-if-error=86400`;
  }

  onFeedsChanged(listener: (feedKeys: string[]) => void): void {
    this.changeListeners.push(listener);
  }

  /** Work to finish before the database closes (e.g. flushing counters kept in memory); run first by stop(). */
  onStop(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  /**
   * A parameterised variant (e.g. `?limit=10`): rendered on demand in the one format asked for, kept
   * briefly by its full query, dropped as soon as its feed changes. Its self link carries the query.
   */
  async getVariant(feedKey: string, format: FeedFormat, params: { limit: number }): Promise<SnapshotEntry | null> {
    const query = `?limit=${params.limit}`;
    const key = `${feedKey}.${format}${query}`;
    const cached = this.variants.get(key);
    const now = Date.now();
    if (cached && cached.expiresAt > now) return cached.entry;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const generation = this.variantGeneration;
    const load = (async () => {
      const content = await loadFeedContent(this.deps.db, feedKey, { limit: params.limit, now: this.deps.now() });
      if (!content) return null;
      const { state, category, items } = content;
      const updated = state.contentUpdatedAt ?? newestChange(items, category, state.createdAt);
      const doc = buildFeedDocument({
        site: this.renderContext.site,
        feedKey,
        feedCreatedAt: state.createdAt,
        category,
        items,
        updated,
        query,
      });
      const entry = await encodeSnapshot(doc, format, { feedKey, lastModified: new Date(Math.min(updated.getTime(), this.deps.now().getTime())) });
      // A change announced while this rendered may not be in it: serve it once, do not keep it.
      if (generation === this.variantGeneration) {
        if (this.variants.size >= MAX_VARIANTS) this.variants.delete(this.variants.keys().next().value!);
        this.variants.set(key, { entry, expiresAt: now + VARIANT_TTL_MS });
      }
      return entry;
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  private dropVariants(feedKeys: string[]): void {
    this.variantGeneration += 1;
    const prefixes = feedKeys.map((k) => `${k}.`);
    for (const key of this.variants.keys()) if (prefixes.some((p) => key.startsWith(p))) this.variants.delete(key);
  }

  /** Starts listening for other instances' snapshot writes (NOTIFY, with a periodic check as fallback). */
  async start(): Promise<void> {
    this.lastSeq = await latestSnapshotSeq(this.deps.db);
    try {
      this.unlisten = await this.deps.dbHandle.listen(SNAPSHOT_CHANNEL, () => void this.sync());
    } catch (err) {
      this.deps.log.warn({ err }, 'LISTEN failed; relying on the periodic snapshot check');
    }
    this.syncTimer = setInterval(() => void this.sync(), SYNC_INTERVAL_MS);
    this.syncTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.stopHooks.map((hook) => hook()));
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.changeTimer) clearTimeout(this.changeTimer);
    await this.unlisten?.().catch(() => {});
    await this.refreshing?.catch(() => {});
    await this.followUp?.catch(() => {});
    await this.syncing?.catch(() => {});
    await Promise.allSettled(this.inflight.values());
  }

  /**
   * The snapshot to serve, or null for an unknown feed. Memory first; then the database; a feed never
   * rendered yet is rendered now, once, however many requests wait for it.
   */
  async getSnapshot(feedKey: string, format: FeedFormat): Promise<SnapshotEntry | null> {
    const hit = this.cache.get(feedKey, format);
    if (hit) {
      this.deps.metrics.snapshotCache.inc({ result: 'hit' });
      return hit;
    }
    const key = `${feedKey}.${format}`;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const load = this.loadOrRender(feedKey, format).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  private async loadOrRender(feedKey: string, format: FeedFormat): Promise<SnapshotEntry | null> {
    let row = await getSnapshot(this.deps.db, feedKey, format);
    if (row) {
      this.deps.metrics.snapshotCache.inc({ result: 'load' });
    } else {
      this.deps.metrics.snapshotCache.inc({ result: 'render' });
      // Keyed by feed, not feed × format: first requests for .rss, .atom and .json wait for one render.
      let render = this.rendering.get(feedKey);
      if (!render) {
        render = this.timedRender(feedKey, { force: true }).finally(() => this.rendering.delete(feedKey));
        this.rendering.set(feedKey, render);
      }
      const outcome = await render;
      if (!outcome.found) return null;
      // The bytes just stored are in hand: serve and cache them rather than read them back.
      const fresh = outcome.stored.find((e) => e.format === format);
      if (fresh) return this.remember(cacheable(fresh, this.renderContext.site));
      row = await getSnapshot(this.deps.db, feedKey, format);
      if (!row) return null;
    }
    return this.remember(entryFromRow(row, this.renderContext.site));
  }

  /** Caches an entry loaded or rendered just now, unless a sync meanwhile saw a newer write of it. */
  private remember(entry: SnapshotEntry): SnapshotEntry {
    if (entry.seq >= (this.newestSeq.get(`${entry.feedKey}.${entry.format}`) ?? 0)) this.cache.set(entry);
    return entry;
  }

  private async timedRender(feedKey: string, options: { force?: boolean } = {}) {
    const end = this.deps.metrics.feedRenderDuration.startTimer();
    try {
      const outcome = await renderFeed(this.renderContext, feedKey, options);
      this.deps.metrics.feedRenders.inc({ outcome: outcome.changed ? 'changed' : outcome.found ? 'unchanged' : 'not-found' });
      if (outcome.changed) await this.announce([feedKey]);
      return outcome;
    } finally {
      end();
    }
  }

  /** Tells every instance (this one included) that snapshots changed. */
  private async announce(feedKeys: string[]): Promise<void> {
    for (const key of feedKeys) for (const format of ['rss', 'atom', 'json'] as const) this.cache.delete(key, format);
    for (const listener of this.changeListeners) listener(feedKeys);
    try {
      await this.deps.db.execute(sql`select pg_notify(${SNAPSHOT_CHANNEL}, ${feedKeys.slice(0, 50).join(',')})`);
    } catch (err) {
      this.deps.log.warn({ err }, 'NOTIFY failed; other instances will see the change at their next check');
    }
  }

  /** Drops memory copies of snapshots written since the last sync (by any instance). */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.syncing) {
      // A NOTIFY during a sync may announce a write its query did not see: run once more after it.
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false;
          await this.syncOnce();
        } while (this.syncAgain && !this.stopped);
      } catch (err) {
        if (!this.stopped) this.deps.log.warn({ err }, 'snapshot sync failed');
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    // seq numbers are taken at insert but become visible at commit, so two instances writing at once
    // can commit out of order: look back over a small window and skip what was already seen.
    const changed = await snapshotsChangedSince(this.deps.db, Math.max(0, this.lastSeq - SYNC_LOOKBACK));
    const keys = new Set<string>();
    for (const c of changed) {
      const id = `${c.feedKey}.${c.format}`;
      if ((this.newestSeq.get(id) ?? 0) >= c.seq) continue;
      const cached = this.cache.get(c.feedKey, c.format);
      if (cached && cached.seq < c.seq) this.cache.delete(c.feedKey, c.format);
      this.newestSeq.set(id, c.seq);
      keys.add(c.feedKey);
      this.lastSeq = Math.max(this.lastSeq, c.seq);
    }
    if (keys.size > 0) for (const listener of this.changeListeners) listener([...keys]);
  }

  /**
   * Called after a committed change: a refresh of the changed feeds runs CHANGE_DEBOUNCE_MS later, or,
   * when one started less than MIN_CHANGE_REFRESH_INTERVAL_MS ago, once that interval has passed.
   */
  requestRefresh(): void {
    if (this.stopped) return;
    if (this.changeTimer) return;
    const sinceLast = performance.now() - this.lastChangeRefreshAt;
    const delay = Math.max(CHANGE_DEBOUNCE_MS, MIN_CHANGE_REFRESH_INTERVAL_MS - sinceLast);
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null;
      this.lastChangeRefreshAt = performance.now();
      void this.refresh('change').catch((err: unknown) => this.deps.log.error({ err }, 'refresh after change failed'));
    }, delay);
  }

  /**
   * Re-renders the feeds whose content changed (or, for `manual`, every feed). Runs one at a time per
   * instance; a request arriving while one runs is served by one more run right after it, and the
   * promise returned is that run's: once it resolves, every change committed before the call is in.
   */
  async refresh(trigger: RefreshSummary['trigger']): Promise<RefreshSummary> {
    if (this.refreshing && trigger === 'change') {
      // The running refresh may have read its feed list before this change committed: wait for one
      // more run (shared by every change requested meanwhile), not for the running one.
      this.followUp ??= this.refreshing
        .catch(() => {})
        .then(() => {
          this.followUp = null;
          return this.refresh('change');
        });
      return this.followUp;
    }
    while (this.refreshing) await this.refreshing.catch(() => {});
    const run = this.runRefresh(trigger).finally(() => {
      if (this.refreshing === run) this.refreshing = null;
    });
    this.refreshing = run;
    return run;
  }

  private async runRefresh(trigger: RefreshSummary['trigger']): Promise<RefreshSummary> {
    const started = performance.now();
    const end = this.deps.metrics.refreshDuration.startTimer({ trigger });
    const feeds = trigger === 'manual' ? await listFeedStates(this.deps.db) : await findStaleFeeds(this.deps.db, this.deps.now());
    let rendered = 0;
    const changed: string[] = [];
    for (const feed of feeds) {
      if (this.stopped) break;
      // Timed like on-demand renders: most renders happen here, and the histogram must see them.
      const endRender = this.deps.metrics.feedRenderDuration.startTimer();
      const outcome = await renderFeed(this.renderContext, feed.feedKey, { force: trigger === 'manual' }).finally(() => endRender());
      rendered += 1;
      this.deps.metrics.feedRenders.inc({ outcome: outcome.changed ? 'changed' : 'unchanged' });
      if (outcome.changed) changed.push(feed.feedKey);
    }
    if (changed.length > 0) await this.announce(changed);
    end();
    this.deps.metrics.refreshTicks.inc({ trigger, outcome: 'ok' });
    this.deps.metrics.refreshFeedsRendered.inc({ trigger }, rendered);
    const summary: RefreshSummary = {
      trigger,
      feedsChecked: feeds.length,
      feedsRendered: rendered,
      feedsChanged: changed.length,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    };
    if (rendered > 0) this.deps.log.info(summary, 'feeds refreshed');
    return summary;
  }

  /** One cron tick: only the instance holding the refresh lock works; the others skip. */
  async tick(): Promise<RefreshSummary> {
    const locked = await this.deps.dbHandle.withTryLock(REFRESH_LOCK_KEY, () => this.refresh('cron'));
    if (!locked.acquired) {
      this.deps.metrics.refreshTicks.inc({ trigger: 'cron', outcome: 'skipped' });
      return { trigger: 'cron', feedsChecked: 0, feedsRendered: 0, feedsChanged: 0, durationMs: 0, skipped: 'not-leader' };
    }
    return locked.result;
  }
}
