/**
 * Seeded generators of hostile HTML and URLs: what a careless or malicious sender could put in an
 * article body. Shared by the sanitiser's differential tests.
 */

export type Rng = () => number;

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

const ALLOWED_TAGS = [
  'p', 'div', 'span', 'a', 'a', 'a', 'img', 'img', 'iframe', 'iframe', 'video', 'audio', 'source', 'track', 'picture',
  'figure', 'figcaption', 'h1', 'h2', 'h3', 'h6', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'blockquote', 'q', 'cite',
  'del', 'ins', 'time', 'abbr', 'table', 'caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td',
  'br', 'hr', 'wbr', 'pre', 'code', 'kbd', 'bdi', 'bdo', 'strong', 'em', 'b', 'i', 'u', 's', 'sub', 'sup', 'small', 'mark',
];
const DISALLOWED_TAGS = [
  'section', 'article', 'font', 'center', 'object', 'embed', 'form', 'input', 'button', 'noscript', 'body', 'html',
  'label', 'fieldset', 'details', 'main', 'nav', 'header', 'address', 'area', 'base', 'link', 'meta', 'param',
  'frame', 'marquee', 'x-widget', 'my:tag', 'h7', 'image', 'plaintext', 'optgroup', 'datalist', 'output', 'rt', 'rp',
  'ruby', 'foreignObject', 'desc', 'mi', 'annotation-xml', 'keygen', 'command', 'isindex', 'menu',
];
const DROPPED_TAGS = [
  'script', 'style', 'template', 'title', 'head', 'textarea', 'select', 'option', 'xmp', 'noembed', 'noframes', 'svg', 'math',
];

const ATTRIBUTE_NAMES = [
  'href', 'href', 'src', 'src', 'srcset', 'sizes', 'alt', 'alt', 'title', 'width', 'height', 'rel', 'rel', 'dir', 'dir',
  'lang', 'cite', 'datetime', 'poster', 'controls', 'preload', 'playsinline', 'kind', 'srclang', 'label', 'default',
  'allowfullscreen', 'start', 'reversed', 'value', 'colspan', 'rowspan', 'scope', 'span', 'type', 'media',
  'onclick', 'onerror', 'onload', 'style', 'class', 'id', 'name', 'target', 'srcdoc', 'allow', 'sandbox', 'autoplay',
  'formaction', 'data-x', 'xlink:href', 'action', 'background', 'longdesc', 'HREF', 'Src', 'ONCLICK', 'DIR',
  '__proto__', 'constructor', 'hasOwnProperty', 'toString', '0', '1', 'a"b', "x'y", 'x<y', '=', '/',
];

