import { describe, expect, it } from 'vitest';
import { decodeBody } from '../../src/upstream/fetch-feed.js';
import { htmlToText, parseFeed, parseFeedDate, repairBareAmpersands, type UpstreamFeed } from '../../src/upstream/parse-feed.js';
import { readFixture } from '../helpers/upstream-server.js';

const FEED_URL = 'https://feeds.example.com/feed';

async function parseFixture(name: string): Promise<UpstreamFeed> {
  const out = await parseFeed(decodeBody(readFixture(name), null), { feedUrl: FEED_URL });
  if (!out.ok) throw new Error(`${name}: ${out.error}`);
  return out.feed;
}

async function parseError(body: string): Promise<string> {
  const out = await parseFeed(body, { feedUrl: FEED_URL });
  if (out.ok) throw new Error('expected a parse error');
  return out.error;
}

describe('parseFeed: RSS 2.0', () => {
  it('reads every field of a full item', async () => {
    const feed = await parseFixture('rss2-full.xml');
    expect(feed.title).toBe('Example Gazette');
    expect(feed.homePageUrl).toBe('https://gazette.example.com/');
    expect(feed.language).toBe('en-gb');
    expect(feed.items).toHaveLength(2);
    const [article, podcast] = feed.items;
    expect(article).toEqual({
      guid: 'gazette-1001',
      link: 'https://gazette.example.com/news/bridge',
      title: 'Council approves new bridge',
      // <description> is the summary, content:encoded the full text
      summaryHtml: '<p>The council voted <b>7–2</b> for the bridge.</p>',
      contentHtml: '<p>The council voted <b>7–2</b> for the bridge.</p><p>Construction starts in spring.</p>',
      published: new Date('2025-11-03T10:00:00Z'),
      updated: null,
      authors: [
        { name: 'Jane Reporter', email: null, url: null },
        { name: 'Sam Writer', email: null, url: null },
      ],
      // strings and { _, $ } objects mixed; the empty category dropped
      categories: ['Local', 'Transport'],
      enclosures: [],
      imageUrls: ['https://cdn.gazette.example.com/bridge.jpg', 'https://cdn.gazette.example.com/bridge-thumb.jpg'],
    });
    expect(podcast!.authors).toEqual([{ name: 'The Editor', email: 'editor@gazette.example.com', url: null }]);
    // enclosure.length stays the string rss-parser gives; map-item turns it into a number
    expect(podcast!.enclosures).toEqual([
      { url: 'https://cdn.gazette.example.com/ep7.mp3', type: 'audio/mpeg', length: '24986239', durationSeconds: null },
    ]);
    expect(podcast!.published).toEqual(new Date('2025-11-02T18:30:00Z'));
  });

  it('treats an empty <guid> (an object in rss-parser) as no guid', async () => {
    const feed = await parseFixture('rss-empty-guid.xml');
    expect(feed.items.map((i) => i.guid)).toEqual([null, null]);
    expect(feed.items.map((i) => i.link)).toEqual(['https://empty-guid.example.com/a', 'https://empty-guid.example.com/b']);
  });

  it('repairs bare ampersands instead of losing the feed, leaving CDATA alone', async () => {
    const feed = await parseFixture('rss-bare-ampersand.xml');
    expect(feed.title).toBe('Cartoons & Comics');
    expect(feed.homePageUrl).toBe('https://cartoons.example.com/?a=1&b=2');
    const [item] = feed.items;
    expect(item!.title).toBe('Tom & Jerry return & so does Droopy &copy 2025');
    expect(item!.link).toBe('https://cartoons.example.com/show?id=1&lang=en');
    expect(item!.summaryHtml).toBe('Fish & chips & <b>CDATA</b> stays as written');
  });

  it('reads <rss> without a version attribute', async () => {
    const feed = await parseFixture('rss-no-version.xml');
    expect(feed.items[0]!.title).toBe('Still an RSS item');
  });

  it('reads RSS 0.91 and RSS 1.0 (RDF)', async () => {
    expect((await parseFixture('rss091.xml')).items[0]).toMatchObject({ title: 'An RSS 0.91 item', summaryHtml: 'No guid, no date in 0.91.' });
    const rdf = await parseFixture('rss1-rdf.xml');
    expect(rdf.items[0]).toMatchObject({
      title: 'An RSS 1.0 item',
      link: 'https://rdf.example.com/1',
      published: new Date('2025-11-03T10:00:00Z'),
      authors: [{ name: 'Ada', email: null, url: null }],
    });
  });

  it('decodes double-escaped titles without eating angle brackets', async () => {
    const feed = await parseFixture('rss-double-escaped-title.xml');
    expect(feed.items[0]!.title).toBe('AT&T & Verizon – why <div> matters été');
  });

  it('keeps relative links as written (map-item resolves them)', async () => {
    const feed = await parseFixture('rss-relative-links.xml');
    expect(feed.items.map((i) => i.link)).toEqual(['/news/1', 'news/2', '//cdn.relative.example.com/news/3', 'javascript:alert(1)']);
  });

  it('keeps enclosure quirks raw, with itunes:duration on the first enclosure only', async () => {
    const [item] = (await parseFixture('rss-enclosure-quirks.xml')).items;
    expect(item!.enclosures.map((e) => [e.url, e.type, e.length, e.durationSeconds])).toEqual([
      ['https://pod.example.com/1.mp3', 'audio/mpeg', '', 3723],
      ['https://pod.example.com/1.m4a', null, '-1', null],
      ['ftp://pod.example.com/1.ogg', 'audio/ogg', '100', null],
      ['/files/1.pdf', 'application/pdf; charset=binary', '12.5', null],
      ['https://pod.example.com/1.mp3', 'audio/mpeg', '999', null],
      ['https://pod.example.com/1.mp4', 'video/mp4', '5000', null], // non-image media:content
    ]);
    expect(item!.imageUrls).toEqual(['https://pod.example.com/ep1.jpg']); // itunes:image
  });

  it('keeps items without guid, link or date', async () => {
    const feed = await parseFixture('rss-missing-guid-link-date.xml');
    expect(feed.items).toHaveLength(4);
    expect(feed.items[1]).toMatchObject({ guid: null, link: null, title: 'Only a title', published: null });
    expect(feed.items[2]).toMatchObject({ title: null, summaryHtml: expect.stringContaining('<p>Only a description') });
  });

  it('drops repeated guids (and repeated links when there is no guid), keeping the first', async () => {
    const feed = await parseFixture('rss-duplicate-guids.xml');
    expect(feed.items.map((i) => i.title)).toEqual(['First copy (kept)', 'Another item', 'No guid, same link as below']);
  });

  it('reads the dates feeds really write', async () => {
    const feed = await parseFixture('rss-invalid-dates.xml');
    const byGuid = Object.fromEntries(feed.items.map((i) => [i.guid, i.published?.toISOString() ?? null]));
    expect(byGuid).toEqual({
      d1: '2025-11-03T10:00:00.000Z',
      d2: '2025-11-03T10:00:00.000Z',
      d3: '2025-11-03T10:00:00.000Z',
      d4: '2025-11-03T10:00:00.000Z',
      d5: '2025-11-03T10:00:00.000Z',
      d6: '2025-11-03T10:00:00.000Z',
      d7: '2025-11-03T10:00:00.000Z',
      d8: '2025-11-03T10:00:00.000Z',
      d9: null,
      d10: null,
      d11: '2025-11-03T10:00:00.000Z',
      d12: '1970-01-01T00:00:00.000Z', // a real parse; map-item treats the epoch as "no date"
      d13: '2048-01-01T00:00:00.000Z', // a real parse; map-item caps future dates
    });
  });

  it('reads ISO-8859-1 declared only in the XML declaration (after decodeBody)', async () => {
    const feed = await parseFixture('rss-iso-8859-1-declared.xml');
    expect(feed.title).toBe('Café Crème');
    expect(feed.items[0]!.title).toBe('Smörgåsbord à la française');
  });
});

