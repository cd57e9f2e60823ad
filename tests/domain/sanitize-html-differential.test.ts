import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeArticle } from '../../bench/lib/articles.js';
import { WORDPRESS_BODY } from '../../bench/lib/wordpress-body.js';
import { createRng } from '../../bench/lib/text.js';
import { sanitizeArticleHtml } from '../../src/domain/sanitize-html.js';
import { referenceSanitize } from '../helpers/reference-sanitizer.js';
import { SRCSET_DESCRIPTORS, escapeAttribute, hostileHtml, pick, randomUrl, srcsetValue } from '../helpers/hostile-html.js';

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

  it('gives the same output for a WordPress-rendered body, against every base', () => {
    expect(mismatches(BASES.map((base) => ({ label: `WordPress body, ${base}`, input: WORDPRESS_BODY, base })))).toEqual([]);
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
