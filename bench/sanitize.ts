/**
 * npx tsx bench/sanitize.ts [--rounds=9]
 *
 * CPU time of sanitizeArticleHtml (src/domain/sanitize-html.ts: the common-markup tokenizer, or
 * htmlparser2 where it refuses, under one allowlist writer) against the sanitize-html implementation
 * it replaced (tests/helpers/reference-sanitizer.ts), in the same process, round after round, the two
 * in alternating order: the 500 realistic bodies of one ingest batch (bench/lib/articles.ts, ~5 KB
 * each, already in the sanitiser's output form), 500 WordPress-rendered bodies (bench/lib/wordpress-body.ts,
 * classes, numeric references, lazy-loading attributes), then one large hostile body (which the
 * tokenizer refuses at once). Prints µs per article for each and the ratio ours/reference (the median
 * of the rounds' ratios). Checks first that both give the same bytes. Also prints htmlparser2 alone,
 * the floor under the reference and under our path for what the tokenizer refuses. A few seconds on
 * one core; no service, no database.
 */
import { Parser } from 'htmlparser2';
import { makeArticle } from './lib/articles.js';
import { WORDPRESS_BODY } from './lib/wordpress-body.js';
import { sanitizeArticleHtml } from '../src/domain/sanitize-html.js';
import { referenceSanitize } from '../tests/helpers/reference-sanitizer.js';

type Sanitize = (html: string, baseUrl: string) => string;
interface Body {
  html: string;
  base: string;
}

// The ratio is ours/reference; the third row is htmlparser2 alone, with the options both use and a
// handler that does nothing.
const IMPLEMENTATIONS: ReadonlyArray<{ name: string; run: Sanitize }> = [
  { name: 'reference (sanitize-html)', run: referenceSanitize },
  { name: 'ours (sanitizeArticleHtml)', run: sanitizeArticleHtml },
  { name: 'htmlparser2 alone', run: parseOnly },
];

function parseOnly(html: string): string {
  new Parser({ onopentag() {}, ontext() {}, onclosetag() {} }, { decodeEntities: true }).end(html);
  return '';
}

/** The bodies of one 500-article ingest batch, as bench/scenarios/ingest.ts builds them. */
function realisticBodies(): Body[] {
  return Array.from({ length: 500 }, (_, i) => {
    const article = makeArticle({ seed: 200_000 + i, externalId: `bench-${i}`, categories: ['World'], publishedAt: new Date(0) });
    return { html: flat(article.contentHtml), base: new URL(article.url).href };
  });
}