describe('parseFeed: Atom', () => {
  it('reads entries: links by rel, categories, enclosures, authors, text constructs', async () => {
    const feed = await parseFixture('atom-full.xml');
    expect(feed.title).toBe('Atom Times');
    expect(feed.homePageUrl).toBe('https://atom.example.com/');
    const [one, two] = feed.items;
    expect(one).toEqual({
      guid: 'tag:atom.example.com,2025:1',
      link: 'https://atom.example.com/1',
      title: 'Atom entry one',
      summaryHtml: 'Plain &lt;text&gt; summary &amp; more', // type="text" escaped to HTML
      contentHtml: '<p>Full <em>HTML</em> content</p>',
      published: new Date('2025-11-03T09:00:00Z'),
      updated: new Date('2025-11-03T12:00:00Z'),
      authors: [{ name: 'Entry Author', email: 'entry@atom.example.com', url: 'https://atom.example.com/people/entry' }],
      categories: ['World', 'politics'], // label, else term
      enclosures: [
        { url: 'https://atom.example.com/1.mp3', type: 'audio/mpeg', length: '1234', durationSeconds: null },
        { url: 'https://atom.example.com/1.png', type: 'image/png', length: '99', durationSeconds: null },
      ],
      imageUrls: ['https://atom.example.com/1.png'],
    });
    expect(two!.authors).toEqual([{ name: 'Feed Author', email: null, url: null }]); // inherited
    expect(two!.link).toBe('https://atom.example.com/2'); // <link> without rel is alternate
    expect(two!.contentHtml).toContain('<p>XHTML <b>content</b></p>');
    expect(two!.published).toBeNull();
    expect(two!.updated).toEqual(new Date('2025-11-02T10:00:00Z'));
  });

  it('decodes type="html" titles to text, keeps type="text" literal', async () => {
    const feed = await parseFixture('atom-html-title.xml');
    expect(feed.title).toBe('Tom & Jerry’s feed');
    expect(feed.items.map((i) => i.title)).toEqual(['Café opens & closes <soon>', 'Plain &amp; literal', 'XHTML title']);
  });

  it('survives one invalid <published> that would reject the whole feed in rss-parser', async () => {
    const feed = await parseFixture('atom-invalid-published.xml');
    expect(feed.items.map((i) => [i.title, i.published?.toISOString() ?? null, i.updated?.toISOString() ?? null])).toEqual([
      ['Good date', '2025-11-03T10:00:00.000Z', '2025-11-03T10:00:00.000Z'],
      ['Invalid published, valid updated', null, '2025-11-02T10:00:00.000Z'],
      ['Loose published', '2025-11-01T15:00:00.000Z', null],
    ]);
  });

  it('survives RSS-style <link>url</link> and empty <link/> in Atom', async () => {
    const feed = await parseFixture('atom-text-link.xml');
    expect(feed.homePageUrl).toBe('https://text-link.example.com/');
    expect(feed.items[0]!.link).toBe('https://text-link.example.com/1?a=1&b=2');
  });
});

