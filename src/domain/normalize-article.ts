import type {
  ArticleInput,
  Author,
  CategoryRef,
  Enclosure,
  FieldError,
  NormalizedArticle,
  NormalizeResult,
} from './article-input.js';
import type { EpisodeInfo } from './podcast.js';
import { cleanPlainText, codePointLength, collapseWhitespace, stripMarkup, stripXmlIllegal } from './clean-text.js';
import { sanitizeArticleHtml } from './sanitize-html.js';
import { slugify } from './slug.js';

/** Longest title we publish, in code points (an emoji counts 1, as a reader and Postgres count it). */
export const TITLE_MAX_CODE_POINTS = 500;

/** The slug of the all-articles feed: no category may take it. */
export const RESERVED_CATEGORY_SLUG = 'all';

// RFC 5322 dot-atom local part @ a DNS name with at least one dot. Quoted local parts, IP literals
// and internationalised addresses are refused: feeds carry them badly and newsrooms do not use them.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const EMAIL = new RegExp(`^${ATOM}(?:\\.${ATOM})*@${LABEL}(?:\\.${LABEL})+$`);

const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** An identifier: trimmed, but inner white space is kept (it may be significant to the sender). */
export function normalizeExternalId(raw: string): string {
  return stripXmlIllegal(raw).trim();
}

/**
 * An article's categories as it files them: names cleaned, one per slug ("World" and "world!" are one
 * category: the first spelling names it). `fail` hears of names that cannot be categories.
 */
export function normalizeCategories(names: readonly string[], fail: (path: string, message: string) => void = () => {}): CategoryRef[] {
  const categories: CategoryRef[] = [];
  names.forEach((raw, i) => {
    const name = cleanPlainText(raw);
    if (name === '') return fail(`categories.${i}`, 'must not be empty');
    const slug = slugify(name);
    if (slug === RESERVED_CATEGORY_SLUG) {
      return fail(`categories.${i}`, `"${name}" has the slug "${RESERVED_CATEGORY_SLUG}", which is reserved for the all-articles feed`);
    }
    if (!categories.some((c) => c.slug === slug)) categories.push({ name, slug });
  });
  return categories;
}

/**
 * Cleans one article and applies the publishing rules; the single ingest path for the CMS API and
 * the upstream poller. Pure: no clock, no I/O. Returns every field error at once, with paths
 * relative to the article (`title`, `authors.0.email`, `categories.2`); the caller prefixes them.
 *
 * Every string loses its XML-illegal characters. Plain-text fields are literal (entities are not
 * decoded); title and summary also lose HTML tags. The body is sanitised to the allowlist in
 * docs/html-allowlist.md with URLs resolved against the article URL.
 */
export function normalizeArticle(input: ArticleInput, options: { defaultLanguage: string }): NormalizeResult {
  const errors: FieldError[] = [];
  const fail = (path: string, message: string): void => {
    errors.push({ path, message });
  };

  const externalId = normalizeExternalId(input.externalId);
  if (externalId === '') fail('externalId', 'must not be empty');

  const title = collapseWhitespace(stripMarkup(stripXmlIllegal(input.title)));
  if (title === '') fail('title', 'must not be empty');
  else if (codePointLength(title) > TITLE_MAX_CODE_POINTS) {
    fail('title', `must be at most ${TITLE_MAX_CODE_POINTS} characters after white space is collapsed`);
  }

  const url = normalizeHttpUrl(input.url);
  if (url === null) fail('url', 'must be an absolute http(s) URL');

  const summary = collapseWhitespace(stripMarkup(stripXmlIllegal(input.summary ?? ''))) || null;

  // Without a valid article URL there is no base for relative links; the url error is already recorded.
  const contentHtml = url !== null && input.contentHtml ? sanitizeArticleHtml(input.contentHtml, url) : '';

  const authors: Author[] = [];
  input.authors.forEach((raw, i) => {
    const author: Author = { name: cleanPlainText(raw.name) };
    if (author.name === '') fail(`authors.${i}.name`, 'must not be empty');
    // An empty email is "no email": CMS forms send "" for a blank field.
    const email = stripXmlIllegal(raw.email ?? '').trim();
    if (email !== '') {
      if (EMAIL.test(email)) author.email = email;
      else fail(`authors.${i}.email`, 'must be an email address such as name@example.com');
    }
    if (raw.url !== undefined) {
      const authorUrl = normalizeHttpUrl(raw.url);
      if (authorUrl === null) fail(`authors.${i}.url`, 'must be an absolute http(s) URL');
      else author.url = authorUrl;
    }
    authors.push(author);
  });

  const categories = normalizeCategories(input.categories, fail);
  if (input.categories.length === 0) fail('categories', 'must name at least one category');

  const tags: string[] = [];
  const tagKeys = new Set<string>();
  for (const raw of input.tags) {
    const tag = cleanPlainText(raw);
    // NFC in the key only: "café" typed two ways is one tag, and the first spelling is kept as sent.
    const key = tag.normalize('NFC').toLowerCase();
    if (tag === '' || tagKeys.has(key)) continue;
    tagKeys.add(key);
    tags.push(tag);
  }

  const publishedAt = parseDate(input.publishedAt);
  if (publishedAt === null) fail('publishedAt', 'must be an RFC 3339 date-time with an offset');
  let updatedAt: Date | null = null;
  if (input.updatedAt != null) {
    updatedAt = parseDate(input.updatedAt);
    if (updatedAt === null) fail('updatedAt', 'must be an RFC 3339 date-time with an offset');
    // Clamped, not refused: WordPress feeds show updated < published for every scheduled post
    // (edited before its publication time), and one rule serves both the CMS and upstream feeds.
    else if (publishedAt !== null && updatedAt < publishedAt) updatedAt = new Date(publishedAt);
  }

  let imageUrl: string | null = null;
  if (input.imageUrl != null) {
    imageUrl = normalizeHttpUrl(input.imageUrl);
    if (imageUrl === null) fail('imageUrl', 'must be an absolute http(s) URL');
  }

  const rawLanguage = stripXmlIllegal(input.language ?? '').trim();
  const language = normalizeLanguageTag(rawLanguage === '' ? options.defaultLanguage : rawLanguage);
  if (!LANGUAGE_TAG.test(language)) fail('language', 'must be a BCP 47 language tag such as en-GB');

  const enclosures: Enclosure[] = [];
  input.enclosures.forEach((raw, i) => {
    const enclosureUrl = normalizeHttpUrl(raw.url);
    if (enclosureUrl === null) fail(`enclosures.${i}.url`, 'must be an absolute http(s) URL');
    // MIME types are case-insensitive (RFC 2045): one spelling keeps feeds byte-stable.
    const type = stripXmlIllegal(raw.type).trim().toLowerCase();
    if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) {
      fail(`enclosures.${i}.type`, 'must be a MIME type such as audio/mpeg');
    }
    const enclosure: Enclosure = { url: enclosureUrl ?? '', type, length: raw.length };
    if (raw.durationSeconds !== undefined) enclosure.durationSeconds = raw.durationSeconds;
    enclosures.push(enclosure);
  });

  const podcast = normalizeEpisode(input.podcast);

  if (errors.length > 0 || url === null || publishedAt === null) return { ok: false, errors };
  return {
    ok: true,
    article: {
      externalId,
      title,
      url,
      summary,
      contentHtml: hasContent(contentHtml) ? contentHtml : null,
      authors,
      categories,
      tags,
      publishedAt,
      updatedAt,
      imageUrl,
      language,
      enclosures,
      status: input.status,
      // Only when given: an article without episode details looks as it did before the field existed.
      ...(podcast ? { podcast } : {}),
    } satisfies NormalizedArticle,
  };
}