const URL_POOL = [
  'https://news.example.com/a', '/rel/path', 'rel', '../up/x.jpg', '?q=1&x=2', '&amp;x=1', '#frag', '//cdn.example.net/x.jpg',
  'HTTPS://EXAMPLE.COM/A', 'http://example.com:80/x', 'https://example.com:443/x', 'https://user:pw@example.com/',
  'javascript:alert(1)', 'JaVaScRiPt:alert(1)', '  javascript:alert(1)', 'java\tscript:alert(1)', 'java\nscript:x',
  'jav&#x09;ascript:alert(1)', 'jav&#9;ascript:alert(1)', 'java&#x0A;script:alert(1)', '&#106;avascript:alert(1)',
  'javascript&colon;alert(1)', 'java\u0000script:alert(1)', '\u0001javascript:alert(1)', 'vbscript:msgbox(1)',
  'data:image/png;base64,iVBORw0KGgo=', 'data:image/jpeg,xx', 'DATA:IMAGE/PNG;BASE64,AA', 'data:image/webp;base64,UklGRg==',
  'data:image/gif;foo=bar;base64,R0lG', 'data:image/svg+xml;base64,PHN2Zz4=', 'data:image/png ,x', 'data: image/png,x',
  'data:text/html,<script>alert(1)</script>', 'data:image/pngx,AA', 'data:,x', 'mailto:desk@example.com',
  'MAILTO:desk@example.com', 'tel:+442071234567', 'tel:+44 20 7123', 'ftp://files.example.com/x', 'file:///etc/passwd',
  'blob:https://x.example/y', 'https://www.youtube.com/embed/abc123', 'http://www.youtube.com/embed/abc?x=1&y=2',
  '//player.vimeo.com/video/1', 'https://www.youtube.com/embed/../watch?v=1', 'https://www.youtube.com/embed/%2e%2e/watch',
  'https://www.youtube.com:443/embed/x', 'https://www.youtube.com:8443/embed/x', 'https://a@www.youtube.com/embed/x',
  'https://WWW.YOUTUBE.COM/embed/x', 'https://www.youtube.com./embed/x', 'https://youtube.com/embed/x',
  'https://www.youtube-nocookie.com/embed/x', 'https://youtube-nocookie.com/embed/x', 'https://open.spotify.com/embed/episode/x',
  'https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/1', 'https://evil.example/embed/x',
  'https://www.youtube.com.evil.example/embed/x', 'https://evil.example/?https://www.youtube.com/embed/abc',
  'https://www.youtube.com/watch?v=x', 'https://www.youtube.com/embed', 'https://www.youtube.com/embedded/x',
  'https://player.vimeo.com/videos/1', 'https://open.spotify.com/EMBED/x', 'https://www.youtube.com/%65mbed/x', '/embed/local', '\\\\evil.example/x', '/\\evil.example/x', 'https:evil.example/x',
  'http:/x', 'https://[::1]/', 'https://127.0.0.1/', 'https://0x7f.1/', 'https://ex ample.com/', 'https://bücher.example/',
  'https://xn--bcher-kva.example/', 'https://a..b/', 'https://a.b/./c', 'https://a.b/.well-known/x', 'https://a.b/x,',
  'https://a.b/x,,', '/w_300,h_200/a.webp', 'https://a.b/x"y', "https://a.b/x'y?'z'#'f'", 'https://a.b/x<y>', '',
  '   ', '#', '?', '%', 'https://a.b/%zz', 'https://a.b/é😀', '\u202Ehttps://a.b/', 'https://a.b/x\u00A0', ']]>',
  'https://a.b/x]]>y', 'https://a.b/`{}|^[]', 'https://a.b/x&amp;y&quot;z', 'https://a.b/x&lt;&gt;', '&#0;', '\r\nhttps://a.b/',
];

export const SRCSET_DESCRIPTORS = [
  '', '', ' 1x', ' 2x', ' 1.5x', ' 1.50x', ' 0x', ' 0.0x', ' 00.5x', ' 640w', ' 0640w', ' 0w', ' 100h', ' 1e3x',
  ' 2.x', ' -1x', ' 1x 2x', ' foo', ' 99999999999999999999999w', ` 1${'0'.repeat(400)}x`, ' 3x,', '  2x  ', '\t2x', ' 2X',
  ' .5x', ' 1.x', ' +1x', ' 1e2w', ' 1.0w', '\u00A02x', ' 2x\u00A0', ' ２x', ' 1x (foo)',
];

const TEXT_POOL = [
  'Hello world', 'The council voted 7-2.', 'مرحبا بالعالم', 'שלום', '👋🏽', '👩‍👩‍👧', '\u200F', '\u202E', '&nbsp;', '&copy;',
  '&amp;', '&AMP;', '&lt;script&gt;alert(1)&lt;/script&gt;', '&#1;', '&#x1F;', '&#xFFFE;', '&#xFFFF;', '&#0;', '&#xD800;',
  '&#xDFFF;', '&#128;', '&#x81;', '&#x9F;', '&#1114112;', '&#99999999999;', '&notin;', '&notit;', '&not', '&amp', '&#x;',
  '&#;', '&;', '& ', 'AT&T', '&NewLine;', '&Tab;', '&Afr;', '&quot;', '&apos;', ']]>', ']]&gt;', '<', '>', '"', "'",
  '\r\n', '\r', '\n', '\t', '\u0000', '\u0001', '\u000B', '\u000C', '\u007F', '\u0085', '\u009F', '\uFFFE', '\uFFFF',
  '\uD800', '\uDC00', '\uD83D\uDE00', '\u2028', 'a < b', '3<5', '<3', '</', '< /p>', 'x\u00A0y', '  ', '<<', '>>',
];

