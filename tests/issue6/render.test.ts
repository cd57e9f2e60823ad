import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  addMonths,
  archiveMonthExists,
  archiveNeighbours,
  archiveSealedFrom,
  livePrevArchive,
  monthEnd,
  parseMonth,
  type Month,
} from '../../src/domain/archive.js';
import { buildFeedDocument, type FeedArticle, type FeedSite } from '../../src/domain/feed-builder.js';
import { buildViewDocument, type ViewContentInput, type ViewRequest } from '../../src/domain/feed-view.js';
import { podcastEpisodeErrors, podcastGuid, type PodcastConfig } from '../../src/domain/podcast.js';
import { renderAtom } from '../../src/render/atom.js';
import { renderJsonFeed } from '../../src/render/json-feed.js';
import { renderRss } from '../../src/render/rss.js';
import { FEED_HISTORY_NS, markFeedHistoryArchive } from '../../src/render/xml-post-process.js';
import { xmlProblems } from '../helpers/feed-fixtures.js';
import { parseAtomBack, parseJsonBack, parseRssBack } from '../helpers/feeds.js';
import { APPLE_EPISODE_MEDIA_TYPES, appleProblems } from './apple.js';

/**
 * Issue 6, pure parts: the podcast and archive documents the builders make from fixed inputs and the
 * renderers turn into bytes (golden files under tests/golden/, rewritten only with UPDATE_GOLDEN=1 and
 * reviewed as diffs), the RFC 5005 post-pass, podcast:guid, and the month rules. No database, no clock.
 */

const UPDATE = process.env.UPDATE_GOLDEN === '1';

async function expectGolden(fileName: string, actual: string): Promise<void> {
  const url = new URL(`../golden/${fileName}`, import.meta.url);
  if (UPDATE) await writeFile(url, actual, 'utf8');
  const expected = await readFile(url, 'utf8').catch(() => {
    throw new Error(`missing golden file tests/golden/${fileName}: run with UPDATE_GOLDEN=1 and review it`);
  });
  expect(actual, `${fileName} differs from the golden file`).toBe(expected);
}

const BASE = 'https://news.example.co.uk';
const SITE: FeedSite = {
  baseUrl: BASE,
  title: 'Example News',
  description: 'News from Example.',
  language: 'en-GB',
  ttlMinutes: 5,
  hubs: [`${BASE}/websub`],
};

const SHOW: PodcastConfig = {
  author: 'Example News Audio & Video',
  ownerName: 'Podcast Desk',
  ownerEmail: 'podcasts@news.example.co.uk',
  imageUrl: `${BASE}/img/briefing-3000.jpg`,
  itunesCategory: 'News',
  itunesSubcategory: 'Daily News',
  explicit: false,
  type: 'episodic',
  copyright: '© 2026 Example News',
  locked: true,
};

const CATEGORY = {
  slug: 'briefing',
  name: 'The Briefing',
  description: 'The morning news briefing: twelve minutes, every weekday.',
  updatedAt: new Date('2026-10-01T09:00:00Z'),
  podcast: SHOW,
};

function article(overrides: Partial<FeedArticle> & Pick<FeedArticle, 'guid' | 'title' | 'publishedAt'>): FeedArticle {
  return {
    url: `${BASE}/briefing/${overrides.guid.split(':').pop()}`,
    summary: null,
    contentHtml: null,
    updatedAt: overrides.publishedAt,
    authors: [{ name: 'Cara Host' }],
    categories: [{ slug: 'briefing', name: 'The Briefing' }],
    tags: [],
    imageUrl: null,
    enclosures: [],
    language: 'en-GB',
    ...overrides,
  };
}

