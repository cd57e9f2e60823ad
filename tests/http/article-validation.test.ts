import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, errorPaths, expectProblem, send } from '../helpers/builders.js';

// Every field rule of the article input, through POST /api/v1/articles: a broken rule is a 422 naming
// the field, and nothing is stored. Hostile text inside otherwise valid articles is cleaned instead.

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t?.close());

let seq = 0;
const freshId = () => `rule-${++seq}`;

/** Posts `input` and expects a 422 naming `path`; the article (when its id is a usable string) is not stored. */
async function expectRejected(input: Record<string, unknown>, path: string) {
  const answer = await send(t.app, 'POST', '/api/v1/articles', { body: input });
  expectProblem(answer, 422, [path]);
  expect(answer.body.type).toBe('/problems/validation-error');
  if (typeof input.externalId === 'string' && input.externalId.length > 0 && input.externalId.length <= 200) {
    const got = await send(t.app, 'GET', `/api/v1/articles/${encodeURIComponent(input.externalId)}`);
    expect(got.status).toBe(404);
  }
  return answer;
}

async function expectAccepted(input: Record<string, unknown>) {
  const answer = await send(t.app, 'POST', '/api/v1/articles', { body: input });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.article as Record<string, unknown>;
}

function without(field: string, overrides: Record<string, unknown> = {}) {
  const input = articleInput({ externalId: freshId(), ...overrides });
  delete input[field];
  return input;
}

describe('required fields', () => {
  it.each(['externalId', 'title', 'url', 'categories', 'publishedAt'])('a missing %s is a 422 at that path', async (field) => {
    const answer = await expectRejected(without(field), field);
    const error = (answer.body.errors as { path: string; message: string }[]).find((e) => e.path === field)!;
    expect(error.message).toBe('is required');
  });

  it('reports every broken field at once', async () => {
    const input = articleInput({ externalId: freshId(), title: 42, url: 'javascript:alert(1)', categories: [], publishedAt: 'yesterday' });
    const answer = await expectRejected(input, 'title');
    expect(errorPaths(answer)).toEqual(expect.arrayContaining(['title', 'url', 'categories', 'publishedAt']));
  });

  it('a body that is not an object is a 422', async () => {
    for (const body of ['null', '[]', '"an article"', '42']) {
      const answer = await send(t.app, 'POST', '/api/v1/articles', { body });
      expectProblem(answer, 422);
      expect(answer.body.errors).toHaveLength(1);
    }
  });
});

describe('wrong types', () => {
  it.each([
    ['externalId', 42],
    ['title', ['a title']],
    ['url', 42],
    ['summary', 42],
    ['contentHtml', { html: '<p>x</p>' }],
    ['authors', 'Jane Reporter'],
    ['categories', 'Local News'],
    ['tags', 'transport'],
    ['publishedAt', 1764316800000],
    ['updatedAt', 1764316800000],
    ['imageUrl', true],
    ['language', 7],
    ['enclosures', { url: 'https://cdn.example.com/a.mp3' }],
    ['status', true],
  ])('%s = %j is a 422 at that path', async (field, value) => {
    await expectRejected(articleInput({ externalId: freshId(), [field]: value }), field);
  });
});

describe('externalId', () => {
  it('must be 1 to 200 characters', async () => {
    await expectRejected(articleInput({ externalId: '' }), 'externalId');
    await expectRejected(articleInput({ externalId: 'x'.repeat(201) }), 'externalId');
    await expectRejected(articleInput({ externalId: '   ' }), 'externalId');
    const longest = 'y'.repeat(200);
    await expectAccepted(articleInput({ externalId: longest }));
    expect((await send(t.app, 'GET', `/api/v1/articles/${longest}`)).status).toBe(200);
  });

  it('may hold slashes, spaces and non-ASCII characters, and reads back through its Location', async () => {
    const externalId = 'wp/post 42/é?x=1#frag';
    const answer = await send(t.app, 'POST', '/api/v1/articles', { body: articleInput({ externalId }) });
    expect(answer.status).toBe(201);
    const location = answer.headers.get('location')!;
    expect(location).toBe(`/api/v1/articles/${encodeURIComponent(externalId)}`);
    const got = await send(t.app, 'GET', location);
    expect(got.status).toBe(200);
    expect(got.body.externalId).toBe(externalId);
  });
});

