import { Parser, type Handler } from 'htmlparser2';
import { stripXmlIllegal } from './clean-text.js';
import { tokenizeCommonHtml, type HtmlEvents } from './common-html-tokenizer.js';

/**
 * The article-body allowlist. docs/html-allowlist.md explains each choice; keep the two in step.
 *
 * One pass over htmlparser2's events writes the output directly. The output is byte for byte what
 * the earlier sanitize-html 2.17.5 configuration wrote (stored content hashes and the golden feeds
 * depend on it); tests/domain/sanitize-html-differential.test.ts holds the two together, and the
 * comments below marked "as sanitize-html" are behaviour kept for that reason only.
 */

/**
 * How an attribute's value is checked. A URL-bearing attribute can only be declared with one of the
 * URL kinds (enforced when the table is built), so no URL reaches the output without resolveUrl().
 * - link / image / web: a URL resolved against the article URL, with the schemes of LINK_SCHEMES,
 *   IMAGE_SCHEMES or WEB_SCHEMES; embed: a web URL that must also be in EMBEDS; srcset: a list of web URLs.
 * - text: kept as sent, dropped when empty; alt: kept even when empty (decorative images);
 *   flag: a boolean attribute, bare when empty; controls: always present and bare on players.
 * - dir, rel: keyword lists, reduced to DIR_VALUES and REL_TOKENS.
 */
type UrlKind = 'link' | 'image' | 'web' | 'embed' | 'srcset';
type AttributeKind = UrlKind | 'text' | 'alt' | 'flag' | 'controls' | 'dir' | 'rel';

// dir and lang carry meaning for RTL and mixed-language text.
const GLOBAL_ATTRIBUTES: Readonly<Record<string, AttributeKind>> = { dir: 'dir', lang: 'text' };

/**
 * Allowed tags and their own attributes. `h1` is not listed: it is written as `h2` (the item title
 * is the page's h1 in a reader).
 */
const ALLOWED: Readonly<Record<string, Readonly<Record<string, AttributeKind>>>> = {
  p: {}, br: {}, hr: {}, div: {}, span: {}, wbr: {},
  h2: {}, h3: {}, h4: {}, h5: {}, h6: {},
  ul: {}, ol: { start: 'text', reversed: 'flag' }, li: { value: 'text' }, dl: {}, dt: {}, dd: {},
  blockquote: { cite: 'web' }, q: { cite: 'web' }, cite: {},
  figure: {}, figcaption: {}, picture: {},
  img: { src: 'image', srcset: 'srcset', sizes: 'text', alt: 'alt', title: 'text', width: 'text', height: 'text' },
  a: { href: 'link', title: 'text', rel: 'rel' },
  strong: {}, em: {}, b: {}, i: {}, u: {}, s: {},
  del: { cite: 'web', datetime: 'text' }, ins: { cite: 'web', datetime: 'text' },
  sub: {}, sup: {}, small: {}, mark: {}, abbr: { title: 'text' }, time: { datetime: 'text' },
  code: {}, pre: {}, kbd: {},
  bdi: {}, bdo: {},
  table: {}, caption: {}, colgroup: { span: 'text' }, col: { span: 'text' },
  thead: {}, tbody: {}, tfoot: {}, tr: {},
  th: { colspan: 'text', rowspan: 'text', scope: 'text' }, td: { colspan: 'text', rowspan: 'text' },
  audio: { src: 'web', controls: 'controls', preload: 'text' },
  video: { src: 'web', poster: 'web', width: 'text', height: 'text', controls: 'controls', preload: 'text', playsinline: 'flag' },
  source: { src: 'web', srcset: 'srcset', sizes: 'text', type: 'text', media: 'text' },
  track: { src: 'web', kind: 'text', srclang: 'text', label: 'text', default: 'flag' },
  iframe: { src: 'embed', title: 'text', width: 'text', height: 'text', allowfullscreen: 'flag' },
};

/**
 * Elements dropped together with their content: code, invisible or non-text markup whose text
 * would only be noise in an article ("svg" text nodes, a <select>'s options). Everything else that
 * is not allowed loses its tag and keeps its content — including <noscript>, whose content is often
 * the real <img> of a lazy-loading CMS.
 */
