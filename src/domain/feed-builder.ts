import { createHash } from 'node:crypto';
import type { Author, Enclosure } from './article-input.js';
import { summaryOrExcerpt } from './excerpt.js';
import type { FeedDocument, FeedItem } from './feed-document.js';

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
}

export interface FeedCategory {
  slug: string;
  name: string;
  description: string | null;
  updatedAt: Date;
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

/** Stable feed id: a tag: URI from the host, the date the feed was created and its key (never its title). */
export function feedTagId(baseUrl: string, feedCreatedAt: Date, feedKey: string): string {
  return `tag:${new URL(baseUrl).hostname},${feedCreatedAt.toISOString().slice(0, 10)}:feed:${feedKey}`;
}

export function toFeedItem(a: FeedArticle): FeedItem {
  return {
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
}): FeedDocument {
  const { site, feedKey, category } = input;
  const urls = feedUrls(site.baseUrl, feedKey, input.query ?? '');
  return {
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
    items: input.items.map(toFeedItem),
  };
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