describe('title', () => {
  it('of 501 characters is a 422 at title', async () => {
    const answer = await expectRejected(articleInput({ externalId: freshId(), title: 'a'.repeat(501) }), 'title');
    expect(errorPaths(answer)).toEqual(['title']);
  });

  it('is measured after normalisation: 500 characters plus surrounding and repeated white space is accepted', async () => {
    const words = Array.from({ length: 100 }, () => 'abcd').join(' '); // 499 characters
    const padded = `  \n${words.replace(/ /g, ' \t  ')}!\n  `;
    const stored = await expectAccepted(articleInput({ externalId: freshId(), title: padded }));
    expect(stored.title).toBe(`${words}!`);
    expect([...(stored.title as string)].length).toBe(500);
  });

  it('counts an emoji as one character', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), title: '📰'.repeat(500) }));
    expect(stored.title).toBe('📰'.repeat(500));
    await expectRejected(articleInput({ externalId: freshId(), title: '📰'.repeat(501) }), 'title');
  });

  it('that is empty after normalisation is a 422', async () => {
    await expectRejected(articleInput({ externalId: freshId(), title: '' }), 'title');
    await expectRejected(articleInput({ externalId: freshId(), title: ' \t\n ' }), 'title');
    await expectRejected(articleInput({ externalId: freshId(), title: '\u0000\u0001' }), 'title');
  });
});

describe('url', () => {
  it.each([
    'javascript:alert(1)',
    '/local/cycle-lanes',
    'local/cycle-lanes',
    '//news.example.co.uk/local/cycle-lanes',
    'ftp://news.example.co.uk/file',
    'data:text/html,<script>alert(1)</script>',
    'mailto:desk@news.example.co.uk',
    'https://',
    '',
  ])('%j is a 422 at url', async (url) => {
    await expectRejected(articleInput({ externalId: freshId(), url }), 'url');
  });

  it('accepts absolute http and https URLs and stores them in their canonical form', async () => {
    const a = await expectAccepted(articleInput({ externalId: freshId(), url: 'http://news.example.co.uk/a' }));
    expect(a.url).toBe('http://news.example.co.uk/a');
    const b = await expectAccepted(articleInput({ externalId: freshId(), url: '  HTTPS://News.Example.CO.UK/b c  ' }));
    expect(b.url).toBe('https://news.example.co.uk/b%20c');
  });
});

describe('summary and contentHtml', () => {
  it('are optional and may be null', async () => {
    const stored = await expectAccepted(without('summary', { contentHtml: null }));
    expect(stored.summary).toBeNull();
    expect(stored.contentHtml).toBeNull();
  });

  it('contentHtml over 1 MB is a 422 at contentHtml', async () => {
    await expectRejected(articleInput({ externalId: freshId(), contentHtml: `<p>${'x'.repeat(1_048_576)}</p>` }), 'contentHtml');
  });

  it('summary loses markup and collapses white space', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), summary: '  <p>The council <b>voted</b></p>\n\n<p>7-2.</p> ' }));
    expect(stored.summary).toBe('The council voted 7-2.');
  });

  it('relative links in contentHtml are resolved against url', async () => {
    const stored = await expectAccepted(
      articleInput({
        externalId: freshId(),
        url: 'https://news.example.co.uk/local/story',
        contentHtml: '<p><a href="/local/other">other</a> <img src="pic.jpg" alt="a pic"></p>',
      }),
    );
    expect(stored.contentHtml).toContain('href="https://news.example.co.uk/local/other"');
    expect(stored.contentHtml).toContain('src="https://news.example.co.uk/local/pic.jpg"');
  });
});

