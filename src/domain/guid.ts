/**
 * The stable identity of an article in every feed format: a tag: URI (RFC 4151) from the publisher's
 * host, the creation date and the internal id. Fixed at creation; edits, re-categorisation and a new
 * PUBLIC_BASE_URL never change an existing article's guid (it is stored, not recomputed).
 */
export function buildArticleGuid(authority: string, createdAt: Date, id: number): string {
  return `tag:${authority},${createdAt.toISOString().slice(0, 10)}:article:${id}`;
}

/** The tag: URI authority for a base URL: its host name (without port, which tag: URIs cannot carry). */
export function tagAuthority(baseUrl: string): string {
  return new URL(baseUrl).hostname;
}
