import { readFileSync, writeFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAtom } from '../../src/render/atom.js';
import { renderJsonFeed } from '../../src/render/json-feed.js';
import { renderRss } from '../../src/render/rss.js';
import { addAtomTombstones } from '../../src/render/atom-tombstones.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { articleInput, send } from '../helpers/builders.js';
import { buildFeedDocument, buildFeedItem, buildGoldenFeedDocument } from '../helpers/feed-fixtures.js';
import { fetchAllFormats, fetchAtom, parseAtomBack, quiesce } from '../helpers/feeds.js';

/**
 * Issue 7, retractions: RFC 6721 tombstones in Atom for 30 days, and the retraction list of the API.
 */

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const TOMBSTONES = 'http://purl.org/atompub/tombstones/1.0';

function golden(fileName: string, actual: string): void {
  const url = new URL(`../golden/${fileName}`, import.meta.url);
  if (UPDATE) writeFileSync(url, actual);
  expect(actual, `${fileName} differs from the golden file`).toBe(readFileSync(url, 'utf8'));
}

/** at:deleted-entry elements as a namespace-aware reader sees them: { ref, when } in document order. */
function tombstonesOf(xml: string): { ref: string; when: string }[] {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'at:deleted-entry' });
  const doc = parser.parse(xml) as { feed: Record<string, unknown> & { 'xmlns:at'?: string; 'at:deleted-entry'?: { ref: string; when: string }[] } };
  if (doc.feed['at:deleted-entry']) expect(doc.feed['xmlns:at']).toBe(TOMBSTONES);
  return (doc.feed['at:deleted-entry'] ?? []).map((e) => ({ ref: e.ref, when: e.when }));
}

describe('rendering tombstones (RFC 6721)', () => {
  const deletedEntries = [
    { ref: 'tag:news.example.com,2026-05-01:article:7', when: new Date('2026-05-12T10:00:00Z') },
    // Attribute-special characters are escaped (guids never contain them, the renderer must not care).
    { ref: 'tag:news.example.com,2026-05-01:article:"8"&<9>', when: new Date('2026-05-11T08:30:00Z') },
  ];

  it('Atom gets at:deleted-entry per retraction, the namespace on the root; golden tests/golden/tombstones.atom.xml', async () => {
    const doc = { ...buildGoldenFeedDocument(), deletedEntries };
    const xml = renderAtom(doc);
    golden('tombstones.atom.xml', xml);
    // Still an Atom document every reader parses; entries unchanged.
    const feed = await parseAtomBack(xml);
    expect(feed.items.map((i) => i.id)).toEqual(doc.items.map((i) => i.id));
    expect(tombstonesOf(xml)).toEqual([
      { ref: deletedEntries[0]!.ref, when: '2026-05-12T10:00:00.000Z' },
      { ref: deletedEntries[1]!.ref, when: '2026-05-11T08:30:00.000Z' },
    ]);
    // Without tombstones the output is exactly what it was.
    expect(renderAtom(buildGoldenFeedDocument())).toBe(renderAtom({ ...buildGoldenFeedDocument(), deletedEntries: [] }));
    expect(renderAtom(buildGoldenFeedDocument())).toBe(readFileSync(new URL('../golden/feed.atom.xml', import.meta.url), 'utf8'));
    // RSS and JSON Feed have no tombstones.
    expect(renderRss(doc)).toBe(renderRss(buildGoldenFeedDocument()));
    expect(renderJsonFeed(doc)).toBe(renderJsonFeed(buildGoldenFeedDocument()));
  });

  it('the post-pass only touches the root tag and the end, whatever the entries contain', () => {
    const hostile = buildFeedDocument({
      items: [buildFeedItem({ title: '</feed><feed xmlns:at="x">', contentHtml: '<p>]]></feed></p>' })],
    });
    const xml = renderAtom({ ...hostile, deletedEntries: deletedEntries.slice(0, 1) });
    expect(tombstonesOf(xml)).toHaveLength(1);
    expect(xml.match(/xmlns:at=/g)).toHaveLength(2); // ours on the root, the title's text escaped in the entry
    expect(xml.endsWith('  <at:deleted-entry ref="tag:news.example.com,2026-05-01:article:7" when="2026-05-12T10:00:00.000Z"/>\n</feed>\n')).toBe(true);
    expect(() => addAtomTombstones('<rss/>', deletedEntries)).toThrow(/not an Atom feed/);
  });
});

