import type { ArticlePayload } from './articles.js';
import { httpRequest } from './http.js';
import { ADMIN_TOKEN } from './service.js';

/** POST /api/v1/articles (one article, or a batch); throws unless 2xx. */
export async function postArticles(base: string, payload: ArticlePayload | ArticlePayload[], timeoutMs = 120_000): Promise<unknown> {
  const body = JSON.stringify(Array.isArray(payload) ? { articles: payload } : payload);
  const res = await httpRequest(`${base}/api/v1/articles`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body,
    timeoutMs,
  });
  if (res.status < 200 || res.status >= 300) throw new Error(`ingest answered ${res.status}: ${res.body.toString('utf8').slice(0, 500)}`);
  return JSON.parse(res.body.toString('utf8')) as unknown;
}
