import { describe, expect, it } from 'vitest';
import { collapseCdataWhitespace, fixItunesExplicit, postProcessXml } from '../../src/render/xml-post-process.js';

describe('collapseCdataWhitespace', () => {
  it('removes the indentation between a start tag, its CDATA content and the end tag', () => {
    const input = '<rss>\n  <title>\n    <![CDATA[A & B]]>\n  </title>\n  <link>plain</link>\n</rss>\n';
    expect(collapseCdataWhitespace(input)).toBe('<rss>\n  <title><![CDATA[A & B]]></title>\n  <link>plain</link>\n</rss>\n');
  });

  it('keeps adjacent CDATA sections (a split "]]>") together and handles attributes on the start tag', () => {
    const input = '<content type="html">\n  <![CDATA[x ]]]]><![CDATA[> y]]>\n</content>';
    expect(collapseCdataWhitespace(input)).toBe('<content type="html"><![CDATA[x ]]]]><![CDATA[> y]]></content>');
  });

  it('never changes text inside CDATA, even text that looks like a tag followed by CDATA', () => {
    const inner = '<p>\n   <![CDATA[ quoted ]]]]><![CDATA[>\n   </p>';
    const input = `<description>\n  <![CDATA[${inner}]]>\n</description>`;
    const output = collapseCdataWhitespace(input);
    // The value was split by the builder around its own "]]>": both halves come back unchanged.
    expect(output).toBe(`<description><![CDATA[${inner}]]></description>`);
  });

  it('leaves whitespace alone where no CDATA is involved, and documents without CDATA unchanged', () => {
    const input = '<?xml version="1.0" encoding="utf-8"?>\n<a>\n  <b>text</b>\n  <c/>\n</a>\n';
    expect(collapseCdataWhitespace(input)).toBe(input);
  });

  it('does not treat an end tag before CDATA as a start tag', () => {
    const input = '<a></a>\n  <![CDATA[x]]>';
    expect(collapseCdataWhitespace(input)).toBe(input);
  });
});

describe('fixItunesExplicit', () => {
  it('rewrites yes/no as true/false outside CDATA only', () => {
    const input = '<itunes:explicit>yes</itunes:explicit><itunes:explicit>no</itunes:explicit><description><![CDATA[<itunes:explicit>yes</itunes:explicit>]]></description>';
    expect(fixItunesExplicit(input)).toBe(
      '<itunes:explicit>true</itunes:explicit><itunes:explicit>false</itunes:explicit><description><![CDATA[<itunes:explicit>yes</itunes:explicit>]]></description>',
    );
  });

  it('leaves values that are already true/false alone', () => {
    expect(fixItunesExplicit('<itunes:explicit>true</itunes:explicit>')).toBe('<itunes:explicit>true</itunes:explicit>');
  });
});

describe('postProcessXml', () => {
  it('applies both fixes', () => {
    const input = '<channel>\n  <title>\n    <![CDATA[A & B]]>\n  </title>\n  <itunes:explicit>no</itunes:explicit>\n</channel>';
    expect(postProcessXml(input)).toBe('<channel>\n  <title><![CDATA[A & B]]></title>\n  <itunes:explicit>false</itunes:explicit>\n</channel>');
  });
});