/** Three episodes (one with a transcript PDF listed first, one a numbered serial-style trailer). */
const EPISODES: FeedArticle[] = [
  article({
    guid: 'tag:news.example.co.uk,2026-10-01:article:31',
    title: 'The Briefing: 3 November — budget day & the <markets>',
    publishedAt: new Date('2026-11-03T06:00:00Z'),
    updatedAt: new Date('2026-11-03T06:30:00Z'),
    summary: 'Budget day, the markets and a rail strike called off.',
    contentHtml: '<p>Budget day: what changes for you.</p><p><a href="https://news.example.co.uk/budget">Full coverage</a></p>',
    imageUrl: `${BASE}/img/briefing-1103.jpg`,
    enclosures: [
      { url: `${BASE}/transcripts/1103.pdf`, type: 'application/pdf', length: 48_211 },
      { url: `${BASE}/audio/briefing-1103.mp3`, type: 'audio/mpeg', length: 11_534_336, durationSeconds: 721 },
    ],
    podcast: { episode: 212, season: 3, episodeType: 'full' },
  }),
  article({
    guid: 'tag:news.example.co.uk,2026-10-01:article:30',
    title: 'Video briefing: the week ahead',
    publishedAt: new Date('2026-11-02T18:00:00Z'),
    summary: 'The week ahead, in four minutes of video.',
    enclosures: [{ url: `${BASE}/video/week-ahead-1102.mp4`, type: 'video/mp4', length: 48_000_000, durationSeconds: 240 }],
    podcast: { explicit: true },
  }),
  article({
    guid: 'tag:news.example.co.uk,2026-10-01:article:29',
    title: 'Coming soon: The Briefing',
    publishedAt: new Date('2026-10-30T07:00:00Z'),
    summary: 'A trailer for the new daily briefing.',
    enclosures: [{ url: `${BASE}/audio/trailer.m4a`, type: 'audio/x-m4a', length: 1_048_576, durationSeconds: 62 }],
    podcast: { episodeType: 'trailer' },
  }),
];

function podcastDocument() {
  return buildFeedDocument({
    site: SITE,
    feedKey: 'briefing',
    feedCreatedAt: new Date('2026-10-01T09:00:00Z'),
    category: CATEGORY,
    items: EPISODES,
    updated: new Date('2026-11-03T06:30:00Z'),
    archive: { isArchive: false, prev: { rss: `${BASE}/feeds/briefing/archive/2026-10.rss`, atom: `${BASE}/feeds/briefing/archive/2026-10.atom`, json: `${BASE}/feeds/briefing/archive/2026-10.json` } },
  });
}

/** The October 2026 archive page of `world`, as the views builder makes it (links to September, November, live). */
function archiveDocument() {
  const req: ViewRequest = { keys: ['world'], format: 'rss', month: { year: 2026, month: 10 }, limit: null, since: null, partner: null };
  const items: FeedArticle[] = [
    article({
      guid: 'tag:news.example.co.uk,2026-09-01:article:12',
      title: 'Leaders agree climate fund & "loss and damage" terms',
      url: `${BASE}/world/climate-fund?ref=feed&x=1`,
      publishedAt: new Date('2026-10-31T23:59:59Z'),
      updatedAt: new Date('2026-11-01T08:00:00Z'),
      summary: 'A fund for <flood defences> in 40 countries.',
      contentHtml: '<p>Delegates agreed the fund after two weeks]]> of talks.</p>',
      authors: [{ name: 'Ada Correspondent' }],
      categories: [{ slug: 'world', name: 'World' }],
    }),
    article({
      guid: 'tag:news.example.co.uk,2026-09-01:article:7',
      title: 'Election result confirmed',
      url: `${BASE}/world/election`,
      publishedAt: new Date('2026-10-01T00:00:00Z'),
      summary: 'The count finished overnight.',
      categories: [{ slug: 'world', name: 'World' }],
    }),
  ];
  const content: ViewContentInput = {
    states: [{ feedKey: 'world', createdAt: new Date('2026-09-01T10:00:00Z'), contentUpdatedAt: new Date('2026-11-20T10:00:00Z') }],
    categories: [{ id: 1, slug: 'world', name: 'World', description: null, updatedAt: new Date('2026-09-01T10:00:00Z'), podcast: null }],
    episodesOnly: false,
    items,
    firstPublishedAt: new Date('2026-09-03T12:00:00Z'),
    newestBeforeNewestMonth: null,
    lastChangeAt: new Date('2026-11-01T08:00:00Z'),
  };
  return buildViewDocument({ site: SITE, req, content, viewNow: new Date('2026-11-29T09:00:00Z'), updated: new Date('2026-11-01T08:00:00Z'), defaultLimit: 50 });
}

