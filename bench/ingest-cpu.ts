/**
 * CPU of each step of the ingest path for one batch of 500 bench articles, in this process, warm:
 * where a batch's time goes before Postgres sees it. Run pinned to one core, as the service is:
 *
 *   taskset -c 0 npx tsx bench/ingest-cpu.ts
 *
 * Each step is timed alone over the same batch (3 warm-up rounds, then the mean of 5); the steps
 * overlap (validateArticle includes the shape check and normalisation, normalisation the sanitiser,
 * the rows the content hash).
 */
import { articleInputSchema } from '../src/domain/article-input.js';
import { normalizeArticle } from '../src/domain/normalize-article.js';
import { sanitizeArticleHtml } from '../src/domain/sanitize-html.js';
import { validateArticle } from '../src/ingest.js';
import { articleBodies, articleRowJson, contentHash } from '../src/storage/articles.js';
import { BATCH, ingestBatches } from './scenarios/ingest.js';

const body = JSON.stringify({ articles: ingestBatches(1, 'cpu')[0] });

function time(step: string, run: () => void): void {
  for (let i = 0; i < 3; i++) run();
  const start = performance.now();
  for (let i = 0; i < 5; i++) run();
  const ms = (performance.now() - start) / 5;
  console.log(`${step.padEnd(58)} ${ms.toFixed(1).padStart(6)} ms/batch  ${((ms * 1000) / BATCH).toFixed(0).padStart(4)} µs/article`);
}

const raws = (JSON.parse(body) as { articles: unknown[] }).articles;
const shaped = raws.map((raw) => articleInputSchema.parse(raw));
const normalised = raws.map((raw) => {
  const checked = validateArticle(raw, { defaultLanguage: 'en-GB' });
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.article;
});

console.log(`one batch: ${BATCH} articles, ${(body.length / 1024 / 1024).toFixed(1)} MB of JSON`);
time('JSON.parse of the request body', () => JSON.parse(body));
time('shape check (zod)', () => raws.forEach((raw) => articleInputSchema.safeParse(raw)));
time('normalisation (incl. the sanitiser)', () => shaped.forEach((a) => normalizeArticle(a, { defaultLanguage: 'en-GB' })));
time('  the HTML sanitiser alone', () => shaped.forEach((a) => sanitizeArticleHtml(a.contentHtml ?? '', a.url)));
time('validateArticle (shape check + normalisation)', () => raws.forEach((raw) => validateArticle(raw, { defaultLanguage: 'en-GB' })));
time('content hash', () => normalised.forEach((a) => contentHash(a)));
const now = new Date();
time('rows (JSON) and bodies parameters, as UTF-8 bytes (incl. the hash)', () => [
  Buffer.from(`[${normalised.map((a, i) => articleRowJson(a, i + 1, 'news.example.co.uk', now)).join(',')}]`),
  Buffer.from(articleBodies(normalised)),
]);
