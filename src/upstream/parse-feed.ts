import Parser from 'rss-parser';
import sanitizeHtml from 'sanitize-html';
import { z } from 'zod';

/**
 * Parses an upstream feed body (RSS 0.9x/1.0/2.0, Atom 1.0, JSON Feed 1.0/1.1) into UpstreamItems:
 * one shape whatever the format, with library quirks ironed out, but nothing yet decided about
 * identity, URLs or fallbacks (that is map-item.ts). Pure: no I/O, no clock.
 */

export interface UpstreamAuthor {
  name: string | null;
  email: string | null;
  url: string | null;
}

export interface UpstreamEnclosure {
  /** As written: possibly relative, possibly not http. */
  url: string;
  type: string | null;
  /** As written: rss-parser gives RSS enclosure lengths as strings, JSON Feed as numbers. */
  length: string | number | null;
  durationSeconds: number | null;
}

export interface UpstreamItem {
  /** RSS guid, Atom id or JSON Feed id (JSON: falling back to url); null when absent or empty. */
  guid: string | null;
  /** The item's link as written, possibly relative. */
  link: string | null;
  /** Plain text (Atom type="html" titles decoded, double-escaped RSS titles decoded). */
  title: string | null;
  /** HTML; plain-text sources (Atom type="text", JSON summary) are escaped. */
  summaryHtml: string | null;
  /** Full content as HTML: content:encoded, Atom content, JSON content_html / content_text. */
  contentHtml: string | null;
  published: Date | null;
  updated: Date | null;
  authors: UpstreamAuthor[];
  categories: string[];
  enclosures: UpstreamEnclosure[];
  /** Image candidates, best first, as written (possibly relative). */
  imageUrls: string[];
}

export interface UpstreamFeed {
  title: string | null;
  /** The publisher's site (RSS channel link, Atom alternate link, JSON home_page_url), as written. */
  homePageUrl: string | null;
  /** As declared (RSS <language>, JSON Feed language); null for Atom, where rss-parser drops xml:lang. */
  language: string | null;
  items: UpstreamItem[];
}

export type ParseOutcome = { ok: true; feed: UpstreamFeed } | { ok: false; error: string };

/** Parses a decoded feed body. `feedUrl` resolves hints in error messages (an HTML page's feed link). */
export function parseFeed(body: string, options: { feedUrl: string }): Promise<ParseOutcome> {
  const text = body.replace(/^\uFEFF/, '').trimStart();
  if (text === '') return Promise.resolve({ ok: false, error: 'empty body' });
  // Detect by content, not Content-Type: servers label feeds text/html, text/plain, octet-stream…
  if (text.startsWith('{')) return Promise.resolve(parseJsonFeed(text));
  if (text.startsWith('[')) return Promise.resolve({ ok: false, error: 'a JSON array is not a JSON Feed' });
  if (!text.startsWith('<')) return Promise.resolve({ ok: false, error: 'neither XML nor JSON: the body does not start with < or {' });
  const prolog = scanProlog(text);
  if (prolog.html) return Promise.resolve({ ok: false, error: htmlError(text, options.feedUrl) });
  return parseXmlFeed(text, prolog.root);
}

/**
 * The root element's name, skipping the XML declaration, processing instructions, comments and the
 * doctype; and whether the document is HTML. One sticky step at a time: a single regex with a
 * repeated lazy group backtracks exponentially on hostile input (<?a?><?a?>… then no root).
 */