/** Episode details with only the fields given (a stable shape for the content hash), or null when empty. */
function normalizeEpisode(input: ArticleInput['podcast']): EpisodeInfo | null {
  if (!input) return null;
  const episode: EpisodeInfo = {};
  if (input.episode !== undefined) episode.episode = input.episode;
  if (input.season !== undefined) episode.season = input.season;
  if (input.episodeType !== undefined) episode.episodeType = input.episodeType;
  if (input.explicit !== undefined) episode.explicit = input.explicit;
  return Object.keys(episode).length > 0 ? episode : null;
}

/**
 * Returns a BCP 47 tag in its conventional case (RFC 5646 §2.1.1): language lower, script title
 * ("Hant"), region upper ("GB", "419"); after a singleton (-u-, -x-) everything lower. Done by hand
 * rather than with Intl.getCanonicalLocales, which also rewrites aliases ("iw" → "he") by the ICU
 * version's tables: output must not change with the Node version.
 */
export function normalizeLanguageTag(tag: string): string {
  const subtags = tag.split('-');
  let extension = false;
  return subtags
    .map((subtag, i) => {
      const lower = subtag.toLowerCase();
      if (i === 0 || extension) return lower;
      if (subtag.length === 1) {
        extension = true;
        return lower;
      }
      if (subtag.length === 4 && /^[a-z]+$/i.test(subtag)) return lower[0]!.toUpperCase() + lower.slice(1);
      if ((subtag.length === 2 && /^[a-z]+$/i.test(subtag)) || /^\d{3}$/.test(subtag)) return subtag.toUpperCase();
      return lower;
    })
    .join('-');
}

/** Returns the WHATWG serialisation of an absolute http(s) URL (host lower-cased, IDN to punycode), or null. */
function normalizeHttpUrl(value: string): string | null {
  const candidate = stripXmlIllegal(value).trim();
  if (!URL.canParse(candidate)) return null;
  const url = new URL(candidate);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null;
  return url.href;
}

/** Parses an RFC 3339 date-time (already checked by the schema) to a Date, or null. */
function parseDate(value: string): Date | null {
  // The schema accepts lower-case "t" and "z" (RFC 3339 §5.6 allows them); Date.parse does not.
  const ms = Date.parse(value.trim().replace(/t/, 'T').replace(/z$/, 'Z'));
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** True when sanitised HTML has text or media: "<p>&nbsp;</p>" from an empty editor is no content. */
function hasContent(html: string): boolean {
  // Text first, scanning only as far as the first character outside a tag that trim() would keep:
  // in a real body that is a few characters in, where a whole-string replace read every byte.
  for (let i = 0; i < html.length; i++) {
    if (html.charCodeAt(i) === 0x3c) {
      const close = html.indexOf('>', i);
      // An unclosed "<" is no tag: it is text.
      if (close === -1) return true;
      i = close;
    } else if (!WHITE_SPACE.test(html[i]!)) {
      return true;
    }
  }
  return /<(?:img|picture|video|audio|iframe)\b/.test(html);
}

// What String.prototype.trim() removes: \s is the same set (ECMAScript WhiteSpace and LineTerminator).
const WHITE_SPACE = /\s/;
