import { describe, expect, it } from 'vitest';
import { sanitizeArticleHtml } from '../../src/domain/sanitize-html.js';

const BASE = 'https://news.example.com/world/2026/story';
const sanitize = (html: string): string => sanitizeArticleHtml(html, BASE);

describe('sanitizeArticleHtml: allowed structure', () => {
  it('keeps the article elements of the allowlist', () => {
    const html =
      '<h2>Sub</h2><p><strong>s</strong> <em>e</em> <b>b</b> <i>i</i> <u>u</u> <s>s</s> <sub>1</sub><sup>2</sup> <code>c</code></p>' +
      '<ul><li>a</li></ul><ol start="3"><li>b</li></ol><blockquote>q</blockquote><pre>x</pre><hr /><br />' +
      '<figure><img src="https://cdn.example.com/a.jpg" alt="A" width="640" height="480" /><figcaption>cap</figcaption></figure>' +
      '<table><thead><tr><th scope="col">h</th></tr></thead><tbody><tr><td colspan="2">d</td></tr></tbody></table>';
    expect(sanitize(html)).toBe(html);
  });

  it('renames h1 to h2 and keeps h2-h6', () => {
    expect(sanitize('<h1>Top</h1><h3>Three</h3><h6>Six</h6>')).toBe('<h2>Top</h2><h3>Three</h3><h6>Six</h6>');
  });

  it('removes comments', () => {
    expect(sanitize('<p>a<!-- internal note -->b</p>')).toBe('<p>ab</p>');
  });

  it('removes CDATA sections', () => {
    expect(sanitize('<p>a</p><![CDATA[<script>alert(1)</script>]]><p>b</p>')).toBe('<p>a</p><p>b</p>');
  });

  it('keeps the text of disallowed wrappers but not the wrapper', () => {
    expect(sanitize('<section><font color="red">text</font></section>')).toBe('text');
  });

  it('returns an empty string for whitespace or markup with nothing allowed', () => {
    expect(sanitize('  <script>x</script>  ')).toBe('');
  });
});

