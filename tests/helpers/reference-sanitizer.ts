/**
 * The sanitize-html 2.17.5 implementation of sanitizeArticleHtml, kept verbatim as the oracle for
 * tests/domain/sanitize-html-differential.test.ts and bench/sanitize.ts. Tests and benchmarks only:
 * the service runs src/domain/sanitize-html.ts, which must give the same bytes for every input
 * (stored content hashes and the golden feeds depend on it).
 */
import sanitizeHtml from 'sanitize-html';
import { stripXmlIllegal } from '../../src/domain/clean-text.js';

/**
 * The article-body allowlist. docs/html-allowlist.md explains each choice; keep the two in step.
 * `h1` is not listed: transformTag() renames it to `h2` (the item title is the page's h1 in a reader).
 */
const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'div', 'span', 'wbr',
  'h2', 'h3', 'h4', 'h5', 'h6',
  'ul', 'ol', 'li', 'dl', 'dt', 'dd',
  'blockquote', 'q', 'cite',
  'figure', 'figcaption', 'picture', 'img',
  'a',
  'strong', 'em', 'b', 'i', 'u', 's', 'del', 'ins', 'sub', 'sup', 'small', 'mark', 'abbr', 'time',
  'code', 'pre', 'kbd',
  'bdi', 'bdo',
  'table', 'caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td',
  'audio', 'video', 'source', 'track',
  'iframe',
];

const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  // dir and lang carry meaning for RTL and mixed-language text; dir's value is checked in transformTag().
  '*': ['dir', 'lang'],
  a: ['href', 'title', 'rel'],
  img: ['src', 'srcset', 'sizes', 'alt', 'title', 'width', 'height'],
  picture: [],
  source: ['src', 'srcset', 'sizes', 'type', 'media'],
  video: ['src', 'poster', 'width', 'height', 'controls', 'preload', 'playsinline'],
  audio: ['src', 'controls', 'preload'],
  track: ['src', 'kind', 'srclang', 'label', 'default'],
  iframe: ['src', 'title', 'width', 'height', 'allowfullscreen'],
  blockquote: ['cite'],
  q: ['cite'],
  del: ['cite', 'datetime'],
  ins: ['cite', 'datetime'],
  time: ['datetime'],
  abbr: ['title'],
  ol: ['start', 'reversed'],
  li: ['value'],
  th: ['colspan', 'rowspan', 'scope'],
  td: ['colspan', 'rowspan'],
  col: ['span'],
  colgroup: ['span'],
};

/**
 * Elements dropped together with their content: code, invisible or non-text markup whose text
 * would only be noise in an article ("svg" text nodes, a <select>'s options). Everything else that
 * is not allowed loses its tag and keeps its content (sanitize-html's "discard" mode) — including
 * <noscript>, whose content is often the real <img> of a lazy-loading CMS.
 */
const DROPPED_WITH_CONTENT = [
  'script', 'style', 'template', 'title', 'head', 'textarea', 'select', 'option', 'xmp',
  'noembed', 'noframes', 'svg', 'math',
];

/**
 * Embeds we let through as <iframe>: hostname + path prefix of the players' documented embed URLs.
 * Path prefixes matter: youtube.com/embed/ is a player, youtube.com/anything-else is a full site.
 * Twitter/X is left out on purpose: its embed is a <blockquote> plus a script, and the blockquote
 * (kept) already shows the post's text and link.
 */
const EMBEDS: ReadonlyArray<{ host: string; pathPrefix: string }> = [
  { host: 'www.youtube.com', pathPrefix: '/embed/' },
  { host: 'youtube.com', pathPrefix: '/embed/' },
  { host: 'www.youtube-nocookie.com', pathPrefix: '/embed/' },
  { host: 'youtube-nocookie.com', pathPrefix: '/embed/' },
  { host: 'player.vimeo.com', pathPrefix: '/video/' },
  { host: 'w.soundcloud.com', pathPrefix: '/player/' },
  { host: 'open.spotify.com', pathPrefix: '/embed/' },
];

