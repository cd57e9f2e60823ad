import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { articleInputSchema } from '../domain/article-input.js';
import { htmlToText, type UpstreamAuthor, type UpstreamEnclosure, type UpstreamItem } from './parse-feed.js';

/**
 * Maps one upstream item to the raw shape the CMS API accepts, so upstream articles go through the
 * same articleInputSchema + normalisation as pushed ones. This module makes the upstream-specific
 * decisions (identity, URL resolution, fallbacks, limits that would otherwise lose the item) and
 * leaves cleaning (HTML sanitising, whitespace, control characters) to normalisation.
 */

export interface MapItemContext {
  /** The feed's home page as the feed states it (may be relative or empty). */
  feedLink: string;
  /** The URL the feed was fetched from: the base of last resort. */
  feedUrl: string;
  /** When the item was first seen: its date when it has none, and the cap on future dates. */
  fallbackDate: Date;
  /** The source's configured categories (at least one). */
  categories: string[];
  /** Add the item's own categories to ctx.categories. */
  useItemCategories: boolean;
  /** Republish the full content (content:encoded / Atom content); otherwise only the summary. */
  fullContent: boolean;
  /** The feed's declared language (UpstreamFeed.language); used when it is a BCP 47 tag. */
  language?: string | null;
}

/** The CMS API input shape (before zod defaults). */
export type UpstreamArticleRaw = z.input<typeof articleInputSchema>;

export interface MappedItem {
  /** Stable identity of the item within its source; equals raw.externalId. */
  key: string;
  raw: UpstreamArticleRaw;
}

export const MAX_EXTERNAL_ID = 200;
/** Titles are cut here, on a word boundary: an upstream item should not be lost for a long title. */
export const MAX_TITLE_CHARS = 500;
/** A title made from the summary, for items without one. */
const SUMMARY_TITLE_CHARS = 100;
/** A summary made from the content, for items without one. */
const DERIVED_SUMMARY_CHARS = 500;
const MAX_URL = 2048;
const MAX_SUMMARY = 100_000;
const MAX_CONTENT = 1_048_576;
const MIME = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i;
const LANGUAGE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
/** Dates at the Unix epoch are a CMS's "no date" written as a date, not a real one. */
const EARLIEST_REAL_DATE = Date.UTC(1970, 0, 2);

export function mapUpstreamItem(item: UpstreamItem, ctx: MapItemContext): MappedItem {
  const home = resolveHttp(ctx.feedLink, ctx.feedUrl);
  const base = home ?? ctx.feedUrl;
  const link = resolveHttp(item.link, base);
  const guid = item.guid?.trim() || null;
  // No usable link: a guid that is a URL (RSS isPermaLink, the default) is the item's page;
  // failing that, the publisher's home page, so the item still points somewhere real.
  const url = link ?? (guid ? resolveHttp(guid, null) : null) ?? home ?? ctx.feedUrl;

  const date = realDate(item.published) ?? realDate(item.updated);
  // A date after the item was first seen is a publisher's clock or time-zone error; it would pin
  // the item to the top of every feed, so cap it (as miniflux does).
  const publishedAt = date && date.getTime() <= ctx.fallbackDate.getTime() ? date : ctx.fallbackDate;
  const updated = realDate(item.updated);

  const summaryText = plainText(item.summaryHtml) ?? truncateWords(plainText(item.contentHtml) ?? '', DERIVED_SUMMARY_CHARS);
  const key = itemKey(item, guid, link, date);

  return {
    key,
    raw: {
      externalId: key,
      title: itemTitle(item),
      url,
      summary: summaryText ? summaryText.slice(0, MAX_SUMMARY) : null,
      contentHtml: contentHtml(item, ctx.fullContent),
      authors: item.authors.flatMap((a) => author(a, base)).slice(0, 50),
      categories: categories(ctx.categories, ctx.useItemCategories ? item.categories : []),
      publishedAt: publishedAt.toISOString(),
      updatedAt: updated && updated.getTime() > publishedAt.getTime() ? updated.toISOString() : null,
      imageUrl: item.imageUrls.map((u) => resolveHttp(u, base)).find((u) => u !== null) ?? null,
      enclosures: enclosures(item.enclosures, base),
      // An undeclared or malformed language is left to normalisation's default, not guessed here.
      language: ctx.language && LANGUAGE.test(ctx.language.trim()) ? ctx.language.trim() : null,
      status: 'published',
    },
  };
}

