/**
 * What a feed request's User-Agent says about its audience. Hosted aggregators fetch a feed once for
 * all their users and announce how many subscribe ("Feedly/1.0 (+http://www.feedly.com/fetcher.html;
 * 16 subscribers; …)"): they count by that number, not as one reader.
 */

export interface AggregatorFetch {
  /** The aggregator's name, stable across its versions ("Feedly", "Inoreader"). */
  client: string;
  subscribers: number;
}

/** Known aggregators, tested in order against the User-Agent. */
const KNOWN: ReadonlyArray<readonly [RegExp, string]> = [
  [/feedly/i, 'Feedly'],
  [/inoreader/i, 'Inoreader'],
  [/newsblur/i, 'NewsBlur'],
  [/theoldreader/i, 'The Old Reader'],
  [/feedbin/i, 'Feedbin'],
  [/bazqux/i, 'BazQux'],
  [/netvibes/i, 'Netvibes'],
  [/feedspot/i, 'Feedspot'],
  [/bloglines/i, 'Bloglines'],
  [/g2reader/i, 'G2Reader'],
  [/feedhq/i, 'FeedHQ'],
  [/feedwrangler/i, 'Feed Wrangler'],
  [/newsgator/i, 'NewsGator'],
  [/superfeedr/i, 'Superfeedr'],
  [/miniflux/i, 'Miniflux'],
  [/freshrss/i, 'FreshRSS'],
];

// "16 subscribers", "1 subscriber", "23 readers"; also "subscribers: 16" (a few fetchers).
const COUNT = /\b(\d{1,9})[ -]*(?:subscribers?|readers?)\b|\bsubscribers?\s*[:=]\s*(\d{1,9})\b/i;

/** The aggregator and the subscriber count it announces, or null when the client announces none. */
export function parseAggregator(userAgent: string | undefined): AggregatorFetch | null {
  if (!userAgent) return null;
  const match = COUNT.exec(userAgent);
  if (!match) return null;
  const subscribers = Number(match[1] ?? match[2]);
  if (!Number.isSafeInteger(subscribers)) return null;
  for (const [pattern, client] of KNOWN) if (pattern.test(userAgent)) return { client, subscribers };
  return { client: productName(userAgent), subscribers };
}

/**
 * An unknown aggregator is named by its first product token that is not the generic "Mozilla/5.0"
 * (or by a "compatible; Name/1.0" comment), trimmed to 60 characters.
 */
function productName(userAgent: string): string {
  const compatible = /compatible;\s*([^;/)]+)/i.exec(userAgent);
  if (compatible && compatible[1]!.trim() !== '') return compatible[1]!.trim().slice(0, 60);
  for (const token of userAgent.split(/\s+/)) {
    const name = token.split('/')[0]!.replace(/[^\w.\- ]/g, '');
    if (name !== '' && name.toLowerCase() !== 'mozilla') return name.slice(0, 60);
  }
  return 'unknown';
}

/** Crawlers and monitors that fetch feeds without a person behind them: not counted as readers. */
const NOT_A_READER = /\b(?:bot|crawler|spider|slurp|uptime|monitor|pingdom|headlesschrome)\b|googlebot|bingbot|facebookexternalhit/i;

export function isRobot(userAgent: string | undefined): boolean {
  return userAgent !== undefined && NOT_A_READER.test(userAgent);
}
