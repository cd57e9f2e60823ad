import type { StoredArticle } from '../storage/articles.js';

/** The API's view of a stored article (camelCase, ISO dates, no internal hash). */
export function toArticleJson(a: StoredArticle) {
  return {
    externalId: a.externalId,
    guid: a.guid,
    title: a.title,
    url: a.url,
    summary: a.summary,
    contentHtml: a.contentHtml,
    authors: a.authors,
    categories: a.categories,
    tags: a.tags,
    publishedAt: a.publishedAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    createdAt: a.createdAt.toISOString(),
    imageUrl: a.imageUrl,
    language: a.language,
    enclosures: a.enclosures,
    status: a.status,
    podcast: a.podcast,
    deletedAt: a.deletedAt ? a.deletedAt.toISOString() : null,
  };
}

export type ArticleJson = ReturnType<typeof toArticleJson>;
