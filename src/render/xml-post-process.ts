/**
 * A small, CDATA-aware pass over XML written by feedsmith 3.0.1, fixing two known defects of its
 * builder (docs/decisions/0002-feedsmith-not-feed.md, rule 10). Both fixes touch only text that lies
 * outside CDATA sections, so publisher content is never rewritten, whatever it contains.
 */

const CDATA_OPEN = '<![CDATA[';
const CDATA_CLOSE = ']]>';

/** A run of the document: markup and escaped text, or the inside of one CDATA section. */
interface Segment {
  cdata: boolean;
  text: string;
}

/**
 * Splits a document into markup runs and CDATA sections. Outside CDATA, `<![CDATA[` can only be the
 * start of a section (a literal `<` in text or attributes is always escaped), and a section ends at
 * the first `]]>` (XML 1.0 §2.7: a section cannot contain it; the builder splits such values into
 * adjacent sections).
 */
function splitCdata(xml: string): Segment[] {
  const segments: Segment[] = [];
  let position = 0;
  while (position < xml.length) {
    const open = xml.indexOf(CDATA_OPEN, position);
    if (open === -1) break;
    const close = xml.indexOf(CDATA_CLOSE, open + CDATA_OPEN.length);
    // An unterminated section is not something the builder writes; leave the rest untouched.
    if (close === -1) break;
    segments.push({ cdata: false, text: xml.slice(position, open) });
    segments.push({ cdata: true, text: xml.slice(open, close + CDATA_CLOSE.length) });
    position = close + CDATA_CLOSE.length;
  }
  segments.push({ cdata: false, text: xml.slice(position) });
  return segments;
}

// A start tag followed only by indentation, at the end of a markup run that precedes CDATA.
const START_TAG_THEN_SPACE = /(<[^/!?<>][^<>]*>)\s+$/;
// Indentation followed by an end tag, at the start of a markup run that follows CDATA.
const SPACE_THEN_END_TAG = /^\s+(<\/)/;

/**
 * Removes the indentation the builder puts between an element's tags and its CDATA content.
 *
 * Why: the builder always pretty-prints, so a value containing `<`, `>`, `&` or `]]>` becomes
 * `<title>\n      <![CDATA[…]]>\n    </title>`. That whitespace is part of the element's text:
 * non-trimming readers (rss-parser) return it, and URL elements (`<link>`) that contain `&` fail
 * validation. Only whitespace directly between a start tag and CDATA, or between CDATA and an end
 * tag, is removed; indentation between sibling elements stays.
 */
export function collapseCdataWhitespace(xml: string): string {
  const segments = splitCdata(xml);
  return segments
    .map((segment, index) => {
      if (segment.cdata) return segment.text;
      let text = segment.text;
      if (segments[index + 1]?.cdata) text = text.replace(START_TAG_THEN_SPACE, '$1');
      if (segments[index - 1]?.cdata) text = text.replace(SPACE_THEN_END_TAG, '$1');
      return text;
    })
    .join('');
}

const ITUNES_EXPLICIT = /<itunes:explicit>(yes|no)<\/itunes:explicit>/g;

/**
 * Rewrites `<itunes:explicit>yes|no</itunes:explicit>` as `true|false`.
 *
 * Why: feedsmith writes the boolean as yes/no; Apple's "A Podcaster's Guide to RSS" and the W3C
 * validator want true/false. Text inside CDATA (an article quoting the tag) is left alone.
 */
export function fixItunesExplicit(xml: string): string {
  // Only podcast feeds have the tag: the others skip a split and join of the whole document.
  if (!xml.includes('<itunes:explicit>')) return xml;
  return splitCdata(xml)
    .map((segment) =>
      segment.cdata
        ? segment.text
        : segment.text.replace(ITUNES_EXPLICIT, (_match, value: string) => {
            return `<itunes:explicit>${value === 'yes' ? 'true' : 'false'}</itunes:explicit>`;
          }),
    )
    .join('');
}

/** RFC 5005 feed history namespace. */
export const FEED_HISTORY_NS = 'http://purl.org/syndication/history/1.0';

// The document element's start tag (rss or feed) and, in RSS, the channel start tag after it.
const ROOT_START = /^(<\?xml[^>]*\?>\s*<(?:rss|feed)\b[^>]*?)(\/?>)/;
const CHANNEL_START = /<channel>(\n?)([ \t]*)/;
const FEED_FIRST_CHILD = /^(<\?xml[^>]*\?>\s*<feed\b[^>]*>)(\n?)([ \t]*)/;

/**
 * Marks a feed document as an RFC 5005 archive document: declares the `fh` namespace on the document
 * element and adds `<fh:archive/>` as the first child of the RSS channel (RFC 5005 Appendix B) or of
 * the Atom feed (§4).
 *
 * Why a post-pass: feedsmith 3.0.1 has no feed-history namespace (it writes the archive links through
 * its atom:link / link support; only this empty marker element is missing). The start tags touched
 * are the first markup of the document, which always comes before any CDATA section: the rewrite runs
 * on the markup before the first CDATA section only, so publisher text is never touched.
 */
export function markFeedHistoryArchive(xml: string): string {
  const segments = splitCdata(xml);
  const head = segments[0]!;
  let text = head.text;
  if (!ROOT_START.test(text)) throw new Error('markFeedHistoryArchive: no rss or feed start tag before the first CDATA section');
  text = text.replace(ROOT_START, `$1 xmlns:fh="${FEED_HISTORY_NS}"$2`);
  if (/^<\?xml[^>]*\?>\s*<rss\b/.test(text)) {
    if (!CHANNEL_START.test(text)) throw new Error('markFeedHistoryArchive: no channel start tag before the first CDATA section');
    text = text.replace(CHANNEL_START, (_m, newline: string, indent: string) => `<channel>${newline}${indent}<fh:archive/>${newline}${indent}`);
  } else {
    text = text.replace(FEED_FIRST_CHILD, (_m, start: string, newline: string, indent: string) => `${start}${newline}${indent}<fh:archive/>${newline}${indent}`);
  }
  return [text, ...segments.slice(1).map((segment) => segment.text)].join('');
}

/** Applies every fix; the one entry point the XML renderers call on feedsmith's output. */
export function postProcessXml(xml: string): string {
  return fixItunesExplicit(collapseCdataWhitespace(xml));
}