describe('podcast documents', () => {
  it('RSS matches tests/golden/podcast.rss.xml and passes Apple’s required-tag list', async () => {
    const xml = renderRss(podcastDocument());
    await expectGolden('podcast.rss.xml', xml);
    expect(xmlProblems(xml)).toEqual([]);
    expect(appleProblems(xml)).toEqual([]);
    await parseRssBack(xml);
  });

  it('Atom matches tests/golden/podcast.atom.xml: the same episodes, one enclosure link each', async () => {
    const xml = renderAtom(podcastDocument());
    await expectGolden('podcast.atom.xml', xml);
    const feed = await parseAtomBack(xml);
    expect(feed.items.map((e) => e.id)).toEqual(EPISODES.map((e) => e.guid));
    for (const entry of feed.items) expect((entry.links ?? []).filter((l) => l.$.rel === 'enclosure')).toHaveLength(1);
  });

  it('JSON Feed matches tests/golden/podcast.json: the same episodes, one attachment each', async () => {
    const json = renderJsonFeed(podcastDocument());
    await expectGolden('podcast.json', json);
    const feed = parseJsonBack(json);
    expect(feed.items.map((i) => i.id)).toEqual(EPISODES.map((e) => e.guid));
    expect(feed.items.map((i) => i.attachments?.map((a) => a.mime_type))).toEqual([['audio/mpeg'], ['video/mp4'], ['audio/x-m4a']]);
  });

  it('each episode has exactly one media enclosure: its audio/video, not a transcript listed first', () => {
    const doc = podcastDocument();
    expect(doc.items.map((i) => i.enclosures.map((e) => e.type))).toEqual([['audio/mpeg'], ['video/mp4'], ['audio/x-m4a']]);
    for (const item of doc.items) expect(APPLE_EPISODE_MEDIA_TYPES).toContain(item.enclosures[0]!.type);
  });

  it('podcast:guid is the UUIDv5 of the feed URL without scheme (the namespace’s own test vectors)', () => {
    expect(podcastGuid('https://mp3s.nashownotes.com/pc20rss.xml')).toBe('917393e3-1b1e-5cef-ace4-edaa54e1f810');
    expect(podcastGuid('podnews.net/rss/')).toBe('9b024349-ccf0-5f69-a609-6b82873eab3c');
    expect(podcastGuid('http://podnews.net/rss')).toBe('9b024349-ccf0-5f69-a609-6b82873eab3c');
    expect(podcastDocument().podcast?.guid).toBe(podcastGuid(`${BASE}/feeds/briefing.rss`));
  });

  it('an audio/video enclosure without a length in a podcast category is an error naming enclosures.N.length', () => {
    const categories = [{ name: 'News', slug: 'news' }, { name: 'The Briefing', slug: 'briefing' }];
    const enclosures = [
      { url: `${BASE}/t.pdf`, type: 'application/pdf', length: 0 },
      { url: `${BASE}/a.mp3`, type: 'audio/mpeg', length: 0 },
    ];
    const errors = podcastEpisodeErrors({ categories, enclosures }, new Set(['briefing']));
    expect(errors.map((e) => e.path)).toEqual(['enclosures.1.length']);
    expect(errors[0]!.message).toContain('enclosures[1].length');
    expect(podcastEpisodeErrors({ categories, enclosures }, new Set(['other']))).toEqual([]);
  });
});