/** 500 WordPress-rendered bodies (~8 KB), each with its own numbers so no two strings are equal. */
function wordpressBodies(): Body[] {
  return Array.from({ length: 500 }, (_, i) => ({
    html: flat(WORDPRESS_BODY.replace(/(?<![#\d])\d+/g, (n) => String(Number(n) + i))),
    base: `https://news.example.co.uk/news/2026/11/30/storm-${i}/`,
  }));
}

/**
 * ~110 KB of what a sanitiser exists for: handlers, script URLs in many spellings, data: SVG,
 * foreign iframes, dropped elements, comments, CDATA, entities, mis-nesting, unclosed cells, CRLF.
 */
function hostileBody(): Body {
  let html = '';
  for (let i = 0; i < 100; i++) {
    html +=
      `<div class="c${i}" onclick="steal()"><h1 style="color:red">Title ${i}</h1>` +
      `<p>Text &nbsp;&amp;&#x27;&copy;&#1;&notit; ${i} and <b><i>mis-nested</b></i> ]]> tags</p>` +
      `<a href="javascript:alert(${i})">a</a> <a href=" jav&#x09;ascript:x">b</a> <a href="JAVASCRIPT&colon;x">c</a>` +
      `<a href="/rel/${i}?a=1&amp;b=2" rel="NoFollow opener evil" target="_blank" id="x${i}">d</a>` +
      `<img src="data:image/svg+xml;base64,PHN2Zz4=" onerror="x()"><img src="/img/${i}.jpg" ` +
      `srcset="/img/${i}-1x.jpg 1x, /img/${i}-2x.jpg 2x, javascript:x 3x" alt="">` +
      `<iframe src="https://www.youtube.com/embed/v${i}" allowfullscreen>fallback</iframe>` +
      `<iframe src="https://evil.example/${i}">gone</iframe><script>alert(${i})</script><style>p{}</style>` +
      `<svg><a href="x">s</a></svg><!-- comment ${i} --><![CDATA[ cdata ]]><?php echo 1; ?>` +
      `<table><tr><td colspan="2">cell<td>cell</table><ul><li>one<li>two</ul><video src="v${i}.mp4" autoplay></video>` +
      `<noscript><img src="lazy-${i}.jpg"></noscript><font color=red>font</font><p dir="RTL" lang="ar">مرحبا 👋🏽</p>\r\n`;
  }
  return { html: flat(html), base: 'https://news.example.com/world/2026/story' };
}

// Request bodies arrive through JSON.parse as flat strings; the generators build ropes, which the
// first implementation to read them would flatten on the other's behalf.
function flat(value: string): string {
  return JSON.parse(JSON.stringify(value)) as string;
}

/** CPU µs (user + system) to sanitise every body `repeat` times, per body. */
function cpuMicrosPerBody(run: Sanitize, bodies: readonly Body[], repeat: number): number {
  const start = process.cpuUsage();
  for (let r = 0; r < repeat; r++) for (const body of bodies) run(body.html, body.base);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / (bodies.length * repeat);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function measure(label: string, bodies: readonly Body[], repeat: number, rounds: number): void {
  const times = IMPLEMENTATIONS.map(() => [] as number[]);
  const ratios: number[] = [];
  // Round 0 warms both up (JIT) and is not counted.
  for (let round = 0; round <= rounds; round++) {
    const order = round % 2 === 0 ? [0, 1, 2] : [1, 0, 2];
    const perBody = [0, 0, 0];
    for (const i of order) perBody[i] = cpuMicrosPerBody(IMPLEMENTATIONS[i]!.run, bodies, repeat);
    if (round === 0) continue;
    perBody.forEach((us, i) => times[i]!.push(us));
    ratios.push(perBody[1]! / perBody[0]!);
  }
  const kb = bodies.reduce((sum, b) => sum + b.html.length, 0) / bodies.length / 1024;
  console.log(`\n${label}: ${bodies.length} bod${bodies.length === 1 ? 'y' : 'ies'} of ~${kb.toFixed(1)} KB, ${rounds} rounds`);
  IMPLEMENTATIONS.forEach((impl, i) => {
    const t = times[i]!;
    console.log(`  ${impl.name.padEnd(26)} ${median(t).toFixed(1).padStart(8)} µs/article  (rounds ${Math.min(...t).toFixed(1)}–${Math.max(...t).toFixed(1)})`);
  });
  console.log(`  ours/reference             ${median(ratios).toFixed(3)}  (${(1 / median(ratios)).toFixed(2)}x faster; rounds ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`);
}

function checkSameOutput(bodies: readonly Body[]): void {
  for (const body of bodies) {
    if (sanitizeArticleHtml(body.html, body.base) !== referenceSanitize(body.html, body.base)) {
      throw new Error(`outputs differ for a body starting ${JSON.stringify(body.html.slice(0, 80))}`);
    }
  }
}

function main(): void {
  const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
  const rounds = Math.max(3, Number(roundsArg?.slice('--rounds='.length) ?? 9));
  // parse-srcset inside sanitize-html logs each invalid srcset descriptor of the hostile body.
  console.log = ((log) => (...args: unknown[]) => {
    if (typeof args[0] !== 'string' || !args[0].startsWith('Invalid srcset descriptor')) log(...args);
  })(console.log.bind(console));
  const realistic = realisticBodies();
  const wordpress = wordpressBodies();
  const hostile = [hostileBody()];
  checkSameOutput([...realistic, ...wordpress, ...hostile]);
  console.log(`npx tsx bench/sanitize.ts --rounds=${rounds}   (node ${process.version}, CPU time of this process)`);
  measure('realistic bodies (one ingest batch)', realistic, 1, rounds);
  measure('WordPress-rendered bodies', wordpress, 1, rounds);
  measure('hostile body', hostile, 5, rounds);
}

main();
