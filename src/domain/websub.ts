import { createHmac } from 'node:crypto';
import { feedUrls } from './feed-builder.js';

/**
 * WebSub (W3C Recommendation) rules that need no I/O: what a topic is, lease limits, the Link header
 * every feed response carries, and the content signature.
 */

export type TopicFormat = 'rss' | 'atom' | 'json';

/** Our own hub: PUBLIC_BASE_URL/websub. */
export function ownHubUrl(baseUrl: string): string {
  return `${baseUrl}/websub`;
}

/** Every hub a feed advertises: ours first, then WEBSUB_HUBS. */
export function advertisedHubs(baseUrl: string, externalHubs: readonly string[]): string[] {
  return [ownHubUrl(baseUrl), ...externalHubs.filter((hub) => hub !== ownHubUrl(baseUrl))];
}

/**
 * The HTTP Link header of a feed response (WebSub §4): at least one rel=hub and exactly one
 * rel=self, the URL served. One header, comma-separated (RFC 8288 §3).
 */
export function feedLinkHeader(hubs: readonly string[], selfUrl: string): string {
  return [...hubs.map((hub) => `<${hub}>; rel="hub"`), `<${selfUrl}>; rel="self"`].join(', ');
}

const FEED_PATH = /^\/feeds\/([a-z0-9]+(?:-[a-z0-9]+)*)\.(rss|atom|json)$/;

export type TopicCheck =
  | { ok: true; topic: string; feedKey: string; format: TopicFormat }
  | { ok: false; reason: string };

/**
 * A hub.topic we serve: exactly the canonical URL of one of our feeds (the self URL of its
 * pre-rendered snapshot, so the topic a subscriber discovers is the one it subscribes to). Whether
 * the feed exists is for the caller to check.
 */
export function parseTopic(value: string, baseUrl: string): TopicCheck {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'hub.topic is not an absolute URL' };
  }
  const base = new URL(`${baseUrl}/`);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
    return { ok: false, reason: `hub.topic must be one of this hub's feeds, under ${baseUrl}/feeds/` };
  }
  const path = `/${url.pathname.slice(base.pathname.length)}`;
  const match = FEED_PATH.exec(path);
  if (!match) return { ok: false, reason: `hub.topic must be a feed URL such as ${baseUrl}/feeds/{category}.rss (.atom, .json)` };
  const [, feedKey, format] = match as unknown as [string, string, TopicFormat];
  const canonical = feedUrls(baseUrl, feedKey)[format];
  if (url.search !== '' || url.hash !== '') {
    return { ok: false, reason: `only canonical feed URLs can be subscribed: use ${canonical} (without a query)` };
  }
  if (url.href !== canonical) return { ok: false, reason: `hub.topic must be written exactly as ${canonical}` };
  return { ok: true, topic: canonical, feedKey, format };
}

export type CallbackCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** hub.callback: an absolute http(s) URL without credentials or fragment, at most 2,000 characters. */
export function parseCallback(value: string): CallbackCheck {
  if (value.length > 2000) return { ok: false, reason: 'hub.callback is longer than 2000 characters' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'hub.callback is not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'hub.callback must be an http or https URL' };
  if (url.username || url.password) return { ok: false, reason: 'hub.callback must not contain credentials' };
  if (url.hash) return { ok: false, reason: 'hub.callback must not contain a fragment' };
  return { ok: true, url };
}

/** The lease granted: the default when none was asked, else the request clamped to [60 s, max]. */
export function grantLease(requested: number | undefined, defaults: { defaultSeconds: number; maxSeconds: number }): number {
  const max = Math.max(60, defaults.maxSeconds);
  if (requested === undefined) return Math.min(defaults.defaultSeconds, max);
  return Math.min(Math.max(60, requested), max);
}

/** WebSub §5.1: hub.secret MUST be less than 200 bytes. */
export const MAX_SECRET_BYTES = 199;

/** WebSub §7.1: `sha256=<hex HMAC of the body, keyed with hub.secret>`. */
export function signBody(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failures: base × 2^(attempt-1), capped at an
 * hour, plus up to 20 % jitter (`random` in [0, 1)) so that a hub restarting does not retry every
 * subscriber in one burst.
 */
export function retryDelayMs(attempt: number, baseMs: number, random: number): number {
  const delay = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3600_000);
  return Math.round(delay * (1 + 0.2 * random));
}