const MARKUP_POOL = [
  '<!-- c -->', '<!---->', '<!-->', '<!--->', '<!-- <script>alert(1)</script> -->', '<!-- a -- b -->', '--!>',
  '<![CDATA[<script>alert(1)</script>]]>', '<![CDATA[ x ]]>', '<!doctype html>', '<!DOCTYPE html PUBLIC "x">',
  '<?xml version="1.0"?>', '<?php echo 1; ?>', '<!x>', '</>', '<>', '< p>', '</ p>', '</p foo="bar">', '<p/>', '<br/>',
  '</br>', '</p>', '</a>', '</iframe>', '</svg>', '</desc>', '<//p>', '<a/b>', '<img/src=x>', '<p<p>', '<p =x>',
];

const UNTERMINATED = ['<!--', '<![CDATA[', '<!', '<?', '<p', '</p', '<a href="x', "<img src='a.jpg", '<iframe src=', '<div title', '&', '&#', '&#x', '&amp'];

function mixCase(rng: Rng, name: string): string {
  if (!chance(rng, 0.15)) return name;
  return [...name].map((c) => (chance(rng, 0.5) ? c.toUpperCase() : c)).join('');
}

function tagName(rng: Rng): string {
  const r = rng();
  const pool = r < 0.65 ? ALLOWED_TAGS : r < 0.85 ? DISALLOWED_TAGS : DROPPED_TAGS;
  return mixCase(rng, pick(rng, pool));
}

export function srcsetValue(rng: Rng): string {
  const n = 1 + Math.floor(rng() * 4);
  const candidates = Array.from({ length: n }, () => pick(rng, URL_POOL).replace(/\s/g, '') + pick(rng, SRCSET_DESCRIPTORS));
  const separator = pick(rng, [', ', ',', ' , ', ',, ', ' ']);
  return pick(rng, ['', ' ', ',']) + candidates.join(separator) + pick(rng, ['', ' ', ',', ', ']);
}

function attributeValue(rng: Rng, name: string): string {
  const lower = name.toLowerCase();
  if (lower === 'srcset' && chance(rng, 0.8)) return srcsetValue(rng);
  if (['href', 'src', 'cite', 'poster'].includes(lower) && chance(rng, 0.8)) return pick(rng, URL_POOL);
  if (lower === 'dir') return pick(rng, ['rtl', 'LTR', ' auto ', 'sideways', '', 'rtl\u00A0', '\u3000rtl']);
  if (lower === 'rel') return pick(rng, ['nofollow', 'NoFollow opener evil', 'noopener noreferrer noopener', ' ugc\tsponsored ', 'external', '', 'opener']);
  const r = rng();
  if (r < 0.2) return '';
  if (r < 0.6) return pick(rng, TEXT_POOL);
  if (r < 0.8) return pick(rng, URL_POOL);
  return pick(rng, TEXT_POOL) + pick(rng, TEXT_POOL);
}

function attribute(rng: Rng, ownName?: string): string {
  const name = mixCase(rng, ownName ?? pick(rng, ATTRIBUTE_NAMES));
  const value = attributeValue(rng, name);
  const space = pick(rng, [' ', ' ', ' ', '\n', '\t', '  ', '/']);
  const r = rng();
  if (r < 0.1) return `${space}${name}`;
  if (r < 0.25) return `${space}${name}=${value.replace(/[\s"'>]/g, '') || 'x'}`;
  if (r < 0.45) return `${space}${name}='${value}'`;
  if (r < 0.5) return `${space}${name} = "${value}"`;
  return `${space}${name}="${value}"`;
}

// The attributes each element is likeliest to carry, so that allowed ones meet their own rules often.
const OWN_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  a: ['href', 'href', 'rel', 'title'],
  img: ['src', 'src', 'srcset', 'alt', 'sizes'],
  source: ['src', 'srcset', 'srcset', 'type', 'media'],
  video: ['src', 'poster', 'controls', 'playsinline', 'autoplay'],
  audio: ['src', 'controls', 'preload'],
  track: ['src', 'src', 'kind', 'default'],
  iframe: ['src', 'src', 'allowfullscreen', 'srcdoc'],
  ol: ['start', 'reversed'],
  li: ['value'],
  td: ['colspan', 'rowspan'],
  th: ['scope', 'colspan'],
  col: ['span'],
  blockquote: ['cite'],
  q: ['cite'],
  del: ['cite', 'datetime'],
  time: ['datetime'],
  abbr: ['title'],
  p: ['dir', 'lang'],
};

