import type { Author, Enclosure } from './article-input.js';
import type { EpisodeInfo, PodcastConfig } from './podcast.js';

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
  /** Present when the feed is a podcast: the show-level iTunes / Podcasting 2.0 tags. */
  podcast?: (PodcastConfig & { guid: string }) | null;
  /** RFC 5005 archive links (absolute URLs, per format) and whether this document is an archive. */
  archive?: {
    isArchive: boolean;
    prev?: { rss: string; atom: string; json: string } | null;
    next?: { rss: string; atom: string; json: string } | null;
    current?: { rss: string; atom: string; json: string } | null;
  } | null;
  items: FeedItem[];
  /**
   * RFC 6721 tombstones: articles retracted from this feed in the last 30 days (Atom renders them as
   * at:deleted-entry; the other formats have no such element). Absent when there are none.
   */
  deletedEntries?: { ref: string; when: Date }[];
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
  /** Episode details for podcast feeds. */
  episode?: EpisodeInfo | null;
}
