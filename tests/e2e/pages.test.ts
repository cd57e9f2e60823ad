import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { articleInput, send } from '../helpers/builders.js';
import { parseAtomBack, parseJsonBack, parseRssBack } from '../helpers/feeds.js';
import { startLiveApp, type LiveApp } from '../websub/setup.js';

/**
 * Issue 7, "pages tested in a real browser": the index page and every feed's preview page in headless
 * Chromium (Debian's `chromium`, driven by playwright-core; no browser download). Every subscribe link
 * is fetched and parsed back, autodiscovery links are checked, the copy button is clicked, and
 * screenshots go to tests/artifacts/ (gitignored; CI keeps them as artifacts).
 *
 * Without /usr/bin/chromium the suite is skipped with a message, except under CI, where it fails:
 * .ci/run installs the package.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

if (!available) {
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run must install the chromium package before the tests`);
  console.warn(`[e2e] skipped: ${CHROMIUM} not found (apt-get install -y chromium); CI runs these tests`);
}

describe.skipIf(!available)('pages in headless Chromium', () => {
  let live: LiveApp;
  let browser: Browser;
  let context: BrowserContext;
  const categories = [
    { slug: 'world', name: 'World' },
    { slug: 'climate-science', name: 'Climate & Science' },
    { slug: 'sport', name: 'Sport' },
  ];

  beforeAll(async () => {
    live = await startLiveApp({ STATS_FLUSH_INTERVAL_MS: '600000' });
    for (const [i, c] of categories.entries()) {
      expect((await send(live.t.app, 'PUT', `/api/v1/categories/${c.slug}`, { body: { name: c.name, description: `${c.name} coverage.` } })).status).toBe(201);
      for (let n = 0; n < 2; n++) {
        const answer = await send(live.t.app, 'POST', '/api/v1/articles', {
          body: articleInput({ title: `${c.name} story ${n} <em>&</em> "quotes"`, categories: [c.name], publishedAt: `2026-11-2${i}T0${n}:00:00Z` }),
        });
        expect(answer.status).toBe(201);
      }
    }
    // Readers, so the pages have counts to show: an aggregator announcing 12 subscribers to World.
    const res = await fetch(`${live.origin}/feeds/world.rss`, { headers: { 'User-Agent': 'Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)' } });
    await res.arrayBuffer();
    await live.t.realtime.readers.flush();
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // As the machine's probe runs it: no sandbox (root), and no background traffic to Google's
      // hosts, which this closed network refuses. playwright gives each launch a new, empty profile.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: live.origin });
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await live?.close();
  });

  /** Fetches a feed URL the page links to and parses it back by its format. */
  async function expectValidFeed(url: string): Promise<void> {
    const res = await fetch(url);
    const text = await res.text();
    expect(res.status, url).toBe(200);
    if (url.endsWith('.rss')) await parseRssBack(text, url);
    else if (url.endsWith('.atom')) await parseAtomBack(text, url);
    else if (url.endsWith('.json')) parseJsonBack(text, url);
    else throw new Error(`not a feed link: ${url}`);
  }

  it('the index page renders every category, its subscriber line and links that all resolve to valid feeds', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('response', (r) => {
      // Browsers ask for /favicon.ico on their own; the service has none.
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
    });
    const response = await page.goto(`${live.origin}/`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Syndicate feeds');
    const headings = await page.locator('ul.feeds h2').allTextContents();
    expect(headings).toEqual(['All articles', 'Climate & Science', 'Sport', 'World']);
    const worldItem = page.locator('ul.feeds li', { has: page.locator('h2', { hasText: 'World' }) });
    await expect.poll(() => worldItem.locator('.subscribers').textContent()).toBe('12 subscribers');
    expect(await page.locator('ul.feeds li .subscribers').count()).toBe(4);

    // Autodiscovery: three alternate links per feed (all + each category), each resolving.
    const alternates = await page.locator('head link[rel="alternate"]').evaluateAll((links) =>
      links.map((l) => ({ type: l.getAttribute('type'), href: (l as unknown as { href: string }).href, title: l.getAttribute('title') })),
    );
    expect(alternates).toHaveLength(3 * (categories.length + 1));
    expect(new Set(alternates.map((a) => a.type))).toEqual(new Set(['application/rss+xml', 'application/atom+xml', 'application/feed+json']));
    const subscribeLinks = await page.locator('ul.feeds .links a').evaluateAll((links) => links.map((l) => (l as unknown as { href: string }).href));
    expect(subscribeLinks).toHaveLength(3 * (categories.length + 1));
    expect(new Set(subscribeLinks)).toEqual(new Set(alternates.map((a) => a.href)));
    for (const url of subscribeLinks) await expectValidFeed(url);
    // The OPML link resolves too.
    const opml = await page.locator('a', { hasText: 'OPML list' }).getAttribute('href');
    expect((await fetch(opml!)).status).toBe(200);

    await page.screenshot({ path: join(ARTIFACTS, 'index.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('each preview page renders its items, count and subscribe links; the copy button copies the feed URL', async () => {
    for (const feed of [{ slug: 'all', name: 'All articles' }, ...categories]) {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
      });
      const response = await page.goto(`${live.origin}/feeds/${feed.slug}`);
      expect(response?.status(), feed.slug).toBe(200);
      // The page forbids inline script: the copy script is a file we serve.
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
      expect(await page.locator('h1').textContent()).toBe(feed.name);
      expect(await page.locator('article h3').count()).toBe(feed.slug === 'all' ? 6 : 2);
      expect(await page.locator('article h3').first().textContent()).toMatch(/story \d & "quotes"$/);
      expect(await page.locator('.subscribers').textContent()).toBe(feed.slug === 'world' ? '12 subscribers' : '0 subscribers');
      const alternates = await page.locator('head link[rel="alternate"]').evaluateAll((links) => links.map((l) => (l as unknown as { href: string }).href));
      expect(alternates).toEqual(['rss', 'atom', 'json'].map((f) => `${live.origin}/feeds/${feed.slug}.${f}`));
      const links = await page.locator('ul.subscribe a').evaluateAll((as) => as.map((a) => (a as unknown as { href: string }).href));
      expect(links).toEqual(alternates);
      for (const url of links) await expectValidFeed(url);

      // Progressive enhancement: the script reveals the buttons; clicking copies the URL.
      const buttons = page.locator('ul.subscribe button.copy');
      await expect.poll(() => buttons.first().isVisible()).toBe(true);
      expect(await buttons.count()).toBe(3);
      await buttons.nth(1).click();
      await expect.poll(() => buttons.nth(1).textContent()).toBe('Copied');
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`${live.origin}/feeds/${feed.slug}.atom`);
      if (feed.slug === 'world') await page.screenshot({ path: join(ARTIFACTS, 'preview-world.png'), fullPage: true });
      expect(errors, feed.slug).toEqual([]);
      await page.close();
    }
  });

  it('without JavaScript the preview page still shows every feed URL, and no dead button', async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await noScript.newPage();
      await page.goto(`${live.origin}/feeds/world`);
      expect(await page.locator('ul.subscribe code').allTextContents()).toEqual(['rss', 'atom', 'json'].map((f) => `${live.origin}/feeds/world.${f}`));
      expect(await page.locator('ul.subscribe button.copy').count()).toBe(3);
      expect(await page.locator('ul.subscribe button.copy').first().isVisible()).toBe(false);
      await page.screenshot({ path: join(ARTIFACTS, 'preview-world-no-js.png'), fullPage: true });
    } finally {
      await noScript.close();
    }
  });
});