/** rel tokens that say something about the link and grant nothing. */
const REL_TOKENS = new Set(['nofollow', 'noopener', 'noreferrer', 'sponsored', 'ugc', 'external']);

const DIR_VALUES = new Set(['ltr', 'rtl', 'auto']);

// Raster formats only: an SVG data: image can carry script.
const DATA_IMAGE = /^data:image\/(?:png|jpeg|gif|webp)(?:;[^,]*)?,/i;

/**
 * Returns `html` reduced to the allowlist in docs/html-allowlist.md, with every URL absolute
 * (resolved against `baseUrl`, the article's URL) and no XML-illegal character. The output
 * uses no named entity other than &amp; &lt; &gt; &quot; — sanitize-html decodes entities while
 * parsing (`&nbsp;` becomes U+00A0) and re-escapes only those four — so it is also safe to embed
 * as XHTML. Returns '' when nothing is left.
 */
export function referenceSanitize(html: string, baseUrl: string): string {
  // Strip before parsing (so "java\0script:" cannot hide a scheme) and again after, because the
  // parser decodes numeric references: "&#1;" and "&#xFFFE;" come out as the raw characters.
  const input = stripXmlIllegal(html).replace(/\r\n?/g, '\n');
  const output = sanitizeHtml(input, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: ALLOWED_ATTRIBUTES,
    nonTextTags: DROPPED_WITH_CONTENT,
    disallowedTagsMode: 'discard',
    // Every void element we allow is written "<x />": a "</source>" end tag is an HTML parse error.
    selfClosing: ['img', 'br', 'hr', 'wbr', 'col', 'source', 'track'],
    // transformTag() already resolved and checked every URL; these are the library's own check, kept
    // as a second line of defence.
    allowedSchemes: ['http', 'https'],
    allowedSchemesByTag: { a: ['http', 'https', 'mailto', 'tel'], img: ['http', 'https', 'data'] },
    allowProtocolRelative: false,
    allowedIframeHostnames: EMBEDS.map((e) => e.host),
    allowIframeRelativeUrls: false,
    // No style attribute is allowed, so there is nothing for postcss to parse.
    parseStyleAttributes: false,
    transformTags: { '*': (tagName, attribs) => transformTag(tagName, attribs, baseUrl) },
    exclusiveFilter: dropEmptyElement,
  });
  return stripXmlIllegal(output).trim();
}

/** Renames h1, resolves and checks URLs, normalises rel/dir, and forces player controls. */
function transformTag(tagName: string, attribs: sanitizeHtml.Attributes, baseUrl: string): sanitizeHtml.Tag {
  const name = tagName === 'h1' ? 'h2' : tagName;
  const out: sanitizeHtml.Attributes = {};
  for (const [attr, value] of Object.entries(attribs)) {
    if (attr === 'href' || attr === 'src' || attr === 'poster' || attr === 'cite') {
      const url = resolveUrl(value, baseUrl, allowedSchemes(name, attr));
      if (url !== null) out[attr] = url;
    } else if (attr === 'srcset') {
      const srcset = resolveSrcset(value, baseUrl);
      if (srcset !== '') out[attr] = srcset;
    } else {
      // Not a URL: the attribute allowlist decides later whether it is kept at all.
      out[attr] = value;
    }
  }
  if (out.rel !== undefined) {
    const rel = [...new Set(out.rel.toLowerCase().split(/\s+/))].filter((t) => REL_TOKENS.has(t)).join(' ');
    if (rel === '') delete out.rel;
    else out.rel = rel;
  }
  if (out.dir !== undefined) {
    const dir = out.dir.trim().toLowerCase();
    if (DIR_VALUES.has(dir)) out.dir = dir;
    else delete out.dir;
  }
  if (name === 'iframe' && out.src !== undefined) {
    const embed = toAllowedEmbed(out.src);
    if (embed === null) delete out.src;
    else out.src = embed;
  }
  // A player without controls (and, since autoplay is not allowed, without a way to start) is useless.
  if (name === 'video' || name === 'audio') out.controls = '';
  return { tagName: name, attribs: out };
}

