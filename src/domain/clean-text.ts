/**
 * Text cleaning shared by every ingest field. Pure string functions: no parsing of HTML beyond the
 * tag-shaped patterns stripMarkup() removes, and no entity decoding — plain text stays literal, so
 * `Tom &amp; Jerry` is kept as those eleven characters and the renderers escape it once.
 */

/**
 * Characters a feed must never carry, as a global regex (run without the `u` flag, so that a lone
 * surrogate half is visible as one UTF-16 unit and a valid pair is left alone):
 * - U+0000–U+0008, U+000B, U+000C, U+000E–U+001F: outside the XML 1.0 Char production (a fatal
 *   well-formedness error, even as `&#n;`, even inside CDATA);
 * - U+007F–U+009F: the C1 controls. XML 1.0 only discourages them (§2.2) and allows U+0085, but in
 *   news text they are almost always mis-decoded windows-1252 bytes, never intended content; one
 *   rule for the whole block is easier to state than "all but NEL";
 * - U+FFFE, U+FFFF: not XML Chars;
 * - lone surrogates: not Unicode scalar values, cannot be encoded as UTF-8 at all.
 */
const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Returns `value` without XML-illegal characters, C1 controls and lone surrogates (emoji pairs kept). */
export function stripXmlIllegal(value: string): string {
  return value.replace(XML_ILLEGAL, '');
}

/**
 * Returns `value` trimmed, with every run of white space (JS `\s`: tabs, newlines, NBSP, the
 * U+2000 spaces, U+3000, BOM…) collapsed to one ASCII space. Joiners and direction marks
 * (U+200D ZWJ, U+200E/U+200F) are not white space, so emoji sequences and RTL text survive.
 */
export function collapseWhitespace(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** Plain-text cleaning for labels (names, categories, tags): illegal characters out, white space collapsed. */
export function cleanPlainText(value: string): string {
  return collapseWhitespace(stripXmlIllegal(value));
}

// Elements whose content is code or invisible, not text: dropped with their content so a title
// never carries a script body. An unclosed one runs to the end of the string, as a browser reads it.
const HIDDEN_ELEMENT = /<(script|style|template|title|textarea|noscript)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi;
const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
// Block-level tags separate words ("<p>a</p><p>b</p>" reads "a b", not "ab"); inline tags do not
// ("<b>B</b>old" reads "Bold").
const BLOCK_TAG = /<\/?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|blockquote|pre|table|thead|tbody|tfoot|tr|td|th|caption|figure|figcaption|section|article|header|footer|aside|nav|main|address)\b[^>]*>/gi;
// Only something shaped like a tag: `<` + letter (or `/` + letter). "a < b", "<3" and "3<5" stay.
const ANY_TAG = /<\/?[A-Za-z][^<>]*>/g;

/**
 * Returns `value` with HTML markup removed, for plain-text fields a CMS may fill from a rich-text
 * editor (title, summary). Tags go, the content of script/style-like elements goes with them,
 * comments go; entities are NOT decoded (plain text is literal). Call before collapseWhitespace().
 */
export function stripMarkup(value: string): string {
  return value.replace(HIDDEN_ELEMENT, ' ').replace(COMMENT, ' ').replace(BLOCK_TAG, ' ').replace(ANY_TAG, '');
}

/** Number of Unicode code points: what a person counts, and what Postgres varchar(n) counts. */
export function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}
