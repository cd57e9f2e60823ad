import { createHash } from 'node:crypto';
import type { Author, Enclosure } from './article-input.js';
import { summaryOrExcerpt } from './excerpt.js';
import type { FeedDocument, FeedItem } from './feed-document.js';
import { formatMonth, type Month } from './archive.js';
import { episodeEnclosure, podcastGuid, type EpisodeInfo, type PodcastConfig } from './podcast.js';

/** The site-wide settings every feed shares (from config). */
export interface FeedSite {
  baseUrl: string;
  title: string;
  description: string;
  language: string;
  ttlMinutes: number;
  hubs: string[];
}

/** What a feed needs of a stored article (storage rows satisfy it structurally). */
export interface FeedArticle {
  guid: string;
  url: string;
  title: string;
  summary: string | null;
  contentHtml: string | null;
  publishedAt: Date;
  updatedAt: Date;
  authors: Author[];
  categories: { slug: string; name: string }[];
  tags: string[];
  imageUrl: string | null;
  enclosures: Enclosure[];
  language: string;
  /** Episode details (podcast categories). */
  podcast?: EpisodeInfo | null;
}

export interface FeedCategory {
  slug: string;
  name: string;
  description: string | null;
  updatedAt: Date;
  /** Set when the category is a podcast: its feeds carry the show tags and only its episodes. */
  podcast?: PodcastConfig | null;
}

export const ALL_FEED_KEY = 'all';

/** The public URLs of a feed; `query` (e.g. `?limit=10`) is part of the self URL of a parameterised feed. */
export function feedUrls(baseUrl: string, feedKey: string, query = '') {
  const path = `${baseUrl}/feeds/${encodeURIComponent(feedKey)}`;
  return {
    rss: `${path}.rss${query}`,
    atom: `${path}.atom${query}`,
    json: `${path}.json${query}`,
    html: feedKey === ALL_FEED_KEY ? `${baseUrl}/` : path,
  };
}

/**
 * The URLs of feed `pathKey`'s archive document for `month` (`prefix` is '' or a partner's
 * `/partners/{key}`): /feeds/{pathKey}/archive/{YYYY}-{MM}.{fmt}.
 */
export function archiveUrls(baseUrl: string, pathKey: string, month: Month, prefix = ''): { rss: string; atom: string; json: string } {
  const path = `${baseUrl}${prefix}/feeds/${pathKey}/archive/${formatMonth(month)}`;
  return { rss: `${path}.rss`, atom: `${path}.atom`, json: `${path}.json` };
}

/** Stable feed id: a tag: URI from the host, the date the feed was created and its key (never its title). */
export function feedTagId(baseUrl: string, feedCreatedAt: Date, feedKey: string): string {
  return `tag:${new URL(baseUrl).hostname},${feedCreatedAt.toISOString().slice(0, 10)}:feed:${feedKey}`;
}

/**
 * One article as a feed item. In a podcast feed (`podcast`), the item is an episode: its one media
 * enclosure (the first audio/video with a known length; the loader only passes such articles) and its
 * episode details. With `summaryOnly` (a partner's terms), the full HTML is left out: readers get the
 * summary (or the start of the content when there is none) and the link.
 */
export function toFeedItem(a: FeedArticle, options: { podcast?: boolean; summaryOnly?: boolean } = {}): FeedItem {
  const item: FeedItem = {
    id: a.guid,
    url: a.url,
    title: a.title,
    summary: summaryOrExcerpt(a.summary, a.contentHtml),
    contentHtml: a.contentHtml,
    publishedAt: a.publishedAt,
    updatedAt: a.updatedAt,
    authors: a.authors,
    categories: a.categories.map((c) => ({ term: c.slug, label: c.name })),
    tags: a.tags,
    imageUrl: a.imageUrl,
    enclosures: a.enclosures,
    language: a.language,
  };
  if (options.podcast) {
    const media = episodeEnclosure(a.enclosures);
    item.enclosures = media ? [media] : [];
    item.episode = a.podcast ?? null;
  }
  if (options.summaryOnly) item.contentHtml = null;
  return item;
}