function openTag(rng: Rng, name: string): string {
  let attributes = '';
  const own = OWN_ATTRIBUTES[name.toLowerCase()];
  if (own !== undefined) {
    for (const attr of own) if (chance(rng, 0.5)) attributes += attribute(rng, attr);
  }
  const n = chance(rng, 0.4) ? 0 : 1 + Math.floor(rng() * 3);
  for (let i = 0; i < n; i++) attributes += attribute(rng);
  // Duplicates: the parser keeps the first.
  if (chance(rng, 0.1)) attributes += attributes;
  return `<${name}${attributes}${pick(rng, ['', '', '', ' ', '/', ' /'])}>`;
}

function text(rng: Rng): string {
  let out = '';
  const n = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < n; i++) out += pick(rng, TEXT_POOL) + (chance(rng, 0.5) ? ' ' : '');
  return out;
}

/** A run of markup: balanced elements, stray and missing end tags, text, comments, declarations. */
function content(rng: Rng, depth: number): string {
  let out = '';
  const n = 1 + Math.floor(rng() * (depth === 0 ? 12 : 4));
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.3 && depth < 4) {
      const name = tagName(rng);
      const close = chance(rng, 0.85) ? `</${chance(rng, 0.1) ? mixCase(rng, name) : name}${chance(rng, 0.05) ? ' x' : ''}>` : '';
      out += openTag(rng, name) + content(rng, depth + 1) + close;
    } else if (r < 0.45) {
      out += openTag(rng, tagName(rng));
    } else if (r < 0.55) {
      out += `</${tagName(rng)}>`;
    } else if (r < 0.85) {
      out += text(rng);
    } else {
      out += pick(rng, MARKUP_POOL);
    }
  }
  return out;
}

export function hostileHtml(rng: Rng): string {
  let html = content(rng, 0);
  if (chance(rng, 0.1)) html += pick(rng, UNTERMINATED) + (chance(rng, 0.5) ? text(rng) : '');
  return html;
}

// ---------------------------------------------------------------------------------------------
// URL generator: canonical-looking absolute URLs with, most of the time, one thing off

const URL_CHARS = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), '\t', '\n', '\u00E9', '\u00A0', '😀', '\u0000'];

function randomChars(rng: Rng, alphabet: readonly string[], max: number): string {
  let out = '';
  const n = Math.floor(rng() * max);
  for (let i = 0; i < n; i++) out += pick(rng, alphabet);
  return out;
}

export function randomUrl(rng: Rng): string {
  const plain = 'abcdefghijklmnopqrstuvwxyz0123456789-_'.split('');
  const label = (): string => pick(rng, ['news', 'cdn', 'a', 'x1', 'www', 'media-2', 'xn--bcher-kva', 'B', '1', '0x7f', '']) + randomChars(rng, plain, 3);
  const host = Array.from({ length: 1 + Math.floor(rng() * 3) }, label).join('.') + pick(rng, ['.com', '.example', '.co.uk', '', '.', '.1', ':80', ':443', ':8080']);
  const segment = (): string => pick(rng, ['a', 'b.jpg', '.', '..', '%2e', '.%2E', '', 'x y', '.well-known', '~u', 'a,b']) + randomChars(rng, chance(rng, 0.7) ? plain : URL_CHARS, 4);
  const path = Array.from({ length: Math.floor(rng() * 4) }, segment).map((s) => `/${s}`).join('') + pick(rng, ['', '', '/', '\\x']);
  const query = chance(rng, 0.3) ? `?${randomChars(rng, chance(rng, 0.6) ? plain.concat(['=', '&', '/', '?', '%']) : URL_CHARS, 8)}` : '';
  const fragment = chance(rng, 0.2) ? `#${randomChars(rng, chance(rng, 0.6) ? plain.concat(['#', '/', '?']) : URL_CHARS, 6)}` : '';
  const scheme = pick(rng, ['https://', 'https://', 'http://', 'HTTPS://', 'Http://', '//', 'https:', 'https:///', ' https://', 'https://user@']);
  return scheme + host + path + query + fragment;
}

/** The value as it must be written inside a double-quoted attribute to reach the parser unchanged. */
export function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}
