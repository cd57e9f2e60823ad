import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podcastGuid } from '../../src/domain/podcast.js';
import { BASE_URL, createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, expectProblem, send } from '../helpers/builders.js';
import { expectSameIds, fetchAllFormats, fetchRss, getArticle, ingest, quiesce } from '../helpers/feeds.js';
import { pollSource } from '../../src/jobs/poll-sources.js';
import { claimSource, getSource, insertSource } from '../../src/storage/sources.js';
import { startUpstreamServer } from '../helpers/upstream-server.js';
import { fakeLookup } from '../sources/setup.js';
import { appleProblems } from './apple.js';

/**
 * Issue 6, podcasts: a category made a podcast through the categories API, the show and episode tags
 * in its RSS (checked against Apple's required-tag list), the same episodes in Atom and JSON Feed, and
 * the ingest rule for episodes (a real length), on the real app and database.
 */

const SHOW = {
  author: 'Example News Audio',
  ownerName: 'Podcast Desk',
  ownerEmail: 'podcasts@news.example.co.uk',
  imageUrl: 'https://news.example.co.uk/img/briefing-3000.png',
  itunesCategory: 'News',
  itunesSubcategory: 'Daily News',
  explicit: false,
  type: 'episodic',
  copyright: '© 2026 Example News',
  locked: true,
};

const audio = (name: string, length = 9_437_184, durationSeconds = 600) => ({
  url: `https://news.example.co.uk/audio/${name}.mp3`,
  type: 'audio/mpeg',
  length,
  durationSeconds,
});

// Values as written (no number or boolean conversion): what a podcast app reads.
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => ['item', 'enclosure'].includes(name) });

interface PodcastItem {
  guid: { '#text': string };
  enclosure: { '@url': string; '@length': string; '@type': string }[];
  'itunes:duration'?: string;
  'itunes:episodeType'?: string;
  'itunes:episode'?: string;
  'itunes:season'?: string;
  'itunes:explicit'?: string;
  'itunes:image'?: { '@href': string };
}

function channelOf(text: string) {
  return (xml.parse(text) as { rss: { channel: Record<string, unknown> & { item?: PodcastItem[] } } }).rss.channel;
}

