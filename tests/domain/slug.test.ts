import { describe, expect, it } from 'vitest';
import { slugify } from '../../src/domain/slug.js';

const SLUG_SHAPE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

describe('slugify', () => {
  it.each([
    ['Breaking News', 'breaking-news'],
    ['Café Société', 'cafe-societe'],
    ['  World -- Europe!  ', 'world-europe'],
    ['Straße', 'strasse'],
    ['Ærø Øst', 'aero-ost'],
    ['Łódź', 'lodz'],
    ['Ｆｕｌｌｗｉｄｔｈ ﬁnance', 'fullwidth-finance'],
    ['COVID-19', 'covid-19'],
    ['🎉 Party', 'party'],
    ['Tom &amp; Jerry', 'tom-amp-jerry'],
  ])('%j → %j', (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it('folds a decomposed (NFD) spelling to the same slug as the composed one', () => {
    expect(slugify('Cafe\u0301')).toBe(slugify('Caf\u00E9'));
  });

  it('gives names with no ASCII folding a stable 8-hex-digit hash', () => {
    const slug = slugify('日本');
    expect(slug).toMatch(/^[0-9a-f]{8}$/);
    expect(slugify('日本')).toBe(slug);
    expect(slugify(' 日本 ')).toBe(slug);
    expect(slugify('中国')).not.toBe(slug);
  });

  it('gives punctuation-only and emoji-only names a hash, never an empty slug', () => {
    expect(slugify('!!!')).toMatch(/^[0-9a-f]{8}$/);
    expect(slugify('🎉')).toMatch(/^[0-9a-f]{8}$/);
    expect(slugify('!!!')).not.toBe(slugify('???'));
  });

  it('keeps mixed-script names apart by appending the hash', () => {
    const japan = slugify('日本 News');
    const china = slugify('中国 News');
    expect(japan).toMatch(/^news-[0-9a-f]{8}$/);
    expect(china).toMatch(/^news-[0-9a-f]{8}$/);
    expect(japan).not.toBe(china);
  });

  it('treats case and white space differences as the same name', () => {
    expect(slugify('Новости Спорта')).toBe(slugify('  новости   СПОРТА '));
  });

  it.each(['Breaking News', '日本', '!!!', 'Новости', 'हिन्दी समाचार', '٢٠٢٤ أخبار', 'a\u0000b', '--x--'])(
    '%j has the URL-safe slug shape',
    (name) => {
      expect(slugify(name)).toMatch(SLUG_SHAPE);
    },
  );

  it('maps "All" to the reserved slug "all" (the caller refuses it)', () => {
    expect(slugify('All')).toBe('all');
    expect(slugify(' ALL! ')).toBe('all');
  });
});
