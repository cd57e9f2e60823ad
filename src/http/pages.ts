import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import { ALL_FEED_KEY, feedUrls } from '../domain/feed-builder.js';
import { listCategories } from '../storage/categories.js';
import { loadFeedContent } from '../storage/feeds.js';
import { html, raw, type RawHtml } from './html.js';

const FORMATS = [
  { ext: 'rss', label: 'RSS', type: 'application/rss+xml' },
  { ext: 'atom', label: 'Atom', type: 'application/atom+xml' },
  { ext: 'json', label: 'JSON Feed', type: 'application/feed+json' },
] as const;

const STYLE = `body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-bottom:.2rem}a{color:#0b57d0}ul.feeds{list-style:none;padding:0}
ul.feeds li{margin:.2rem 0 1rem}.links a{margin-right:.8rem}.meta{color:#555;font-size:.9rem}
article{border-top:1px solid #ddd;padding:.6rem 0}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px;word-break:break-all}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}a{color:#8ab4f8}code{background:#222}.meta{color:#aaa}}`;

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
export function createPagesRouter(deps: Deps) {
  const app = new Hono();
  const base = deps.config.PUBLIC_BASE_URL;
  const site = deps.config.SITE_TITLE;

  app.get('/', async (c) => {
    const categories = await listCategories(deps.db);
    const head = [
      ...alternateLinks(base, ALL_FEED_KEY, `${site}: all articles`),
      ...categories.flatMap((cat) => alternateLinks(base, cat.slug, `${site}: ${cat.name}`)),
    ];
    const body = html`<h1>${site} feeds</h1>
<p>Subscribe to a section in your feed reader. Every feed comes as RSS 2.0, Atom 1.0 and JSON Feed 1.1. Import them all at once with the <a href="${base}/feeds.opml">OPML list</a>.</p>
<ul class="feeds">
<li><h2><a href="${base}/feeds/all">All articles</a></h2>${subscribeLinks(base, ALL_FEED_KEY)}</li>
${categories.map(
  (cat) => html`<li><h2><a href="${base}/feeds/${cat.slug}">${cat.name}</a></h2>${cat.description ? html`<div>${cat.description}</div>` : ''}
<div class="meta">${cat.articleCount} article${cat.articleCount === 1 ? '' : 's'}</div>${subscribeLinks(base, cat.slug)}</li>`,
)}
</ul>`;
    c.header('Cache-Control', `public, max-age=${deps.config.FEED_CACHE_MAX_AGE_SECONDS}`);
    return c.html(page(`${site} feeds`, head, body));
  });

  app.get('/feeds/:slug{[a-z0-9]+(?:-[a-z0-9]+)*}', async (c) => {
    const slug = c.req.param('slug');
    const content = await loadFeedContent(deps.db, slug, { limit: 20, now: deps.now() });
    if (!content) return c.notFound();
    const name = content.category?.name ?? 'All articles';
    const title = `${site}: ${name}`;
    const urls = feedUrls(base, slug);
    const body = html`<p><a href="${base}/">← All feeds</a></p>
<h1>${name}</h1>${content.category?.description ? html`<p>${content.category.description}</p>` : ''}
<h2>Subscribe</h2>
<ul>${FORMATS.map((f) => html`<li>${f.label}: <a href="${urls[f.ext]}" type="${f.type}"><code>${urls[f.ext]}</code></a></li>`)}</ul>
<h2>Latest articles</h2>
${content.items.length === 0 ? html`<p>No articles yet.</p>` : ''}
${content.items.map(
  (a) => html`<article><h3><a href="${a.url}">${a.title}</a></h3>
<div class="meta"><time datetime="${a.publishedAt.toISOString()}">${a.publishedAt.toUTCString()}</time>${
    a.authors.length ? html` · ${a.authors.map((au) => au.name).join(', ')}` : ''
  }</div>${a.summary ? html`<p>${a.summary}</p>` : ''}</article>`,
)}`;
    c.header('Cache-Control', `public, max-age=${deps.config.FEED_CACHE_MAX_AGE_SECONDS}`);
    return c.html(page(title, alternateLinks(base, slug, title), body));
  });

  return app;
}