describe('authors', () => {
  it.each([
    [[{}], 'authors.0.name'],
    [[{ name: 'Jane' }, { name: 42 }], 'authors.1.name'],
    [[{ name: '   ' }], 'authors.0.name'],
    [[{ name: 'Jane', email: 'not an email' }], 'authors.0.email'],
    [[{ name: 'Jane', url: '/people/jane' }], 'authors.0.url'],
    [[{ name: 'Jane', url: 'javascript:alert(1)' }], 'authors.0.url'],
    [['Jane Reporter'], 'authors.0'],
  ])('%j is a 422 at %s', async (authors, path) => {
    await expectRejected(articleInput({ externalId: freshId(), authors }), path);
  });

  it('are stored with name, email and url; an empty email counts as none', async () => {
    const stored = await expectAccepted(
      articleInput({
        externalId: freshId(),
        authors: [
          { name: ' Jane  Reporter ', email: 'jane@news.example.co.uk', url: 'https://news.example.co.uk/people/jane' },
          { name: 'Sam Desk', email: '' },
        ],
      }),
    );
    expect(stored.authors).toEqual([
      { name: 'Jane Reporter', email: 'jane@news.example.co.uk', url: 'https://news.example.co.uk/people/jane' },
      { name: 'Sam Desk' },
    ]);
  });

  it('default to an empty list', async () => {
    expect((await expectAccepted(without('authors'))).authors).toEqual([]);
  });
});

describe('categories', () => {
  it.each([
    [[], 'categories'],
    [['World', 5], 'categories.1'],
    [['World', ''], 'categories.1'],
    [['World', '  \u0007 '], 'categories.1'],
    [['All'], 'categories.0'],
  ])('%j is a 422 at %s', async (categories, path) => {
    await expectRejected(articleInput({ externalId: freshId(), categories }), path);
  });

  it('are stored with their slugs; spellings with one slug are one category, the first spelling names it', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), categories: ['Breaking  News', 'World', 'breaking news'] }));
    expect(stored.categories).toEqual([
      { slug: 'breaking-news', name: 'Breaking News' },
      { slug: 'world', name: 'World' },
    ]);
  });
});

describe('tags', () => {
  it.each([
    [[1], 'tags.0'],
    [['ok', null], 'tags.1'],
    [['x'.repeat(201)], 'tags.0'],
  ])('%j is a 422 at %s', async (tags, path) => {
    await expectRejected(articleInput({ externalId: freshId(), tags }), path);
  });

  it('are cleaned and de-duplicated; empty ones are dropped', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), tags: [' Transport ', 'transport', '', 'cycling'] }));
    expect(stored.tags).toEqual(['Transport', 'cycling']);
  });

  it('default to an empty list', async () => {
    expect((await expectAccepted(without('tags'))).tags).toEqual([]);
  });
});

