import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import { isRfc3339WithOffset } from '../domain/article-input.js';
import { parseMonth, type Month } from '../domain/archive.js';
import { ALL_FEED_KEY } from '../domain/feed-builder.js';
import { MAX_COMBINED_FEEDS, pathKeyOf, viewPath, type ViewPartner, type ViewRequest } from '../domain/feed-view.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import type { FeedRuntime } from '../feed-runtime.js';
import { feedViewsOf, type FeedViews } from '../feed-views.js';
import { feedVersions } from '../storage/feed-views.js';
import type { FeedFormat } from '../storage/feeds.js';
import { answerFeedRequest } from './feed-response.js';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const FEED_FILE = /^(.+)\.(rss|atom|json)$/;

/**
 * `?since=`: an RFC 3339 date-time with an offset. In a query string `+` means a space
 * (application/x-www-form-urlencoded), so an unencoded `+01:00` arrives as ` 01:00`: read it back.
 */
export function parseSince(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const text = value.replace(/ (\d{2}:\d{2})$/, '+$1');
  if (!isRfc3339WithOffset(text)) {
    throw new BadRequestError('since must be an RFC 3339 date-time with an offset, e.g. 2026-11-29T08:00:00Z', [
      { path: 'since', message: 'must be an RFC 3339 date-time with an offset, e.g. 2026-11-29T08:00:00Z' },
    ]);
  }
  const ms = Date.parse(text.replace(/t/, 'T').replace(/z$/, 'Z'));
  // Outside what a Date holds (or the store's range), nothing can be newer or everything is.
  return new Date(Math.max(Math.min(ms, 8.64e15), -8.64e15));
}

/** `?limit=` for views: an integer 1..200, or null when absent. */
export function parseViewLimit(value: string | undefined): number | null {
  if (value === undefined) return null;
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 200) {
    throw new BadRequestError('limit must be an integer from 1 to 200', [{ path: 'limit', message: 'must be an integer from 1 to 200' }]);
  }
  return Number(value);
}

/**
 * The feed keys a path names: `world` or `sport+world` (validated, in the order given). For a partner,
 * a key outside its categories is "no such feed" before anything else is checked, so no answer tells a
 * category it may not read from one that does not exist.
 */
function parseKeys(text: string, partner: ViewPartner | null): string[] {
  const keys = text.split('+');
  if (!keys.every((k) => SLUG.test(k) && k.length <= 200)) {
    throw new NotFoundError('No such feed. Feeds are /feeds/{category}.rss, .atom or .json; combinations /feeds/{a}+{b}.rss.');
  }
  if (partner && partner.categories !== null) {
    const allowed = partner.categories;
    const forbidden = keys.find((k) => k === ALL_FEED_KEY || !allowed.includes(k));
    if (forbidden) throw notFound(forbidden);
  }
  if (keys.length > MAX_COMBINED_FEEDS) {
    throw new BadRequestError(`A combination names at most ${MAX_COMBINED_FEEDS} categories (got ${keys.length}).`, [
      { path: 'feeds', message: `must name at most ${MAX_COMBINED_FEEDS} categories` },
    ]);
  }
  if (keys.length > 1 && keys.includes(ALL_FEED_KEY)) {
    throw new BadRequestError(`'${ALL_FEED_KEY}' already holds every article: it cannot be combined with categories.`, [
      { path: 'feeds', message: `'${ALL_FEED_KEY}' cannot be part of a combination` },
    ]);
  }
  return keys;
}

function notFound(key: string): NotFoundError {
  return new NotFoundError(`No feed named '${key}'.`);
}

export interface ViewTarget {
  /** The `{keys}` part of the path, as given (decoded). */
  keysText: string;
  format: FeedFormat;
  month: Month | null;
  partner: ViewPartner | null;
}

/**
 * Serves a feed view: parses and checks what is asked (combination rules, a partner's categories,
 * ?limit, ?since), redirects a combination to its canonical (sorted) URL, renders or reuses the
 * document, and answers with the same validator logic as the canonical feeds (answerFeedRequest).
 * A partner asking for a feed outside its categories gets exactly the answer for a feed that does
 * not exist.
 */
