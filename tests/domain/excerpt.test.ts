import { describe, expect, it } from 'vitest';
import { excerptFromHtml, summaryOrExcerpt, textFromHtml } from '../../src/domain/excerpt.js';

// Lives with the render tests because the renderers are its only users so far; it mirrors
// src/domain/excerpt.ts and can move to tests/domain/ with it.

describe('textFromHtml', () => {
  it('drops tags, comments and hidden elements, decodes entities and collapses whitespace', () => {
    const html = '<h1>Title</h1>\n<p>One &amp; two &lt;three&gt; &quot;q&quot; &#39;s&#x27; &nbsp;x&hellip;</p><!-- note --><script>alert(1)</script><p>Four</p>';
    // A no-break space is whitespace too: the excerpt is plain text, not layout.
    expect(textFromHtml(html)).toBe(`Title One & two <three> "q" 's' x… Four`);
  });

  it('keeps unknown named entities as written and maps invalid references to U+FFFD', () => {
    expect(textFromHtml('&unknown; &#0; &#xD800; &#128512;')).toBe('&unknown; \ufffd \ufffd 😀');
  });

  it('separates block elements so words do not run together', () => {
    expect(textFromHtml('<p>end</p><p>start</p><ul><li>a</li><li>b</li></ul>')).toBe('end start a b');
  });
});

describe('excerptFromHtml', () => {
  it('returns short text whole, without an ellipsis', () => {
    expect(excerptFromHtml('<p>Short text.</p>')).toBe('Short text.');
  });

  it('cuts long text on a word boundary and adds an ellipsis, within maxChars', () => {
    const excerpt = excerptFromHtml('<p>alpha beta gamma delta epsilon</p>', 16);
    expect(excerpt).toBe('alpha beta…');
    expect(excerpt.length).toBeLessThanOrEqual(16);
  });

  it('keeps a word that ends exactly at the limit', () => {
    // "alpha beta gamma" is 16 characters; with the ellipsis the limit is 17.
    expect(excerptFromHtml('alpha beta gamma delta', 17)).toBe('alpha beta gamma…');
  });

  it('drops punctuation before the ellipsis', () => {
    expect(excerptFromHtml('alpha, beta gamma', 9)).toBe('alpha…');
  });

  it('cuts a single overlong word hard, never inside a surrogate pair', () => {
    expect(excerptFromHtml('abcdefghijklmnop', 6)).toBe('abcde…');
    // Room for 3 code units: "ab" + half of 😀 would split the pair, so the emoji is dropped.
    expect(excerptFromHtml('ab😀😀😀😀', 4)).toBe('ab…');
    expect(excerptFromHtml('ab😀😀😀😀', 5)).toBe('ab😀…');
  });

  it('returns an empty string for HTML without text', () => {
    expect(excerptFromHtml('<p><img src="https://example.com/a.jpg" alt=""></p>')).toBe('');
  });

  it('defaults to 300 characters', () => {
    const excerpt = excerptFromHtml(`<p>${'word '.repeat(200)}</p>`);
    expect(excerpt.length).toBeLessThanOrEqual(300);
    expect(excerpt.endsWith('word…')).toBe(true);
  });

  it('rejects a limit with no room for text', () => {
    expect(() => excerptFromHtml('text', 1)).toThrow(RangeError);
  });
});

describe('summaryOrExcerpt', () => {
  it('prefers the summary, then the content excerpt, then null', () => {
    expect(summaryOrExcerpt('Given.', '<p>Body</p>')).toBe('Given.');
    expect(summaryOrExcerpt(null, '<p>Body</p>')).toBe('Body');
    expect(summaryOrExcerpt('  ', '<p>Body</p>')).toBe('Body');
    expect(summaryOrExcerpt(null, '<img src="https://example.com/a.jpg">')).toBeNull();
    expect(summaryOrExcerpt(null, null)).toBeNull();
  });
});