describe('publishedAt and updatedAt', () => {
  it.each([
    '2026-11-28T08:00:00', // no offset
    '2026-11-28 08:00:00Z', // space, not T
    '2026-11-28', // a date alone
    '2025-02-30T08:00:00Z', // impossible day
    '2026-13-01T08:00:00Z', // impossible month
    '2026-11-28T24:00:00Z', // impossible hour
    '2026-11-28T08:00:00+25:00', // impossible offset
    'Sat, 28 Nov 2026 08:00:00 GMT', // RFC 822, not RFC 3339
    '',
  ])('%j is a 422 at publishedAt and at updatedAt', async (date) => {
    await expectRejected(articleInput({ externalId: freshId(), publishedAt: date }), 'publishedAt');
    await expectRejected(articleInput({ externalId: freshId(), updatedAt: date }), 'updatedAt');
  });

  it.each([
    '0000-01-01T00:00:00Z', // the year 0: RFC 3339 allows it, Postgres has none (the insert failed: 500)
    '0100-01-01T00:30:00+01:00', // the year 99 once in UTC
    '0001-01-01T00:00:00Z', // stored, but read back by the driver as 2001
    '0049-06-01T12:00:00Z', // … as 2049
    '0099-12-31T23:59:59Z', // … as 1999
  ])('publishedAt %j, which storage cannot round-trip, is a 422 at publishedAt', async (publishedAt) => {
    await expectRejected(articleInput({ externalId: freshId(), publishedAt }), 'publishedAt');
  });

  it('an updatedAt before publishedAt is clamped to publishedAt, even one storage could not hold', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), publishedAt: '2026-11-28T08:00:00Z', updatedAt: '0000-01-01T00:00:00Z' }));
    expect(stored.updatedAt).toBe('2026-11-28T08:00:00.000Z');
    const earlier = await expectAccepted(articleInput({ externalId: freshId(), publishedAt: '2026-11-28T08:00:00Z', updatedAt: '2026-11-27T08:00:00Z' }));
    expect(earlier.updatedAt).toBe('2026-11-28T08:00:00.000Z');
  });

  it('accepts the earliest and the latest storable instants, and reads them back unchanged', async () => {
    const externalId = freshId();
    const earliest = await expectAccepted(articleInput({ externalId, publishedAt: '0100-01-01T00:00:00Z' }));
    expect(earliest.publishedAt).toBe('0100-01-01T00:00:00.000Z');
    expect((await send(t.app, 'GET', `/api/v1/articles/${externalId}`)).body.publishedAt).toBe('0100-01-01T00:00:00.000Z');
    const latest = await expectAccepted(articleInput({ externalId: freshId(), publishedAt: '9999-12-31T23:59:59.999Z' }));
    expect(latest.publishedAt).toBe('9999-12-31T23:59:59.999Z');
  });

  it('accepts 29 February of a leap year', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), publishedAt: '2024-02-29T12:00:00Z' }));
    expect(stored.publishedAt).toBe('2024-02-29T12:00:00.000Z');
  });

  it('are stored in UTC; updatedAt defaults to publishedAt', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), publishedAt: '2026-11-28T09:30:00+01:00' }));
    expect(stored.publishedAt).toBe('2026-11-28T08:30:00.000Z');
    expect(stored.updatedAt).toBe('2026-11-28T08:30:00.000Z');
  });

  it('keeps a given updatedAt, converted to UTC', async () => {
    const stored = await expectAccepted(
      articleInput({ externalId: freshId(), publishedAt: '2026-11-28T08:00:00Z', updatedAt: '2026-11-28T10:15:00.250-05:00' }),
    );
    expect(stored.updatedAt).toBe('2026-11-28T15:15:00.250Z');
  });

  it('a publishedAt in the future (scheduled) is accepted as given', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), publishedAt: '2030-01-01T00:00:00Z' }));
    expect(stored.publishedAt).toBe('2030-01-01T00:00:00.000Z');
  });
});

describe('imageUrl and language', () => {
  it.each(['/images/a.jpg', 'javascript:alert(1)', 'not a url'])('imageUrl %j is a 422 at imageUrl', async (imageUrl) => {
    await expectRejected(articleInput({ externalId: freshId(), imageUrl }), 'imageUrl');
  });

  it.each(['english', 'en_GB', 'e', 'en-GB-toolongsubtag'])('language %j is a 422 at language', async (language) => {
    await expectRejected(articleInput({ externalId: freshId(), language }), 'language');
  });

  it('language defaults to SITE_LANGUAGE and is stored in its conventional case', async () => {
    expect((await expectAccepted(articleInput({ externalId: freshId() }))).language).toBe('en-GB');
    expect((await expectAccepted(articleInput({ externalId: freshId(), language: 'PT-br' }))).language).toBe('pt-BR');
  });

  it('imageUrl is stored', async () => {
    const stored = await expectAccepted(articleInput({ externalId: freshId(), imageUrl: 'https://cdn.example.com/a.jpg' }));
    expect(stored.imageUrl).toBe('https://cdn.example.com/a.jpg');
  });
});

describe('enclosures', () => {
  const audio = { url: 'https://cdn.example.com/episode.mp3', type: 'audio/mpeg', length: 12_345_678, durationSeconds: 1800 };

  it.each([
    [[{ ...audio, url: '/episode.mp3' }], 'enclosures.0.url'],
    [[{ ...audio, type: 'mp3' }], 'enclosures.0.type'],
    [[{ ...audio, length: -1 }], 'enclosures.0.length'],
    [[{ ...audio, length: '12345' }], 'enclosures.0.length'],
    [[{ url: audio.url, type: audio.type }], 'enclosures.0.length'],
    [[audio, { ...audio, durationSeconds: 1.5 }], 'enclosures.1.durationSeconds'],
  ])('%j is a 422 at %s', async (enclosures, path) => {
    await expectRejected(articleInput({ externalId: freshId(), enclosures }), path);
  });

  it('several are stored, in order', async () => {
    const image = { url: 'https://cdn.example.com/cover.jpg', type: 'image/jpeg', length: 2048 };
    const stored = await expectAccepted(articleInput({ externalId: freshId(), enclosures: [audio, image] }));
    expect(stored.enclosures).toEqual([audio, image]);
  });
});

