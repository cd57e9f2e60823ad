import { articleHtml, createRng, createVocabulary, sentence, title, type Vocabulary } from './text.js';

/** The category of the hot feed (scenario 1–3): its slug is `bench-hot`. */
export const HOT_CATEGORY = 'Bench Hot';
export const HOT_SLUG = 'bench-hot';
export const SITE = 'https://news.example.co.uk';

let vocabulary: Vocabulary | null = null;
function vocab(): Vocabulary {
  vocabulary ??= createVocabulary();
  return vocabulary;
}

export interface ArticlePayload {
  externalId: string;
  title: string;
  url: string;
  summary: string;
  contentHtml: string;
  authors: { name: string; email?: string }[];
  categories: string[];
  tags: string[];
  publishedAt: string;
}

const AUTHORS = ['Jane Reporter', 'Amir Patel', 'Siobhan Kelly', 'Tomasz Nowak', 'Grace Okafor', 'Lucas Martin'];

/**
 * One CMS article as the ingest API takes it, the same for the same seed: ~`htmlBytes` of HTML,
 * a one- or two-sentence summary, one author, the given categories.
 */
export function makeArticle(options: {
  seed: number;
  externalId: string;
  categories: string[];
  publishedAt: Date;
  htmlBytes?: number;
  titleText?: string;
}): ArticlePayload {
  const rng = createRng(options.seed);
  const v = vocab();
  const t = options.titleText ?? title(v, rng);
  const slug = t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  const author = AUTHORS[options.seed % AUTHORS.length]!;
  return {
    externalId: options.externalId,
    title: t,
    url: `${SITE}/news/${slug}-${options.seed}`,
    summary: sentence(v, rng, 12, 24) + (rng() < 0.5 ? ` ${sentence(v, rng, 8, 16)}` : ''),
    contentHtml: articleHtml(v, rng, options.htmlBytes ?? 5000, `${SITE}/topics`, author),
    authors: [{ name: author, email: `${author.toLowerCase().replace(/[^a-z]+/g, '.')}@news.example.co.uk` }],
    categories: options.categories,
    tags: [title(v, rng).split(' ')[0]!.toLowerCase()],
    publishedAt: options.publishedAt.toISOString(),
  };
}

/** The 50 articles of the hot feed: newest first, one minute apart, ending an hour before `now`. */
export function hotArticles(now: Date, count = 50): ArticlePayload[] {
  const newest = Math.floor(now.getTime() / 60_000) * 60_000 - 3_600_000;
  return Array.from({ length: count }, (_, i) =>
    makeArticle({ seed: 1000 + i, externalId: `bench-hot-${i}`, categories: [HOT_CATEGORY], publishedAt: new Date(newest - i * 60_000) }),
  );
}
