import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import { ALL_FEED_KEY, feedUrls } from '../domain/feed-builder.js';
import { listCategories } from '../storage/categories.js';
import { loadFeedContent } from '../storage/feeds.js';
import { html, raw, type RawHtml } from './html.js';
import { COPY_SCRIPT_PATH } from './assets.js';

const FORMATS = [
  { ext: 'rss', label: 'RSS', type: 'application/rss+xml' },
  { ext: 'atom', label: 'Atom', type: 'application/atom+xml' },
  { ext: 'json', label: 'JSON Feed', type: 'application/feed+json' },
] as const;

const STYLE = `body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-bottom:.2rem}a{color:#0b57d0}ul.feeds{list-style:none;padding:0}
ul.feeds li{margin:.2rem 0 1rem}.links a{margin-right:.8rem}.meta{color:#555;font-size:.9rem}
article{border-top:1px solid #ddd;padding:.6rem 0}button.copy{margin-left:.5rem;font:inherit;font-size:.85rem}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px;word-break:break-all}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}a{color:#8ab4f8}code{background:#222}.meta{color:#aaa}}`;

/**
 * No inline script anywhere (the copy button's script is a file we serve): the policy forbids it.
 * Styles are one inline <style> block, hence 'unsafe-inline' for styles only.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** "1 subscriber", "12 subscribers". */
function subscribersLine(n: number): string {
  return `${n} subscriber${n === 1 ? '' : 's'}`;
}

function page(title: string, head: RawHtml[], body: RawHtml): string {
  return `<!doctype html>\n${
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>${head}<style>${raw(STYLE)}</style></head><body>${body}</body></html>`.value
  }\n`;
}

function alternateLinks(baseUrl: string, feedKey: string, title: string): RawHtml[] {
  const urls = feedUrls(baseUrl, feedKey);
  return FORMATS.map((f) => html`\n<link rel="alternate" type="${f.type}" title="${title} (${f.label})" href="${urls[f.ext]}">`);
}

function subscribeLinks(baseUrl: string, feedKey: string): RawHtml {
  const urls = feedUrls(baseUrl, feedKey);
  return html`<span class="links">${FORMATS.map((f) => html`<a href="${urls[f.ext]}" type="${f.type}">${f.label}</a>`)}</span>`;
}

/** Server-rendered pages for people: the index of feeds and a preview of each feed. No JavaScript needed. */
export function createPagesRouter(deps: Deps, options: { audience?: () => Promise<Map<string, { subscribers: number }>> } = {}) {
  const app = new Hono();
  // Reader statistics (issue 7): a failure to read them never breaks the page.
  const subscribers = async (): Promise<Map<string, { subscribers: number }>> =>
    options.audience ? options.audience().catch(() => new Map()) : new Map();
  const base = deps.config.PUBLIC_BASE_URL;
  const site = deps.config.SITE_TITLE;

  app.get('/', async (c) => {
    const [categories, audience] = await Promise.all([listCategories(deps.db), subscribers()]);
    const head = [
      ...alternateLinks(base, ALL_FEED_KEY, `${site}: all articles`),
      ...categories.flatMap((cat) => alternateLinks(base, cat.slug, `${site}: ${cat.name}`)),
    ];
    const body = html`<h1>${site} feeds</h1>
<p>Subscribe to a section in your feed reader. Every feed comes as RSS 2.0, Atom 1.0 and JSON Feed 1.1. Import them all at once with the <a href="${base}/feeds.opml">OPML list</a>.</p>
<ul class="feeds">
<li><h2><a href="${base}/feeds/all">All articles</a></h2><div class="meta subscribers">${subscribersLine(audience.get(ALL_FEED_KEY)?.subscribers ?? 0)}</div>${subscribeLinks(base, ALL_FEED_KEY)}</li>
${categories.map(
  (cat) => html`<li><h2><a href="${base}/feeds/${cat.slug}">${cat.name}</a></h2>${cat.description ? html`<div>${cat.description}</div>` : ''}
<div class="meta">${cat.articleCount} article${cat.articleCount === 1 ? '' : 's'} · <span class="subscribers">${subscribersLine(audience.get(cat.slug)?.subscribers ?? 0)}</span></div>${subscribeLinks(base, cat.slug)}</li>`,
)}
</ul>`;
    c.header('Cache-Control', `public, max-age=${deps.config.FEED_CACHE_MAX_AGE_SECONDS}`);
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    return c.html(page(`${site} feeds`, head, body));
  });

  app.get('/feeds/:slug{[a-z0-9]+(?:-[a-z0-9]+)*}', async (c) => {
    const slug = c.req.param('slug');
    const [content, audience] = await Promise.all([loadFeedContent(deps.db, slug, { limit: 20, now: deps.now() }), subscribers()]);
    if (!content) return c.notFound();
    const name = content.category?.name ?? 'All articles';
    const title = `${site}: ${name}`;
    const urls = feedUrls(base, slug);
    const body = html`<p><a href="${base}/">← All feeds</a></p>
<h1>${name}</h1>${content.category?.description ? html`<p>${content.category.description}</p>` : ''}
<p class="meta subscribers">${subscribersLine(audience.get(slug)?.subscribers ?? 0)}</p>
<h2>Subscribe</h2>
<ul class="subscribe">${FORMATS.map(
      (f) =>
        html`<li>${f.label}: <a href="${urls[f.ext]}" type="${f.type}"><code>${urls[f.ext]}</code></a><button type="button" class="copy" data-copy="${urls[f.ext]}" aria-label="Copy the ${f.label} feed URL" hidden>Copy feed URL</button></li>`,
    )}</ul>
<h2>Latest articles</h2>
${content.items.length === 0 ? html`<p>No articles yet.</p>` : ''}
${content.items.map(
  (a) => html`<article><h3><a href="${a.url}">${a.title}</a></h3>
<div class="meta"><time datetime="${a.publishedAt.toISOString()}">${a.publishedAt.toUTCString()}</time>${
    a.authors.length ? html` · ${a.authors.map((au) => au.name).join(', ')}` : ''
  }</div>${a.summary ? html`<p>${a.summary}</p>` : ''}</article>`,
)}`;
    c.header('Cache-Control', `public, max-age=${deps.config.FEED_CACHE_MAX_AGE_SECONDS}`);
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    const head = [...alternateLinks(base, slug, title), html`\n<script src="${COPY_SCRIPT_PATH}" defer></script>`];
    return c.html(page(title, head, body));
  });

  return app;
}