describe('status', () => {
  it('must be draft or published', async () => {
    await expectRejected(articleInput({ externalId: freshId(), status: 'archived' }), 'status');
    await expectRejected(articleInput({ externalId: freshId(), status: 'Published' }), 'status');
  });

  it('defaults to published; draft is kept', async () => {
    expect((await expectAccepted(articleInput({ externalId: freshId() }))).status).toBe('published');
    expect((await expectAccepted(articleInput({ externalId: freshId(), status: 'draft' }))).status).toBe('draft');
  });
});

describe('hostile input is cleaned, not rejected', () => {
  it('script tags, event handlers and javascript: links leave contentHtml; the stored article shows the cleaned value', async () => {
    const externalId = freshId();
    const answer = await send(t.app, 'POST', '/api/v1/articles', {
      body: articleInput({
        externalId,
        contentHtml:
          '<p onclick="steal()">Hello <script>alert(document.cookie)</script><b onmouseover="x()">world</b></p>' +
          '<img src="https://cdn.example.com/a.jpg" onerror="alert(1)" alt="a">' +
          '<a href="javascript:alert(1)">click</a><style>body{display:none}</style>' +
          '<iframe src="https://evil.example.com/"></iframe>',
      }),
    });
    expect(answer.status).toBe(201);
    const got = await send(t.app, 'GET', `/api/v1/articles/${externalId}`);
    const html = got.body.contentHtml as string;
    for (const html_ of [html, answer.body.article.contentHtml as string]) {
      expect(html_).not.toMatch(/<script|alert\(document|onclick|onmouseover|onerror|javascript:|<style|display:none|evil\.example/i);
    }
    expect(html).toContain('Hello');
    expect(html).toContain('<b>world</b>');
    expect(html).toContain('<img src="https://cdn.example.com/a.jpg" alt="a"');
  });

  it('control characters leave title, summary, tags, categories and author names', async () => {
    const externalId = freshId();
    const answer = await send(t.app, 'POST', '/api/v1/articles', {
      body: articleInput({
        externalId,
        title: 'Council\u0000 approves\u0008 cycle\u000B lanes\u001F\uFFFF',
        summary: 'Voted\u0001 7-2\u000C in favour\uFFFE.',
        tags: ['trans\u0000port', '\u001Bcycling'],
        categories: ['Local\u0007 News'],
        authors: [{ name: 'Jane\u0000 Reporter' }],
      }),
    });
    expect(answer.status, answer.text).toBe(201);
    const got = (await send(t.app, 'GET', `/api/v1/articles/${externalId}`)).body;
    expect(got.title).toBe('Council approves cycle lanes');
    expect(got.summary).toBe('Voted 7-2 in favour.');
    expect(got.tags).toEqual(['transport', 'cycling']);
    expect(got.categories).toEqual([{ slug: 'local-news', name: 'Local News' }]);
    expect(got.authors).toEqual([{ name: 'Jane Reporter' }]);
    // Nothing XML-illegal anywhere in what we would later publish.
    expect(JSON.stringify(got)).not.toMatch(/\\u000[0-8bcef]|\\u001[0-9a-f]|\uFFFE|\uFFFF/i);
  });

  it('markup in the title is removed, script content included', async () => {
    const externalId = freshId();
    await send(t.app, 'POST', '/api/v1/articles', {
      body: articleInput({ externalId, title: '<b>Breaking:</b> <script>alert(1)</script>cycle lanes <img src=x onerror=alert(1)>' }),
    });
    const got = (await send(t.app, 'GET', `/api/v1/articles/${externalId}`)).body;
    expect(got.title).toBe('Breaking: cycle lanes');
  });

  it('a lone surrogate is removed and emoji survive', async () => {
    const externalId = freshId();
    await send(t.app, 'POST', '/api/v1/articles', { body: articleInput({ externalId, title: 'Cycle \uD800lanes 🚲' }) });
    expect((await send(t.app, 'GET', `/api/v1/articles/${externalId}`)).body.title).toBe('Cycle lanes 🚲');
  });
});
