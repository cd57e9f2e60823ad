import { XMLParser } from 'fast-xml-parser';

/**
 * Apple's required tags for a podcast RSS feed ("A Podcaster's Guide to RSS", and
 * ../shared/notes/feed-standards.md section 6, P1–P6, P9), checked on the XML itself. Returns what is
 * missing or wrong; [] for a feed Apple would accept on these rules.
 */

export const ITUNES_NS = 'http://www.itunes.com/dtds/podcast-1.0.dtd';
export const PODCAST_NS = 'https://podcastindex.org/namespace/1.0';
/** P4: the episode media types Apple accepts. */
export const APPLE_EPISODE_MEDIA_TYPES = ['audio/x-m4a', 'audio/mpeg', 'video/quicktime', 'video/mp4', 'video/x-m4v', 'application/pdf'];

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['item', 'itunes:category', 'enclosure'].includes(name) });

type Node = Record<string, unknown>;

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object' && '#text' in value) return String((value as Node)['#text']);
  return undefined;
}

export function appleProblems(xml: string): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, what: string) => {
    if (!ok) problems.push(what);
  };
  const doc = parser.parse(xml) as Node;
  const rss = doc.rss as Node | undefined;
  if (!rss) return ['no rss element'];
  // P1: the exact namespace, case-sensitive.
  need(rss['@xmlns:itunes'] === ITUNES_NS, `xmlns:itunes must be exactly ${ITUNES_NS}`);
  need(rss['@xmlns:podcast'] === PODCAST_NS, `xmlns:podcast must be ${PODCAST_NS}`);
  const channel = rss.channel as Node;
  // P2: show required tags.
  need(text(channel.title)?.trim(), 'channel title');
  const description = text(channel.description);
  need(description?.trim(), 'channel description');
  need(Buffer.byteLength(description ?? '') <= 4000, 'channel description at most 4000 bytes');
  const image = channel['itunes:image'] as Node | undefined;
  const href = image?.['@href'] as string | undefined;
  need(href && /^https?:\/\/.+\.(jpe?g|png)$/i.test(href), 'itunes:image href (JPEG or PNG URL)');
  need(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(text(channel.language) ?? ''), 'language (ISO 639)');
  const categories = (channel['itunes:category'] as Node[] | undefined) ?? [];
  need(categories.length > 0 && categories.every((c) => typeof c['@text'] === 'string' && c['@text'] !== ''), 'itunes:category text=');
  need(['true', 'false'].includes(text(channel['itunes:explicit']) ?? ''), 'itunes:explicit true or false');
  // P3: recommended show tags the issue requires.
  need(text(channel['itunes:author'])?.trim(), 'itunes:author');
  const owner = channel['itunes:owner'] as Node | undefined;
  need(text(owner?.['itunes:name'])?.trim() && /@/.test(text(owner?.['itunes:email']) ?? ''), 'itunes:owner with name and email');
  need(['episodic', 'serial'].includes(text(channel['itunes:type']) ?? ''), 'itunes:type episodic or serial');
  // P9: podcast:guid (a UUID) and podcast:locked yes/no.
  need(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(text(channel['podcast:guid']) ?? ''), 'podcast:guid (UUIDv5)');
  need(['yes', 'no'].includes(text(channel['podcast:locked']) ?? ''), 'podcast:locked yes or no');
  // P4–P6: each episode.
  const urls = new Set<string>();
  for (const [i, item] of ((channel.item as Node[] | undefined) ?? []).entries()) {
    need(text(item.title)?.trim(), `item ${i}: title`);
    const enclosures = (item.enclosure as Node[] | undefined) ?? [];
    need(enclosures.length === 1, `item ${i}: exactly one enclosure`);
    const enclosure = enclosures[0];
    const url = enclosure?.['@url'] as string | undefined;
    need(url && /^https?:\/\//.test(url) && !urls.has(url), `item ${i}: enclosure url, unique across episodes`);
    if (url) urls.add(url);
    need(/^[1-9]\d*$/.test(String(enclosure?.['@length'] ?? '')), `item ${i}: enclosure length in bytes (> 0)`);
    need(APPLE_EPISODE_MEDIA_TYPES.includes(String(enclosure?.['@type'])), `item ${i}: enclosure type Apple accepts`);
    need(text(item.guid), `item ${i}: guid`);
    const duration = text(item['itunes:duration']);
    need(duration === undefined || /^\d+$/.test(duration), `item ${i}: itunes:duration in seconds`);
    need(['full', 'trailer', 'bonus'].includes(text(item['itunes:episodeType']) ?? ''), `item ${i}: itunes:episodeType`);
    for (const tag of ['itunes:episode', 'itunes:season']) {
      const value = text(item[tag]);
      need(value === undefined || /^[1-9]\d*$/.test(value), `item ${i}: ${tag} a non-zero integer`);
    }
    const explicit = text(item['itunes:explicit']);
    need(explicit === undefined || ['true', 'false'].includes(explicit), `item ${i}: itunes:explicit true or false`);
  }
  // Never the deprecated or other-platform tags (feed-generation rule 8).
  need(!/<itunes:summary>|<googleplay:/.test(xml), 'no itunes:summary or googleplay tags');
  return problems;
}