export async function serveFeedView(
  c: Context,
  deps: Deps,
  views: FeedViews,
  target: ViewTarget,
): Promise<{ response: Response; status: number; /** The feed path without partner prefix or query (statistics). */ path: string }> {
  const { partner } = target;
  const given = parseKeys(target.keysText, partner);
  const limit = parseViewLimit(c.req.query('limit'));
  const since = parseSince(c.req.query('since'));
  const keys = [...new Set(given)].sort();
  const req: ViewRequest = { keys, format: target.format, month: target.month, limit, since, partner };

  // One URL per combination: any other order (or a repeated slug, or an encoded '+') redirects.
  if (rawKeysSegment(c.req.path, target.month !== null) !== pathKeyOf(keys)) {
    const versions = await feedVersions(deps.db, keys);
    const unknown = keys.find((k) => versions[k] === undefined);
    if (unknown) throw notFound(unknown);
    const location = `${deps.config.PUBLIC_BASE_URL}${viewPath({ ...req, limit: null, since: null })}${new URL(c.req.url).search}`;
    // A partner's redirect names its key: for its own cache only.
    const cacheControl = partner ? 'private, max-age=86400' : 'public, max-age=86400';
    return { response: new Response(null, { status: 301, headers: { Location: location, 'Cache-Control': cacheControl } }), status: 301, path: '' };
  }

  const outcome = await views.get(req);
  if (outcome.kind === 'missing') throw notFound(outcome.keys[0]!);
  if (outcome.kind === 'no-archive') {
    throw new NotFoundError(
      `No archive for that month: archives run from the month of the feed's first article to the current month.`,
    );
  }
  const answer = answerFeedRequest(
    outcome.entry,
    {
      method: c.req.method,
      acceptEncoding: c.req.header('accept-encoding'),
      ifNoneMatch: c.req.header('if-none-match'),
      ifModifiedSince: c.req.header('if-modified-since'),
    },
    outcome.cacheControl,
  );
  if (answer.status === 304) deps.metrics.notModified.inc();
  const path = viewPath({ ...req, partner: null, limit: null, since: null });
  const response = new Response(answer.body as ConstructorParameters<typeof Response>[0], { status: answer.status, headers: answer.headers });
  return { response, status: answer.status, path };
}

/** The raw (undecoded) `{keys}` segment of a feed path: `/feeds/{keys}.{ext}` or `/feeds/{keys}/archive/…`. */
function rawKeysSegment(path: string, archive: boolean): string {
  const afterFeeds = path.slice(path.indexOf('/feeds/') + '/feeds/'.length);
  if (archive) return afterFeeds.slice(0, afterFeeds.indexOf('/'));
  return afterFeeds.replace(/\.[A-Za-z0-9]+$/, '');
}

/** Splits `{name}.{ext}`; null when it is not a feed file name. */
export function splitFeedFile(file: string): { name: string; format: FeedFormat } | null {
  const m = FEED_FILE.exec(file);
  return m ? { name: m[1]!, format: m[2] as FeedFormat } : null;
}

/**
 * GET/HEAD /feeds/{keys}/archive/{YYYY}-{MM}.{rss|atom|json}: RFC 5005 archive documents, for every
 * category, `all` and combinations. (Live combinations and ?since views are routed from feeds.ts.)
 */
export function createArchivesRouter(deps: Deps, feeds: FeedRuntime) {
  const app = new Hono();
  const views = feedViewsOf(deps, feeds);
  app.get('/feeds/:keys/archive/:file', async (c) => {
    const file = splitFeedFile(c.req.param('file'));
    const month = file ? parseMonth(file.name) : null;
    if (!file || !month) throw new NotFoundError('No such archive. Archives are /feeds/{category}/archive/{YYYY}-{MM}.rss, .atom or .json.');
    const served = await serveFeedView(c, deps, views, { keysText: c.req.param('keys'), format: file.format, month, partner: null });
    return served.response;
  });
  return app;
}
