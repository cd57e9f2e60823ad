import { generateRssFeed, type ItunesNs, type MediaNs, type PodcastNs, type RssFeed } from 'feedsmith';
import { summaryOrExcerpt } from '../domain/excerpt.js';
import type { Enclosure } from '../domain/article-input.js';
import type { FeedDocument, FeedItem } from '../domain/feed-document.js';
import { markFeedHistoryArchive, postProcessXml } from './xml-post-process.js';

/**
 * RSS 2.0 (with the RSS Best Practices Profile) for one FeedDocument, as the exact bytes to serve.
 * Pure and byte-stable: every date comes from the document, nothing reads the clock.
 */
export function renderRss(doc: FeedDocument): string {
  const feed: RssFeed.Feed<Date, true> = {
    title: doc.title,
    link: doc.homePageUrl,
    // RSS 2.0 requires a channel description, and feedsmith silently drops a blank one: the title
    // stands in rather than publishing an invalid channel.
    description: doc.description.trim() !== '' ? doc.description : doc.title,
    language: doc.language,
    copyright: doc.podcast?.copyright,
    lastBuildDate: doc.updated,
    ttl: doc.ttlMinutes,
    image: doc.imageUrl ? { url: doc.imageUrl, title: doc.title, link: doc.homePageUrl } : undefined,
    atom: {
      // WebSub §4: topic (self) and hubs advertised in the body as atom:link.
      links: [
        { href: doc.selfUrls.rss, rel: 'self', type: 'application/rss+xml' },
        ...doc.hubs.map((hub) => ({ href: hub, rel: 'hub' })),
        // RFC 5005 Appendix B: RSS uses the same link relations as Atom, as atom:link.
        ...archiveLinks(doc),
      ],
    },
    itunes: doc.podcast ? itunesShow(doc.podcast) : undefined,
    podcast: doc.podcast ? podcastShow(doc.podcast) : undefined,
    items: doc.items.map((item) => rssItem(item, doc.language, doc.podcast != null)),
  };
  const xml = postProcessXml(generateRssFeed(feed, { strict: true }));
  return doc.archive?.isArchive ? markFeedHistoryArchive(xml) : xml;
}

function archiveLinks(doc: FeedDocument): { href: string; rel: string; type: string }[] {
  const links: { href: string; rel: string; type: string }[] = [];
  const archive = doc.archive;
  if (!archive) return links;
  if (archive.current) links.push({ href: archive.current.rss, rel: 'current', type: 'application/rss+xml' });
  if (archive.prev) links.push({ href: archive.prev.rss, rel: 'prev-archive', type: 'application/rss+xml' });
  if (archive.next) links.push({ href: archive.next.rss, rel: 'next-archive', type: 'application/rss+xml' });
  return links;
}

type Show = NonNullable<FeedDocument['podcast']>;

/**
 * Apple's show tags (A Podcaster's Guide to RSS): artwork, category with its subcategory nested,
 * explicit (written true/false by the post-pass), author, owner, type. Never the deprecated
 * itunes:summary or googleplay tags (feed-generation rule 8).
 */
function itunesShow(show: Show): ItunesNs.Feed<true> {
  return {
    image: show.imageUrl,
    categories: [
      { text: show.itunesCategory, categories: show.itunesSubcategory ? [{ text: show.itunesSubcategory }] : undefined },
    ],
    explicit: show.explicit,
    author: show.author,
    owner: { name: show.ownerName, email: show.ownerEmail },
    type: show.type,
  };
}

/** Podcasting 2.0: the feed's permanent guid and podcast:locked (yes/no, with the owner's address). */
function podcastShow(show: Show): PodcastNs.Feed<Date, true> {
  return { guid: show.guid, locked: { value: show.locked ?? false, owner: show.ownerEmail } };
}

/** An episode's iTunes tags: duration in seconds, episode type (default full), numbers and artwork when given. */
function itunesEpisode(item: FeedItem): ItunesNs.Item {
  const episode = item.episode ?? {};
  return {
    duration: item.enclosures[0]?.durationSeconds,
    image: item.imageUrl ?? undefined,
    explicit: episode.explicit,
    episode: episode.episode,
    season: episode.season,
    episodeType: episode.episodeType ?? 'full',
  };
}

function rssItem(item: FeedItem, feedLanguage: string, podcast: boolean): RssFeed.Item<Date, true> {
  const summary = summaryOrExcerpt(item.summary, item.contentHtml);
  const [firstEnclosure] = item.enclosures;
  return {
    // RSS requires a title or a description; normalisation guarantees a non-empty title.
    title: item.title,
    link: item.url,
    // description is HTML in RSS: the plain-text summary is escaped, so "Vector<int>" is not a tag.
    // feedsmith then wraps it in CDATA; passing it unescaped would let readers parse it as markup.
    description: summary === null ? undefined : escapeHtmlText(summary),
    categories: item.categories.map((category) => ({ name: category.label })),
    // RSS Profile: an item SHOULD NOT contain more than one enclosure, and podcast apps read
    // only one. The first one goes here; every enclosure is also listed as media:content below.
    enclosures: firstEnclosure ? [{ url: firstEnclosure.url, length: firstEnclosure.length, type: firstEnclosure.type }] : undefined,
    // The guid is a tag: URI, not the article URL, so isPermaLink must say false (RSS 2.0 guid).
    guid: { value: item.id, isPermaLink: false },
    pubDate: item.publishedAt,
    // Name-only authors are invalid in <author> (it needs an email): dc:creator, one per author.
    dc: {
      creators: item.authors.length > 0 ? item.authors.map((author) => author.name) : undefined,
      // RSS has no per-item language; dc:language says so only when the item differs from the feed.
      languages: item.language !== feedLanguage ? [item.language] : undefined,
    },
    content: item.contentHtml ? { encoded: item.contentHtml } : undefined,
    media: rssMedia(item),
    itunes: podcast ? itunesEpisode(item) : undefined,
  };
}

/**
 * Media RSS for the lead image (media:content medium="image" + media:thumbnail, which most readers
 * use for the preview picture) and for every enclosure, including the first: media:content may
 * repeat, so no attachment is lost to the one-enclosure rule.
 */
function rssMedia(item: FeedItem): MediaNs.ItemOrFeed<true> | undefined {
  const contents: MediaNs.Content<true>[] = [];
  if (item.imageUrl) contents.push({ url: item.imageUrl, medium: 'image' });
  contents.push(...item.enclosures.map(mediaContent));
  if (contents.length === 0) return undefined;
  return {
    contents,
    thumbnails: item.imageUrl ? [{ url: item.imageUrl }] : undefined,
  };
}

function mediaContent(enclosure: Enclosure): MediaNs.Content<true> {
  return {
    url: enclosure.url,
    // Media RSS: fileSize is optional; 0 is how RSS says "unknown", which fileSize should not claim.
    fileSize: enclosure.length > 0 ? enclosure.length : undefined,
    type: enclosure.type,
    medium: mediumOf(enclosure.type),
    duration: enclosure.durationSeconds,
  };
}

/** Media RSS medium for a MIME type; omitted when none of the spec's values fits. */
function mediumOf(mimeType: string): string | undefined {
  const [major] = mimeType.toLowerCase().split('/');
  if (major === 'image' || major === 'audio' || major === 'video') return major;
  if (mimeType.toLowerCase() === 'application/pdf') return 'document';
  return undefined;
}

/** Escapes plain text for use as HTML text (the content of RSS description). */
function escapeHtmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
