import { describe, expect, it } from 'vitest';
import { excerptFromHtml } from '../../src/domain/excerpt.js';
import type { FeedDocument } from '../../src/domain/feed-document.js';
import { renderAtom } from '../../src/render/atom.js';
import { renderJsonFeed } from '../../src/render/json-feed.js';
import { renderRss } from '../../src/render/rss.js';
import { buildFeedDocument, buildFeedItem, parseAtom, parseRss, textOf, unescapeHtmlText, xmlProblems } from '../helpers/feed-fixtures.js';

/**
 * Hostile text (feed-generation.md rule 13): every format stays well-formed and every field comes
 * back exactly as given when parsed. Plain-text fields carry the text as is; the HTML body carries
 * it inside a paragraph, unchanged (the renderer must never touch HTML).
 */

interface Fields {
  title: string;
  summary: string;
  contentHtml: string;
}

function hostileDocument(text: string, contentHtml = `<p>${text}</p>`): FeedDocument {
  return buildFeedDocument({
    title: `Feed: ${text}`,
    description: `About: ${text}`,
    items: [
      buildFeedItem({
        title: text,
        summary: `Summary: ${text}`,
        contentHtml,
        authors: [{ name: `Author ${text}` }],
        categories: [{ term: 'hostile', label: `Label ${text}` }],
        tags: [`Tag ${text}`],
      }),
    ],
  });
}

interface Published {
  feedTitle: string | undefined;
  feedDescription: string | undefined;
  item: Partial<Fields> & { author: string | undefined; label: string | undefined };
}

/** Renders all three formats, asserts well-formedness, and returns what a reader gets back from each. */
async function publishedFields(doc: FeedDocument): Promise<Record<'rss' | 'atom' | 'json', Published>> {
  const rssXml = renderRss(doc);
  const atomXml = renderAtom(doc);
  expect(xmlProblems(rssXml), 'RSS well-formedness').toEqual([]);
  expect(xmlProblems(atomXml), 'Atom well-formedness').toEqual([]);

  const rss = await parseRss(rssXml);
  const rssItem = rss.items[0]!;
  const atom = await parseAtom(atomXml);
  const atomEntry = atom.items[0]!;
  const json = JSON.parse(renderJsonFeed(doc)) as {
    title: string;
    description: string;
    items: { title: string; summary: string; content_html: string; authors: { name: string }[]; tags: string[] }[];
  };
  const jsonItem = json.items[0]!;

  return {
    rss: {
      feedTitle: rss.title,
      feedDescription: rss.description,
      item: {
        title: rssItem.title,
        // description is HTML: the plain-text summary was escaped into it.
        summary: rssItem.content === undefined ? undefined : unescapeHtmlText(rssItem.content),
        contentHtml: rssItem['content:encoded'],
        author: textOf(rssItem.creators?.[0]),
        label: textOf(rssItem.categories?.[0]),
      },
    },
    atom: {
      feedTitle: atom.title,
      feedDescription: atom.subtitle,
      item: {
        title: atomEntry.title,
        summary: atomEntry.summary,
        contentHtml: atomEntry.content,
        author: atomEntry.authors?.[0]?.name?.[0],
        label: atomEntry.atomCategories?.[0]?.$?.label,
      },
    },
    json: {
      feedTitle: json.title,
      feedDescription: json.description,
      item: {
        title: jsonItem.title,
        summary: jsonItem.summary,
        contentHtml: jsonItem.content_html,
        author: jsonItem.authors[0]?.name,
        label: jsonItem.tags[0],
      },
    },
  };
}

function expected(text: string, contentHtml = `<p>${text}</p>`): Published {
  return {
    feedTitle: `Feed: ${text}`,
    feedDescription: `About: ${text}`,
    item: { title: text, summary: `Summary: ${text}`, contentHtml, author: `Author ${text}`, label: `Label ${text}` },
  };
}

async function expectRoundTrip(text: string): Promise<void> {
  const published = await publishedFields(hostileDocument(text));
  expect(published.rss, 'RSS').toEqual(expected(text));
  expect(published.atom, 'Atom').toEqual(expected(text));
  expect(published.json, 'JSON Feed').toEqual(expected(text));
}

