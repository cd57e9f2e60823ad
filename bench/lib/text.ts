/**
 * Deterministic, realistic-looking article text: a seeded PRNG over a vocabulary of a few thousand
 * made-up words drawn with Zipf frequencies (as in natural language, a few words are very common),
 * in sentences, paragraphs and subheadings. It compresses about as well as real news copy — neither
 * a repeated string (which gzip flattens) nor random bytes (which it cannot touch).
 */

/** mulberry32: small, fast, good enough for test data; the same seed gives the same text. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'br', 'cl', 'dr', 'gr', 'pl', 'pr', 'sh', 'st', 'th', 'tr', 'ch', ''];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ea', 'ou', 'ai', 'io', 'y'];
const CODAS = ['', '', 'n', 'r', 's', 't', 'l', 'nd', 'st', 'ng', 'rt', 'ck', 'm'];

export interface Vocabulary {
  words: string[];
  /** Cumulative Zipf weights, for sampling by binary search. */
  cumulative: Float64Array;
  /** Collocations (2–5 words drawn from `words`), also Zipf-weighted: text is built from these. */
  phrases: string[];
  phraseCumulative: Float64Array;
}

function zipfCumulative(size: number, exponent: number): Float64Array {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) {
    total += 1 / Math.pow(i + 1, exponent);
    cumulative[i] = total;
  }
  for (let i = 0; i < size; i++) cumulative[i]! /= total;
  return cumulative;
}

function sampleIndex(cumulative: Float64Array, x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `size` words and `phraseCount` collocations. The defaults are tuned so that the 50-item feed of
 * ~5 KB articles gzips to about 30 KB, the size of the feed the issue measured (real copy repeats
 * names, phrases and markup far more than independent random words do).
 */
export function createVocabulary(size = 3000, seed = 7, zipfExponent = 1.1, phraseCount = PHRASES): Vocabulary {
  const rng = createRng(seed);
  const pick = <T>(list: T[]): T => list[Math.floor(rng() * list.length)]!;
  const seen = new Set<string>();
  const words: string[] = [];
  while (words.length < size) {
    const syllables = 1 + Math.floor(rng() * rng() * 4);
    let w = '';
    for (let s = 0; s < syllables; s++) w += pick(ONSETS) + pick(VOWELS) + (s === syllables - 1 ? pick(CODAS) : '');
    if (w.length < 2 || seen.has(w)) continue;
    seen.add(w);
    words.push(w);
  }
  // Short words first: the most frequent words of a language are its shortest.
  words.sort((a, b) => a.length - b.length);
  const cumulative = zipfCumulative(size, zipfExponent);
  const partial = { words, cumulative, phrases: [] as string[], phraseCumulative: new Float64Array(0) };
  const phrases: string[] = [];
  for (let i = 0; i < phraseCount; i++) {
    const n = 2 + Math.floor(rng() * 4);
    phrases.push(Array.from({ length: n }, () => sampleWord(partial, rng)).join(' '));
  }
  return { words, cumulative, phrases, phraseCumulative: zipfCumulative(phraseCount, 1.0) };
}

const PHRASES = Number(process.env.BENCH_PHRASES ?? 700);

export function sampleWord(vocab: Vocabulary, rng: () => number): string {
  return vocab.words[sampleIndex(vocab.cumulative, rng())]!;
}

export function samplePhrase(vocab: Vocabulary, rng: () => number): string {
  return vocab.phrases[sampleIndex(vocab.phraseCumulative, rng())]!;
}

function capitalise(w: string): string {
  return w.charAt(0).toUpperCase() + w.slice(1);
}

export function sentence(vocab: Vocabulary, rng: () => number, minWords = 8, maxWords = 22): string {
  const n = minWords + Math.floor(rng() * (maxWords - minWords + 1));
  const words: string[] = [];
  // Mostly collocations, now and then a single (rarer) word.
  while (words.length < n) words.push(...(rng() < 0.85 ? samplePhrase(vocab, rng) : sampleWord(vocab, rng)).split(' '));
  words.length = n;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    let w = words[i]!;
    if (i === 0) w = capitalise(w);
    else if (rng() < 0.06) w = capitalise(w); // names and places
    if (i < n - 1 && i > 2 && rng() < 0.08) w += ',';
    parts.push(w);
  }
  return `${parts.join(' ')}.`;
}

