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

/** Applies every fix; the one entry point the XML renderers call on feedsmith's output. */
export function postProcessXml(xml: string): string {
  return fixItunesExplicit(collapseCdataWhitespace(xml));
}