describe('hostile text round-trips exactly in RSS, Atom and JSON Feed', () => {
  it('every XML-special character: < > & " \'', async () => {
    await expectRoundTrip(`Vector<int> & "quoted" 'single' a>b 1 < 2 && 3 > 2`);
  });

  it('a literal &amp; in plain text stays "&amp;" (not turned into "&")', async () => {
    await expectRoundTrip('Fish &amp; Chips, &lt;tag&gt; and &#38; as typed');
  });

  it('two ]]> in one field (title, summary and content), split across CDATA sections', async () => {
    await expectRoundTrip('first ]]> second ]]> end');
  });

  it('a value that starts and ends with CDATA-special characters', async () => {
    await expectRoundTrip(']]>&<middle>&]]>');
  });

  it('typographic and straight quotes', async () => {
    await expectRoundTrip(`“curly” ‘single’ "straight" 'apostrophe' „low“ «guillemets» it's`);
  });

  it('emoji, including astral-plane characters, ZWJ sequences and flags', async () => {
    await expectRoundTrip('Party 🎉 coder 👩🏽‍💻 flag 🇬🇧 math 𝔸');
  });

  it('right-to-left text (Arabic and Hebrew) with direction marks', async () => {
    await expectRoundTrip('العربية: مرحبا بالعالم \u200f— עברית: שלום עולם \u200e(1)');
  });

  it('a 200 KB HTML body stays well-formed and comes back byte for byte', async () => {
    const paragraph = `<p>Tom &amp; Jerry say "hi" & 'bye' <b>bold</b> ]]> 🎉 مرحبا ${'x'.repeat(40)}</p>`;
    // Joined by newlines, none at either end (feedsmith trims values: see the quirk below).
    const body = Array.from({ length: Math.ceil((200 * 1024) / paragraph.length) }, () => paragraph).join('\n');
    expect(Buffer.byteLength(body, 'utf8')).toBeGreaterThanOrEqual(200 * 1024);
    const text = 'Big body';
    const published = await publishedFields(hostileDocument(text, body));
    for (const format of ['rss', 'atom', 'json'] as const) {
      expect(published[format].item.contentHtml === body, `${format} content`).toBe(true);
      expect(published[format], format).toEqual(expected(text, body));
    }
  });

  it('a 200 KB body without a summary gets a short excerpt in every format', async () => {
    const body = '<p>word &amp; word </p>'.repeat(10_000);
    const doc = buildFeedDocument({ items: [buildFeedItem({ summary: null, contentHtml: body })] });
    const excerpt = excerptFromHtml(body);
    expect(excerpt.length).toBeLessThanOrEqual(300);
    const rss = await parseRss(renderRss(doc));
    const atom = await parseAtom(renderAtom(doc));
    const json = JSON.parse(renderJsonFeed(doc)) as { items: { summary: string }[] };
    expect(unescapeHtmlText(rss.items[0]!.content!)).toBe(excerpt);
    expect(atom.items[0]!.summary).toBe(excerpt);
    expect(json.items[0]!.summary).toBe(excerpt);
  });
});

describe('known, accepted quirks (feed-generation.md rule 11, feedsmith 3.0.1)', () => {
  it('a literal &apos; in XML plain text is published as \' (feedsmith rewrites every &apos; in its output)', async () => {
    // feedsmith's generateXml replaces every "&apos;" in the built document with "'", including
    // inside CDATA, where a value containing "&" is written verbatim. So plain text typed as
    // "&apos;" comes back as "'" from RSS and Atom element text. Unaffected: JSON Feed, the RSS
    // description (the summary is escaped to &amp;apos; first), attribute values (escaped the same
    // way), and HTML bodies, where &apos; and ' mean the same character.
    const text = 'Rock &apos;n&apos; roll';
    const contentHtml = '<p>Rock &apos;n&apos; roll</p>';
    const published = await publishedFields(hostileDocument(text, contentHtml));
    const lossy = "Rock 'n' roll";

    expect(published.json).toEqual(expected(text, contentHtml));
    for (const format of ['rss', 'atom'] as const) {
      expect(published[format].item.title, `${format} title`).toBe(lossy);
      expect(published[format].feedTitle, `${format} feed title`).toBe(`Feed: ${lossy}`);
      expect(published[format].item.contentHtml, `${format} content`).toBe("<p>Rock 'n' roll</p>");
      expect(published[format].item.author, `${format} author`).toBe(`Author ${lossy}`);
    }
    expect(published.atom.item.summary).toBe(`Summary: ${lossy}`);
    expect(published.rss.item.summary).toBe(`Summary: ${text}`);
    expect(published.atom.item.label).toBe(`Label ${text}`);
  });

  it('feedsmith trims leading and trailing whitespace of XML text values; JSON Feed keeps it', async () => {
    // Ingest normalisation trims titles and summaries, so this only documents the library.
    const doc = buildFeedDocument({ items: [buildFeedItem({ title: '  padded title \n' })] });
    const rss = await parseRss(renderRss(doc));
    const atom = await parseAtom(renderAtom(doc));
    const json = JSON.parse(renderJsonFeed(doc)) as { items: { title: string }[] };
    expect(rss.items[0]!.title).toBe('padded title');
    expect(atom.items[0]!.title).toBe('padded title');
    expect(json.items[0]!.title).toBe('  padded title \n');
  });
});

describe('XML-illegal control characters (stripped at ingest, feed-generation.md rule 12)', () => {
  it('reach the XML output unchanged if ingest let them through: the feed is then not well-formed', () => {
    // The renderer does not strip: that is ingest's job, and this pins why it matters.
    const doc = buildFeedDocument({ items: [buildFeedItem({ title: 'bell \u0007 and form \u000c feed' })] });
    const rss = renderRss(doc);
    const atom = renderAtom(doc);
    expect(rss).toContain('bell \u0007 and form \u000c feed');
    expect(atom).toContain('bell \u0007 and form \u000c feed');
    expect(xmlProblems(rss)).toContain('character outside XML 1.0 Char: U+0007');
    expect(xmlProblems(atom)).toContain('character outside XML 1.0 Char: U+0007');
  });

  it('are escaped by JSON.stringify, so JSON Feed stays valid and round-trips them', () => {
    const doc = buildFeedDocument({ items: [buildFeedItem({ title: 'bell \u0007' })] });
    const json = renderJsonFeed(doc);
    expect(json).toContain('"title": "bell \\u0007"');
    expect((JSON.parse(json) as { items: { title: string }[] }).items[0]!.title).toBe('bell \u0007');
  });
});
