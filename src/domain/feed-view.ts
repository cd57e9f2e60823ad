import { archiveNeighbours, formatMonth, livePrevArchive, type Month } from './archive.js';
import { archiveUrls, feedTagId, feedUrls, podcastShow, toFeedItem, ALL_FEED_KEY, type FeedArticle, type FeedCategory, type FeedSite } from './feed-builder.js';
import type { FeedDocument } from './feed-document.js';

/**
 * Feed views: every feed served by rendering on demand rather than from a pre-rendered snapshot —
 * combinations (/feeds/a+b.rss), increments (?since=), archive months (/feeds/a/archive/2026-10.rss)
 * and everything a partner reads (/partners/{key}/feeds/…). One description of what is asked, one
 * pure builder from loaded content to a FeedDocument; the renderers are the canonical feeds' own.
 */

/** At most this many feeds in one combination (the issue: "up to 10 categories"). */
export const MAX_COMBINED_FEEDS = 10;
/** An archive month holds every article published in it, up to this many (a safety bound). */
export const ARCHIVE_MAX_ITEMS = 10_000;

/** A partner's terms, as far as a view depends on them. */
export interface ViewPartner {
  id: string;
  /** The key as presented: part of every URL in the partner's documents (self links). */
  key: string;
  /** Category slugs the partner may read; null means every category and `all`. */
  categories: string[] | null;
  embargoMinutes: number;
  content: 'full' | 'summary';
}

export interface ViewRequest {
  /** Sorted, distinct feed keys: one slug, `all`, or several category slugs (a combination). */
  keys: string[];
  format: 'rss' | 'atom' | 'json';
  /** An archive month, or null for the live feed. */
  month: Month | null;
  /** ?limit (null: the default). */
  limit: number | null;
  /** ?since, parsed. */
  since: Date | null;
  partner: ViewPartner | null;
}

/** The path of a view's feed key(s): `world`, `sport+world`. */
export function pathKeyOf(keys: readonly string[]): string {
  return keys.join('+');
}

/** '' or `/partners/{key}`: what precedes /feeds/ in a view's URLs. */
export function partnerPrefix(partner: ViewPartner | null): string {
  return partner ? `/partners/${partner.key}` : '';
}

/**
 * The canonical query of a view (?limit then ?since, the since as an RFC 3339 UTC instant): part of
 * its self URL and of its cache key, so equivalent requests share one cached render.
 */