describe('parseFeed: JSON Feed', () => {
  it('reads JSON Feed 1.1', async () => {
    const feed = await parseFixture('jsonfeed-1.1.json');
    expect(feed).toMatchObject({ title: 'JSON Daily', homePageUrl: 'https://json.example.com/' });
    const [one, two] = feed.items;
    expect(one).toEqual({
      guid: 'j1',
      link: 'https://json.example.com/1',
      title: 'JSON item one',
      summaryHtml: 'A plain &lt;text&gt; summary',
      contentHtml: '<p>Rich <b>HTML</b></p>',
      published: new Date('2025-11-03T15:00:00Z'),
      updated: new Date('2025-11-03T18:00:00Z'),
      authors: [{ name: 'Item Author', email: null, url: null }],
      categories: ['Science', 'Space'],
      enclosures: [
        { url: 'https://json.example.com/1.mp3', type: 'audio/mpeg', length: 1000, durationSeconds: 61.4 },
        { url: 'ftp://json.example.com/1.ogg', type: 'audio/ogg', length: null, durationSeconds: null },
      ],
      imageUrls: ['https://json.example.com/1.jpg'],
    });
    expect(two).toMatchObject({
      guid: '2', // a numeric id, as 1.0 feeds write it
      title: null,
      contentHtml: '<p>Plain text content.</p>\n<p>Second &lt;paragraph&gt;.</p>',
      authors: [{ name: 'Feed Author', email: null, url: 'https://json.example.com/about' }],
    });
  });

  it('reads JSON Feed 1.0 (single author)', async () => {
    const feed = await parseFixture('jsonfeed-1.0.json');
    expect(feed.items[0]).toMatchObject({ guid: 'a', authors: [{ name: 'Solo Author', email: null, url: null }] });
  });

  it('falls back from a missing id to url, and skips items with neither', async () => {
    const feed = await parseFixture('jsonfeed-missing-id.json');
    expect(feed.items.map((i) => i.guid)).toEqual([
      'https://noid.example.com/falls-back-to-url',
      'https://noid.example.com/empty-id',
      'ok',
    ]);
    expect(feed.items[2]!.categories).toEqual([]); // "tags": "not-an-array" is dropped, not fatal
  });

  it('detects JSON by content, whatever the content type', async () => {
    const out = await parseFeed('  \n{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[]}', { feedUrl: FEED_URL });
    expect(out).toEqual({ ok: true, feed: { title: 't', homePageUrl: null, language: null, items: [] } });
  });

  it('rejects JSON that is not a JSON Feed, and broken JSON', async () => {
    expect(await parseError(readFixture('json-not-a-feed.json').toString())).toMatch(/not a JSON Feed/);
    expect(await parseError('{"version": "https://jsonfeed.org/version/1.1", "items": ')).toMatch(/invalid JSON/);
    expect(await parseError('[1, 2, 3]')).toMatch(/JSON array/);
  });
});

