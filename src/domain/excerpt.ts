/**
 * Plain-text excerpts of sanitised article HTML. Pure: no I/O, no DOM, no dependencies.
 *
 * The input is HTML that ingest already sanitised (sanitize-html), so it holds no scripts or
 * comments worth keeping, and its text is escaped with the predefined entities plus numeric
 * references. A small tokenizer is enough; a full HTML parser would be a new dependency.
 */

const ELLIPSIS = '…';

// Elements whose text is never shown (sanitize-html removes them, but an excerpt must not leak them).
const HIDDEN_ELEMENTS = /<(script|style|template|noscript)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const COMMENTS = /<!--[\s\S]*?-->/g;
const CDATA_SECTIONS = /<!\[CDATA\[([\s\S]*?)\]\]>/g;
const TAGS = /<\/?[A-Za-z][^>]*>|<![^>]*>|<\?[^>]*>/g;
const ENTITIES = /&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g;

// The entities sanitize-html writes, and the few common ones worth decoding; any other named
// reference is left as written rather than guessed.
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  shy: '',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
};

function decodeEntity(match: string, body: string): string {
  if (body.startsWith('#')) {
    const codePoint = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    // HTML maps NUL, surrogates and out-of-range references to U+FFFD rather than failing.
    if (codePoint === 0 || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return '\ufffd';
    return String.fromCodePoint(codePoint);
  }
  return NAMED_ENTITIES[body] ?? match;
}

/** The visible text of an HTML fragment, entities decoded and whitespace collapsed to single spaces. */
export function textFromHtml(html: string): string {
  return html
    .replace(HIDDEN_ELEMENTS, ' ')
    .replace(COMMENTS, ' ')
    .replace(CDATA_SECTIONS, ' $1 ')
    // Every tag becomes a space so "<p>one</p><p>two</p>" reads "one two"; inline tags inside a
    // word (rare in article HTML) then split it, which an excerpt can afford.
    .replace(TAGS, ' ')
    .replace(ENTITIES, decodeEntity)
    .replace(/\s+/g, ' ')
    .trim();
}

// Punctuation and spaces that read badly right before the ellipsis ("word,…").
const TRAILING_SEPARATORS = /[\s,;:.!?\-–—(\[{"'“‘]+$/u;

/**
 * The plain-text start of an HTML body, at most `maxChars` UTF-16 code units including the ellipsis.
 * Cut at the last space that fits (the whole text is returned, without an ellipsis, when it fits);
 * a single word longer than the limit is cut hard, never inside a surrogate pair (emoji).
 * Returns '' when the HTML has no text (for example, only an image).
 */
export function excerptFromHtml(html: string, maxChars = 300): string {
  if (!Number.isInteger(maxChars) || maxChars < 2) {
    throw new RangeError(`maxChars must be an integer of at least 2, got ${maxChars}`);
  }
  const text = textFromHtml(html);
  if (text.length <= maxChars) return text;

  const room = maxChars - ELLIPSIS.length;
  // Looking one character past the room finds a space right after a word that fits exactly.
  let cut = text.slice(0, room + 1).lastIndexOf(' ');
  if (cut <= 0) {
    cut = room;
    const previous = text.charCodeAt(cut - 1);
    if (previous >= 0xd800 && previous <= 0xdbff) cut -= 1;
  }
  const head = text.slice(0, cut).replace(TRAILING_SEPARATORS, '');
  return `${head || text.slice(0, cut)}${ELLIPSIS}`;
}

/**
 * The plain-text summary every format publishes for an item: the item's own summary, else the
 * excerpt of its content, else null. One function, so RSS, Atom and JSON Feed agree.
 * Empty and whitespace-only text counts as absent (feedsmith silently drops it anyway).
 */
export function summaryOrExcerpt(summary: string | null, contentHtml: string | null): string | null {
  if (summary !== null && summary.trim() !== '') return summary;
  if (contentHtml === null) return null;
  const excerpt = excerptFromHtml(contentHtml);
  return excerpt === '' ? null : excerpt;
}