/** The show-level podcast fields of a category's feeds (podcast:guid from its public RSS URL: never changes). */
export function podcastShow(baseUrl: string, category: FeedCategory | null): FeedDocument['podcast'] {
  if (!category?.podcast) return null;
  return { ...category.podcast, guid: podcastGuid(feedUrls(baseUrl, category.slug).rss) };
}

/**
 * Newest change among the items and the category's own metadata: the feed's content date. The `all`
 * feed has no metadata of its own: its creation date (set by the migration, from the database clock)
 * only dates it while it is empty, and never outranks its items.
 */
export function newestChange(items: FeedArticle[], category: FeedCategory | null, feedCreatedAt: Date): Date {
  if (!category && items.length === 0) return feedCreatedAt;
  let newest = category ? category.updatedAt.getTime() : Number.NEGATIVE_INFINITY;
  for (const item of items) newest = Math.max(newest, item.updatedAt.getTime(), item.publishedAt.getTime());
  return new Date(newest);
}

/**
 * Builds the format-independent document of a feed. `updated` is decided by the caller (see
 * decideFeedUpdated) so that the document never depends on the clock of the render.
 */
export function buildFeedDocument(input: {
  site: FeedSite;
  feedKey: string;
  feedCreatedAt: Date;
  category: FeedCategory | null;
  items: FeedArticle[];
  updated: Date;
  query?: string;
  /** RFC 5005 links of the live feed (prev-archive), when it has any. */
  archive?: FeedDocument['archive'];
  /** RFC 6721 tombstones (recent retractions), newest first. */
  deletedEntries?: FeedDocument['deletedEntries'];
}): FeedDocument {
  const { site, feedKey, category } = input;
  const urls = feedUrls(site.baseUrl, feedKey, input.query ?? '');
  const podcast = podcastShow(site.baseUrl, category);
  const doc: FeedDocument = {
    id: feedTagId(site.baseUrl, input.feedCreatedAt, feedKey),
    title: category ? `${site.title}: ${category.name}` : site.title,
    description: category ? (category.description ?? `The latest ${category.name} articles from ${site.title}.`) : site.description,
    homePageUrl: urls.html,
    selfUrls: { rss: urls.rss, atom: urls.atom, json: urls.json },
    language: site.language,
    updated: input.updated,
    ttlMinutes: site.ttlMinutes,
    author: { name: site.title, url: `${site.baseUrl}/` },
    hubs: site.hubs,
    items: input.items.map((a) => toFeedItem(a, { podcast: podcast !== null })),
  };
  // Set only when present: documents without them keep the digest they had before these fields existed.
  if (podcast) {
    doc.podcast = podcast;
    doc.imageUrl = podcast.imageUrl;
  }
  if (input.archive) doc.archive = input.archive;
  if (input.deletedEntries && input.deletedEntries.length > 0) doc.deletedEntries = input.deletedEntries;
  return doc;
}

/** Hash of everything a reader sees except the `updated` date: equal digests mean nothing changed. */
export function feedDigest(doc: FeedDocument): string {
  const { updated: _updated, ...rest } = doc;
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64url');
}

/**
 * The feed's `updated` (RSS lastBuildDate, Atom updated, HTTP Last-Modified). Normally the newest item
 * or metadata change. When the content changed but that date did not move forward (an article was
 * retracted, or a category relabelled without a date), the change happened at this render: use the
 * render time, so readers and caches see a newer date. Unchanged content keeps its previous date.
 */
export function decideFeedUpdated(input: {
  contentDate: Date;
  digest: string;
  previous: { digest: string | null; updated: Date | null };
  renderedAt: Date;
}): Date {
  const { contentDate, digest, previous, renderedAt } = input;
  if (!previous.digest || !previous.updated) return contentDate;
  if (previous.digest === digest) return previous.updated;
  if (contentDate.getTime() > previous.updated.getTime()) return contentDate;
  return new Date(Math.max(renderedAt.getTime(), previous.updated.getTime() + 1000));
}