describe('archive documents (RFC 5005)', () => {
  it('RSS matches tests/golden/archive.rss.xml: fh:archive in the channel, atom:link current / prev-archive / next-archive', async () => {
    const xml = renderRss(archiveDocument());
    await expectGolden('archive.rss.xml', xml);
    expect(xml).toContain(`xmlns:fh="${FEED_HISTORY_NS}"`);
    expect(xml).toMatch(/<channel>\n {4}<fh:archive\/>\n {4}<title>/);
    const feed = await parseRssBack(xml);
    expect(Object.fromEntries((feed.atomLinks ?? []).map((l) => [l.$.rel, l.$.href]))).toEqual({
      self: `${BASE}/feeds/world/archive/2026-10.rss`,
      current: `${BASE}/feeds/world.rss`,
      'prev-archive': `${BASE}/feeds/world/archive/2026-09.rss`,
      'next-archive': `${BASE}/feeds/world/archive/2026-11.rss`,
    });
  });

  it('Atom matches tests/golden/archive.atom.xml: fh:archive as the first child of feed', async () => {
    const xml = renderAtom(archiveDocument());
    await expectGolden('archive.atom.xml', xml);
    expect(xml).toMatch(/^<\?xml[^>]*>\n<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom" [^>]*xmlns:fh="http:\/\/purl\.org\/syndication\/history\/1\.0">\n {2}<fh:archive\/>\n {2}<author>/);
    const feed = await parseAtomBack(xml);
    expect((feed.feedLinks ?? []).map((l) => l.$.rel)).toEqual(expect.arrayContaining(['self', 'current', 'prev-archive', 'next-archive']));
  });

  it('JSON Feed matches tests/golden/archive.json: next_url is the older month, never feed_url (J5)', async () => {
    const json = renderJsonFeed(archiveDocument());
    await expectGolden('archive.json', json);
    const feed = parseJsonBack(json) as ReturnType<typeof parseJsonBack> & { next_url?: string };
    expect(feed.feed_url).toBe(`${BASE}/feeds/world/archive/2026-10.json`);
    expect(feed.next_url).toBe(`${BASE}/feeds/world/archive/2026-09.json`);
  });

  it('the fh:archive post-pass never touches CDATA, even text that looks like the tags it rewrites', () => {
    const quoted = '<![CDATA[<rss version="2.0"><channel>quoted</channel>]]>';
    const input = `<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n  <channel>\n    <title>${quoted}</title>\n    <description>${quoted}</description>\n  </channel>\n</rss>\n`;
    const output = markFeedHistoryArchive(input);
    expect(output).toBe(
      `<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:fh="${FEED_HISTORY_NS}">\n  <channel>\n    <fh:archive/>\n    <title>${quoted}</title>\n    <description>${quoted}</description>\n  </channel>\n</rss>\n`,
    );
    expect(xmlProblems(output)).toEqual([]);
    const atom = markFeedHistoryArchive('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n  <id>x</id>\n</feed>\n');
    expect(atom).toBe(`<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xmlns:fh="${FEED_HISTORY_NS}">\n  <fh:archive/>\n  <id>x</id>\n</feed>\n`);
  });

  it('live documents carry prev-archive only; only archive documents get fh:archive', () => {
    const live = renderRss(podcastDocument());
    expect(live).not.toContain('fh:');
    expect(live).toContain(`<atom:link href="${BASE}/feeds/briefing/archive/2026-10.rss" rel="prev-archive" type="application/rss+xml"/>`);
  });
});

describe('archive months', () => {
  const m = (text: string): Month => parseMonth(text)!;

  it('parses YYYY-MM only', () => {
    expect(parseMonth('2026-10')).toEqual({ year: 2026, month: 10 });
    for (const bad of ['2026-13', '2026-00', '2026-1', '26-10', '2026-10-01', '0999-01', 'yyyy-mm']) expect(parseMonth(bad), bad).toBeNull();
    expect(addMonths(m('2026-12'), 1)).toEqual(m('2027-01'));
    expect(addMonths(m('2026-01'), -1)).toEqual(m('2025-12'));
  });

  it('exist from the first article’s month to the current month; neighbours are calendar months inside that range', () => {
    const first = new Date('2026-08-15T10:00:00Z');
    const now = new Date('2026-11-29T09:00:00Z');
    expect(archiveMonthExists(m('2026-07'), first, now)).toBe(false);
    expect(archiveMonthExists(m('2026-08'), first, now)).toBe(true);
    expect(archiveMonthExists(m('2026-11'), first, now)).toBe(true);
    expect(archiveMonthExists(m('2026-12'), first, now)).toBe(false);
    expect(archiveMonthExists(m('2026-10'), null, now)).toBe(false);
    expect(archiveNeighbours(m('2026-08'), first, now)).toEqual({ prev: null, next: m('2026-09') });
    expect(archiveNeighbours(m('2026-11'), first, now)).toEqual({ prev: m('2026-10'), next: null });
  });

  it('the live feed links the newest month before its newest item’s, or that month when the feed cannot hold all of it', () => {
    const at = (iso: string) => ({ publishedAt: new Date(iso) });
    const items = [at('2026-11-20T00:00:00Z'), at('2026-11-02T00:00:00Z')];
    expect(livePrevArchive({ items, limit: 50, newestBeforeNewestMonth: new Date('2026-09-30T12:00:00Z') })).toEqual(m('2026-09'));
    expect(livePrevArchive({ items, limit: 2, newestBeforeNewestMonth: new Date('2026-09-30T12:00:00Z') })).toEqual(m('2026-11'));
    expect(livePrevArchive({ items: [...items, at('2026-10-31T00:00:00Z')], limit: 3, newestBeforeNewestMonth: new Date('2026-10-31T00:00:00Z') })).toEqual(m('2026-10'));
    expect(livePrevArchive({ items, limit: 50, newestBeforeNewestMonth: null })).toBeNull();
    expect(livePrevArchive({ items: [], limit: 50, newestBeforeNewestMonth: null })).toBeNull();
  });

  it('is immutable a day after both the month’s end (plus embargo) and its last change', () => {
    const october = m('2026-10');
    const day = 24 * 3600_000;
    expect(archiveSealedFrom(october, new Date('2026-10-20T00:00:00Z'), 0).getTime()).toBe(monthEnd(october).getTime() + day);
    expect(archiveSealedFrom(october, new Date('2026-11-20T00:00:00Z'), 0).toISOString()).toBe('2026-11-21T00:00:00.000Z');
    expect(archiveSealedFrom(october, null, 60 * 60_000).toISOString()).toBe('2026-11-02T01:00:00.000Z');
  });
});