describe('parseFeed: bodies that are not feeds', () => {
  it('rejects malformed XML with a clear error', async () => {
    expect(await parseError(readFixture('malformed.xml').toString())).toMatch(/^malformed XML/);
  });

  it('rejects XML that is neither RSS nor Atom', async () => {
    expect(await parseError(readFixture('xml-not-a-feed.xml').toString())).toBe('XML is neither RSS nor Atom');
  });

  it('rejects RSS without a channel without crashing', async () => {
    expect(await parseError('<rss version="2.0"></rss>')).toMatch(/not a usable RSS or Atom feed/);
  });

  it('recognises an HTML page and points at the feed it advertises', async () => {
    expect(await parseError(readFixture('html-page.html').toString())).toBe(
      'got an HTML page, not a feed; the page advertises a feed at https://feeds.example.com/feed.xml',
    );
    expect(await parseError('<html><body>hi</body></html>')).toBe('got an HTML page, not a feed');
  });

  it.each(['', '   \n\t ', '\uFEFF'])('rejects an empty body %j', async (body) => {
    expect(await parseError(body)).toBe('empty body');
  });

  it('rejects text that is neither XML nor JSON', async () => {
    expect(await parseError('Service temporarily unavailable')).toMatch(/neither XML nor JSON/);
  });
});

describe('parseFeed: hostile XML', () => {
  it('does not expand entities (billion laughs)', async () => {
    const started = Date.now();
    const out = await parseFeed(readFixture('billion-laughs.xml').toString(), { feedUrl: FEED_URL });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(out.ok).toBe(false); // sax refuses the undeclared-to-it entity instead of expanding it
    expect(JSON.stringify(out)).not.toContain('lollol');
  });

  it('does not resolve external entities (XXE)', async () => {
    const out = await parseFeed(readFixture('xxe.xml').toString(), { feedUrl: FEED_URL });
    expect(out.ok).toBe(false);
    expect(JSON.stringify(out)).not.toMatch(/root:|\/bin\/(ba)?sh/);
  });

  it('ignores DTD entity declarations that are never used', async () => {
    const xml = readFixture('xxe.xml').toString().replace('Secrets: &xxe;', 'Nothing here');
    const out = await parseFeed(xml, { feedUrl: FEED_URL });
    expect(out.ok && out.feed.items[0]!.title).toBe('Nothing here');
  });
});

describe('parseFeed: scale', () => {
  it('parses 10,000 items in one feed', async () => {
    const items = Array.from(
      { length: 10_000 },
      (_, i) =>
        `<item><guid>g${i}</guid><title>Item ${i} &amp; more</title><link>https://big.example.com/${i}</link><pubDate>Mon, 03 Nov 2025 10:00:00 GMT</pubDate><description>&lt;p&gt;Body ${i}&lt;/p&gt;</description></item>`,
    ).join('\n');
    const xml = `<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><link>https://big.example.com/</link>${items}</channel></rss>`;
    const out = await parseFeed(xml, { feedUrl: FEED_URL });
    expect(out.ok).toBe(true);
    if (out.ok) {
      expect(out.feed.items).toHaveLength(10_000);
      expect(out.feed.items[9_999]).toMatchObject({ guid: 'g9999', title: 'Item 9999 & more' });
    }
  });
});