function scanProlog(text: string): { root: string | null; html: boolean } {
  const step = /\s*(<\?[^]*?\?>|<!--[^]*?-->|<!DOCTYPE\b[^>[]*(?:\[[^]*?\])?\s*>)/iy;
  let html = false;
  let pos = 0;
  for (;;) {
    step.lastIndex = pos;
    const m = step.exec(text);
    if (!m) break;
    pos = step.lastIndex;
    if (/^<!DOCTYPE\s+html\b/i.test(m[1]!)) html = true;
  }
  const rootMatch = /\s*<([A-Za-z_][\w:.-]*)/y;
  rootMatch.lastIndex = pos;
  const root = rootMatch.exec(text)?.[1] ?? null;
  return { root, html: html || /^(html|head|body)$/i.test(root ?? '') };
}

// ---------------------------------------------------------------------------------------------
// XML (RSS and Atom) through rss-parser

type Node = unknown;
type RawItem = Record<string, unknown> & { itunes?: Record<string, unknown> };

const ITEM_FIELDS = [
  // keepArray keeps every occurrence and the attributes that rss-parser otherwise drops.
  ['title', 'titleNodes', { keepArray: true }],
  ['link', 'linkNodes', { keepArray: true }],
  ['author', 'authorNodes', { keepArray: true }],
  ['dc:creator', 'creatorNodes', { keepArray: true }],
  ['category', 'categoryNodes', { keepArray: true }],
  ['enclosure', 'enclosureNodes', { keepArray: true }],
  ['media:content', 'mediaContentNodes', { keepArray: true }],
  ['media:thumbnail', 'mediaThumbnailNodes', { keepArray: true }],
  ['media:group', 'mediaGroupNodes', { keepArray: true }],
  ['content', 'contentNodes', { keepArray: true }],
  ['summary', 'summaryNodes', { keepArray: true }],
  ['published', 'publishedText'],
  ['updated', 'updatedText'],
] as const;

function createParser(): Parser<Record<string, unknown>, RawItem> {
  return new Parser<Record<string, unknown>, RawItem>({
    // <rss> without a version attribute is otherwise "not recognized".
    defaultRSS: 2,
    customFields: {
      item: ITEM_FIELDS.map((f) => [...f]) as never,
      // Atom feeds get only the custom feed fields (rss-parser skips its defaults for Atom).
      feed: [['title', 'titleNodes', { keepArray: true }], ['author', 'authorNodes', { keepArray: true }]] as never,
    },
  });
}

async function parseXmlFeed(xml: string, root: string | null): Promise<ParseOutcome> {
  const atom = root === 'feed' || (root?.endsWith(':feed') ?? false);
  let prepared = repairBareAmpersands(xml);
  if (atom) prepared = repairAtomLinks(repairAtomDates(prepared));
  let raw: Awaited<ReturnType<Parser['parseString']>>;
  try {
    // A fresh parser per call: xml2js parsers are stateful, and one costs little next to the parse.
    raw = await createParser().parseString(prepared);
  } catch (err) {
    return { ok: false, error: describeXmlError(err) };
  }
  const feedAuthors = atom ? authorsFrom(raw.authorNodes) : [];
  const items = (raw.items as RawItem[]).map((item) => (atom ? fromAtomEntry(item, feedAuthors) : fromRssItem(item)));
  return {
    ok: true,
    feed: {
      title: (atom ? atomText(first(raw.titleNodes)) : typeof raw.title === 'string' ? decodeIfEscaped(raw.title) : null)?.trim() || null,
      homePageUrl: typeof raw.link === 'string' ? raw.link.trim() || null : null,
      language: typeof raw.language === 'string' ? raw.language.trim() || null : null,
      items: dedupeItems(items),
    },
  };
}

function describeXmlError(err: unknown): string {
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  // rss-parser walks the xml2js tree without checks: a missing <channel> surfaces as a TypeError.
  if (err instanceof TypeError) return `not a usable RSS or Atom feed (${message})`;
  if (/not recognized/i.test(message)) return 'XML is neither RSS nor Atom';
  return `malformed XML: ${message}`;
}

/**
 * A bare `&` ("Tom & Jerry") makes xml2js reject the whole document; escape every `&` that does
 * not start an entity or character reference. CDATA sections and comments are left alone.
 */
export function repairBareAmpersands(xml: string): string {
  // A scan rather than one regex: a lazy CDATA/comment pattern that never finds its end would be
  // retried from every later opener (quadratic on hostile input).
  const out: string[] = [];
  const special = /<!\[CDATA\[|<!--|&/g;
  const reference = /&(?:[A-Za-z_][\w.-]*|#\d+|#x[\da-fA-F]+);/y;
  let copied = 0;
  for (let m = special.exec(xml); m; m = special.exec(xml)) {
    if (m[0] === '&') {
      reference.lastIndex = m.index;
      if (!reference.test(xml)) {
        out.push(xml.slice(copied, m.index), '&amp;');
        copied = m.index + 1;
      }
      continue;
    }
    const close = m[0] === '<!--' ? '-->' : ']]>';
    const end = xml.indexOf(close, special.lastIndex);
    if (end === -1) break; // unterminated: leave the rest for the parser to report
    special.lastIndex = end + close.length;
  }
  out.push(xml.slice(copied));
  return out.join('');
}

/**
 * rss-parser 3.13 calls `new Date(published).toISOString()` on Atom entries without a guard, so one
 * unparseable <published> or <updated> rejects the whole feed (RangeError: Invalid time value).
 * Rewrite each such element to our own reading of the date, or empty it when it has none.
 */
function repairAtomDates(xml: string): string {
  return xml.replace(
    // No [\s\S]*? and no \s* around the text: both would backtrack badly on hostile input.
    /<(published|updated)(\s[^>]*)?>(?:<!\[CDATA\[([^\]<]*)\]\]>|([^<]*))<\/\1>/g,
    (_m, tag: string, attrs: string | undefined, cdata: string | undefined, plain: string | undefined) => {
      const date = parseFeedDate(cdata ?? decodeXmlText(plain ?? ''));
      return `<${tag}${attrs ?? ''}>${date ? date.toISOString() : ''}</${tag}>`;
    },
  );
}

/**
 * rss-parser reads `link.$.rel` on every Atom <link>: an RSS-style `<link>url</link>` or an empty
 * `<link/>` (no attributes, so no `$`) throws a TypeError and loses the feed. Turn the first into
 * `<link href="url"/>` and drop the second.
 */
function repairAtomLinks(xml: string): string {
  return xml
    .replace(/<link\s*\/>|<link\s*><\/link>/g, '')
    .replace(/<link>([^<]*)<\/link>/g, (_m, href: string) => `<link href="${href.trim().replace(/"/g, '&quot;')}"/>`);
}

function decodeXmlText(text: string): string {
  return text
    .replace(/&#x([\da-f]+);/gi, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function fromRssItem(item: RawItem): UpstreamItem {
  const guid = stringOf(item.guid); // an empty <guid isPermaLink="false"/> arrives as an object
  const link = firstString(item.linkNodes) ?? stringOf(item['rdf:about']);
  const title = textOf(first(item.titleNodes));
  const description = stringOf(item.content); // rss-parser puts <description> in `content`
  const encoded = stringOf(item['content:encoded']);
  const itunes = item.itunes ?? {};
  const duration = parseDuration(itunes.duration);
  return {
    guid,
    link,
    title: title === null ? null : decodeIfEscaped(title),
    summaryHtml: description,
    contentHtml: encoded,
    published: parseFeedDate(stringOf(item.pubDate) ?? stringOf(item.date)),
    updated: null,
    authors: authorsFrom([...asArray(item.creatorNodes), ...asArray(item.authorNodes)]),
    categories: categoriesFrom(item.categoryNodes),
    enclosures: [
      // itunes:duration describes the episode, i.e. the first enclosure (Apple allows only one).
      ...asArray(item.enclosureNodes).flatMap((node, i) => enclosureFrom(attrs(node), i === 0 ? duration : null)),
      ...mediaContents(item)
        .filter((a) => !isImageMedia(a))
        .flatMap((a) => enclosureFrom({ url: a.url, type: a.type, length: a.fileSize }, parseDuration(a.duration))),
    ],
    imageUrls: imageCandidates(item, stringOf(itunes.image)),
  };
}

function fromAtomEntry(item: RawItem, feedAuthors: UpstreamAuthor[]): UpstreamItem {
  const links = asArray(item.linkNodes).map(attrs);
  const alternate = links.find((l) => (l.rel ?? 'alternate') === 'alternate' && l.href) ?? links.find((l) => l.href);
  const authors = authorsFrom(item.authorNodes);
  return {
    guid: stringOf(item.id),
    link: alternate?.href ?? null,
    title: atomText(first(item.titleNodes)),
    summaryHtml: atomHtml(first(item.summaryNodes), stringOf(item.summary)),
    contentHtml: atomHtml(first(item.contentNodes), stringOf(item.content)),
    published: parseFeedDate(stringOf(item.publishedText)),
    updated: parseFeedDate(stringOf(item.updatedText)),
    // RFC 4287 §4.2.1: an entry without an author inherits the feed's.
    authors: authors.length > 0 ? authors : feedAuthors,
    categories: asArray(item.categoryNodes).flatMap((node) => {
      const a = attrs(node);
      const name = (a.label ?? a.term ?? '').trim();
      return name ? [name] : [];
    }),
    enclosures: links
      .filter((l) => l.rel === 'enclosure' && l.href)
      .flatMap((l) => enclosureFrom({ url: l.href, type: l.type, length: l.length }, null)),
    imageUrls: [
      ...imageCandidates(item, null),
      ...links.filter((l) => l.rel === 'enclosure' && l.href && /^image\//i.test(l.type ?? '')).map((l) => l.href!),
    ],
  };
}

/** Atom text construct as plain text (RFC 4287 §3.1): type="html" arrives still HTML, so decode it. */
function atomText(node: Node): string | null {
  if (node === undefined || node === null) return null;
  const type = attrs(node).type ?? 'text';
  if (type === 'xhtml') return collapse(textOf(node) ?? '') || null; // xml2js loses text/child order: best effort
  const value = stringOf(node);
  if (value === null) return null;
  return type === 'html' ? htmlToText(value) : value;
}

/** Atom text construct as HTML: type="text" is escaped, xhtml is rss-parser's rebuilt markup. */
function atomHtml(node: Node, rebuilt: string | null): string | null {
  if (node === undefined || node === null) return null;
  const type = attrs(node).type ?? 'text';
  if (type === 'xhtml') return rebuilt;
  const value = stringOf(node);
  if (value === null) return null;
  return type === 'html' || /^text\/html$/i.test(type) ? value : escapeHtml(value);
}

interface MediaAttrs {
  url?: string;
  type?: string;
  medium?: string;
  fileSize?: string;
  duration?: string;
}

function mediaContents(item: RawItem): MediaAttrs[] {
  const groups = asArray(item.mediaGroupNodes).flatMap((g) => asArray((g as Record<string, unknown>)?.['media:content']));
  return [...asArray(item.mediaContentNodes), ...groups].map((n) => attrs(n) as MediaAttrs).filter((a) => a.url);
}

function isImageMedia(a: MediaAttrs): boolean {
  return a.medium === 'image' || /^image\//i.test(a.type ?? '') || (!a.medium && !a.type && /\.(jpe?g|png|gif|webp|avif)(\?|$)/i.test(a.url ?? ''));
}

function imageCandidates(item: RawItem, itunesImage: string | null): string[] {
  const groups = asArray(item.mediaGroupNodes).flatMap((g) => asArray((g as Record<string, unknown>)?.['media:thumbnail']));
  const thumbnails = [...asArray(item.mediaThumbnailNodes), ...groups].map((n) => attrs(n).url);
  const imageEnclosures = asArray(item.enclosureNodes)
    .map(attrs)
    .filter((a) => /^image\//i.test(a.type ?? ''))
    .map((a) => a.url);
  return [...mediaContents(item).filter(isImageMedia).map((a) => a.url), ...thumbnails, ...imageEnclosures, itunesImage].filter(
    (u): u is string => typeof u === 'string' && u.trim() !== '',
  );
}

function enclosureFrom(a: Record<string, string | undefined>, durationSeconds: number | null): UpstreamEnclosure[] {
  const url = a.url?.trim();
  if (!url) return [];
  return [{ url, type: a.type?.trim() || null, length: a.length ?? null, durationSeconds }];
}

/** RSS author is "email (Name)" by spec, "Name <email>" or just a name in practice; Atom has children. */
function authorsFrom(nodes: unknown): UpstreamAuthor[] {
  const out: UpstreamAuthor[] = [];
  for (const node of asArray(nodes)) {
    if (node && typeof node === 'object' && !('_' in node)) {
      const n = node as Record<string, unknown>;
      const name = firstString(n.name);
      const email = firstString(n.email);
      const url = firstString(n.uri) ?? firstString(n.url);
      if (name || email) out.push({ name, email, url });
      continue;
    }
    const text = stringOf(node);
    if (text) out.push(parseAuthorText(text));
  }
  return dedupeBy(out, (a) => `${a.name ?? ''}\u0000${a.email ?? ''}`);
}

function parseAuthorText(text: string): UpstreamAuthor {
  // The patterns below are quadratic on pathological input; real author fields are short.
  if (text.length > 1000) return { name: text.trim(), email: null, url: null };
  const emailThenName = /^\s*([^\s()<>]+@[^\s()<>]+)\s*\(([^)]*)\)\s*$/.exec(text);
  if (emailThenName) return { name: emailThenName[2]!.trim() || null, email: emailThenName[1]!, url: null };
  const nameThenEmail = /^\s*([^<]*?)\s*<([^\s<>]+@[^\s<>]+)>\s*$/.exec(text);
  if (nameThenEmail) return { name: nameThenEmail[1]! || null, email: nameThenEmail[2]!, url: null };
  if (/^[^\s@]+@[^\s@]+$/.test(text.trim())) return { name: null, email: text.trim(), url: null };
  return { name: text.trim(), email: null, url: null };
}

/** RSS categories mix plain strings and `{ _, $: { domain } }` objects. */
function categoriesFrom(nodes: unknown): string[] {
  return asArray(nodes).flatMap((node) => {
    const text = stringOf(node)?.trim();
    return text ? [text] : [];
  });
}

function parseDuration(value: unknown): number | null {
  const text = stringOf(value)?.trim();
  if (!text) return null;
  // itunes:duration is seconds, or H:MM:SS / MM:SS.
  if (/^\d+$/.test(text)) return Number(text);
  const parts = /^(?:(\d+):)?(\d{1,2}):(\d{1,2})$/.exec(text);
  if (!parts) return null;
  return Number(parts[1] ?? 0) * 3600 + Number(parts[2]) * 60 + Number(parts[3]);
}

// ---------------------------------------------------------------------------------------------
// JSON Feed 1.0 / 1.1

// Lenient on purpose: a field of the wrong type is dropped (catch), not a reason to lose the item.
const optionalString = z.string().optional().catch(undefined);
const jsonAuthorSchema = z.object({ name: optionalString, url: optionalString });
const jsonItemSchema = z.object({
  // 1.1 says string; numbers are common in 1.0 feeds.
  id: z.union([z.string(), z.number().transform(String)]).optional().catch(undefined),
  url: optionalString,
  external_url: optionalString,
  title: optionalString,
  content_html: optionalString,
  content_text: optionalString,
  summary: optionalString,
  image: optionalString,
  banner_image: optionalString,
  date_published: optionalString,
  date_modified: optionalString,
  author: jsonAuthorSchema.optional().catch(undefined), // 1.0
  authors: z.array(z.unknown()).optional().catch(undefined), // 1.1
  tags: z.array(z.unknown()).optional().catch(undefined),
  attachments: z.array(z.unknown()).optional().catch(undefined),
});
const jsonAttachmentSchema = z.object({
  url: z.string(),
  mime_type: optionalString,
  size_in_bytes: z.number().optional().catch(undefined),
  duration_in_seconds: z.number().optional().catch(undefined),
});
const jsonFeedSchema = z.object({
  version: z.string().regex(/^https?:\/\/jsonfeed\.org\/version\/1(\.\d+)?\/?$/, { message: 'not a JSON Feed version URL' }),
  title: optionalString,
  home_page_url: optionalString,
  language: optionalString,
  author: jsonAuthorSchema.optional().catch(undefined),
  authors: z.array(z.unknown()).optional().catch(undefined),
  items: z.array(z.unknown()),
});

function parseJsonFeed(text: string): ParseOutcome {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
  const feed = jsonFeedSchema.safeParse(data);
  if (!feed.success) {
    const issue = feed.error.issues[0];
    return { ok: false, error: `JSON is not a JSON Feed: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trim() };
  }
  const feedAuthors = jsonAuthors(feed.data.authors, feed.data.author);
  const items = feed.data.items.flatMap((raw) => {
    const parsed = jsonItemSchema.safeParse(raw);
    if (!parsed.success) return [];
    const item = parsed.data;
    const id = item.id?.trim() || item.url?.trim() || null;
    // JSON Feed requires id; without it and without a url there is no stable identity: skip.
    if (!id) return [];
    const authors = jsonAuthors(item.authors, item.author);
    return [
      {
        guid: id,
        link: item.url?.trim() || item.external_url?.trim() || null,
        title: item.title ?? null,
        summaryHtml: item.summary === undefined ? null : escapeHtml(item.summary),
        contentHtml: item.content_html ?? (item.content_text === undefined ? null : textToHtml(item.content_text)),
        published: parseFeedDate(item.date_published ?? null),
        updated: parseFeedDate(item.date_modified ?? null),
        authors: authors.length > 0 ? authors : feedAuthors,
        categories: (item.tags ?? []).flatMap((t) => (typeof t === 'string' && t.trim() ? [t.trim()] : [])),
        enclosures: (item.attachments ?? []).flatMap((a) => {
          const att = jsonAttachmentSchema.safeParse(a);
          if (!att.success) return [];
          return [
            {
              url: att.data.url.trim(),
              type: att.data.mime_type?.trim() || null,
              length: att.data.size_in_bytes ?? null,
              durationSeconds: att.data.duration_in_seconds ?? null,
            },
          ];
        }),
        imageUrls: [item.image, item.banner_image].filter((u): u is string => typeof u === 'string' && u.trim() !== ''),
      } satisfies UpstreamItem,
    ];
  });
  return {
    ok: true,
    feed: {
      title: feed.data.title ?? null,
      homePageUrl: feed.data.home_page_url?.trim() || null,
      language: feed.data.language?.trim() || null,
      items: dedupeItems(items),
    },
  };
}

function jsonAuthors(list: unknown[] | undefined, single: { name?: string | undefined; url?: string | undefined } | undefined): UpstreamAuthor[] {
  const candidates = list ?? (single ? [single] : []);
  return candidates.flatMap((a) => {
    const parsed = jsonAuthorSchema.safeParse(a);
    if (!parsed.success || !parsed.data.name?.trim()) return [];
    return [{ name: parsed.data.name.trim(), email: null, url: parsed.data.url ?? null }];
  });
}

// ---------------------------------------------------------------------------------------------
// HTML instead of a feed

function htmlError(html: string, feedUrl: string): string {
  // A site URL given instead of its feed is the usual cause: point at the feed the page advertises.
  for (const tag of html.match(/<link\b[^>]*>/gi) ?? []) {
    if (!/\brel\s*=\s*["']?alternate/i.test(tag) || !/type\s*=\s*["']?application\/(rss\+xml|atom\+xml|feed\+json)/i.test(tag)) continue;
    const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    const value = href?.[1] ?? href?.[2] ?? href?.[3];
    if (value && URL.canParse(decodeXmlText(value), feedUrl)) {
      return `got an HTML page, not a feed; the page advertises a feed at ${new URL(decodeXmlText(value), feedUrl).href}`;
    }
  }
  return 'got an HTML page, not a feed';
}

// ---------------------------------------------------------------------------------------------
// Dates

/**
 * Reads the dates feeds really contain: RFC 822/1123 (with full or missing weekday, 1-digit days,
 * 2-digit years, no seconds, named zones), RFC 850 ("Monday, 03-Nov-25 10:00:00 GMT"), asctime,
 * RFC 3339 and its loose cousins ("2025-11-03 10:00:00"). No zone means UTC. Returns null when the
 * text is not a date we can read with confidence.
 */
export function parseFeedDate(text: string | null | undefined): Date | null {
  const value = text?.trim();
  // Real dates are short; a long value is not one and would only cost tokenising time.
  if (!value || value.length > 100) return null;
  return parseIsoLike(value) ?? parseRfc822Like(value);
}

const ISO_LIKE =
  /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[Tt\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?|[A-Za-z]{1,5})?$/;

function parseIsoLike(value: string): Date | null {
  const m = ISO_LIKE.exec(value);
  if (!m) return null;
  const offset = m[8] === undefined ? 0 : zoneOffset(m[8]);
  if (offset === null) return null;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  return build(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms, offset);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

// RFC 822 §5 zones, plus the abbreviations publishers actually write. CST is US Central (RFC 822),
// IST is India (far more common in news feeds than Irish Standard Time).
const ZONES: Record<string, number> = {
  z: 0, ut: 0, utc: 0, gmt: 0, wet: 0, west: 60, bst: 60, cet: 60, cest: 120, met: 60, mest: 120, eet: 120, eest: 180,
  msk: 180, ist: 330, sgt: 480, hkt: 480, awst: 480, jst: 540, kst: 540, acst: 570, aest: 600, aedt: 660,
  nzst: 720, nzdt: 780, ast: -240, adt: -180, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360,
  pst: -480, pdt: -420, akst: -540, akdt: -480, hst: -600,
};

/** Offset in minutes east of UTC for "Z", "+0100", "-05:00", "+01", "GMT+1", "EST"; null if unknown. */
function zoneOffset(zone: string): number | null {
  const z = zone.toLowerCase();
  if (z in ZONES) return ZONES[z]!;
  const m = /^(?:gmt|utc|ut)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(z);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (Number(m[2]) > 14 || Number(m[3] ?? 0) > 59) return null;
  return m[1] === '-' ? -minutes : minutes;
}

function parseRfc822Like(value: string): Date | null {
  const normalised = value
    .replace(/\([^)]*\)/g, ' ') // "+0000 (UTC)" comments
    .replace(/,/g, ' ')
    .replace(/\b(\d{1,2})-([A-Za-z]{3,9})-(\d{2,4})\b/, '$1 $2 $3'); // RFC 850 "03-Nov-25"
  let year: number | undefined;
  let month: number | undefined;
  let day: number | undefined;
  let time: [number, number, number, number] | undefined;
  let offset: number | undefined;
  let meridiem: 'am' | 'pm' | undefined;
  for (const token of normalised.split(/\s+/).filter(Boolean)) {
    const t = token.toLowerCase().replace(/\.$/, '');
    const clock = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(z|[+-]\d{2}:?\d{2})?$/.exec(t);
    if (clock) {
      time = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0), clock[4] ? Math.floor(Number(`0.${clock[4]}`) * 1000) : 0];
      if (clock[5]) offset = zoneOffset(clock[5]) ?? undefined;
      continue;
    }
    if (/^\d{4}$/.test(t) && year === undefined) year = Number(t);
    else if (/^\d{1,2}(st|nd|rd|th)?$/.test(t) && day === undefined) day = parseInt(t, 10);
    else if (/^\d{2}$/.test(t) && year === undefined) year = Number(t) < 50 ? 2000 + Number(t) : 1900 + Number(t); // RFC 2822 §4.3
    else if (monthOf(t) !== null && month === undefined) month = monthOf(t)!;
    else if (DAYS.some((d) => t.length >= 3 && d.startsWith(t))) continue; // weekday: ignored, often wrong
    else if (t === 'am' || t === 'pm') meridiem = t;
    else if (t === 'at') continue;
    else if (zoneOffset(t) !== null && offset === undefined) offset = zoneOffset(t)!;
    else if (/^[a-z]{1,5}$/.test(t) && offset === undefined && time !== undefined) offset = 0; // unknown zone name: UTC beats losing the date
    else return null;
  }
  if (year === undefined || month === undefined || day === undefined) return null;
  const [h, mi, s, ms] = time ?? [0, 0, 0, 0];
  const hour = meridiem === 'pm' && h < 12 ? h + 12 : meridiem === 'am' && h === 12 ? 0 : h;
  return build(year, month, day, hour, mi, s, ms, offset ?? 0);
}

function monthOf(token: string): number | null {
  if (token.length < 3) return null;
  const short = MONTHS.indexOf(token.slice(0, 3));
  if (short === -1) return null;
  // "nov" or "november" (or "sept"), but not "novel".
  return token.length === 3 || MONTH_NAMES[short]!.startsWith(token) ? short + 1 : null;
}

function build(year: number, month: number, day: number, h: number, mi: number, s: number, ms: number, offsetMinutes: number): Date | null {
  if (year < 1000 || year > 9999 || month < 1 || month > 12 || day < 1 || h > 23 || mi > 59 || s > 60) return null;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  const date = new Date(Date.UTC(year, month - 1, day, h, mi, Math.min(s, 59), ms) - offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}

// ---------------------------------------------------------------------------------------------
// Text helpers (also used by map-item.ts)

/** Plain text of an HTML fragment: tags dropped (script/style with their content), entities decoded. */
export function htmlToText(html: string): string {
  // Block boundaries become spaces so "<p>a</p><p>b</p>" reads "a b", not "ab".
  const spaced = html.replace(/<\/?(?:p|div|br|li|ul|ol|h[1-6]|blockquote|tr|td|th|section|article|figure|figcaption|pre|hr)\b[^>]*>/gi, ' ');
  return collapse(unescapeBasic(sanitizeHtml(spaced, { allowedTags: [], allowedAttributes: {} })));
}

/**
 * Decodes HTML entities in text that is not HTML: many RSS feeds double-escape titles, so after
 * XML parsing "Tom &amp; Jerry" still reads "Tom &amp;amp; Jerry". Angle brackets are kept as text.
 */
export function decodeIfEscaped(text: string): string {
  if (!/&(?:[A-Za-z][A-Za-z0-9]*|#\d+|#x[\da-fA-F]+);/.test(text)) return text;
  // Escaping `<` first makes sanitize-html (htmlparser2's full entity table) decode without eating tags.
  return unescapeBasic(sanitizeHtml(text.replace(/</g, '&lt;'), { allowedTags: [], allowedAttributes: {} }));
}

function unescapeBasic(text: string): string {
  // sanitize-html re-escapes only these three in text; &amp; last so "&amp;lt;" stays "&lt;".
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Plain text as HTML paragraphs (JSON Feed content_text). */
function textToHtml(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------
// xml2js node helpers

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function first(value: unknown): Node {
  return asArray(value)[0];
}

/** The text of a node: a string, or the `_` of an element that also had attributes. */
function stringOf(node: unknown): string | null {
  if (typeof node === 'string') return node;
  if (typeof node === 'number') return String(node);
  if (node && typeof node === 'object' && typeof (node as { _?: unknown })._ === 'string') return (node as { _: string })._;
  return null;
}

function firstString(value: unknown): string | null {
  for (const node of asArray(value)) {
    const text = stringOf(node)?.trim();
    if (text) return text;
  }
  return null;
}

/** All text under a node, for elements that had children (xhtml titles, unescaped markup). */
function textOf(node: unknown): string | null {
  if (node === undefined || node === null) return null;
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map((n) => textOf(n) ?? '').join(' ');
  if (typeof node === 'object') {
    return Object.entries(node)
      .filter(([k]) => k !== '$')
      .map(([, v]) => textOf(v) ?? '')
      .join(' ');
  }
  return String(node);
}

function attrs(node: unknown): Record<string, string | undefined> {
  const a = node && typeof node === 'object' ? (node as { $?: unknown }).$ : undefined;
  return a && typeof a === 'object' ? (a as Record<string, string>) : {};
}

function dedupeBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Duplicate identities inside one document (RFC 4287 allows repeated ids; RSS publishers repeat
 * guids by mistake): keep the first, which in practice is the newest.
 */
function dedupeItems(items: UpstreamItem[]): UpstreamItem[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const id = item.guid?.trim() ? `g:${item.guid.trim()}` : item.link?.trim() ? `l:${item.link.trim()}` : null;
    if (id === null) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