describe('podcasts', () => {
  let t: TestContext;

  beforeAll(async () => {
    t = await createTestContext();
    const created = await send(t.app, 'PUT', '/api/v1/categories/briefing', {
      body: { name: 'Briefing', description: 'The morning briefing & the week ahead.', podcast: SHOW },
    });
    expect(created.status, created.text).toBe(201);
    await ingest(t, [
      articleInput({
        externalId: 'ep-1',
        title: 'Briefing: Monday',
        categories: ['Briefing'],
        imageUrl: 'https://news.example.co.uk/img/ep-1.jpg',
        // A transcript listed before the audio: the episode's enclosure is still the audio.
        enclosures: [{ url: 'https://news.example.co.uk/t/ep-1.pdf', type: 'application/pdf', length: 0 }, audio('ep-1')],
        podcast: { episode: 41, season: 2, episodeType: 'full', explicit: true },
        publishedAt: '2026-11-23T06:00:00Z',
      }),
      articleInput({
        externalId: 'ep-2',
        title: 'Briefing: Tuesday (video)',
        categories: ['Briefing', 'World'],
        enclosures: [{ url: 'https://news.example.co.uk/video/ep-2.mp4', type: 'video/mp4', length: 52_428_800, durationSeconds: 300 }],
        publishedAt: '2026-11-24T06:00:00Z',
      }),
      articleInput({
        externalId: 'ep-october',
        title: 'Briefing: the October special',
        categories: ['Briefing'],
        enclosures: [audio('october', 4_000_000, 1800)],
        podcast: { episodeType: 'bonus' },
        publishedAt: '2026-10-15T06:00:00Z',
      }),
      // Filed in the podcast category but not episodes: no media at all, or only a document.
      articleInput({ externalId: 'text-only', title: 'Briefing notes (text)', categories: ['Briefing'], publishedAt: '2026-11-25T06:00:00Z' }),
      articleInput({
        externalId: 'pdf-only',
        title: 'Briefing transcript pack',
        categories: ['Briefing'],
        enclosures: [{ url: 'https://news.example.co.uk/t/pack.pdf', type: 'application/pdf', length: 1000 }],
        publishedAt: '2026-11-25T07:00:00Z',
      }),
    ]);
    await t.feeds.refresh('change');
    await quiesce(t);
  });
  afterAll(async () => t?.close());

  it('the category API validates the podcast settings, naming each missing or wrong field (422)', async () => {
    const { author: _a, ownerEmail: _e, ...missing } = SHOW;
    const answer = await send(t.app, 'PUT', '/api/v1/categories/audio', { body: { name: 'Audio', podcast: missing } });
    expectProblem(answer, 422, ['podcast.author', 'podcast.ownerEmail']);
    expect(answer.body.errors.find((e: { path: string }) => e.path === 'podcast.author').message).toBe('is required');
    const wrong = await send(t.app, 'PUT', '/api/v1/categories/audio', {
      body: {
        name: 'Audio',
        podcast: { ...SHOW, imageUrl: 'https://news.example.co.uk/img/art.gif', itunesCategory: 'Newz', ownerEmail: 'desk', type: 'daily', explicit: 'no' },
      },
    });
    expectProblem(wrong, 422, ['podcast.imageUrl', 'podcast.itunesCategory', 'podcast.ownerEmail', 'podcast.type', 'podcast.explicit']);
    const sub = await send(t.app, 'PUT', '/api/v1/categories/audio', { body: { name: 'Audio', podcast: { ...SHOW, itunesSubcategory: 'Football' } } });
    expectProblem(sub, 422, ['podcast.itunesSubcategory']);
    // Nothing was created by the refused requests.
    const list = await send(t.app, 'GET', '/api/v1/categories');
    expect(list.body.items.map((c: { slug: string }) => c.slug)).not.toContain('audio');
    expect(list.body.items.find((c: { slug: string }) => c.slug === 'briefing').podcast).toEqual(SHOW);
  });

  it('the podcast RSS carries Apple’s required show tags, podcast:guid and podcast:locked, and passes the required-tag list', async () => {
    const { raw } = await fetchRss(t, '/feeds/briefing.rss');
    expect(appleProblems(raw.text)).toEqual([]);
    const channel = channelOf(raw.text);
    expect(channel['itunes:image']).toEqual({ '@href': SHOW.imageUrl });
    expect(channel['itunes:category']).toEqual({ '@text': 'News', 'itunes:category': { '@text': 'Daily News' } });
    expect(channel['itunes:explicit']).toBe('false');
    expect(channel.language).toBe('en-GB');
    expect(channel['itunes:author']).toBe(SHOW.author);
    expect(channel['itunes:owner']).toEqual({ 'itunes:name': SHOW.ownerName, 'itunes:email': SHOW.ownerEmail });
    expect(channel['itunes:type']).toBe('episodic');
    expect(channel.copyright).toBe(SHOW.copyright);
    expect(channel['podcast:guid']).toBe(podcastGuid(`${BASE_URL}/feeds/briefing.rss`));
    expect(channel['podcast:locked']).toEqual({ '#text': 'yes', '@owner': SHOW.ownerEmail });
  });

  it('lists only episodes, each with exactly one media enclosure (real length and type), duration, type, numbers and artwork when given', async () => {
    const { raw } = await fetchRss(t, '/feeds/briefing.rss');
    const items = channelOf(raw.text).item ?? [];
    const guids = await Promise.all(['ep-2', 'ep-1', 'ep-october'].map(async (id) => (await getArticle(t, id)).guid));
    expect(items.map((i) => i.guid['#text'])).toEqual(guids);
    const [tuesday, monday, october] = items as [PodcastItem, PodcastItem, PodcastItem];
    expect(monday.enclosure).toEqual([{ '@url': 'https://news.example.co.uk/audio/ep-1.mp3', '@length': '9437184', '@type': 'audio/mpeg' }]);
    expect(monday['itunes:duration']).toBe('600');
    expect(monday['itunes:episodeType']).toBe('full');
    expect(monday['itunes:episode']).toBe('41');
    expect(monday['itunes:season']).toBe('2');
    expect(monday['itunes:explicit']).toBe('true');
    expect(monday['itunes:image']).toEqual({ '@href': 'https://news.example.co.uk/img/ep-1.jpg' });
    expect(tuesday.enclosure).toEqual([{ '@url': 'https://news.example.co.uk/video/ep-2.mp4', '@length': '52428800', '@type': 'video/mp4' }]);
    expect(tuesday['itunes:episodeType']).toBe('full');
    expect(tuesday['itunes:episode']).toBeUndefined();
    expect(tuesday['itunes:image']).toBeUndefined();
    expect(october['itunes:episodeType']).toBe('bonus');
  });

  it('Atom and JSON Feed carry the same episodes, as enclosure links and attachments', async () => {
    const feeds = await fetchAllFormats(t, 'briefing');
    const ids = expectSameIds(feeds);
    expect(ids).toHaveLength(3);
    for (const entry of feeds.atom.items) {
      const enclosures = (entry.links ?? []).filter((l) => l.$.rel === 'enclosure');
      expect(enclosures).toHaveLength(1);
      expect(Number(enclosures[0]!.$.length)).toBeGreaterThan(0);
    }
    expect(feeds.json.items.map((i) => i.attachments?.map((a) => [a.mime_type, a.size_in_bytes]))).toEqual([
      [['video/mp4', 52_428_800]],
      [['audio/mpeg', 9_437_184]],
      [['audio/mpeg', 4_000_000]],
    ]);
    // The episode filed in World too is an ordinary item there, with every enclosure.
    const world = await fetchAllFormats(t, 'world');
    expect(world.json.items.map((i) => i.title)).toEqual(['Briefing: Tuesday (video)']);
    expect(world.raw.rss.text).not.toContain('itunes:');
  });

  it('archive pages of a podcast are podcast documents too (show tags, episodes only)', async () => {
    const { raw } = await fetchRss(t, '/feeds/briefing/archive/2026-11.rss');
    expect(appleProblems(raw.text)).toEqual([]);
    expect((channelOf(raw.text).item ?? []).map((i) => i.enclosure[0]!['@url'])).toEqual([
      'https://news.example.co.uk/video/ep-2.mp4',
      'https://news.example.co.uk/audio/ep-1.mp3',
    ]);
    const live = await fetchRss(t, '/feeds/briefing.rss');
    expect(live.feed.atomLinks?.find((l) => l.$.rel === 'prev-archive')?.$.href).toBe(`${BASE_URL}/feeds/briefing/archive/2026-10.rss`);
  });

  it('an episode without a length is refused for podcast categories: 422 naming enclosures.0.length; nothing of the batch is stored', async () => {
    const single = await send(t.app, 'POST', '/api/v1/articles', {
      body: articleInput({ externalId: 'ep-no-length', categories: ['Briefing'], enclosures: [audio('no-length', 0)] }),
    });
    expectProblem(single, 422, ['enclosures.0.length']);
    expect(single.body.detail).toContain('enclosures[0].length');
    const batch = await send(t.app, 'POST', '/api/v1/articles', {
      body: {
        articles: [
          articleInput({ externalId: 'ep-ok', categories: ['Briefing'], enclosures: [audio('ok')] }),
          articleInput({ externalId: 'ep-bad', categories: ['World', 'Briefing'], enclosures: [{ url: 'https://news.example.co.uk/v.mp4', type: 'video/mp4', length: 0 }] }),
        ],
      },
    });
    expectProblem(batch, 422, ['articles.1.enclosures.0.length']);
    expect((await send(t.app, 'GET', '/api/v1/articles/ep-ok')).status).toBe(404);
    // Not a podcast category: an unknown length (0) stays allowed, as RSS allows it.
    const elsewhere = await send(t.app, 'POST', '/api/v1/articles', {
      body: articleInput({ externalId: 'world-audio', categories: ['World'], enclosures: [audio('world', 0)], publishedAt: '2026-11-20T08:00:00Z' }),
    });
    expect(elsewhere.status, elsewhere.text).toBe(201);
    // Episode numbers are Apple's non-zero integers.
    const zero = await send(t.app, 'POST', '/api/v1/articles', {
      body: articleInput({ externalId: 'ep-zero', categories: ['Briefing'], enclosures: [audio('zero')], podcast: { episode: 0, episodeType: 'teaser' } }),
    });
    expectProblem(zero, 422, ['podcast.episode', 'podcast.episodeType']);
  });

  it('a podcast rule broken by one article of a large batch stores none of it', async () => {
    // 150 articles; the bad one sorts last by externalId (zz-…), after the rows it would follow.
    const articles = Array.from({ length: 150 }, (_, i) =>
      articleInput({ externalId: `bulk-ep-${String(i).padStart(3, '0')}`, categories: ['World'], publishedAt: '2026-11-21T08:00:00Z' }),
    );
    articles[20] = articleInput({ externalId: 'zz-bulk-ep-bad', categories: ['Briefing'], enclosures: [audio('bulk-bad', 0)] });
    const batch = await send(t.app, 'POST', '/api/v1/articles', { body: { articles } });
    expectProblem(batch, 422, ['articles.20.enclosures.0.length']);
    expect((await send(t.app, 'GET', '/api/v1/articles/bulk-ep-000')).status).toBe(404);
    expect((await send(t.app, 'GET', '/api/v1/articles/bulk-ep-149')).status).toBe(404);
  });

  it('an upstream source feeding a podcast category skips episodes of unknown size (recorded on the source), keeps the rest', async () => {
    const server = await startUpstreamServer();
    try {
      t.deps.upstream = { lookup: fakeLookup, allowedAddresses: ['127.0.0.1'] };
      const item = (id: string, length: number) =>
        `<item><guid isPermaLink="false">${id}</guid><title>Upstream ${id}</title><link>https://radio.example.test/${id}</link>` +
        `<pubDate>Thu, 26 Nov 2026 06:00:00 GMT</pubDate><enclosure url="https://radio.example.test/${id}.mp3" length="${length}" type="audio/mpeg"/></item>`;
      server.setFeed('radio.xml', `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Radio</title><link>https://radio.example.test/</link><description>d</description>${item('sized', 123456)}${item('unsized', 0)}</channel></rss>`);
      const source = await insertSource(
        t.deps.db,
        { url: `http://feeds.example.test:${server.port}/feeds/radio.xml`, name: 'Radio', categories: ['Briefing'], pollIntervalSeconds: 900, enabled: true, useItemCategories: false, fullContent: false },
        t.clock.now(),
      );
      const claimed = await claimSource(t.deps.db, source!.id, { now: t.clock.now(), leaseMs: 600_000 });
      if (!claimed || claimed === 'busy') throw new Error('could not claim the source');
      const result = await pollSource({ ...t.deps, onArticlesChanged: () => t.feeds.requestRefresh() }, claimed);
      expect(result).toMatchObject({ outcome: 'ok', itemsNew: 1, itemsSkipped: 1 });
      const row = await getSource(t.deps.db, source!.id);
      expect(row?.itemErrors).toEqual([expect.objectContaining({ item: 1, path: 'enclosures.0.length' })]);
      await t.feeds.refresh('change');
      const { raw } = await fetchRss(t, '/feeds/briefing.rss');
      expect(raw.text).toContain('https://radio.example.test/sized.mp3');
      expect(raw.text).not.toContain('unsized');
      expect(appleProblems(raw.text)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('podcast:guid never changes (a rename re-renders the feed); a PUT without podcast keeps it; podcast: null turns it off', async () => {
    const guid = podcastGuid(`${BASE_URL}/feeds/briefing.rss`);
    const renamed = await send(t.app, 'PUT', '/api/v1/categories/briefing', { body: { name: 'The Briefing', description: 'Renamed.' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.podcast).toEqual(SHOW);
    await t.feeds.refresh('change');
    let { raw } = await fetchRss(t, '/feeds/briefing.rss');
    expect(raw.text).toContain('<title>Syndicate: The Briefing</title>');
    expect(channelOf(raw.text)['podcast:guid']).toBe(guid);

    // An identical PUT changes nothing (jsonb compared by value): the feed keeps its bytes.
    const etag = raw.headers.get('etag');
    const same = await send(t.app, 'PUT', '/api/v1/categories/briefing', { body: { name: 'The Briefing', description: 'Renamed.', podcast: { ...SHOW } } });
    expect(same.status).toBe(200);
    await t.feeds.refresh('change');
    expect((await fetchRss(t, '/feeds/briefing.rss')).raw.headers.get('etag')).toBe(etag);

    const off = await send(t.app, 'PUT', '/api/v1/categories/briefing', { body: { name: 'The Briefing', description: 'Renamed.', podcast: null } });
    expect(off.status).toBe(200);
    expect(off.body.podcast).toBeNull();
    await t.feeds.refresh('change');
    ({ raw } = await fetchRss(t, '/feeds/briefing.rss'));
    expect(raw.text).not.toContain('itunes:');
    expect(raw.text).not.toContain('podcast:guid');
    // An ordinary feed again: every article, episodes or not.
    expect((await fetchRss(t, '/feeds/briefing.rss')).feed.items.map((i) => i.title)).toEqual(
      expect.arrayContaining(['Briefing notes (text)', 'Briefing transcript pack', 'Briefing: Monday']),
    );
  });
});