const DROPPED_WITH_CONTENT: ReadonlySet<string> = new Set([
  'script', 'style', 'template', 'title', 'head', 'textarea', 'select', 'option', 'xmp',
  'noembed', 'noframes', 'svg', 'math',
]);

// Void elements are written "<x />": valid HTML and XHTML alike, and a "</source>" end tag is an HTML parse error.
const VOID: ReadonlySet<string> = new Set(['img', 'br', 'hr', 'wbr', 'col', 'source', 'track']);

type NeedsUrl = { needs: readonly string[]; otherwise: 'remove' | 'unwrap' };

/**
 * Elements that mean nothing once their URL is gone: without one of `needs`, an image, player
 * source or iframe is removed with its content, and a link loses its tag but keeps its text.
 */
const NEEDS_URL: ReadonlyMap<string, NeedsUrl> = new Map<string, NeedsUrl>([
  ['img', { needs: ['src'], otherwise: 'remove' }],
  ['iframe', { needs: ['src'], otherwise: 'remove' }],
  ['track', { needs: ['src'], otherwise: 'remove' }],
  ['source', { needs: ['src', 'srcset'], otherwise: 'remove' }],
  ['a', { needs: ['href'], otherwise: 'unwrap' }],
]);

/**
 * Attributes that carry a URL somewhere in HTML (sanitize-html's list of them, plus srcset
 * variants). Declaring one of them with a non-URL kind throws when this module loads: adding
 * e.g. `longdesc` or `formaction` as 'text' would otherwise let a javascript: URL through unchecked.
 */
const URL_ATTRIBUTES: ReadonlySet<string> = new Set([
  'href', 'src', 'srcset', 'imagesrcset', 'cite', 'poster', 'action', 'formaction', 'data', 'xlink:href',
  'background', 'ping', 'longdesc', 'usemap', 'codebase', 'classid', 'archive', 'profile', 'manifest',
  'itemid', 'dynsrc', 'lowsrc', 'icon',
]);
const URL_KINDS: ReadonlySet<AttributeKind> = new Set<AttributeKind>(['link', 'image', 'web', 'embed', 'srcset']);

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

const LINK_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'mailto:', 'tel:']);
const IMAGE_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'data:']);
const WEB_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:']);

// Raster formats only: an SVG data: image can carry script.
const DATA_IMAGE = /^data:image\/(?:png|jpeg|gif|webp)(?:;[^,]*)?,/i;

/** What an allowed element is written as, and what it may keep. */
interface TagRule {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, AttributeKind>;
  readonly endTag: string;
  readonly needsUrl: NeedsUrl | undefined;
  readonly forcesControls: boolean;
  /** Its opening tag when the source gave it no attribute: most elements of an article. */
  readonly bare: OpeningTag;
}

/** An opening tag as written, and what its end tag must do because the URL it needs did not survive. */
interface OpeningTag {
  readonly text: string;
  readonly withoutUrl: 'remove' | 'unwrap' | null;
}

/** Per source tag name (`h1` included, written as `h2`). */
const RULES: ReadonlyMap<string, TagRule> = buildRules();

function buildRules(): Map<string, TagRule> {
  const rules = new Map<string, TagRule>();
  for (const [name, own] of Object.entries(ALLOWED)) {
    const attributes = new Map<string, AttributeKind>(Object.entries({ ...GLOBAL_ATTRIBUTES, ...own }));
    for (const [attr, kind] of attributes) {
      if (URL_ATTRIBUTES.has(attr) !== URL_KINDS.has(kind)) {
        throw new Error(`HTML allowlist: ${name}[${attr}] must ${URL_KINDS.has(kind) ? 'not ' : ''}be a URL kind`);
      }
    }
    const forcesControls = attributes.get('controls') === 'controls';
    const needsUrl = NEEDS_URL.get(name);
    const bareText = `<${name}${forcesControls ? ' controls' : ''}${VOID.has(name) ? ' />' : '>'}`;
    rules.set(name, {
      name,
      attributes,
      endTag: VOID.has(name) ? '' : `</${name}>`,
      needsUrl,
      forcesControls,
      bare: { text: bareText, withoutUrl: needsUrl?.otherwise ?? null },
    });
  }
  rules.set('h1', rules.get('h2')!);
  return rules;
}