/**
 * Removes elements that mean nothing without the attribute we may have dropped: an image, player
 * source or iframe with no URL goes entirely; a link with no href keeps its text and loses its tag.
 */
function dropEmptyElement(frame: sanitizeHtml.IFrame): boolean | 'excludeTag' {
  const { tag, attribs } = frame;
  if (tag === 'img' || tag === 'iframe' || tag === 'track') return !attribs.src;
  if (tag === 'source') return !attribs.src && !attribs.srcset;
  if (tag === 'a') return attribs.href ? false : 'excludeTag';
  return false;
}

const LINK_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'mailto:', 'tel:']);
const IMAGE_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'data:']);
const WEB_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:']);

function allowedSchemes(tagName: string, attr: string): ReadonlySet<string> {
  if (tagName === 'a' && attr === 'href') return LINK_SCHEMES;
  if (tagName === 'img' && attr === 'src') return IMAGE_SCHEMES;
  return WEB_SCHEMES;
}

/**
 * Returns `value` resolved against `baseUrl` and serialised by the WHATWG URL parser, or null when
 * it is empty, unparseable or of a scheme not in `schemes`. Checking the parsed protocol (not the
 * raw text) is what defeats obfuscation: the parser drops the tabs and newlines in "jav\tascript:",
 * trims leading spaces and lower-cases "JAVASCRIPT:", exactly as a browser does — and what we emit
 * is the parser's own serialisation, so the browser reads the URL we checked.
 */
function resolveUrl(value: string, baseUrl: string, schemes: ReadonlySet<string>): string | null {
  if (value.trim() === '') return null;
  let url: URL;
  try {
    // One parse (canParse and then new URL parsed every link twice); a URL that fails is rare.
    url = new URL(value, baseUrl);
  } catch {
    return null;
  }
  if (!schemes.has(url.protocol)) return null;
  if (url.protocol === 'data:' && !DATA_IMAGE.test(url.href)) return null;
  return url.href;
}

/**
 * Returns a srcset with each candidate URL resolved (http/https only: no data: here, a data URL's
 * commas collide with srcset's), or '' when no candidate survives. Parsing follows the HTML
 * algorithm in outline: a URL runs to the next white space; a URL ending in "," has no descriptor.
 */
function resolveSrcset(value: string, baseUrl: string): string {
  const candidates: string[] = [];
  const schemes = WEB_SCHEMES;
  let rest = value;
  for (;;) {
    rest = rest.replace(/^[\s,]+/, '');
    if (rest === '') break;
    let rawUrl = /^\S+/.exec(rest)![0];
    rest = rest.slice(rawUrl.length);
    let descriptor = '';
    if (rawUrl.endsWith(',')) {
      rawUrl = rawUrl.replace(/,+$/, '');
    } else {
      const end = rest.indexOf(',');
      descriptor = (end === -1 ? rest : rest.slice(0, end)).trim();
      rest = end === -1 ? '' : rest.slice(end + 1);
    }
    const url = resolveUrl(rawUrl, baseUrl, schemes);
    // A descriptor is a width ("640w") or a density ("2x"); anything else makes the candidate invalid.
    if (url === null || (descriptor !== '' && !/^(?:\d+w|\d+(?:\.\d+)?x)$/.test(descriptor))) continue;
    // A trailing comma would be read as the separator: encode it so the URL survives re-parsing.
    const safeUrl = url.replace(/,+$/, (commas) => '%2C'.repeat(commas.length));
    candidates.push(descriptor === '' ? safeUrl : `${safeUrl} ${descriptor}`);
  }
  return candidates.join(', ');
}

/** Returns the embed URL (upgraded to https) when it is one of EMBEDS, else null. */
function toAllowedEmbed(src: string): string | null {
  const url = new URL(src);
  if (url.protocol === 'http:') url.protocol = 'https:';
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '') return null;
  const ok = EMBEDS.some((e) => url.hostname === e.host && url.pathname.startsWith(e.pathPrefix));
  return ok ? url.href : null;
}
