import { Parser } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { makeArticle } from '../../bench/lib/articles.js';
import { createRng } from '../../bench/lib/text.js';
import { tokenizeCommonHtml, type HtmlEvents } from '../../src/domain/common-html-tokenizer.js';
import { chance, hostileHtml, pick, type Rng } from '../helpers/hostile-html.js';
import { WORDPRESS_BODY } from '../../bench/lib/wordpress-body.js';

/**
 * The tokenizer's contract: for any input it accepts, the events htmlparser2's Parser emits (HTML
 * mode, entities decoded), with adjacent text merged. Most inputs here are generated to sit on the
 * border of what it accepts; each test also counts the inputs it accepted, so that refusing
 * everything cannot pass.
 */

type Event = ['open', string, [string, string][]] | ['text', string] | ['close', string];

class Recorder implements HtmlEvents {
  readonly events: Event[] = [];
  onopentag(name: string, attribs: Record<string, string>): void {
    this.events.push(['open', name, Object.entries(attribs)]);
  }
  ontext(text: string): void {
    const last = this.events[this.events.length - 1];
    if (last?.[0] === 'text') last[1] += text;
    else this.events.push(['text', text]);
  }
  onclosetag(name: string): void {
    this.events.push(['close', name]);
  }
}

function htmlparser2Events(html: string): Event[] {
  const recorder = new Recorder();
  new Parser(
    { onopentag: (n, a) => recorder.onopentag(n, a), ontext: (t) => recorder.ontext(t), onclosetag: (n) => recorder.onclosetag(n) },
    { decodeEntities: true },
  ).end(html);
  return recorder.events;
}

function fastEvents(html: string): Event[] | null {
  const recorder = new Recorder();
  return tokenizeCommonHtml(html, recorder) ? recorder.events : null;
}

/** Inputs accepted and inputs on which the two disagree (the first few). */
function compare(inputs: Iterable<string>): { accepted: number; total: number; mismatches: { input: string; expected: Event[]; actual: Event[] }[] } {
  let accepted = 0;
  let total = 0;
  const mismatches: { input: string; expected: Event[]; actual: Event[] }[] = [];
  for (const input of inputs) {
    total++;
    const actual = fastEvents(input);
    if (actual === null) continue;
    accepted++;
    const expected = htmlparser2Events(input);
    if (JSON.stringify(actual) !== JSON.stringify(expected) && mismatches.length < 5) mismatches.push({ input, expected, actual });
  }
  return { accepted, total, mismatches };
}

