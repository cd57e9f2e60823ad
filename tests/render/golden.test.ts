import { readFile, writeFile } from 'node:fs/promises';
import { generateRssFeed } from 'feedsmith';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderAtom } from '../../src/render/atom.js';
import { renderJsonFeed } from '../../src/render/json-feed.js';
import { renderOpml, type OpmlInput } from '../../src/render/opml.js';
import { renderRss } from '../../src/render/rss.js';
import { postProcessXml } from '../../src/render/xml-post-process.js';
import { buildGoldenFeedDocument } from '../helpers/feed-fixtures.js';

/**
 * Golden files: the exact bytes each renderer emits for one fixed document. A diff here is a change
 * in what readers receive; rewrite the goldens on purpose with UPDATE_GOLDEN=1 and review the diff.
 */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

async function expectGolden(fileName: string, actual: string): Promise<void> {
  const url = new URL(`../golden/${fileName}`, import.meta.url);
  if (UPDATE) await writeFile(url, actual, 'utf8');
  const expected = await readFile(url, 'utf8');
  // Byte for byte: compare the UTF-8 bytes, not only the decoded strings.
  expect(Buffer.from(actual, 'utf8').equals(Buffer.from(expected, 'utf8')), `${fileName} differs from the golden file`).toBe(true);
  expect(actual).toBe(expected);
}

const GOLDEN_OPML_INPUT: OpmlInput = {
  title: 'Example News: all sections',
  ownerName: 'Example News',
  dateCreated: new Date('2026-05-12T09:15:00Z'),
  outlines: [
    {
      title: 'Local',
      description: 'Local news from Example News.',
      xmlUrl: 'https://news.example.com/feeds/local.rss',
      htmlUrl: 'https://news.example.com/local',
      type: 'rss',
    },
    {
      title: 'Culture & Heritage',
      description: 'Museums, <archives> and "history".',
      xmlUrl: 'https://news.example.com/feeds/culture.rss?edition=uk&format=full',
      htmlUrl: 'https://news.example.com/culture',
      type: 'rss',
    },
    {
      title: 'Weather',
      xmlUrl: 'https://news.example.com/feeds/weather.rss',
      htmlUrl: 'https://news.example.com/weather',
      type: 'rss',
    },
  ],
};

describe('golden files', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('RSS 2.0 matches tests/golden/feed.rss.xml', async () => {
    await expectGolden('feed.rss.xml', renderRss(buildGoldenFeedDocument()));
  });

  it('Atom 1.0 matches tests/golden/feed.atom.xml', async () => {
    await expectGolden('feed.atom.xml', renderAtom(buildGoldenFeedDocument()));
  });

  it('JSON Feed 1.1 matches tests/golden/feed.json', async () => {
    await expectGolden('feed.json', renderJsonFeed(buildGoldenFeedDocument()));
  });

  it('OPML 2.0 matches tests/golden/feeds.opml.xml', async () => {
    await expectGolden('feeds.opml.xml', renderOpml(GOLDEN_OPML_INPUT));
  });

  it('the post-pass rewrites feedsmith itunes:explicit yes/no as true/false (feed-generation rule 10)', async () => {
    // renderRss has no podcast mode yet; this pins the fix on feedsmith's own output so an upgrade
    // that changes the defect (or the fix) shows up as a diff.
    const raw = generateRssFeed(
      {
        title: 'Podcast',
        link: 'https://news.example.com/podcast',
        description: 'A show & its <episodes>',
        itunes: { explicit: false },
        items: [
          { title: 'Clean episode', itunes: { explicit: false } },
          { title: 'Explicit episode', itunes: { explicit: true } },
          // Quoted markup inside CDATA is publisher text and must stay as written.
          { title: 'Quoting', description: '<p>Use <itunes:explicit>yes</itunes:explicit> never.</p>' },
        ],
      },
      { strict: true },
    );
    expect(raw).toContain('<itunes:explicit>yes</itunes:explicit>');
    await expectGolden('itunes-explicit.rss.xml', postProcessXml(raw));
  });

  it('output does not depend on the clock: the same bytes at another system time', () => {
    const doc = buildGoldenFeedDocument();
    const before = [renderRss(doc), renderAtom(doc), renderJsonFeed(doc), renderOpml(GOLDEN_OPML_INPUT)];
    vi.useFakeTimers({ now: new Date('2031-01-01T00:00:00Z'), toFake: ['Date'] });
    const after = [renderRss(doc), renderAtom(doc), renderJsonFeed(doc), renderOpml(GOLDEN_OPML_INPUT)];
    expect(after).toEqual(before);
  });
});