// Any character stripXmlIllegal() removes (taking every surrogate as suspect), or a CR: one cheap
// scan that lets the usual clean body skip both replacements.
const NEEDS_CLEANING = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * Returns `html` reduced to the allowlist in docs/html-allowlist.md, with every URL absolute
 * (resolved against `baseUrl`, the article's URL) and no XML-illegal character. The parser decodes
 * every entity and the output re-escapes only & < > (and " in attributes), so the output uses no
 * named entity other than &amp; &lt; &gt; &quot; and is also safe to embed as XHTML. Returns ''
 * when nothing is left.
 */
export function sanitizeArticleHtml(html: string, baseUrl: string): string {
  // Strip before parsing (so "java\0script:" cannot hide a scheme) and again after, because the
  // parser decodes numeric references: "&#1;" and "&#xFFFE;" come out as the raw characters.
  const input = NEEDS_CLEANING.test(html) ? stripXmlIllegal(html).replace(/\r\n?/g, '\n') : html;
  let writer = new AllowlistWriter(baseUrl);
  // Most bodies are read by the common-markup tokenizer, which emits htmlparser2's own events several
  // times faster; whatever it leaves is read again from the start by htmlparser2, with the options
  // sanitize-html passed (lower-cased tag and attribute names are its HTML-mode default).
  const common = tokenizeCommonHtml(input, writer);
  if (!common) {
    writer = new AllowlistWriter(baseUrl);
    new Parser(writer, { decodeEntities: true }).end(input);
  }
  // Without a "&", or read by the common tokenizer (which decodes no reference to a forbidden
  // character), the output holds only characters of the stripped input (whose surrogates are all in
  // pairs, which no tag boundary can separate), allowed decoded ones and ASCII markup.
  const output = !common && input.includes('&') ? stripXmlIllegal(writer.output()) : writer.output();
  return output.trim();
}

/** An element the parser opened; `rule` is null when its tag is not written. */
interface Frame {
  readonly tag: string;
  readonly rule: TagRule | null;
  /** Index of its opening tag in the output parts: everything from here on is its own output. */
  readonly at: number;
  readonly withoutUrl: 'remove' | 'unwrap' | null;
}

/**
 * htmlparser2 handler writing the sanitised output as a list of parts (an opening tag is one part,
 * so an element is removed by truncating the list and unwrapped by blanking one part). The element
 * stack is our own, not the parser's: the parser may report the end of an element whose start it
 * never reported (a tag cut off by the end of input), and, as sanitize-html, an end that does not
 * match the innermost element is ignored.
 */
class AllowlistWriter implements Partial<Handler>, HtmlEvents {
  private readonly parts: string[] = [];
  private readonly stack: Frame[] = [];
  /** > 0 inside an element dropped with its content: the nesting depth of the events skipped. */
  private skipDepth = 0;

  constructor(private readonly baseUrl: string) {}

  output(): string {
    return this.parts.join('');
  }

  onopentag(tag: string, attribs: Record<string, string>): void {
    if (this.skipDepth > 0) {
      this.skipDepth++;
      return;
    }
    const rule = RULES.get(tag);
    const at = this.parts.length;
    if (rule === undefined) {
      this.stack.push({ tag, rule: null, at, withoutUrl: null });
      if (DROPPED_WITH_CONTENT.has(tag)) this.skipDepth = 1;
      return;
    }
    const opening = openingTag(rule, attribs, this.baseUrl);
    this.parts.push(opening.text);
    this.stack.push({ tag, rule, at, withoutUrl: opening.withoutUrl });
  }

  ontext(text: string): void {
    if (this.skipDepth === 0) this.parts.push(escapeText(text));
  }

  onclosetag(tag: string): void {
    if (this.skipDepth > 0 && --this.skipDepth > 0) return;
    const frame = this.stack.pop();
    if (frame === undefined) return;
    if (frame.tag !== tag) {
      this.stack.push(frame);
      return;
    }
    if (frame.rule === null) return;
    if (frame.withoutUrl === 'remove') this.parts.length = frame.at;
    else if (frame.withoutUrl === 'unwrap') this.parts[frame.at] = '';
    else if (frame.rule.endTag !== '') this.parts.push(frame.rule.endTag);
  }
}

function isEmpty(attribs: Record<string, string>): boolean {
  for (const _ in attribs) return false;
  return true;
}

/**
 * The opening tag of an allowed element, with its attributes checked and in source order (the
 * first of duplicated attributes wins: the parser keeps it).
 */
function openingTag(rule: TagRule, attribs: Record<string, string>, baseUrl: string): OpeningTag {
  if (isEmpty(attribs)) return rule.bare;
  let text = `<${rule.name}`;
  let controls = false;
  let hasUrl = rule.needsUrl === undefined;
  // Own keys only, as sanitize-html: a polluted Object.prototype must not add attributes.
  for (const attr of Object.keys(attribs)) {
    const kind = rule.attributes.get(attr);
    if (kind === undefined) continue;
    if (kind === 'controls') controls = true;
    const written = writtenAttribute(attr, kind, attribs[attr]!, baseUrl);
    if (written === null) continue;
    text += written;
    if (!hasUrl && rule.needsUrl!.needs.includes(attr)) hasUrl = true;
  }
  // A player without controls (and, since autoplay is not allowed, without a way to start) is useless.
  if (rule.forcesControls && !controls) text += ' controls';
  text += rule.endTag === '' ? ' />' : '>';
  return { text, withoutUrl: hasUrl ? null : rule.needsUrl!.otherwise };
}

/** ` name="value"` as written for one allowed attribute, or null to drop it. */
function writtenAttribute(attr: string, kind: AttributeKind, value: string, baseUrl: string): string | null {
  switch (kind) {
    case 'alt':
      return value === '' ? ' alt=""' : quoted(attr, value);
    case 'flag':
      return value === '' ? ` ${attr}` : quoted(attr, value);
    case 'controls':
      return ' controls';
    default: {
      const checked = checkedValue(kind, value, baseUrl);
      return checked === null ? null : quoted(attr, checked);
    }
  }
}

function quoted(attr: string, value: string): string {
  return ` ${attr}="${escapeAttribute(value)}"`;
}

/** The value to keep for an attribute that has to be checked, or null to drop it. */
function checkedValue(kind: Exclude<AttributeKind, 'alt' | 'flag' | 'controls'>, value: string, baseUrl: string): string | null {
  switch (kind) {
    case 'link':
      return resolveUrl(value, baseUrl, LINK_SCHEMES);
    case 'image':
      return resolveUrl(value, baseUrl, IMAGE_SCHEMES);
    case 'web':
      return resolveUrl(value, baseUrl, WEB_SCHEMES);
    case 'embed':
      return resolveEmbed(value, baseUrl);
    case 'srcset':
      return nonEmpty(resolveSrcset(value, baseUrl));
    case 'dir':
      return dirValue(value);
    case 'rel':
      return nonEmpty(relTokens(value));
    case 'text':
      // As sanitize-html: an empty value of a non-boolean attribute is dropped.
      return nonEmpty(value);
  }
}

function nonEmpty(value: string): string | null {
  return value === '' ? null : value;
}

function dirValue(value: string): string | null {
  const dir = value.trim().toLowerCase();
  return DIR_VALUES.has(dir) ? dir : null;
}

function relTokens(value: string): string {
  return [...new Set(value.toLowerCase().split(/\s+/))].filter((t) => REL_TOKENS.has(t)).join(' ');
}

/**
 * An absolute http(s) URL already written exactly as the URL parser serialises it, whatever the
 * base: lower-case scheme and host, a host that is neither an IP address (the last label starts
 * with a letter) nor punycode (no "xn--", which the parser validates), no credentials or port, a
 * path without dot segments, backslashes or '%' (so no "%2e" dot segments either), and no character
 * the parser would percent-encode or strip. For such a value `new URL(value, base).href === value`,
 * so it is used as is: most links in CMS output look like this, and the parse is the largest cost
 * of sanitising a typical body. tests/domain/sanitize-html-differential.test.ts checks the claim.
 */
const CANONICAL_WEB_URL =
  /^https?:\/\/(?:[a-z0-9_-]+\.)*[a-z][a-z0-9_-]*\/[\w\-.~!$&'()*+,;=:@/]*(?:\?[\w\-.~!$&()*+,;=:@/?%]*)?(?:#[\w\-.~!$&'()*+,;=:@/?%#]*)?$/;

function isCanonicalWebUrl(value: string): boolean {
  // "/." also refuses harmless names such as "/.well-known": they take the slow path.
  return CANONICAL_WEB_URL.test(value) && !value.includes('xn--') && !value.includes('/.');
}

/**
 * Returns `value` resolved against `baseUrl` and serialised by the WHATWG URL parser, or null when
 * it is empty, unparseable or of a scheme not in `schemes`. This is the only scheme check, and it
 * is made on the parsed protocol, not the raw text: the parser drops the tabs and newlines in
 * "jav\tascript:", trims leading spaces and lower-cases "JAVASCRIPT:", exactly as a browser does —
 * and what we emit is the parser's own serialisation, so the browser reads the URL we checked.
 */
function resolveUrl(value: string, baseUrl: string, schemes: ReadonlySet<string>): string | null {
  if (isCanonicalWebUrl(value)) return schemes.has(value[4] === 's' ? 'https:' : 'http:') ? value : null;
  if (value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value, baseUrl);
  } catch {
    return null;
  }
  if (!schemes.has(url.protocol)) return null;
  if (url.protocol === 'data:' && !DATA_IMAGE.test(url.href)) return null;
  return url.href;
}

/** Returns the embed URL (upgraded to https) when it resolves to one of EMBEDS, else null. */
function resolveEmbed(value: string, baseUrl: string): string | null {
  const href = resolveUrl(value, baseUrl, WEB_SCHEMES);
  if (href === null) return null;
  const url = new URL(href);
  if (url.protocol === 'http:') url.protocol = 'https:';
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '') return null;
  const ok = EMBEDS.some((e) => url.hostname === e.host && url.pathname.startsWith(e.pathPrefix));
  return ok ? url.href : null;
}

/**
 * Returns a srcset with each candidate URL resolved (http/https only: no data: here, a data URL's
 * commas collide with srcset's), or '' when no candidate survives. Parsing follows the HTML
 * algorithm in outline: a URL runs to the next white space; a URL ending in "," has no descriptor.
 */
function resolveSrcset(value: string, baseUrl: string): string {
  const candidates: string[] = [];
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
    const url = resolveUrl(rawUrl, baseUrl, WEB_SCHEMES);
    const normalised = url === null ? null : normaliseDescriptor(descriptor);
    if (normalised === null) continue;
    // A trailing comma would be read as the separator: encode it so the URL survives re-parsing.
    const safeUrl = url!.replace(/,+$/, (commas) => '%2C'.repeat(commas.length));
    candidates.push(normalised === '' ? safeUrl : `${safeUrl} ${normalised}`);
  }
  return candidates.join(', ');
}

/**
 * A descriptor is a width ("640w") or a density ("2x"); anything else makes the candidate invalid
 * (null). As sanitize-html (which re-parsed the srcset with parse-srcset and wrote it back): the
 * number is written as JavaScript prints it ("0640w" is "640w", "1.50x" is "1.5x"), a zero width
 * invalidates the candidate and a zero density is dropped.
 */
function normaliseDescriptor(descriptor: string): string | null {
  if (descriptor === '') return '';
  const match = /^(?:(\d+)w|(\d+(?:\.\d+)?)x)$/.exec(descriptor);
  if (match === null) return null;
  if (match[1] !== undefined) {
    const width = parseInt(match[1], 10);
    return width === 0 ? null : `${width}w`;
  }
  const density = parseFloat(match[2]!);
  return density === 0 ? '' : `${density}x`;
}

/** Escapes & < > only: every other character the parser decoded is written as itself. */
function escapeText(text: string): string {
  // Three includes() are twice as fast as one regex test on the typical text chunk, which needs nothing.
  if (!text.includes('&') && !text.includes('<') && !text.includes('>')) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(value: string): string {
  if (!value.includes('"')) return escapeText(value);
  return escapeText(value).replace(/"/g, '&quot;');
}
