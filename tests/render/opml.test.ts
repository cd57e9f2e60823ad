import { parseOpml } from 'feedsmith';
import { describe, expect, it } from 'vitest';
import { renderOpml } from '../../src/render/opml.js';
import { xmlProblems } from '../helpers/feed-fixtures.js';

const input = {
  title: 'Example News & friends: <all> "sections"',
  ownerName: 'Example News',
  dateCreated: new Date('2026-05-12T09:15:00Z'),
  outlines: [
    {
      title: 'Culture & Heritage',
      description: 'Museums, <archives> and "history" ]]> ]]>',
      xmlUrl: 'https://news.example.com/feeds/culture.rss?edition=uk&format=full',
      htmlUrl: 'https://news.example.com/culture',
      type: 'rss' as const,
    },
    { title: 'Weather', xmlUrl: 'https://news.example.com/feeds/weather.rss', htmlUrl: 'https://news.example.com/weather', type: 'rss' as const },
  ],
};

describe('renderOpml', () => {
  const xml = renderOpml(input);

  it('is well-formed OPML 2.0', () => {
    expect(xmlProblems(xml)).toEqual([]);
    expect(xml).toContain('<opml version="2.0">');
  });

  it('round-trips head and outlines through a parser', () => {
    // rss-parser reads no OPML; feedsmith's own parser does (a different code path from its builder).
    const parsed = parseOpml(xml);
    expect(parsed.head?.title).toBe(input.title);
    expect(parsed.head?.ownerName).toBe(input.ownerName);
    expect(parsed.head?.dateCreated).toBe(input.dateCreated.toUTCString());
    expect(parsed.body?.outlines).toEqual(
      input.outlines.map((outline) => ({
        // OPML 2.0: text is required on every outline; it carries the title.
        text: outline.title,
        title: outline.title,
        type: 'rss',
        xmlUrl: outline.xmlUrl,
        htmlUrl: outline.htmlUrl,
        ...(outline.description ? { description: outline.description } : {}),
      })),
    );
  });

  it('leaves out an empty owner name', () => {
    expect(renderOpml({ ...input, ownerName: '' })).not.toContain('ownerName');
  });
});
