import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeArticle } from '../../bench/lib/articles.js';
import { createRng } from '../../bench/lib/text.js';
import { sanitizeArticleHtml } from '../../src/domain/sanitize-html.js';
import { referenceSanitize } from '../helpers/reference-sanitizer.js';

/**
 * sanitizeArticleHtml must write exactly what the sanitize-html 2.17.5 implementation wrote
 * (tests/helpers/reference-sanitizer.ts) for every input: stored content hashes and the golden feeds
 * depend on the bytes. A difference is fixed in the new implementation, unless the old output is
 * itself unsafe.
 */

// Normalised article URLs, as normalizeArticle hands them over.
const BASES = [
  'https://news.example.com/world/2026/story',
  'http://news.example.com/a/b/?q=1#frag',
  'https://news.example.co.uk/news/storm-hits-the-coast-7',
  'https://news.example.com/',
];

interface Mismatch {
  label: string;
  base: string;
  input: string;
  expected: string;
  actual: string;
}

/** Every case whose output differs from the reference (the first few, to keep the report readable). */
function mismatches(cases: Iterable<{ label: string; input: string; base: string }>, limit = 5): Mismatch[] {
  const found: Mismatch[] = [];
  for (const { label, input, base } of cases) {
    const expected = referenceSanitize(input, base);
    const actual = sanitizeArticleHtml(input, base);
    if (actual !== expected) found.push({ label, base, input, expected, actual });
    if (found.length === limit) break;
  }
  return found;
}