describe('parseFeed: hostile input stays linear (no catastrophic regex backtracking)', () => {
  // Each of these made a naive single-regex pre-pass backtrack for seconds or forever.
  it.each([
    ['many processing instructions and no root', '<?a?>'.repeat(20_000) + '!'],
    ['many comments and no root', '<!--a-->'.repeat(20_000) + '!'],
    ['an HTML-looking prolog', '<!--x-->'.repeat(20_000) + '<body'],
    ['white space inside an Atom date', `<feed xmlns="http://www.w3.org/2005/Atom"><entry><published>${' '.repeat(300_000)}<x>`],
    ['unterminated CDATA openers', `<rss version="2.0">${'<![CDATA['.repeat(100_000)}`],
    ['unterminated CDATA in Atom dates', `<feed>${'<published><![CDATA['.repeat(50_000)}`],
    ['unclosed Atom links', `<feed>${'<link>'.repeat(50_000)}${' '.repeat(100_000)}`],
    ['a doctype of brackets', `<!DOCTYPE x [${']'.repeat(100_000)}`],
  ])('%s', async (_label, body) => {
    const started = Date.now();
    const out = await parseFeed(body, { feedUrl: FEED_URL });
    expect(out.ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('repairBareAmpersands', () => {
  it('escapes only ampersands that start no reference, outside CDATA and comments', () => {
    expect(repairBareAmpersands('a & b &amp; &#38; &#x26; &eacute; &copy 1 &')).toBe('a &amp; b &amp; &#38; &#x26; &eacute; &amp;copy 1 &amp;');
    expect(repairBareAmpersands('<![CDATA[a & b]]> & <!-- c & d -->')).toBe('<![CDATA[a & b]]> &amp; <!-- c & d -->');
    expect(repairBareAmpersands('a & <![CDATA[never closed & ')).toBe('a &amp; <![CDATA[never closed & ');
  });
});

describe('parseFeedDate', () => {
  const iso = (text: string) => parseFeedDate(text)?.toISOString() ?? null;

  it.each([
    ['Mon, 03 Nov 2025 10:00:00 GMT', '2025-11-03T10:00:00.000Z'],
    ['Mon, 3 Nov 2025 10:00:00 +0000', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 11:00:00 +01:00', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 25 10:00:00 GMT', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 10:00 GMT', '2025-11-03T10:00:00.000Z'],
    ['03 Nov 2025 10:00:00 Z', '2025-11-03T10:00:00.000Z'],
    ['Monday, 03-Nov-25 10:00:00 GMT', '2025-11-03T10:00:00.000Z'],
    ['Mon Nov  3 10:00:00 2025', '2025-11-03T10:00:00.000Z'], // asctime
    ['Mon, 03 Nov 2025 05:00:00 EST', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 06:00:00 EDT', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 02:00:00 PST', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 03:00:00 PDT', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 11:00:00 BST', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 11:00:00 CET', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 10:00:00 +0000 (UTC)', '2025-11-03T10:00:00.000Z'],
    ['Mon, 03 Nov 2025 10:00:00 XYZ', '2025-11-03T10:00:00.000Z'], // unknown zone: UTC
    ['November 3, 2025 10:00 am', '2025-11-03T10:00:00.000Z'],
    ['Nov 3, 2025 10:00 PM', '2025-11-03T22:00:00.000Z'],
    ['2025-11-03T10:00:00Z', '2025-11-03T10:00:00.000Z'],
    ['2025-11-03T10:00:00.123456+00:00', '2025-11-03T10:00:00.123Z'],
    ['2025-11-03T12:00:00+0200', '2025-11-03T10:00:00.000Z'],
    ['2025-11-03t10:00:00z', '2025-11-03T10:00:00.000Z'],
    ['2025-11-03 10:00:00', '2025-11-03T10:00:00.000Z'],
    ['2025-11-03 10:00', '2025-11-03T10:00:00.000Z'],
    ['2025-11-03', '2025-11-03T00:00:00.000Z'],
    ['2025/11/03 10:00:00', '2025-11-03T10:00:00.000Z'],
    ['2025-11-03 05:00:00 EST', '2025-11-03T10:00:00.000Z'],
    ['  Mon, 03 Nov 2025 10:00:00 GMT  ', '2025-11-03T10:00:00.000Z'],
  ])('%j → %s', (text, expected) => {
    expect(iso(text)).toBe(expected);
  });

  it.each(['', 'yesterday', 'not a date', '2025-13-01', '2025-02-30', 'Thu, 30 Feb 2025 10:00:00 GMT', 'Mon, 03 Nov 2025 25:00:00 GMT', '12345', 'Novel 3 2025'])(
    '%j → null',
    (text) => {
      expect(parseFeedDate(text)).toBeNull();
    },
  );
});

describe('htmlToText', () => {
  it('drops tags and scripts, decodes entities, separates blocks', () => {
    expect(htmlToText('<p>a &amp; b</p><p>c&nbsp;&eacute;</p><script>alert(1)</script>')).toBe('a & b c é'); // nbsp collapses like any white space
    expect(htmlToText('x &lt; y')).toBe('x < y');
  });
});
