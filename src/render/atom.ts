import { generateAtomFeed, type AtomFeed } from 'feedsmith';
import type { Author } from '../domain/article-input.js';
import { summaryOrExcerpt } from '../domain/excerpt.js';
import type { FeedDocument, FeedItem } from '../domain/feed-document.js';
import { addAtomTombstones } from './atom-tombstones.js';
import { markFeedHistoryArchive, postProcessXml } from './xml-post-process.js';

/**
 * Atom 1.0 (RFC 4287) for one FeedDocument, as the exact bytes to serve.
 * Pure and byte-stable: every date comes from the document, nothing reads the clock.
 *
 * feedsmith quirk: text constructs must be objects ({ value, type }); a bare string is silently
 * dropped. Titles, subtitle and summary are declared type="text" because they are plain text: as
 * "html", a title such as "Vector<int>" would be read as markup.
 */
export function renderAtom(doc: FeedDocument): string {
  const feed: AtomFeed.Feed<Date, true> = {
    id: doc.id,
    title: { value: doc.title, type: 'text' },
    subtitle: nonEmpty(doc.description) ? { value: doc.description, type: 'text' } : undefined,
    updated: doc.updated,
    // RFC 4287 §4.1.1: a feed-level author, so entries without their own still have one.
    authors: [atomPerson(doc.author)],
    links: [
      { href: doc.homePageUrl, rel: 'alternate', type: 'text/html' },
      // RFC 4287 §4.1.1 SHOULD, and the WebSub topic (§4): self must equal the served URL.
      { href: doc.selfUrls.atom, rel: 'self', type: 'application/atom+xml' },
      ...doc.hubs.map((hub) => ({ href: hub, rel: 'hub' })),
      // RFC 5005 §4: archive documents link current / prev-archive / next-archive; the live feed prev-archive.
      ...(doc.archive?.current ? [{ href: doc.archive.current.atom, rel: 'current', type: 'application/atom+xml' }] : []),
      ...(doc.archive?.prev ? [{ href: doc.archive.prev.atom, rel: 'prev-archive', type: 'application/atom+xml' }] : []),
      ...(doc.archive?.next ? [{ href: doc.archive.next.atom, rel: 'next-archive', type: 'application/atom+xml' }] : []),
    ],
    logo: doc.imageUrl ?? undefined,
    xml: { lang: doc.language },
    entries: doc.items.map((item) => atomEntry(item, doc.language)),
  };
  // RFC 6721: recent retractions as at:deleted-entry (feedsmith has no tombstones support).
  const xml = addAtomTombstones(postProcessXml(generateAtomFeed(feed, { strict: true })), doc.deletedEntries);
  return doc.archive?.isArchive ? markFeedHistoryArchive(xml) : xml;
}

function atomEntry(item: FeedItem, feedLanguage: string): AtomFeed.Entry<Date, true> {
  const summary = summaryOrExcerpt(item.summary, item.contentHtml);
  return {
    id: item.id,
    title: { value: item.title, type: 'text' },
    published: item.publishedAt,
    updated: item.updatedAt,
    // No authors on the item: omitted, the feed-level author covers the entry (RFC 4287 §4.2.1).
    authors: item.authors.length > 0 ? item.authors.map(atomPerson) : undefined,
    summary: summary === null ? undefined : { value: summary, type: 'text' },
    content: item.contentHtml ? { value: item.contentHtml, type: 'html' } : undefined,
    // term is the machine-readable slug (required), label the human-readable name.
    categories: item.categories.map((category) => ({ term: category.term, label: category.label })),
    links: [
      // RFC 4287 §4.1.2: an entry without content MUST have an alternate link; every entry gets one.
      { href: item.url, rel: 'alternate' },
      // Atom's enclosure link carries the real MIME type; length is advisory, so an unknown size
      // (0, RSS's convention) is left out rather than claimed.
      ...item.enclosures.map((enclosure) => ({
        href: enclosure.url,
        rel: 'enclosure',
        type: enclosure.type,
        length: enclosure.length > 0 ? enclosure.length : undefined,
      })),
    ],
    // Atom has no lead-image element; Media RSS thumbnails are what readers look for in Atom too.
    media: item.imageUrl ? { thumbnails: [{ url: item.imageUrl }] } : undefined,
    // xml:lang is inherited from the feed element; repeat it only when the entry differs.
    xml: item.language !== feedLanguage ? { lang: item.language } : undefined,
  };
}

function atomPerson(author: Author): AtomFeed.Person<true> {
  return { name: author.name, uri: author.url, email: author.email };
}

function nonEmpty(text: string): boolean {
  return text.trim() !== '';
}