// parse-srcset (inside sanitize-html) logs every invalid descriptor; the hostile cases have plenty.
beforeAll(() => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterAll(() => {
  vi.restoreAllMocks();
});

describe('sanitizeArticleHtml against the sanitize-html reference: test inputs', () => {
  const files = ['tests/domain/sanitize-html.test.ts', 'tests/domain/normalize-article.test.ts'];
  const scanned = files.map((file) => scanLiterals(readFileSync(file, 'utf8')));
  const literals = [...new Set(scanned.flatMap((s) => s.literals))];

  it('finds the literals of both test files', () => {
    // Guards the scanner: if it lost track of quoting, these would be missing or mangled.
    expect(literals.length).toBeGreaterThan(250);
    expect(literals).toContain('jav&#x09;ascript:alert(1)');
    expect(literals).toContain('java\tscr\u0000ipt:alert(1)');
    expect(literals).toContain('<pre>a\r\nb\rc</pre>');
    expect(literals).toContain('\uDFFF\u0000\u0001\u0008\u000B\u000C\u001F\u007F\u0085\u009F\uFFFE\uFFFF\uD800');
    expect(literals).toContain("o'brien+news@mail.example.co.uk");
    expect(scanned.flatMap((s) => s.templates).length).toBeGreaterThanOrEqual(8);
  });

  it('gives the same output for every string literal, as HTML', () => {
    const cases = BASES.flatMap((base) => literals.map((input) => ({ label: 'literal', input, base })));
    expect(mismatches(cases)).toEqual([]);
  });

  it('gives the same output for every template of the tests, filled with every literal', () => {
    // `<a href="${href}">click</a>` and friends: the holes take each literal in turn (the tests'
    // hrefs, srcs and the BAD control-character string among them).
    const templates = scanned.flatMap((s) => s.templates);
    const cases = templates.flatMap((parts) =>
      literals.map((literal) => ({ label: 'template', input: parts.join(literal), base: BASES[0]! })),
    );
    expect(mismatches(cases)).toEqual([]);
  });
});

describe('sanitizeArticleHtml against the sanitize-html reference: bench articles', () => {
  it('gives the same output for the realistic article bodies the bench ingests', () => {
    const cases = Array.from({ length: 300 }, (_, i) => {
      const article = makeArticle({ seed: 200_000 + i, externalId: `a-${i}`, categories: ['World'], publishedAt: new Date(0) });
      return { label: `seed ${200_000 + i}`, input: article.contentHtml, base: new URL(article.url).href };
    });
    expect(mismatches(cases)).toEqual([]);
  });
});

describe('sanitizeArticleHtml against the sanitize-html reference: generated hostile HTML', () => {
  it('gives the same output for 3,000 seeded random documents', () => {
    function* cases() {
      for (let seed = 1; seed <= 3000; seed++) {
        const rng = createRng(seed);
        yield { label: `hostile seed ${seed}`, input: hostileHtml(rng), base: pick(rng, BASES) };
      }
    }
    expect(mismatches(cases())).toEqual([]);
  });

  it('gives the same output for 3,000 seeded random URLs in every URL attribute, and srcset lists', () => {
    // Mostly near-canonical URLs with one thing off, where a shortcut around the URL parser would show.
    function* cases() {
      for (let seed = 1; seed <= 3000; seed++) {
        const rng = createRng(1_000_000 + seed);
        const url = escapeAttribute(randomUrl(rng));
        const srcset = `${url}${pick(rng, SRCSET_DESCRIPTORS)}, ${url}${pick(rng, SRCSET_DESCRIPTORS)}`;
        const input =
          `<a href="${url}">a</a><img src="${url}" srcset="${srcset}"><video poster="${url}" src="${url}"></video>` +
          `<iframe src="${url}">f</iframe><q cite="${url}">q</q>` +
          `<picture><source srcset="${escapeAttribute(srcsetValue(rng))}"><img src="a.jpg" srcset="${escapeAttribute(srcsetValue(rng))}"></picture>`;
        yield { label: `url seed ${seed}`, input, base: pick(rng, BASES) };
      }
    }
    expect(mismatches(cases())).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// String literals of a TypeScript test file

/**
 * The string literals of `source` (quotes and escapes resolved) and its template literals, as the
 * parts between their `${…}` holes. A scanner for our own test files, not for TypeScript at large:
 * it skips comments but does not know regex literals, so a quote inside one would derail it (the
 * first test catches that).
 */
function scanLiterals(source: string): { literals: string[]; templates: string[][] } {
  const literals: string[] = [];
  const templates: string[][] = [];
  let i = 0;

  const scanCode = (untilBrace: boolean): void => {
    let depth = 0;
    while (i < source.length) {
      const c = source[i]!;
      if (c === '/' && source[i + 1] === '/') i = source.indexOf('\n', i) === -1 ? source.length : source.indexOf('\n', i);
      else if (c === '/' && source[i + 1] === '*') i = source.indexOf('*/', i) + 2;
      else if (c === "'" || c === '"') literals.push(unescapeJs(readQuoted(c)));
      else if (c === '`') readTemplate();
      else {
        if (c === '{') depth++;
        if (c === '}' && depth-- === 0 && untilBrace) {
          i++;
          return;
        }
        i++;
      }
    }
  };

  const readQuoted = (quote: string): string => {
    const start = ++i;
    while (source[i] !== quote) i += source[i] === '\\' ? 2 : 1;
    return source.slice(start, i++);
  };

  const readTemplate = (): void => {
    const parts: string[] = [];
    let start = ++i;
    for (;;) {
      if (source[i] === '\\') i += 2;
      else if (source[i] === '`' || (source[i] === '$' && source[i + 1] === '{')) {
        parts.push(unescapeJs(source.slice(start, i)));
        if (source[i] === '`') break;
        i += 2;
        scanCode(true);
        start = i;
      } else i++;
    }
    i++;
    if (parts.length === 1) literals.push(parts[0]!);
    else templates.push(parts);
  };

  scanCode(false);
  return { literals, templates };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };

function unescapeJs(body: string): string {
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\s\S])/g, (_, e: string) => {
    if (e.startsWith('u{')) return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
    if (e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    return SIMPLE_ESCAPES[e] ?? e;
  });
}

// ---------------------------------------------------------------------------------------------
// Hostile HTML generator

type Rng = () => number;

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function chance(rng: Rng, p: number): boolean {
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

const SRCSET_DESCRIPTORS = [
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

function srcsetValue(rng: Rng): string {
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

function hostileHtml(rng: Rng): string {
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

function randomUrl(rng: Rng): string {
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
function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}
