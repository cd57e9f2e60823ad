import type { ArticlePayload } from './articles.js';
import { httpRequest } from './http.js';
import { ADMIN_TOKEN } from './service.js';

/** The request body POST /api/v1/articles takes for one article or a batch, as bytes. */
export function articlesBody(payload: ArticlePayload | ArticlePayload[]): Buffer {
  return Buffer.from(JSON.stringify(Array.isArray(payload) ? { articles: payload } : payload));
}

/**
 * POST /api/v1/articles (one article, a batch, or a body from articlesBody(): a timed loop
 * serialises beforehand, as baseline D builds its rows beforehand); throws unless 2xx.
 */
export async function postArticles(base: string, payload: ArticlePayload | ArticlePayload[] | Buffer, timeoutMs = 120_000): Promise<unknown> {
  const body = Buffer.isBuffer(payload) ? payload : articlesBody(payload);
  const res = await httpRequest(`${base}/api/v1/articles`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body,
    timeoutMs,
  });
  if (res.status < 200 || res.status >= 300) throw new Error(`ingest answered ${res.status}: ${res.body.toString('utf8').slice(0, 500)}`);
  return JSON.parse(res.body.toString('utf8')) as unknown;
}