export function viewQuery(req: Pick<ViewRequest, 'limit' | 'since'>): string {
  const parts: string[] = [];
  if (req.limit !== null) parts.push(`limit=${req.limit}`);
  if (req.since) parts.push(`since=${req.since.toISOString()}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** The URLs of a live view (per format), with `query`. */
export function liveUrls(baseUrl: string, keys: readonly string[], partner: ViewPartner | null, query = ''): { rss: string; atom: string; json: string } {
  const path = `${baseUrl}${partnerPrefix(partner)}/feeds/${pathKeyOf(keys)}`;
  return { rss: `${path}.rss${query}`, atom: `${path}.atom${query}`, json: `${path}.json${query}` };
}

/** The path (no base URL) of a view in one format, with its canonical query. */
export function viewPath(req: ViewRequest): string {
  const prefix = partnerPrefix(req.partner);
  const key = pathKeyOf(req.keys);
  const month = req.month ? `/archive/${formatMonth(req.month)}` : '';
  return `${prefix}/feeds/${key}${month}.${req.format}${viewQuery(req)}`;
}

/** What a view's document is built from (storage's ViewContent, narrowed to what the builder reads). */
export interface ViewContentInput {
  states: { feedKey: string; createdAt: Date; contentUpdatedAt: Date | null }[];
  categories: (FeedCategory & { id: number })[];
  episodesOnly: boolean;
  items: FeedArticle[];
  firstPublishedAt: Date | null;
  newestBeforeNewestMonth: Date | null;
  lastChangeAt: Date | null;
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * The newest change a view's reader can see: items' edits and their appearance (publication, or for a
 * partner its end of embargo), the categories' own metadata and, for live views, the canonical feeds'
 * `updated` (which also moves when an item is retracted). For an archive month, the month's newest
 * change (`lastChangeAt`, retractions and late additions included) instead: a month's date must not
 * move when other months change. Never "now".
 */
export function viewUpdated(req: ViewRequest, content: ViewContentInput): Date {
  const embargoMs = (req.partner?.embargoMinutes ?? 0) * 60_000;
  let newest = Number.NEGATIVE_INFINITY;
  for (const item of content.items) newest = Math.max(newest, item.updatedAt.getTime(), item.publishedAt.getTime() + embargoMs);
  for (const category of content.categories) newest = Math.max(newest, category.updatedAt.getTime());
  if (req.month) {
    if (content.lastChangeAt) newest = Math.max(newest, content.lastChangeAt.getTime());
  } else {
    for (const state of content.states) if (state.contentUpdatedAt) newest = Math.max(newest, state.contentUpdatedAt.getTime());
  }
  if (newest === Number.NEGATIVE_INFINITY) newest = Math.min(...content.states.map((s) => s.createdAt.getTime()));
  return new Date(newest);
}

/**
 * Builds a view's document. `viewNow` is the reader's now (the clock minus a partner's embargo): it
 * decides the archive links. Pure: the caller passes every date.
 */
export function buildViewDocument(input: {
  site: FeedSite;
  req: ViewRequest;
  content: ViewContentInput;
  viewNow: Date;
  updated: Date;
  /** FEED_ITEM_LIMIT: a live view's length without ?limit. */
  defaultLimit: number;
}): FeedDocument {
  const { site, req, content } = input;
  const { partner, month } = req;
  const single = req.keys.length === 1;
  const names = content.categories.map((c) => c.name);
  const baseTitle = req.keys[0] === ALL_FEED_KEY ? site.title : `${site.title}: ${names.join(' + ')}`;
  const category = single ? (content.categories[0] ?? null) : null;
  const podcast = content.episodesOnly ? podcastShow(site.baseUrl, category) : null;
  const filtered = req.since !== null || (month !== null && req.limit !== null);
  const query = viewQuery(req);
  const live = liveUrls(site.baseUrl, req.keys, partner);

  let description: string;
  if (req.keys[0] === ALL_FEED_KEY) description = site.description;
  else if (category) description = category.description ?? `The latest ${category.name} articles from ${site.title}.`;
  else description = `The latest ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} articles from ${site.title}.`;

  const createdAt = new Date(Math.min(...content.states.map((s) => s.createdAt.getTime())));
  let id = feedTagId(site.baseUrl, createdAt, pathKeyOf(req.keys));
  let title = baseTitle;
  let selfUrls = liveUrls(site.baseUrl, req.keys, partner, query);
  let archive: FeedDocument['archive'];
  if (month) {
    const label = `${MONTH_NAMES[month.month - 1]} ${month.year}`;
    id += `:archive:${formatMonth(month)}`;
    title = `${baseTitle} (archive: ${label})`;
    description = `Every article of ${baseTitle} published in ${label} (UTC).`;
    const urls = archiveUrls(site.baseUrl, pathKeyOf(req.keys), month, partnerPrefix(partner));
    selfUrls = query ? { rss: urls.rss + query, atom: urls.atom + query, json: urls.json + query } : urls;
    if (!filtered && content.firstPublishedAt) {
      // RFC 5005 §4: an archive document links the previous and next archives and the live feed.
      const { prev, next } = archiveNeighbours(month, content.firstPublishedAt, input.viewNow);
      const prefix = partnerPrefix(partner);
      archive = {
        isArchive: true,
        current: live,
        prev: prev ? archiveUrls(site.baseUrl, pathKeyOf(req.keys), prev, prefix) : null,
        next: next ? archiveUrls(site.baseUrl, pathKeyOf(req.keys), next, prefix) : null,
      };
    }
  } else if (!filtered) {
    const prev = livePrevArchive({
      items: content.items,
      limit: req.limit ?? input.defaultLimit,
      newestBeforeNewestMonth: content.newestBeforeNewestMonth,
    });
    if (prev) archive = { isArchive: false, prev: archiveUrls(site.baseUrl, pathKeyOf(req.keys), prev, partnerPrefix(partner)) };
  }
  // A partner's documents are their own (their terms shape them): their own ids.
  if (partner) id += `:partner:${partner.id}`;

  const doc: FeedDocument = {
    id,
    title,
    description,
    homePageUrl: single ? feedUrls(site.baseUrl, req.keys[0]!).html : `${site.baseUrl}/`,
    selfUrls,
    language: site.language,
    updated: input.updated,
    ttlMinutes: site.ttlMinutes,
    author: { name: site.title, url: `${site.baseUrl}/` },
    // WebSub topics are the canonical feeds only: views advertise no hub.
    hubs: [],
    items: content.items.map((a) => toFeedItem(a, { podcast: podcast !== null, summaryOnly: partner?.content === 'summary' })),
  };
  if (podcast) {
    doc.podcast = podcast;
    doc.imageUrl = podcast.imageUrl;
  }
  if (archive) doc.archive = archive;
  return doc;
}
