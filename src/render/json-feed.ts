import { generateJsonFeed, type JsonFeed } from 'feedsmith';
import type { Author, Enclosure } from '../domain/article-input.js';
import { summaryOrExcerpt } from '../domain/excerpt.js';
import type { FeedDocument, FeedItem } from '../domain/feed-document.js';

/**
 * JSON Feed 1.1 for one FeedDocument, as the exact bytes to serve (served as application/feed+json).
 * Pure and byte-stable: every date comes from the document, nothing reads the clock.
 *
 * Serialised with JSON.stringify, pretty-printed with two spaces and a final newline (like the XML
 * formats, so goldens diff line by line). Key order is the order written below: feedsmith puts
 * `version` first and keeps the rest as given. Optional values are left undefined, never '' or
 * [], because feedsmith keeps empty strings and JSON.stringify then writes them.
 */
export function renderJsonFeed(doc: FeedDocument): string {
  const feed: JsonFeed.Feed<Date, true> = {
    title: doc.title,
    home_page_url: doc.homePageUrl,
    feed_url: doc.selfUrls.json,
    // RFC 5005 in JSON Feed terms: next_url is the next older document (the previous month's
    // archive). Always another URL than feed_url (J5): an archive links to the month before it.
    next_url: doc.archive?.prev?.json,
    description: nonEmpty(doc.description),
    icon: doc.imageUrl ?? undefined,
    language: doc.language,
    // JSON Feed 1.1: `authors` replaces the deprecated singular `author`.
    authors: [jsonAuthor(doc.author)],
    hubs: doc.hubs.length > 0 ? doc.hubs.map((url) => ({ type: 'WebSub', url })) : undefined,
    items: doc.items.map((item) => jsonItem(item, doc.language)),
  };
  const generated = generateJsonFeed(feed, { strict: true }) as Record<string, unknown>;
  // JSON Feed 1.1 requires `items` (an empty array for an empty feed); feedsmith drops an empty one.
  return `${JSON.stringify({ ...generated, items: generated.items ?? [] }, null, 2)}\n`;
}

function jsonItem(item: FeedItem, feedLanguage: string): JsonFeed.Item<Date, true> {
  const summary = summaryOrExcerpt(item.summary, item.contentHtml);
  const common = {
    id: item.id,
    url: item.url,
    title: item.title,
    summary: summary ?? undefined,
  };
  const rest = {
    image: item.imageUrl ?? undefined,
    date_published: item.publishedAt,
    date_modified: item.updatedAt,
    // Item authors inherit the top-level authors when absent (JSON Feed 1.1), so none are repeated.
    authors: item.authors.length > 0 ? item.authors.map(jsonAuthor) : undefined,
    tags: nonEmptyList(itemTags(item)),
    language: item.language !== feedLanguage ? item.language : undefined,
    attachments: nonEmptyList(item.enclosures.map(jsonAttachment)),
  };
  // JSON Feed 1.1 requires content_html or content_text. With no HTML body, the plain-text summary
  // (or the title, when there is no summary either) stands in as content_text.
  if (item.contentHtml) return { ...common, content_html: item.contentHtml, ...rest };
  return { ...common, content_text: summary ?? item.title, ...rest };
}

/**
 * JSON Feed has one flat `tags` list where RSS and Atom have categories: the category labels (the
 * names readers see in RSS and Atom) come first, then the article's tags, without repeats. Repeats
 * are found case-insensitively ("Climate" and "climate" are one tag) and the first spelling wins.
 */
function itemTags(item: FeedItem): string[] {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const tag of [...item.categories.map((category) => category.label), ...item.tags]) {
    const key = tag.trim().toLowerCase();
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    tags.push(tag);
  }
  return tags;
}

function jsonAttachment(enclosure: Enclosure): JsonFeed.Attachment<true> {
  return {
    url: enclosure.url,
    mime_type: enclosure.type,
    // 0 is RSS's "unknown size"; JSON Feed makes the size optional, so unknown is left out.
    size_in_bytes: enclosure.length > 0 ? enclosure.length : undefined,
    duration_in_seconds: enclosure.durationSeconds,
  };
}

// JSON Feed authors have no email field; the address is not published here.
function jsonAuthor(author: Author): JsonFeed.Author {
  return { name: author.name, url: author.url };
}

function nonEmpty(text: string): string | undefined {
  return text.trim() === '' ? undefined : text;
}

function nonEmptyList<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}