describe('sanitizeArticleHtml: hostile markup', () => {
  it('drops script, style, object, embed, form controls, svg and math', () => {
    const out = sanitize(
      '<p>ok</p><script>alert(1)</script><style>body{display:none}</style><object data="x.swf"></object>' +
        '<embed src="x.swf"><form action="/steal"><input name="p"></form><svg onload="alert(1)"><text>s</text></svg>' +
        '<math><mi>x</mi></math><select><option>opt</option></select>',
    );
    expect(out).toBe('<p>ok</p>');
  });

  it('strips event handlers and style attributes', () => {
    const out = sanitize(
      '<p onclick="alert(1)" style="position:fixed" class="x" id="y">t</p><img src="a.jpg" onerror="alert(1)" onload="alert(2)">',
    );
    expect(out).toBe('<p>t</p><img src="https://news.example.com/world/2026/a.jpg" />');
  });

  it.each([
    ['plain', 'javascript:alert(1)'],
    ['upper case', 'JAVASCRIPT:alert(1)'],
    ['leading spaces', '   javascript:alert(1)'],
    ['tab entity inside', 'jav&#x09;ascript:alert(1)'],
    ['newline entity inside', 'java&#x0A;script:alert(1)'],
    ['raw tab and NUL inside', 'java\tscr\u0000ipt:alert(1)'],
    ['entity-encoded letter', '&#106;avascript:alert(1)'],
    ['&colon; entity', 'javascript&colon;alert(1)'],
    ['vbscript', 'vbscript:msgbox(1)'],
    ['data text/html', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='],
  ])('removes a %s dangerous href and keeps the link text', (_label, href) => {
    const out = sanitize(`<a href="${href}">click</a>`);
    expect(out).toBe('click');
    expect(out.toLowerCase()).not.toMatch(/script|data:/);
  });

  it('allows data: images only for raster types in img src', () => {
    expect(sanitize('<img src="data:image/png;base64,iVBORw0KGgo=" alt="">')).toBe(
      '<img src="data:image/png;base64,iVBORw0KGgo=" alt="" />',
    );
    expect(sanitize('<img src="data:image/webp;base64,UklGRg==" alt="w">')).toContain('data:image/webp');
    expect(sanitize('<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="x">')).toBe('');
    expect(sanitize('<img src="data:text/html,<script>alert(1)</script>">')).toBe('');
    expect(sanitize('<video src="data:video/mp4;base64,AAAA"></video>')).toBe('<video controls></video>');
  });

  it('does not let ]]> through (it would end a CDATA section)', () => {
    const out = sanitize('<p>a ]]> b</p><img src="x.jpg" alt="]]>">');
    expect(out).not.toContain(']]>');
    expect(out).toBe('<p>a ]]&gt; b</p><img src="https://news.example.com/world/2026/x.jpg" alt="]]&gt;" />');
  });

  it('forces controls on players and drops autoplay', () => {
    expect(sanitize('<video src="v.mp4" autoplay muted></video><audio src="a.mp3" autoplay></audio>')).toBe(
      '<video src="https://news.example.com/world/2026/v.mp4" controls></video>' +
        '<audio src="https://news.example.com/world/2026/a.mp3" controls></audio>',
    );
  });

  it('keeps only rel tokens that grant nothing, and never target', () => {
    expect(sanitize('<a href="https://x.example/" rel="NoFollow opener evil" target="_blank">x</a>')).toBe(
      '<a href="https://x.example/" rel="nofollow">x</a>',
    );
    expect(sanitize('<a href="https://x.example/" rel="opener">x</a>')).toBe('<a href="https://x.example/">x</a>');
  });

  it('survives a parser-confusion payload without emitting a live tag', () => {
    const out = sanitize('<noscript><p title="</noscript><img src=x onerror=alert(1)>">t</p></noscript>');
    expect(out).not.toMatch(/<img|onerror=/i);
  });
});

describe('sanitizeArticleHtml: iframes', () => {
  it.each([
    ['https://www.youtube.com/embed/abc123', 'https://www.youtube.com/embed/abc123'],
    ['https://www.youtube-nocookie.com/embed/abc123?start=5', 'https://www.youtube-nocookie.com/embed/abc123?start=5'],
    ['https://player.vimeo.com/video/76979871', 'https://player.vimeo.com/video/76979871'],
    ['https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/1', 'https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/1'],
    ['https://open.spotify.com/embed/episode/abc', 'https://open.spotify.com/embed/episode/abc'],
    ['http://www.youtube.com/embed/abc123', 'https://www.youtube.com/embed/abc123'],
    ['//player.vimeo.com/video/1', 'https://player.vimeo.com/video/1'],
  ])('keeps the embed %s', (src, expected) => {
    expect(sanitize(`<iframe src="${src}" width="560" height="315" allowfullscreen></iframe>`)).toBe(
      `<iframe src="${expected.replace(/&/g, '&amp;')}" width="560" height="315" allowfullscreen></iframe>`,
    );
  });

  it('strips unsafe iframe attributes from an allowed embed', () => {
    expect(
      sanitize('<iframe src="https://www.youtube.com/embed/a" allow="camera; microphone" srcdoc="<script>x</script>" onload="x()" style="x" name="n"></iframe>'),
    ).toBe('<iframe src="https://www.youtube.com/embed/a"></iframe>');
  });

  it.each([
    'https://evil.example/embed/abc',
    'https://www.youtube.com/watch?v=abc',
    'https://www.youtube.com/embed/../watch?v=abc',
    'https://www.youtube.com.evil.example/embed/abc',
    'https://evil.example/?https://www.youtube.com/embed/abc',
    'https://user:pw@www.youtube.com/embed/abc',
    'https://www.youtube.com:8443/embed/abc',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    '/embed/local',
  ])('drops the iframe %s entirely, fallback included', (src) => {
    expect(sanitize(`<p>a</p><iframe src="${src}">fallback</iframe><p>b</p>`)).toBe('<p>a</p><p>b</p>');
  });

  it('drops an iframe with no src', () => {
    expect(sanitize('<iframe srcdoc="<script>alert(1)</script>"></iframe>')).toBe('');
  });
});

describe('sanitizeArticleHtml: URLs', () => {
  it('resolves relative href, src, poster and cite against the article URL', () => {
    expect(
      sanitize(
        '<a href="/about">a</a><a href="next">n</a><a href="#notes">f</a><a href="//cdn.example.net/x">p</a>' +
          '<img src="../img/a.jpg" alt=""><video src="v.mp4" poster="/p.jpg"></video><blockquote cite="?src=1">q</blockquote>',
      ),
    ).toBe(
      '<a href="https://news.example.com/about">a</a><a href="https://news.example.com/world/2026/next">n</a>' +
        '<a href="https://news.example.com/world/2026/story#notes">f</a><a href="https://cdn.example.net/x">p</a>' +
        '<img src="https://news.example.com/world/img/a.jpg" alt="" />' +
        '<video src="https://news.example.com/world/2026/v.mp4" poster="https://news.example.com/p.jpg" controls></video>' +
        '<blockquote cite="https://news.example.com/world/2026/story?src=1">q</blockquote>',
    );
  });

  it('resolves every srcset candidate and drops unsafe ones', () => {
    expect(sanitize('<img src="a.jpg" srcset="a.jpg 1x, /b.jpg 2x, javascript:alert(1) 3x, data:image/png;base64,AA 4x" alt="">')).toBe(
      '<img src="https://news.example.com/world/2026/a.jpg" srcset="https://news.example.com/world/2026/a.jpg 1x, https://news.example.com/b.jpg 2x" alt="" />',
    );
  });

  it('resolves srcset on picture sources and keeps commas inside CDN URLs', () => {
    expect(
      sanitize('<picture><source srcset="/w_300,h_200/a.webp 300w, /w_600,h_400/a.webp 600w" type="image/webp"><img src="/a.jpg" alt="a"></picture>'),
    ).toBe(
      '<picture><source srcset="https://news.example.com/w_300,h_200/a.webp 300w, https://news.example.com/w_600,h_400/a.webp 600w" type="image/webp" />' +
        '<img src="https://news.example.com/a.jpg" alt="a" /></picture>',
    );
  });

  it('drops a srcset whose every candidate is unsafe, and an img left without src', () => {
    expect(sanitize('<img src="javascript:alert(1)" srcset="javascript:alert(1) 1x">')).toBe('');
    expect(sanitize('<img src="a.jpg" srcset="javascript:alert(1) 1x" alt="">')).toBe(
      '<img src="https://news.example.com/world/2026/a.jpg" alt="" />',
    );
  });

  it('keeps mailto: and tel: links but not on images', () => {
    expect(sanitize('<a href="mailto:desk@example.com">m</a> <a href="tel:+442071234567">t</a><img src="mailto:x@example.com">')).toBe(
      '<a href="mailto:desk@example.com">m</a> <a href="tel:+442071234567">t</a>',
    );
  });

  it('escapes & in URLs and unwraps a link whose href was empty', () => {
    expect(sanitize('<a href="/s?a=1&b=2">s</a> <a href="">e</a> <a name="anchor">n</a>')).toBe(
      '<a href="https://news.example.com/s?a=1&amp;b=2">s</a> e n',
    );
  });
});

describe('sanitizeArticleHtml: characters and entities', () => {
  it('emits no named entity except &amp; &lt; &gt; &quot; (nbsp becomes U+00A0)', () => {
    const out = sanitize('<p title="x">a&nbsp;b &copy; &mdash; &eacute; &amp; &lt;i&gt; "q"</p><abbr title="&quot;Q&quot; &hellip;">Q</abbr>');
    expect(out).toBe('<p>a\u00A0b © — é &amp; &lt;i&gt; "q"</p><abbr title="&quot;Q&quot; …">Q</abbr>');
    expect(out.match(/&[a-zA-Z][a-zA-Z0-9]*;/g)?.every((e) => ['&amp;', '&lt;', '&gt;', '&quot;'].includes(e))).toBe(true);
  });

  it('strips raw control characters and lone surrogates', () => {
    expect(sanitize('<p>a\u0000b\u0001c\u000Bd\u0085e\uFFFEf\uD800g</p>')).toBe('<p>abcdefg</p>');
  });

  it('strips XML-illegal characters produced by decoding numeric references', () => {
    expect(sanitize('<p>a&#1;b&#x1F;c&#xFFFE;d&#xFFFF;e</p>')).toBe('<p>abcde</p>');
  });

  it('keeps emoji and RTL text, and the dir and lang attributes', () => {
    const html = '<p dir="rtl" lang="ar">مرحبا بالعالم 👋🏽</p><p>Family: 👩‍👩‍👧 <bdi>שלום</bdi></p>';
    expect(sanitize(html)).toBe(html);
  });

  it('drops a dir attribute with an unknown value', () => {
    expect(sanitize('<p dir="sideways">x</p>')).toBe('<p>x</p>');
  });

  it('normalises CRLF line endings to LF', () => {
    expect(sanitize('<pre>a\r\nb\rc</pre>')).toBe('<pre>a\nb\nc</pre>');
  });
});
