import { describe, expect, it } from 'vitest';
import { articleInputSchema, type ArticleInput, type NormalizedArticle } from '../../src/domain/article-input.js';
import { normalizeArticle, normalizeLanguageTag } from '../../src/domain/normalize-article.js';

const OPTIONS = { defaultLanguage: 'en-GB' };

/** A valid article as the zod schema would hand it over; tests override one thing at a time. */
function articleInput(overrides: Partial<ArticleInput> = {}): ArticleInput {
  return {
    externalId: 'cms-1',
    title: 'Storm hits the coast',
    url: 'https://news.example.com/world/2026/storm',
    summary: 'A short summary.',
    contentHtml: '<p>Body</p>',
    authors: [{ name: 'Ada Lovelace' }],
    categories: ['World'],
    tags: [],
    publishedAt: '2026-11-29T08:00:00Z',
    updatedAt: null,
    imageUrl: null,
    language: null,
    enclosures: [],
    status: 'published',
    ...overrides,
  };
}

function normalized(overrides: Partial<ArticleInput> = {}): NormalizedArticle {
  const result = normalizeArticle(articleInput(overrides), OPTIONS);
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`);
  return result.article;
}

function errorsOf(overrides: Partial<ArticleInput>): { path: string; message: string }[] {
  const result = normalizeArticle(articleInput(overrides), OPTIONS);
  if (result.ok) throw new Error('expected errors, got ok');
  return result.errors;
}

const pathsOf = (overrides: Partial<ArticleInput>): string[] => errorsOf(overrides).map((e) => e.path);

// The same character classes stripXmlIllegal removes, to check outputs independently of it.
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) return Object.values(value).flatMap(allStrings);
  return [];
}

describe('normalizeArticle: a valid article', () => {
  it('returns the cleaned article with every field', () => {
    const result = normalizeArticle(
      articleInput({
        externalId: '  cms-1  ',
        title: '  Storm   hits\nthe coast ',
        summary: ' Short \t summary ',
        contentHtml: '<p onclick="x()">Body <a href="/more">more</a></p>',
        authors: [{ name: ' Ada  Lovelace ', email: ' ada@example.com ', url: 'https://EXAMPLE.com/ada' }],
        categories: [' World ', 'Europe'],
        tags: [' storms ', 'weather'],
        publishedAt: '2026-11-29T09:30:00+01:30',
        updatedAt: '2026-11-29T10:00:00Z',
        imageUrl: 'https://CDN.example.com/a.jpg',
        language: 'en-us',
        enclosures: [{ url: 'https://cdn.example.com/a.mp3', type: 'Audio/MPEG', length: 123, durationSeconds: 60 }],
        status: 'draft',
      }),
      OPTIONS,
    );
    expect(result).toEqual({
      ok: true,
      article: {
        externalId: 'cms-1',
        title: 'Storm hits the coast',
        url: 'https://news.example.com/world/2026/storm',
        summary: 'Short summary',
        contentHtml: '<p>Body <a href="https://news.example.com/more">more</a></p>',
        authors: [{ name: 'Ada Lovelace', email: 'ada@example.com', url: 'https://example.com/ada' }],
        categories: [
          { name: 'World', slug: 'world' },
          { name: 'Europe', slug: 'europe' },
        ],
        tags: ['storms', 'weather'],
        publishedAt: new Date('2026-11-29T08:00:00.000Z'),
        updatedAt: new Date('2026-11-29T10:00:00.000Z'),
        imageUrl: 'https://cdn.example.com/a.jpg',
        language: 'en-US',
        enclosures: [{ url: 'https://cdn.example.com/a.mp3', type: 'audio/mpeg', length: 123, durationSeconds: 60 }],
        status: 'draft',
      },
    });
  });

  it('accepts what the zod schema outputs (defaults applied)', () => {
    const input = articleInputSchema.parse({
      externalId: 'x',
      title: 'T',
      url: ' https://news.example.com/a ',
      categories: ['News'],
      publishedAt: '2026-01-01t00:00:00z',
    });
    const result = normalizeArticle(input, OPTIONS);
    expect(result.ok && result.article).toMatchObject({
      url: 'https://news.example.com/a',
      summary: null,
      contentHtml: null,
      authors: [],
      tags: [],
      enclosures: [],
      updatedAt: null,
      imageUrl: null,
      language: 'en-GB',
      status: 'published',
      publishedAt: new Date('2026-01-01T00:00:00Z'),
    });
  });

  it('omits absent optional author and enclosure keys instead of setting them to undefined', () => {
    const article = normalized({ enclosures: [{ url: 'https://cdn.example.com/a.mp3', type: 'audio/mpeg', length: 0 }] });
    expect(Object.keys(article.authors[0]!)).toEqual(['name']);
    expect(Object.keys(article.enclosures[0]!)).toEqual(['url', 'type', 'length']);
  });
});

describe('normalizeArticle: title', () => {
  it('collapses white space', () => {
    expect(normalized({ title: '\t Big \n\n news\u00A0today ' }).title).toBe('Big news today');
  });

  it('keeps entities literal: plain text is not HTML', () => {
    expect(normalized({ title: 'Tom &amp; Jerry &lt;3' }).title).toBe('Tom &amp; Jerry &lt;3');
  });

  it('strips tags and drops script content', () => {
    expect(normalized({ title: '<b>Breaking:</b> <script>alert(1)</script>storm <img src=x onerror=alert(1)>' }).title).toBe(
      'Breaking: storm',
    );
  });

  it('refuses an empty title, including one that is only white space, markup or control characters', () => {
    for (const title of ['', '   ', '<br><p></p>', '\u0001\u0002']) {
      expect(errorsOf({ title })).toEqual([{ path: 'title', message: 'must not be empty' }]);
    }
  });

  it('accepts 500 characters and refuses 501', () => {
    expect(normalized({ title: 'a'.repeat(500) }).title).toHaveLength(500);
    expect(errorsOf({ title: 'a'.repeat(501) })).toEqual([
      { path: 'title', message: 'must be at most 500 characters after white space is collapsed' },
    ]);
  });

  it('accepts a title that is over 500 characters only because of white space', () => {
    const title = `  ${'word '.repeat(99)}word${'\n'.repeat(10)}`;
    expect(title.length).toBeGreaterThan(500);
    expect(normalized({ title }).title).toHaveLength(499);
  });

  it('counts code points, so 500 emoji (1000 UTF-16 units) fit', () => {
    expect(normalized({ title: '😀'.repeat(500) }).title).toHaveLength(1000);
    expect(pathsOf({ title: '😀'.repeat(501) })).toEqual(['title']);
  });

  it('keeps emoji and RTL text intact', () => {
    const title = 'عاجل: 👩‍👩‍👧 שלום \u200Fworld 🇬🇧';
    expect(normalized({ title }).title).toBe(title);
  });
});

describe('normalizeArticle: summary and content', () => {
  it('turns an empty summary into null', () => {
    expect(normalized({ summary: '' }).summary).toBeNull();
    expect(normalized({ summary: '  \n ' }).summary).toBeNull();
    expect(normalized({ summary: '<p> </p>' }).summary).toBeNull();
    expect(normalized({ summary: undefined }).summary).toBeNull();
  });

  it('strips tags from the summary, keeping words apart at block boundaries', () => {
    expect(normalized({ summary: '<p>First.</p><p>Second <em>point</em>.</p><style>p{}</style>' }).summary).toBe(
      'First. Second point.',
    );
  });

  it('turns content that is empty after sanitising into null', () => {
    expect(normalized({ contentHtml: '' }).contentHtml).toBeNull();
    expect(normalized({ contentHtml: null }).contentHtml).toBeNull();
    expect(normalized({ contentHtml: '<script>alert(1)</script>' }).contentHtml).toBeNull();
    expect(normalized({ contentHtml: '<p>&nbsp;</p><p> </p><br>' }).contentHtml).toBeNull();
  });

  it('keeps content that is only an image', () => {
    expect(normalized({ contentHtml: '<img src="/a.jpg" alt="">' }).contentHtml).toBe(
      '<img src="https://news.example.com/a.jpg" alt="" />',
    );
  });

  it('sanitises content and resolves relative URLs against the normalised article URL', () => {
    const article = normalized({
      url: 'HTTPS://News.Example.COM:443/world/2026/storm',
      contentHtml: '<p style="x">See <a href="../maps">map</a><img src="i.jpg" srcset="i.jpg 1x, /i2.jpg 2x" onerror="x()"></p>',
    });
    expect(article.contentHtml).toBe(
      '<p>See <a href="https://news.example.com/world/maps">map</a>' +
        '<img src="https://news.example.com/world/2026/i.jpg" srcset="https://news.example.com/world/2026/i.jpg 1x, https://news.example.com/i2.jpg 2x" /></p>',
    );
  });

  it('never lets ]]> through in content', () => {
    expect(normalized({ contentHtml: '<p>x ]]> y</p>' }).contentHtml).toBe('<p>x ]]&gt; y</p>');
  });
});

describe('normalizeArticle: authors', () => {
  it('refuses an author with an empty name', () => {
    expect(errorsOf({ authors: [{ name: 'Ok' }, { name: '  ' }] })).toEqual([
      { path: 'authors.1.name', message: 'must not be empty' },
    ]);
  });

  it.each(['not-an-email', 'a@b', 'a@@b.com', 'a b@example.com', '@example.com', 'a@-example.com', 'a@example..com', '"q"@example.com'])(
    'refuses the email %j',
    (email) => {
      expect(pathsOf({ authors: [{ name: 'A', email }] })).toEqual(['authors.0.email']);
    },
  );

  it.each(["o'brien+news@mail.example.co.uk", 'A.B@Example.COM', 'x_y-z@sub-domain.example.org'])('accepts the email %j', (email) => {
    expect(normalized({ authors: [{ name: 'A', email }] }).authors[0]!.email).toBe(email);
  });

  it('treats an empty email as absent', () => {
    expect(normalized({ authors: [{ name: 'A', email: '  ' }] }).authors).toEqual([{ name: 'A' }]);
  });

  it('normalises the author URL and refuses a non-http one', () => {
    expect(normalized({ authors: [{ name: 'A', url: ' https://Example.com ' }] }).authors[0]!.url).toBe('https://example.com/');
    expect(pathsOf({ authors: [{ name: 'A', url: 'ftp://example.com/' }] })).toEqual(['authors.0.url']);
  });
});

describe('normalizeArticle: categories', () => {
  it('cleans names and derives slugs', () => {
    expect(normalized({ categories: ['  Breaking   News ', 'Café Société'] }).categories).toEqual([
      { name: 'Breaking News', slug: 'breaking-news' },
      { name: 'Café Société', slug: 'cafe-societe' },
    ]);
  });

  it('merges categories with the same slug, first name wins', () => {
    expect(normalized({ categories: ['World', 'world', 'WORLD!', 'Europe'] }).categories).toEqual([
      { name: 'World', slug: 'world' },
      { name: 'Europe', slug: 'europe' },
    ]);
  });

  it('refuses an empty category name at its index', () => {
    expect(errorsOf({ categories: ['World', ' \u0000 '] })).toEqual([{ path: 'categories.1', message: 'must not be empty' }]);
  });

  it('refuses a category whose slug is the reserved "all", saying why', () => {
    const errors = errorsOf({ categories: ['World', 'News', ' All! '] });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('categories.2');
    expect(errors[0]!.message).toContain('reserved for the all-articles feed');
    expect(errors[0]!.message).toContain('"All!"');
  });

  it('refuses an empty category list', () => {
    expect(pathsOf({ categories: [] })).toEqual(['categories']);
  });
});

describe('normalizeArticle: tags', () => {
  it('trims, collapses, drops empties and deduplicates case-insensitively (first spelling kept)', () => {
    expect(normalized({ tags: [' Climate  change ', 'climate change', '', '  ', 'CLIMATE CHANGE', 'Floods', 'floods'] }).tags).toEqual([
      'Climate change',
      'Floods',
    ]);
  });

  it('treats composed and decomposed spellings as one tag', () => {
    expect(normalized({ tags: ['Caf\u00E9', 'cafe\u0301'] }).tags).toEqual(['Caf\u00E9']);
  });
});

describe('normalizeArticle: dates', () => {
  it('converts offsets to UTC Date objects, keeping milliseconds', () => {
    const article = normalized({ publishedAt: '2026-03-01T23:15:00.250-05:00', updatedAt: '2026-03-02T04:20:00Z' });
    expect(article.publishedAt.toISOString()).toBe('2026-03-02T04:15:00.250Z');
    expect(article.updatedAt?.toISOString()).toBe('2026-03-02T04:20:00.000Z');
  });

  it('leaves updatedAt null when not given', () => {
    expect(normalized({ updatedAt: undefined }).updatedAt).toBeNull();
    expect(normalized({ updatedAt: null }).updatedAt).toBeNull();
  });

  it('clamps an updatedAt before publishedAt to publishedAt', () => {
    const article = normalized({ publishedAt: '2026-03-02T10:00:00Z', updatedAt: '2026-03-01T09:00:00Z' });
    expect(article.updatedAt?.toISOString()).toBe('2026-03-02T10:00:00.000Z');
    expect(article.updatedAt).not.toBe(article.publishedAt); // a copy, not a shared mutable Date
  });

  it('reports an unparseable date (input that bypassed the schema)', () => {
    expect(pathsOf({ publishedAt: 'yesterday', updatedAt: '2026-13-45T99:00:00Z' })).toEqual(['publishedAt', 'updatedAt']);
  });
});

describe('normalizeArticle: URLs', () => {
  it('normalises the article, image and enclosure URLs with the WHATWG parser', () => {
    const article = normalized({
      url: '  HTTP://Bücher.Example:80/a b?x=1#top ',
      imageUrl: 'https://CDN.example.com:443/i.jpg',
      enclosures: [{ url: 'https://Media.Example.com/a.mp3', type: 'audio/mpeg', length: 1 }],
    });
    expect(article.url).toBe('http://xn--bcher-kva.example/a%20b?x=1#top');
    expect(article.imageUrl).toBe('https://cdn.example.com/i.jpg');
    expect(article.enclosures[0]!.url).toBe('https://media.example.com/a.mp3');
  });

  it('refuses non-http(s) URLs at their paths (input that bypassed the schema)', () => {
    expect(
      pathsOf({
        url: 'javascript:alert(1)',
        imageUrl: 'data:image/png;base64,AA',
        enclosures: [{ url: '/relative.mp3', type: 'audio/mpeg', length: 1 }],
      }),
    ).toEqual(['url', 'imageUrl', 'enclosures.0.url']);
  });

  it('refuses an enclosure type that is not a MIME type', () => {
    expect(pathsOf({ enclosures: [{ url: 'https://cdn.example.com/a.mp3', type: 'mp3', length: 1 }] })).toEqual([
      'enclosures.0.type',
    ]);
  });
});

describe('normalizeArticle: language', () => {
  it('defaults to options.defaultLanguage', () => {
    expect(normalized({ language: null }).language).toBe('en-GB');
    expect(normalizeArticle(articleInput({ language: undefined }), { defaultLanguage: 'fr-ca' })).toMatchObject({
      ok: true,
      article: { language: 'fr-CA' },
    });
  });

  it('normalises case', () => {
    expect(normalized({ language: 'EN-gb' }).language).toBe('en-GB');
  });

  it.each([
    ['en-gb', 'en-GB'],
    ['DE', 'de'],
    ['zh-hant-tw', 'zh-Hant-TW'],
    ['es-419', 'es-419'],
    ['sr-LATN-rs', 'sr-Latn-RS'],
    ['en-US-u-CA-Gregory', 'en-US-u-ca-gregory'],
    ['de-CH-X-Phonebk-AB', 'de-CH-x-phonebk-ab'],
  ])('normalizeLanguageTag(%j) is %j', (tag, expected) => {
    expect(normalizeLanguageTag(tag)).toBe(expected);
  });
});

describe('normalizeArticle: errors', () => {
  it('returns every error at once, each at its own path', () => {
    const errors = errorsOf({
      title: '',
      authors: [{ name: 'A', email: 'bad' }, { name: '' }],
      categories: ['ok', '', 'all'],
    });
    expect(errors.map((e) => e.path)).toEqual(['title', 'authors.0.email', 'authors.1.name', 'categories.1', 'categories.2']);
    expect(errors.every((e) => e.message.length > 0)).toBe(true);
  });

  it('refuses an externalId that is empty after cleaning', () => {
    expect(pathsOf({ externalId: ' \u0007 ' })).toEqual(['externalId']);
  });

  it('keeps inner white space of externalId (an identifier is not prose)', () => {
    expect(normalized({ externalId: ' a  b ' }).externalId).toBe('a  b');
  });
});

describe('normalizeArticle: control characters in every field', () => {
  // Lone surrogates at both ends: a low half first, a high half last (the other way round is a valid pair).
  const BAD = '\uDFFF\u0000\u0001\u0008\u000B\u000C\u001F\u007F\u0085\u009F\uFFFE\uFFFF\uD800';

  it('strips XML-illegal characters from every string of the result', () => {
    const result = normalizeArticle(
      articleInput({
        externalId: `cms${BAD}-1`,
        title: `Ti${BAD}tle 😀`,
        url: `https://news.example.com/a${BAD}b`,
        summary: `Sum${BAD}mary`,
        contentHtml: `<p title="x">Bo${BAD}dy &#1;&#xFFFE;</p><a href="/x${BAD}y">l${BAD}</a><img src="i.jpg" alt="a${BAD}">`,
        authors: [{ name: `Ada${BAD}`, email: `ada${BAD}@example.com`, url: `https://example.com/${BAD}ada` }],
        categories: [`Wor${BAD}ld`],
        tags: [`t${BAD}ag`, BAD],
        publishedAt: '2026-11-29T08:00:00Z',
        imageUrl: `https://cdn.example.com/${BAD}i.jpg`,
        language: `en-gb${BAD}`,
        enclosures: [{ url: `https://cdn.example.com/${BAD}a.mp3`, type: `audio/mpeg${BAD}`, length: 1 }],
      }),
      OPTIONS,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const strings = allStrings(result.article);
    expect(strings.length).toBeGreaterThan(15);
    expect(strings.filter((s) => ILLEGAL.test(s))).toEqual([]);
    expect(result.article).toMatchObject({
      externalId: 'cms-1',
      title: 'Title 😀',
      url: 'https://news.example.com/ab',
      summary: 'Summary',
      contentHtml: '<p>Body </p><a href="https://news.example.com/xy">l</a><img src="https://news.example.com/i.jpg" alt="a" />',
      authors: [{ name: 'Ada', email: 'ada@example.com', url: 'https://example.com/ada' }],
      categories: [{ name: 'World', slug: 'world' }],
      tags: ['tag'],
      imageUrl: 'https://cdn.example.com/i.jpg',
      language: 'en-GB',
      enclosures: [{ url: 'https://cdn.example.com/a.mp3', type: 'audio/mpeg', length: 1 }],
    });
  });

  it('keeps tab and newline where they are legal, collapsing them in plain text', () => {
    expect(normalized({ title: 'a\tb\nc\rd' }).title).toBe('a b c d');
    expect(normalized({ contentHtml: '<pre>a\tb\nc</pre>' }).contentHtml).toBe('<pre>a\tb\nc</pre>');
  });
});