describe('tokenizeCommonHtml', () => {
  it('accepts the markup of a typical body and emits what htmlparser2 emits', () => {
    const html =
      '<h2 class="wp-block-heading" id="h-1">Storm&nbsp;hits</h2>\n<p>It&#8217;s “here” &amp; <a href="https://x.example/a?b=1&#038;c=2" ' +
      "rel='noopener'>now</a>.<br>Next<br/>line<br />end</p><!-- wp:image --><figure class=\"wp-block-image\"><img decoding=\"async\" " +
      'src="https://x.example/a.jpg" alt="" srcset="https://x.example/a.jpg 1024w, https://x.example/b.jpg 300w"/></figure>' +
      '<ul><li>One</li><li>Two</li></ul><P>Fish & chips, 3 < 4 > 2</P><table><tbody><tr><td>1</td></tr></tbody></table>';
    const events = fastEvents(html);
    expect(events).not.toBeNull();
    expect(events).toEqual(htmlparser2Events(html));
    expect(events).toContainEqual(['open', 'img', [['decoding', 'async'], ['src', 'https://x.example/a.jpg'], ['alt', ''], ['srcset', 'https://x.example/a.jpg 1024w, https://x.example/b.jpg 300w']]]);
    expect(events).toContainEqual(['text', 'Fish & chips, 3 < 4 > 2']);
  });

  it('accepts a WordPress article body and every body the bench ingests', () => {
    const bodies = [WORDPRESS_BODY, ...Array.from({ length: 100 }, (_, i) => makeArticle({ seed: 300_000 + i, externalId: `t-${i}`, categories: ['World'], publishedAt: new Date(0) }).contentHtml)];
    const { accepted, mismatches } = compare(bodies);
    expect(mismatches).toEqual([]);
    expect(accepted).toBe(bodies.length);
  });

  it.each([
    ['an implied end tag', '<p>a<p>b'],
    ['an end tag that closes several elements', '<p><b>a</p>'],
    ['a stray end tag', 'a</p>b'],
    ['a raw-text element', '<script>a &lt; b</script>'],
    ['a raw-text element with markup', '<style>a<b>c</style>'],
    ['an element with foreign content', '<svg><p/></svg>'],
    ['an unquoted attribute', '<a href=x>a</a>'],
    ['spaces around "="', '<a href = "x">a</a>'],
    ['a legacy entity without ";"', 'AT&T &copy 2026'],
    ['a name that is no entity', '&heartsx; &amp'],
    ['a numeric reference htmlparser2 replaces', '&#128;'],
    ['a reference to a character XML forbids', 'a&#1;b &#xFFFE;'],
    ['a self-closing non-void element', '<p/>x'],
    ['a doctype', '<!doctype html><p>x</p>'],
    ['CDATA', '<![CDATA[x]]>'],
    ['an abruptly closed comment', '<!-->x'],
    ['a processing instruction', '<?php x ?>'],
    ['a tag cut off by the end', '<p>x</p><a href="x'],
    ['an odd tag name', '<my-widget>x</my-widget>'],
  ])('leaves %s to htmlparser2', (_, html) => {
    expect(fastEvents(html)).toBeNull();
  });

  it('closes the elements left open at the end, innermost first, as htmlparser2 does', () => {
    const html = '<div><p>a <em>b';
    expect(fastEvents(html)).toEqual(htmlparser2Events(html));
    expect(fastEvents(html)!.slice(-3)).toEqual([['close', 'em'], ['close', 'p'], ['close', 'div']]);
  });

  it("agrees with htmlparser2's element tables: every tag opened inside, and closed after, every element", () => {
    // Its implied end tags, void elements and raw-text elements, over the HTML element names and a few
    // made-up ones; checked against the installed htmlparser2, so an upgrade that changes a table fails here.
    const inputs: string[] = [];
    for (const outer of HTML_TAGS) {
      for (const inner of HTML_TAGS) inputs.push(`<${outer} class="o">a<${inner}>b&amp;</${inner}>c</${outer}>d`, `<${outer}><${inner} /></${outer}>`);
    }
    const { accepted, total, mismatches } = compare(inputs);
    expect(mismatches).toEqual([]);
    expect(accepted).toBeGreaterThan(total * 0.3);
  });

  it('agrees with htmlparser2 on 4,000 generated bodies with one thing off', () => {
    function* inputs(): Generator<string> {
      for (let seed = 1; seed <= 4000; seed++) {
        const rng = createRng(5_000_000 + seed);
        yield mutate(rng, commonBody(rng));
      }
    }
    const { accepted, total, mismatches } = compare(inputs());
    expect(mismatches).toEqual([]);
    // The border is crossed both ways: many mutated bodies are still accepted, many are not.
    expect(accepted).toBeGreaterThan(total * 0.15);
    expect(accepted).toBeLessThan(total * 0.9);
  });

  it('agrees with htmlparser2 on 3,000 hostile documents', () => {
    function* inputs(): Generator<string> {
      for (let seed = 1; seed <= 3000; seed++) yield hostileHtml(createRng(seed));
    }
    const { accepted, mismatches } = compare(inputs());
    expect(mismatches).toEqual([]);
    expect(accepted).toBeGreaterThan(50);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated bodies: common CMS markup, then one random edit near an HTML-significant character

const HTML_TAGS = [
  'a', 'abbr', 'address', 'area', 'article', 'aside', 'audio', 'b', 'base', 'basefont', 'bdi', 'bdo', 'blockquote', 'body', 'br',
  'button', 'canvas', 'caption', 'cite', 'code', 'col', 'colgroup', 'command', 'data', 'datalist', 'dd', 'del', 'desc',
  'details', 'dfn', 'dialog', 'div', 'dl', 'dt', 'em', 'embed', 'fieldset', 'figcaption', 'figure', 'font', 'footer',
  'foreignobject', 'form', 'frame', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'head', 'header', 'hr', 'html', 'i', 'iframe', 'image',
  'img', 'input', 'ins', 'isindex', 'kbd', 'keygen', 'label', 'legend', 'li', 'link', 'main', 'map', 'mark', 'math', 'menu',
  'meta', 'meter', 'mi', 'mn', 'mo', 'ms', 'mtext', 'nav', 'noembed', 'noframes', 'noscript', 'object', 'ol', 'optgroup',
  'option', 'output', 'p', 'param', 'picture', 'plaintext', 'pre', 'progress', 'q', 'rp', 'rt', 'ruby', 's', 'samp',
  'script', 'search', 'section', 'select', 'slot', 'small', 'source', 'span', 'strong', 'style', 'sub', 'summary', 'sup',
  'svg', 'table', 'tbody', 'td', 'template', 'textarea', 'tfoot', 'th', 'thead', 'time', 'title', 'tr', 'track', 'u', 'ul',
  'var', 'video', 'wbr', 'xmp', 'x1', 'widget',
];
const TAGS = ['p', 'p', 'p', 'h2', 'h3', 'a', 'a', 'strong', 'em', 'b', 'i', 'span', 'div', 'blockquote', 'ul', 'ol', 'li', 'figure', 'figcaption', 'table', 'tr', 'td', 'th', 'tbody', 'cite', 'code', 'pre', 'section', 'noscript', 'Em', 'DIV'];
const VOIDS = ['br', 'br', 'img', 'hr', 'wbr', 'source', 'input'];
const ATTRIBUTES = ['class="wp-block"', 'id="x1"', 'href="https://a.example/b?c=1&amp;d=2"', "href='/rel'", 'src="a.jpg"', 'alt=""', 'alt="A &quot;b&quot;"', 'style="color:red"', 'data-id="7"', 'title="&#8220;Q&#8221;"', 'CLASS="X"', 'hidden', 'class="a" class="b"', 'onclick="x()"', 'rel="noopener noreferrer"', 'lang="cy"'];
const TEXTS = ['The council voted 7-2', 'It&#8217;s', '&ldquo;Yes&rdquo;', 'caf&eacute;', '&pound;5', 'AT&amp;T', 'fish & chips', '3 < 4', 'a > b', '&nbsp;', '&#x1F600;', 'مرحبا', '\n', '  ', '&hellip;', '&mdash;', '&#39;', '&copy;'];
const EDITS = ['<', '>', '&', '"', "'", '/', '=', '!', '-', ';', '#', ' ', '\n', '</p>', '<p>', '<!--', '-->', '<br>', '&amp', 'x'];

function commonBody(rng: Rng): string {
  let out = '';
  const n = 3 + Math.floor(rng() * 10);
  for (let i = 0; i < n; i++) out += element(rng, 0);
  return out;
}

function element(rng: Rng, depth: number): string {
  const r = rng();
  if (r < 0.15) return `<${pick(rng, VOIDS)}${attributes(rng)}${pick(rng, ['', '/', ' /'])}>`;
  if (r < 0.35 || depth > 3) return pick(rng, TEXTS) + (chance(rng, 0.5) ? ' ' : '');
  if (r < 0.4) return `<!-- ${pick(rng, ['wp:paragraph', 'more', 'x'])} -->`;
  const tag = pick(rng, TAGS);
  let inner = '';
  const n = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < n; i++) inner += element(rng, depth + 1);
  return `<${tag}${attributes(rng)}>${inner}</${tag}${chance(rng, 0.05) ? ' ' : ''}>`;
}

function attributes(rng: Rng): string {
  let out = '';
  const n = chance(rng, 0.5) ? 0 : 1 + Math.floor(rng() * 3);
  for (let i = 0; i < n; i++) out += pick(rng, [' ', ' ', '\n']) + pick(rng, ATTRIBUTES);
  return out;
}

/** One random insertion, deletion or replacement, at a random point or next to markup. */
function mutate(rng: Rng, html: string): string {
  if (chance(rng, 0.25)) return html;
  const markup = [...html.matchAll(/[<>&"'=;]/g)].map((m) => m.index);
  const at = markup.length > 0 && chance(rng, 0.7) ? pick(rng, markup) + Math.floor(rng() * 3) - 1 : Math.floor(rng() * html.length);
  const r = rng();
  if (r < 0.4) return html.slice(0, at) + pick(rng, EDITS) + html.slice(at);
  if (r < 0.7) return html.slice(0, at) + html.slice(at + 1);
  return html.slice(0, at) + pick(rng, EDITS) + html.slice(at + 1);
}