export function title(vocab: Vocabulary, rng: () => number): string {
  return sentence(vocab, rng, 5, 10).slice(0, -1);
}

/** House modules a CMS appends to every story: identical across articles, as on a real news site. */
function houseModules(vocab: Vocabulary, linkBase: string, author: string, bytes: number): string {
  const rng = createRng(99); // the same related links, newsletter box and policy text for every article
  const related = Array.from({ length: 10 }, (_, i) => `<li><a href="${linkBase}/related-${i}">${title(vocab, rng)}</a></li>`).join('');
  const bio = createRng(author.length * 31 + author.charCodeAt(0));
  const modules =
    `<h3>Related coverage</h3><ul>${related}</ul>` +
    `<p><em>${author} ${sentence(vocab, bio, 12, 18).toLowerCase()} ${sentence(vocab, bio, 10, 16)}</em></p>` +
    `<blockquote><p><strong>Sign up to the morning briefing.</strong> ${sentence(vocab, rng, 14, 20)} <a href="${linkBase}/newsletters">Choose your newsletters</a>.</p></blockquote>` +
    `<p><small>${sentence(vocab, rng, 20, 26)} ${sentence(vocab, rng, 16, 22)} <a href="${linkBase}/corrections">Corrections and clarifications</a>.</small></p>`;
  let box = '';
  // A standing explainer box ("How we report…") fills the rest: the same text on every story.
  while (modules.length + box.length < bytes) box += `<p>${sentence(vocab, rng, 14, 24)} ${sentence(vocab, rng, 10, 20)}</p>`;
  return (box ? `<div><h3>How we report</h3>${box}</div>` : '') + modules;
}

/**
 * About `targetBytes` of article HTML: about half unique prose (paragraphs of a few sentences, an
 * <h2> every few paragraphs, now and then a link, a strong or an em), then the site's house modules
 * (related links, author bio, newsletter box, corrections line), repeated from article to article as
 * they are on a real site. Only tags the ingest sanitiser keeps. The mix makes a 50-item feed of
 * ~5 KB articles gzip to about 30 KB, the size of the feed the issue measured.
 */
export function articleHtml(vocab: Vocabulary, rng: () => number, targetBytes: number, linkBase: string, author = 'Jane Reporter'): string {
  const proseBytes = targetBytes * UNIQUE_SHARE;
  const house = houseModules(vocab, linkBase, author, targetBytes - proseBytes);
  let html = '';
  let paragraphs = 0;
  while (html.length < proseBytes) {
    if (paragraphs > 0 && paragraphs % 3 === 0) html += `<h2>${title(vocab, rng)}</h2>`;
    const sentences: string[] = [];
    const n = 2 + Math.floor(rng() * 4);
    for (let i = 0; i < n; i++) {
      let s = sentence(vocab, rng);
      const r = rng();
      if (r < 0.1) {
        const words = s.split(' ');
        const at = 1 + Math.floor(rng() * (words.length - 2));
        words[at] = `<a href="${linkBase}/${sampleWord(vocab, rng)}">${words[at]}</a>`;
        s = words.join(' ');
      } else if (r < 0.16) {
        s = `<strong>${s}</strong>`;
      } else if (r < 0.2) {
        s = `<em>${s}</em>`;
      }
      sentences.push(s);
    }
    html += `<p>${sentences.join(' ')}</p>`;
    paragraphs += 1;
  }
  return html + house;
}

const UNIQUE_SHARE = Number(process.env.BENCH_UNIQUE_SHARE ?? 0.25);
