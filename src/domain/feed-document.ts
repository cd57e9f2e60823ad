import type { Author, Enclosure } from './article-input.js';

/**
 * One feed, independent of format: what the renderers (render/rss.ts, atom.ts, json-feed.ts) turn
 * into bytes. Every value is already clean and final; renderers never fix data up or read the clock.
 */
export interface FeedDocument {
  /** Stable tag: URI for the feed (Atom feed id). */
  id: string;
  title: string;
  /** Plain text. */
  description: string;
  /** The publisher's page for this feed (alternate link). */
  homePageUrl: string;
  /** Exactly the URL this document is served at, per format. */
  selfUrls: { rss: string; atom: string; json: string };
  /** BCP 47, e.g. en-GB. */
  language: string;
  /** Newest change among the items (or of the feed's own metadata when it has no items). Never "now". */
  updated: Date;
  /** Minutes a reader may cache the feed (RSS ttl). */
  ttlMinutes: number;
  /** Feed-level author (Atom requires one). */
  author: Author;
  /** WebSub hub URLs, advertised in every format. */
  hubs: string[];
  /** Optional feed image / logo. */
  imageUrl?: string | null;
  items: FeedItem[];
}

export interface FeedItem {
  /** The article's stable guid (tag: URI): the same identity in every format. */
  id: string;
  url: string;
  /** Plain text. */
  title: string;
  /** Plain text: the article summary, or the start of its content when it has none. */
  summary: string | null;
  /** Sanitised HTML with absolute URLs, or null. */
  contentHtml: string | null;
  publishedAt: Date;
  updatedAt: Date;
  authors: Author[];
  /** term = category slug, label = category name. */
  categories: { term: string; label: string }[];
  tags: string[];
  imageUrl: string | null;
  enclosures: Enclosure[];
  language: string;
}