describe('retractions through the pipeline', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
    t.clock.set('2026-11-29T09:00:00Z');
    for (const [id, categories] of [
      ['keep', ['Politics']],
      ['retract-me', ['Politics', 'Economy']],
      ['old-retraction', ['Politics']],
    ] as const) {
      const answer = await send(t.app, 'POST', '/api/v1/articles', {
        body: articleInput({ externalId: id, title: `Story ${id}`, categories: [...categories], publishedAt: '2026-11-28T08:00:00Z' }),
      });
      expect(answer.status).toBe(201);
    }
    await t.feeds.refresh('change');
  });
  afterAll(async () => t?.close());

  const guid = async (externalId: string) => (await send(t.app, 'GET', `/api/v1/articles/${externalId}`)).body.guid as string;

  it('a retracted article leaves every feed and appears as a tombstone in the Atom feeds it was in, for 30 days', async () => {
    const retracted = await guid('retract-me');
    t.clock.set('2026-11-29T10:00:00Z');
    expect((await send(t.app, 'DELETE', '/api/v1/articles/retract-me')).status).toBe(204);
    await quiesce(t);
    await t.feeds.refresh('change');
    for (const feed of ['politics', 'economy', 'all']) {
      const formats = await fetchAllFormats(t, feed);
      expect(formats.atom.items.map((i) => i.id)).not.toContain(retracted);
      expect(formats.rss.items.map((i) => i.guid)).not.toContain(retracted);
      expect(tombstonesOf(formats.raw.atom.text), feed).toEqual([{ ref: retracted, when: '2026-11-29T10:00:00.000Z' }]);
      expect(formats.raw.rss.text).not.toContain('deleted-entry');
      expect(formats.raw.json.text).not.toContain('deleted');
    }
    // Not in a feed it never was in.
    await send(t.app, 'PUT', '/api/v1/categories/sport', { body: { name: 'Sport' } });
    expect(tombstonesOf((await fetchAtom(t, '/feeds/sport.atom')).raw.text)).toEqual([]);

    // A second retraction: newest first.
    t.clock.set('2026-12-05T12:00:00Z');
    const older = await guid('old-retraction');
    expect((await send(t.app, 'DELETE', '/api/v1/articles/old-retraction')).status).toBe(204);
    await t.feeds.refresh('change');
    expect(tombstonesOf((await fetchAtom(t, '/feeds/politics.atom')).raw.text).map((x) => x.ref)).toEqual([older, retracted]);

    // 30 days after the first retraction, its tombstone leaves at the next tick (the feed is due then).
    // The DELETE's debounced change refresh must run before the clock moves, or it renders the due
    // feeds itself and the tick finds nothing (CI saw this on Postgres).
    await quiesce(t);
    t.clock.set('2026-12-29T10:00:01Z');
    const tick = await t.feeds.tick();
    expect(tick.feedsRendered).toBeGreaterThan(0);
    expect(tombstonesOf((await fetchAtom(t, '/feeds/politics.atom')).raw.text).map((x) => x.ref)).toEqual([older]);
    expect(tombstonesOf((await fetchAtom(t, '/feeds/economy.atom')).raw.text)).toEqual([]);
  });

  it('GET /api/v1/articles?deleted=true lists the retractions (newest first) for partners; the default list does not', async () => {
    const deleted = await send(t.app, 'GET', '/api/v1/articles?deleted=true');
    expect(deleted.status).toBe(200);
    const items = deleted.body.items as { externalId: string; deletedAt: string | null; guid: string }[];
    expect(items.map((i) => i.externalId).sort()).toEqual(['old-retraction', 'retract-me']);
    expect(items.every((i) => i.deletedAt !== null && i.guid.startsWith('tag:'))).toBe(true);
    expect(items.find((i) => i.externalId === 'retract-me')!.deletedAt).toBe('2026-11-29T10:00:00.000Z');
    const live = await send(t.app, 'GET', '/api/v1/articles');
    expect((live.body.items as { externalId: string }[]).map((i) => i.externalId)).toEqual(['keep']);
    // Filtered by category, and it needs a token like the rest of the API.
    const economy = await send(t.app, 'GET', '/api/v1/articles?deleted=true&category=economy');
    expect((economy.body.items as { externalId: string }[]).map((i) => i.externalId)).toEqual(['retract-me']);
    expect((await send(t.app, 'GET', '/api/v1/articles?deleted=true', { token: null })).status).toBe(401);
  });

  it('re-publishing a retracted article (same externalId) brings it back and removes its tombstone', async () => {
    const answer = await send(t.app, 'POST', '/api/v1/articles', {
      body: articleInput({ externalId: 'old-retraction', title: 'Story restored', categories: ['Politics'], publishedAt: '2026-11-28T08:00:00Z' }),
    });
    expect(answer.status).toBe(200);
    await t.feeds.refresh('change');
    const atom = await fetchAtom(t, '/feeds/politics.atom');
    expect(atom.feed.items.map((i) => i.title)).toContain('Story restored');
    expect(tombstonesOf(atom.raw.text)).toEqual([]);
  });
});