/**
 * guid, else the absolute link, else a hash of title and date (plus the text when there is no
 * title, so untitled undated items do not collide). Never the fallback date: it may differ between
 * polls and the key must not. Values over 200 characters are hashed.
 */
function itemKey(item: UpstreamItem, guid: string | null, link: string | null, date: Date | null): string {
  if (guid) return fit(guid);
  if (link) return fit(link);
  const title = item.title?.trim() ?? '';
  const text = title ? '' : (item.summaryHtml ?? item.contentHtml ?? '');
  return `sha256:${sha256(`${title}\n${date?.toISOString() ?? ''}\n${text}`)}`;
}

function fit(value: string): string {
  return value.length <= MAX_EXTERNAL_ID ? value : `sha256:${sha256(value)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function itemTitle(item: UpstreamItem): string {
  const own = collapse(item.title ?? '');
  const title = own || truncateWords(plainText(item.summaryHtml) ?? plainText(item.contentHtml) ?? '', SUMMARY_TITLE_CHARS) || '(untitled)';
  return truncateWords(title, MAX_TITLE_CHARS);
}

function contentHtml(item: UpstreamItem, fullContent: boolean): string | null {
  const summary = item.summaryHtml?.trim() ? item.summaryHtml : null;
  const full = item.contentHtml?.trim() ? item.contentHtml : null;
  const chosen = fullContent ? (full ?? summary) : summary;
  // Over the 1 MB input limit, cutting HTML would publish a broken article: fall back to the summary.
  if (chosen !== null && chosen.length <= MAX_CONTENT) return chosen;
  return summary !== null && summary.length <= MAX_CONTENT ? summary : null;
}

function author(a: UpstreamAuthor, base: string): Array<{ name: string; email?: string; url?: string }> {
  const email = a.email?.trim() && a.email.length <= 320 && a.email.includes('@') ? a.email.trim() : undefined;
  const name = collapse(a.name ?? '') || email;
  if (!name) return [];
  const url = resolveHttp(a.url, base);
  return [{ name: truncateWords(name, 500), ...(email ? { email } : {}), ...(url ? { url } : {}) }];
}

function categories(configured: string[], fromItem: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of [...configured, ...fromItem]) {
    const name = truncateWords(collapse(raw), 200);
    const folded = name.toLowerCase();
    if (!name || seen.has(folded)) continue;
    seen.add(folded);
    out.push(name);
  }
  return out.slice(0, 50);
}

function enclosures(list: UpstreamEnclosure[], base: string): Array<{ url: string; type: string; length: number; durationSeconds?: number }> {
  const seen = new Set<string>();
  return list
    .flatMap((e) => {
      const url = resolveHttp(e.url, base);
      if (!url || seen.has(url)) return [];
      seen.add(url);
      const type = e.type?.split(';')[0]?.trim().toLowerCase() ?? '';
      const duration = e.durationSeconds;
      return [
        {
          url,
          type: MIME.test(type) ? type : 'application/octet-stream',
          length: byteLength(e.length),
          ...(duration !== null && Number.isFinite(duration) && duration >= 0 ? { durationSeconds: Math.round(duration) } : {}),
        },
      ];
    })
    .slice(0, 20);
}

/** RSS enclosure length is a string ("12345", "", "-1", "unknown"); the schema wants an integer ≥ 0. */
function byteLength(value: string | number | null): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function realDate(date: Date | null): Date | null {
  return date && !Number.isNaN(date.getTime()) && date.getTime() >= EARLIEST_REAL_DATE ? date : null;
}

/** An absolute http(s) URL for `value` resolved against `base`, or null. */
function resolveHttp(value: string | null | undefined, base: string | null): string | null {
  const text = value?.trim();
  if (!text) return null;
  let url: URL;
  try {
    url = base === null ? new URL(text) : new URL(text, base);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return null;
  return url.href.length <= MAX_URL ? url.href : null;
}

function plainText(html: string | null): string | null {
  if (!html?.trim()) return null;
  return htmlToText(html) || null;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Cuts to at most `max` UTF-16 units (what zod's max counts) without splitting a surrogate pair, at
 * a word boundary when one is near, adding "…".
 */
export function truncateWords(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const space = cut.lastIndexOf(' ');
  const kept = space >= cut.length * 0.6 ? cut.slice(0, space) : cut;
  return `${kept.trimEnd()}…`;
}
