import { identityBody, type Encoding, type SnapshotEntry } from '../feed-cache.js';
import type { FeedFormat } from '../storage/feeds.js';

export const CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

/**
 * Picks the content-coding: br, then gzip, when the client accepts them (q > 0); identity otherwise.
 * Only what we pre-compressed is offered, so there is nothing to compress per request.
 */
export function negotiateEncoding(acceptEncoding: string | undefined | null): Encoding {
  if (!acceptEncoding) return 'identity';
  let br = false;
  let gzip = false;
  for (const part of acceptEncoding.split(',')) {
    const [rawName, ...params] = part.trim().split(';');
    const name = rawName!.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!(q > 0)) continue;
    if (name === 'br') br = true;
    else if (name === 'gzip' || name === 'x-gzip') gzip = true;
    else if (name === '*') {
      br = true;
      gzip = true;
    }
  }
  return br ? 'br' : gzip ? 'gzip' : 'identity';
}

/** RFC 9110 §13.1.2: `*`, or any listed entity-tag equal under weak comparison (W/ ignored). */
export function ifNoneMatchMatches(header: string, etag: string): boolean {
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  const tags = trimmed.match(/(?:W\/)?"[^"]*"/g) ?? [];
  return tags.some((t) => t.replace(/^W\//, '') === opaque);
}

/** RFC 9110 §13.1.3: a valid HTTP-date at or after Last-Modified (second precision) means not modified. */
export function notModifiedSince(header: string, lastModified: Date): boolean {
  const since = Date.parse(header);
  if (Number.isNaN(since)) return false;
  return Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
}

export interface FeedRequest {
  method: string;
  acceptEncoding?: string | null | undefined;
  ifNoneMatch?: string | null | undefined;
  ifModifiedSince?: string | null | undefined;
}

export interface FeedAnswer {
  status: 200 | 304;
  headers: Record<string, string>;
  /** null for 304 and HEAD. */
  body: Uint8Array | null;
}

/**
 * Answers a GET or HEAD for a snapshot: encoding chosen, validators checked (If-None-Match wins over
 * If-Modified-Since), the same headers on 200, 304 and HEAD. Pure: no I/O, no clock.
 */
export function answerFeedRequest(entry: SnapshotEntry, req: FeedRequest, cacheControl: string): FeedAnswer {
  const encoding = negotiateEncoding(req.acceptEncoding);
  const etag = entry.etags[encoding];
  const headers: Record<string, string> = {
    'Content-Type': CONTENT_TYPES[entry.format],
    ETag: etag,
    'Last-Modified': entry.lastModifiedHttp,
    'Cache-Control': cacheControl,
    Vary: 'Accept-Encoding',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'ETag, Last-Modified, Link',
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'X-Content-Type-Options': 'nosniff',
  };
  // WebSub §4 discovery: the same Link on 200, 304 and HEAD (RFC 9110 §15.4.5 lets a 304 repeat it).
  if (entry.link) headers.Link = entry.link;
  let notModified: boolean;
  if (req.ifNoneMatch != null) notModified = ifNoneMatchMatches(req.ifNoneMatch, etag);
  else if (req.ifModifiedSince != null) notModified = notModifiedSince(req.ifModifiedSince, entry.lastModified);
  else notModified = false;
  if (notModified) {
    // RFC 9110 §15.4.5: a 304 repeats the validators and caching fields, not representation metadata.
    delete headers['Content-Type'];
    return { status: 304, headers, body: null };
  }
  if (encoding === 'identity') {
    headers['Content-Length'] = String(entry.identityLength);
    return { status: 200, headers, body: req.method === 'HEAD' ? null : identityBody(entry) };
  }
  const body = entry.bodies[encoding];
  headers['Content-Encoding'] = encoding;
  headers['Content-Length'] = String(body.byteLength);
  return { status: 200, headers, body: req.method === 'HEAD' ? null : body };
}
