import { createHash } from 'node:crypto';

/**
 * Letters NFKD does not decompose into an ASCII base + combining mark. Small on purpose: the
 * Latin letters European newsrooms actually use in section names.
 */
const LATIN_FOLDS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ł: 'l',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
};

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const NON_ASCII_LETTER_OR_DIGIT = /[^\P{L}a-z]|[^\P{N}0-9]/u;

/**
 * Returns the URL slug for a category name. Every slug matches /^[a-z0-9]+(-[a-z0-9]+)*$/, so
 * routes, file names and tag: URIs never need percent-encoding.
 *
 * - Latin text is folded to ASCII: "Breaking News" → "breaking-news", "Café Société" →
 *   "cafe-societe", "Straße" → "strasse". Runs of anything else become one "-", trimmed.
 * - Letters or digits with no ASCII folding (日本, Новости, ٢٠٢٤) would otherwise vanish, and
 *   "日本 News" and "中国 News" would share the slug "news" (and be merged as one category). So when
 *   any such character is dropped, an 8-hex-digit hash of the name is appended ("news-1f0c…"), or is
 *   the whole slug when nothing ASCII remains ("日本" → "3b5d…"). Names that are only punctuation or
 *   emoji ("!!!") also get the hash: stable, never empty.
 *
 * The hash is of the name after NFC, lower-casing and white-space collapsing, so spellings that a
 * reader cannot tell apart get one slug. Slugs are identities (feed URLs): changing this function
 * changes them, and must be treated as a data migration.
 */
export function slugify(name: string): string {
  // A batch names the same few sections in every article: each is worked out once. The bound only
  // stops a stream of distinct names from growing the map for ever.
  let slug = known.get(name);
  if (slug === undefined) {
    if (known.size >= KNOWN_MAX) known.clear();
    slug = computeSlug(name);
    known.set(name, slug);
  }
  return slug;
}

const KNOWN_MAX = 10_000;
const known = new Map<string, string>();

function computeSlug(name: string): string {
  const key = name.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
  const folded = Array.from(key.normalize('NFKD').replace(/\p{M}/gu, ''), (ch) => LATIN_FOLDS[ch] ?? ch).join('');
  const ascii = folded.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const lossy = NON_ASCII_LETTER_OR_DIGIT.test(folded) || !LETTER_OR_DIGIT.test(folded);
  if (!lossy) return ascii;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return ascii === '' ? hash : `${ascii}-${hash}`;
}
