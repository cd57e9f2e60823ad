import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NormalizedArticle } from '../../src/domain/article-input.js';
import { validateArticle } from '../../src/ingest.js';
import { articleBodies, articleRowJson, contentHash, jsonString } from '../../src/storage/articles.js';
import { createRng } from '../../bench/lib/text.js';
import { articleInput } from '../helpers/builders.js';

/**
 * Stored content hashes decide whether a re-sent article is a change (a new updated_at, a feed
 * change, a new ETag). They must not move when the code that computes them does.
 */

function normalised(overrides: Record<string, unknown> = {}): NormalizedArticle {
  const fixed = { externalId: 'hash-1', title: 'Council approves new cycle lanes', url: 'https://news.example.co.uk/local/cycle-lanes' };
  const checked = validateArticle(articleInput({ ...fixed, ...overrides }), { defaultLanguage: 'en-GB' });
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.article;
}

/** The definition: sha256 of the JSON text of one array of the article's fields. */
function definition(a: NormalizedArticle): string {
  const fields: unknown[] = [
    a.title, a.url, a.summary, a.contentHtml,
    a.authors.map((x) => [x.name, x.email ?? null, x.url ?? null]),
    a.categories.map((c) => c.slug), a.categories.map((c) => c.name), a.tags,
    a.publishedAt.toISOString(), a.updatedAt?.toISOString() ?? null, a.imageUrl, a.language,
    a.enclosures.map((e) => [e.url, e.type, e.length, e.durationSeconds ?? null]), a.status,
  ];
  if (a.podcast) fields.push([a.podcast.episode ?? null, a.podcast.season ?? null, a.podcast.episodeType ?? null, a.podcast.explicit ?? null]);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

const VARIANTS: Record<string, Record<string, unknown>> = {
  plain: {},
  'no summary, no body': { summary: undefined, contentHtml: undefined },
  'quotes, backslashes, emoji and RTL in every text': {
    title: 'He said "no" \\ 👋🏽 مرحبا',
    summary: 'Tab\there, "quoted"',
    contentHtml: '<p title="a &quot;b&quot;">C:\\path "x" 😀 \u2028 שלום</p><a href="https://a.example/?q=1&amp;r=2">l</a>',
  },
  'authors, enclosures, episode': {
    authors: [{ name: 'A', email: 'a@news.example.co.uk', url: 'https://a.example/' }, { name: 'B' }],
    enclosures: [{ url: 'https://cdn.example/a.mp3', type: 'audio/mpeg', length: 123, durationSeconds: 60 }],
    podcast: { episode: 3, season: 1, episodeType: 'full', explicit: false },
    updatedAt: '2026-11-29T09:00:00+01:00',
    imageUrl: 'https://cdn.example/a.jpg',
  },
};

describe('contentHash', () => {
  it.each(Object.entries(VARIANTS))('is its definition: %s', (_, overrides) => {
    const article = normalised(overrides);
    expect(contentHash(article)).toBe(definition(article));
  });

  it('has not moved for a fixed article (a stored hash computed before this test existed)', () => {
    expect(contentHash(normalised(VARIANTS['authors, enclosures, episode']))).toBe(PINNED);
  });

  it("is the same when the writer's row computes it", () => {
    for (const overrides of Object.values(VARIANTS)) {
      const article = normalised(overrides);
      const row = JSON.parse(articleRowJson(article, 7, 'news.example.co.uk', new Date('2026-11-30T00:00:00Z'))) as Record<string, unknown>;
      expect(row.content_hash).toBe(definition(article));
      // The body travels beside the rows (articleBodies), not in them.
      expect(row).not.toHaveProperty('content_html');
      expect(row).toMatchObject({ id: 7, external_id: 'hash-1', title: article.title, summary: article.summary });
    }
  });
});

describe('articleBodies', () => {
  const withBody = (contentHtml: string | null): NormalizedArticle => ({ ...normalised(), contentHtml });

  it('joins the bodies on U+0001, a null body written U+0002 and an empty one U+0003', () => {
    const bodies = articleBodies([withBody('<p>a</p>'), withBody(null), withBody(''), withBody('<p>b\n"c"</p>')]);
    expect(bodies).toBe('<p>a</p>\u0001\u0002\u0001\u0003\u0001<p>b\n"c"</p>');
    expect(articleBodies([withBody(null)])).toBe('\u0002');
  });

  it.each(['\u0001', '\u0002', '\u0003'])('refuses a body holding %j, which would shift every later body', (marker) => {
    expect(() => articleBodies([withBody(`<p>a${marker}b</p>`)])).toThrow(/hash-1/);
  });
});

describe('jsonString', () => {
  it('is JSON.stringify, on strings made of what JSON escapes and what it does not', () => {
    const alphabet = ['"', '\\', '\n', '\t', '\r', '\u0000', '\u001f', '\u007f', '\u2028', '\ud83d\ude00', '\ud800', '\udc00', '<p class="x">', 'a', 'é', ' ', '/'];
    const rng = createRng(42);
    const differing: string[] = [];
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      let value = '';
      const length = Math.floor(rng() * 12);
      for (let j = 0; j < length; j++) value += alphabet[Math.floor(rng() * alphabet.length)];
      if (jsonString(value) !== JSON.stringify(value)) differing.push(value);
      if (!/[\u0000-\u0009\u000B-\u001F\\\uD800-\uDFFF]/.test(value)) plain++;
    }
    expect(differing).toEqual([]);
    // Both ways through it are taken often.
    expect(plain).toBeGreaterThan(1_000);
    expect(plain).toBeLessThan(19_000);
  });
});

const PINNED = '78994b3666f32939b3ea73e63c846d0c5f9e31316bc1debe7bb0d51084e68855';
