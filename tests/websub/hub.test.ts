import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { websubDeliveries, websubSubscriptions } from '../../src/storage/schema.js';
import { activateSubscription, listDeliveries } from '../../src/storage/websub.js';
import { Realtime } from '../../src/realtime.js';
import { articleInput, send } from '../helpers/builders.js';
import { parseAtomBack, parseJsonBack, parseRssBack, quiesce, waitFor } from '../helpers/feeds.js';
import { checkSignature, discover, parseLinkHeader, requestSubscription, startSubscriber, type Subscriber } from '../helpers/websub-subscriber.js';
import { PRIVATE_HOST, startLiveApp, SUBSCRIBER_HOST, type LiveApp } from './setup.js';

/**
 * Issue 7, WebSub: discovery, the hub (§5), content distribution (§7), external hubs. Everything runs
 * over real sockets: the app on 127.0.0.1 (PUBLIC_BASE_URL points at it) and an independent subscriber
 * (tests/helpers/websub-subscriber.ts) on 127.0.0.1, reached through fake host names and the SSRF
 * guard's one allowed address (WEBSUB_ALLOW_PRIVATE stays false).
 */

let live: LiveApp;
let sub: Subscriber;

async function ingest(category: string, title: string, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await send(live.t.app, 'POST', '/api/v1/articles', { body: articleInput({ title, categories: [category], ...extra }) });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.article.guid as string;
}

async function putCategory(slug: string, name: string): Promise<void> {
  const answer = await send(live.t.app, 'PUT', `/api/v1/categories/${slug}`, { body: { name } });
  expect([200, 201]).toContain(answer.status);
}

/** Subscribes callback `id` to `topic` as a well-behaved subscriber does, and waits for the verification. */
async function subscribe(id: string, topic: string, options: { secret?: string; leaseSeconds?: number; query?: string } = {}) {
  sub.intend(id, 'subscribe', topic);
  const answer = await requestSubscription(live.hub, {
    mode: 'subscribe',
    topic,
    callback: sub.callbackUrl(id, { host: SUBSCRIBER_HOST, ...(options.query ? { query: options.query } : {}) }),
    ...(options.secret !== undefined ? { secret: options.secret } : {}),
    ...(options.leaseSeconds !== undefined ? { leaseSeconds: options.leaseSeconds } : {}),
  });
  expect(answer.status, answer.text).toBe(202);
  await live.t.realtime.verifyIdle();
  return answer;
}

async function activeSubscriptions(topic: string) {
  return live.t.deps.db.select().from(websubSubscriptions).where(eq(websubSubscriptions.topic, topic));
}

beforeAll(async () => {
  live = await startLiveApp({ WEBSUB_DELIVERY_CONCURRENCY: '8', WEBSUB_DELIVERY_MAX_ATTEMPTS: '8' });
  sub = await startSubscriber();
  await putCategory('world', 'World');
  await ingest('World', 'First world story');
});
afterAll(async () => {
  await live?.close();
  await sub?.close();
});

describe('discovery (WebSub §4)', () => {
  it('every feed response carries Link rel=hub and rel=self = the URL served: 200, 304, HEAD, fast path and router, ?limit', async () => {
    const hub = `${live.origin}/websub`;
    for (const format of ['rss', 'atom', 'json'] as const) {
      const url = `${live.origin}/feeds/world.${format}`;
      // The first request renders (router); the second is a memory hit (fast path).
      for (let i = 0; i < 2; i++) {
        const found = await discover(url);
        expect(found.status).toBe(200);
        expect(found.hubs).toEqual([hub]);
        expect(found.self).toBe(url);
      }
      const get = await fetch(url);
      const etag = get.headers.get('etag')!;
      await get.arrayBuffer();
      const notModified = await fetch(url, { headers: { 'If-None-Match': etag } });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get('link')).toBe(get.headers.get('link'));
      const head = await fetch(url, { method: 'HEAD' });
      expect(head.headers.get('link')).toBe(get.headers.get('link'));
      // A parameterised feed's self carries its query: it is what was served.
      const limited = await discover(`${url}?limit=5`);
      expect(limited.self).toBe(`${url}?limit=5`);
      expect(limited.hubs).toEqual([hub]);
    }
    // Through app.request too (no socket), and the header is one RFC 8288 list.
    const res = await live.t.app.request('/feeds/world.rss');
    expect(parseLinkHeader(res.headers.get('link')!)).toEqual([
      { url: hub, rel: 'hub' },
      { url: `${live.origin}/feeds/world.rss`, rel: 'self' },
    ]);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/Link/);
  });

  it('the bodies advertise the same hub and self: atom:link in RSS and Atom, hubs in JSON Feed', async () => {
    const rss = await parseRssBack(await (await fetch(`${live.origin}/feeds/world.rss`)).text());
    const atom = await (await fetch(`${live.origin}/feeds/world.atom`)).text();
    await parseAtomBack(atom);
    const json = parseJsonBack(await (await fetch(`${live.origin}/feeds/world.json`)).text()) as { hubs?: unknown; feed_url?: string };
    const rssLinks = ((rss as unknown as { atomLinks: { $: { href: string; rel: string } }[] }).atomLinks ?? []).map((l) => l.$);
    expect(rssLinks).toEqual(expect.arrayContaining([expect.objectContaining({ href: `${live.origin}/feeds/world.rss`, rel: 'self' }), { href: live.hub, rel: 'hub' }]));
    expect(atom).toContain(`<link href="${live.hub}" rel="hub"/>`);
    expect(atom).toContain(`<link href="${live.origin}/feeds/world.atom" rel="self" type="application/atom+xml"/>`);
    expect(json.hubs).toEqual([{ type: 'WebSub', url: live.hub }]);
    expect(json.feed_url).toBe(`${live.origin}/feeds/world.json`);
  });
});

describe('the full flow with an independent subscriber', () => {
  it('discover → subscribe → verify (query kept) → signed push of the new body → unsubscribe → nothing more', async () => {
    const found = await discover(`${live.origin}/feeds/world.atom`);
    const topic = found.self!;
    const secret = 'correct horse battery staple';
    sub.setup('flow', { secret });
    await subscribe('flow', topic, { secret, query: '?token=abc%20def&x=1' });

    const verification = sub.verifications.filter((v) => v.id === 'flow').at(-1)!;
    expect(verification).toMatchObject({ mode: 'subscribe', topic, answered: 200, leaseSeconds: String(10 * 24 * 3600) });
    // The callback's own query string comes first, untouched; the challenge is long and random.
    expect(verification.search.startsWith('?token=abc%20def&x=1&hub.mode=subscribe')).toBe(true);
    expect(verification.challenge!.length).toBeGreaterThanOrEqual(20);
    const [row] = await activeSubscriptions(topic);
    expect(row).toMatchObject({ callback: sub.callbackUrl('flow', { host: SUBSCRIBER_HOST, query: '?token=abc%20def&x=1' }), secret, leaseSeconds: 864000 });

    // Subscribing again (a renewal: same callback) uses a fresh challenge (single use) and updates the row in place.
    await subscribe('flow', topic, { secret, query: '?token=abc%20def&x=1' });
    expect(await activeSubscriptions(topic)).toHaveLength(1);
    const challenges = sub.verifications.filter((v) => v.id === 'flow').map((v) => v.challenge);
    expect(new Set(challenges).size).toBe(challenges.length);

    const ingestedAt = Date.now();
    await ingest('World', 'Breaking: pushed to subscribers');
    const [push] = await waitFor('the push', async () => (sub.accepted('flow').length > 0 ? sub.accepted('flow') : null));
    expect(push!.at - ingestedAt, 'push within 2 s of the ingest answer').toBeLessThan(2000);
    expect(push!.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect(parseLinkHeader(String(push!.headers.link))).toEqual([
      { url: live.hub, rel: 'hub' },
      { url: topic, rel: 'self' },
    ]);
    expect(String(push!.headers['x-hub-signature'])).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(checkSignature(secret, push!.body, push!.headers['x-hub-signature'])).toBeNull();
    const atom = await parseAtomBack(push!.text);
    expect(atom.items.map((i) => i.title)).toContain('Breaking: pushed to subscribers');
    // The push is the full current feed: the same bytes a GET of the topic returns.
    expect(push!.text).toBe(await (await fetch(topic)).text());
    await waitFor('the delivery to be recorded', async () => (await listDeliveries(live.t.deps.db)).some((d) => d.state === 'delivered'));

    sub.intend('flow', 'unsubscribe', topic);
    const unsubscribe = await requestSubscription(live.hub, {
      mode: 'unsubscribe',
      topic,
      callback: sub.callbackUrl('flow', { host: SUBSCRIBER_HOST, query: '?token=abc%20def&x=1' }),
    });
    expect(unsubscribe.status).toBe(202);
    await live.t.realtime.verifyIdle();
    expect(sub.verifications.at(-1)).toMatchObject({ mode: 'unsubscribe', topic, answered: 200, leaseSeconds: null });
    expect(await activeSubscriptions(topic)).toEqual([]);
    const before = sub.pushes.filter((p) => p.id === 'flow').length;
    await ingest('World', 'After unsubscribing');
    await live.t.feeds.refresh('change');
    await live.t.realtime.idle();
    expect(sub.pushes.filter((p) => p.id === 'flow').length).toBe(before);
  });

  it("the subscriber helper rejects a forged or missing X-Hub-Signature (and still acknowledges it, §7.1)", async () => {
    sub.setup('forged', { secret: 'the real secret' });
    const body = Buffer.from('<feed/>');
    const post = (signature?: string) =>
      fetch(sub.callbackUrl('forged'), { method: 'POST', headers: signature ? { 'X-Hub-Signature': signature } : {}, body });
    const forged = `sha256=${'0'.repeat(64)}`;
    expect((await post(forged)).status).toBe(202);
    expect((await post()).status).toBe(202);
    const wrongKey = (await import('node:crypto')).createHmac('sha256', 'another secret').update(body).digest('hex');
    expect((await post(`sha256=${wrongKey}`)).status).toBe(202);
    expect(sub.accepted('forged')).toEqual([]);
    expect(sub.pushes.filter((p) => p.id === 'forged').map((p) => p.rejected)).toEqual([
      'X-Hub-Signature does not match the body',
      'missing X-Hub-Signature',
      'X-Hub-Signature does not match the body',
    ]);
    const good = (await import('node:crypto')).createHmac('sha256', 'the real secret').update(body).digest('hex');
    expect((await post(`sha256=${good}`)).status).toBe(204);
    expect(sub.accepted('forged')).toHaveLength(1);
  });
});

describe('subscription requests that are refused at once (4xx, plain-text reason)', () => {
  const topic = () => `${live.origin}/feeds/world.rss`;
  const post = (fields: Record<string, string>, contentType = 'application/x-www-form-urlencoded') =>
    fetch(live.hub, { method: 'POST', headers: { 'Content-Type': contentType }, body: new URLSearchParams(fields).toString() }).then(async (r) => ({
      status: r.status,
      type: r.headers.get('content-type'),
      text: await r.text(),
    }));
  const base = () => ({ 'hub.mode': 'subscribe', 'hub.topic': topic(), 'hub.callback': sub.callbackUrl('refused', { host: SUBSCRIBER_HOST }) });

  it('a topic we do not serve: unknown feed, another site, a query, not a feed URL', async () => {
    const cases: [string, number, RegExp][] = [
      [`${live.origin}/feeds/no-such-category.rss`, 404, /not a feed this hub serves/],
      ['https://elsewhere.example.org/feeds/world.rss', 400, /must be one of this hub's feeds/],
      [`${topic()}?limit=5`, 400, /only canonical feed URLs.*without a query/],
      [`${live.origin}/feeds/world.xml`, 400, /must be a feed URL/],
      [`${live.origin}/`, 400, /must be a feed URL/],
      ['not a url', 400, /not an absolute URL/],
    ];
    for (const [value, status, reason] of cases) {
      const answer = await post({ ...base(), 'hub.topic': value });
      expect(answer.status, value).toBe(status);
      expect(answer.type).toMatch(/^text\/plain/);
      expect(answer.text).toMatch(reason);
    }
  });

  it('bad mode, callback, lease, content type; a secret of 200 bytes (199 is fine)', async () => {
    expect(await post({ ...base(), 'hub.mode': 'publish' })).toMatchObject({ status: 400, text: expect.stringMatching(/hub.mode/) });
    expect(await post({ ...base(), 'hub.callback': 'ftp://subscriber.example.test/cb' })).toMatchObject({ status: 400, text: expect.stringMatching(/http or https/) });
    expect(await post({ ...base(), 'hub.callback': '/relative' })).toMatchObject({ status: 400 });
    expect(await post({ ...base(), 'hub.lease_seconds': '-5' })).toMatchObject({ status: 400, text: expect.stringMatching(/lease_seconds/) });
    expect(await post({ ...base(), 'hub.secret': 'x'.repeat(200) })).toMatchObject({ status: 400, text: expect.stringMatching(/less than 200 bytes/) });
    // 200 bytes in multi-byte characters is refused too: the limit is bytes.
    expect(await post({ ...base(), 'hub.secret': 'é'.repeat(100) })).toMatchObject({ status: 400 });
    const json = await fetch(live.hub, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    sub.intend('secret-199', 'subscribe', topic());
    const ok = await post({ ...base(), 'hub.callback': sub.callbackUrl('secret-199', { host: SUBSCRIBER_HOST }), 'hub.secret': 'x'.repeat(199) });
    expect(ok.status).toBe(202);
    await live.t.realtime.verifyIdle();
  });

  it('a callback on a private or loopback address, by name or literal (WEBSUB_ALLOW_PRIVATE=false)', async () => {
    const refused = [
      `http://${PRIVATE_HOST}:${sub.port}/cb/x`,
      `http://10.0.0.7/cb/x`,
      `http://127.0.0.2:${sub.port}/cb/x`,
      `http://[::1]:${sub.port}/cb/x`,
      'http://169.254.169.254/latest/meta-data/',
      'http://nxdomain.invalid/cb',
    ];
    for (const callback of refused) {
      const answer = await post({ ...base(), 'hub.callback': callback });
      expect(answer.status, callback).toBe(400);
      expect(answer.text).toMatch(/hub.callback refused/);
    }
    // Without the test seam (no allowed address), the subscriber's own 127.0.0.1 is refused as well.
    const seam = live.t.deps.upstream;
    live.t.deps.upstream = undefined;
    try {
      const answer = await post({ ...base(), 'hub.callback': sub.callbackUrl('x') });
      expect(answer).toMatchObject({ status: 400, text: expect.stringMatching(/127\.0\.0\.1 \(loopback\).*WEBSUB_ALLOW_PRIVATE=false/) });
    } finally {
      live.t.deps.upstream = seam;
    }
    expect(sub.verifications.filter((v) => v.id === 'x')).toEqual([]);
  });

  it('an unsubscribe for an unknown subscription: 404, nothing verified', async () => {
    const before = sub.verifications.length;
    const answer = await post({ ...base(), 'hub.mode': 'unsubscribe', 'hub.callback': sub.callbackUrl('never-subscribed', { host: SUBSCRIBER_HOST }) });
    expect(answer).toMatchObject({ status: 404, text: expect.stringMatching(/no subscription/) });
    await live.t.realtime.verifyIdle();
    expect(sub.verifications.length).toBe(before);
  });
});

describe('verification of intent that fails (nothing is activated)', () => {
  it('a wrong echo, no answer (timeout), a redirect, a refusal (404), an intent the subscriber never made', async () => {
    const topic = `${live.origin}/feeds/world.json`;
    const cases: [string, 'wrong-challenge' | 'timeout' | 'redirect' | 'refuse' | 'echo', string, boolean][] = [
      ['wrong', 'wrong-challenge', 'failed', true],
      ['slow', 'timeout', 'failed', true],
      ['moved', 'redirect', 'failed', true],
      ['no', 'refuse', 'refused', true],
      ['stranger', 'echo', 'refused', false],
    ];
    for (const [id, verify, outcome, intended] of cases) {
      sub.setup(id, { verify });
      if (intended) sub.intend(id, 'subscribe', topic);
      const answer = await requestSubscription(live.hub, { mode: 'subscribe', topic, callback: sub.callbackUrl(id, { host: SUBSCRIBER_HOST }) });
      expect(answer.status).toBe(202);
    }
    await live.t.realtime.verifyIdle();
    for (const [id, , outcome] of cases) {
      const result = live.t.realtime.verifications.filter((v) => v.callback === sub.callbackUrl(id, { host: SUBSCRIBER_HOST })).at(-1);
      expect(result, id).toMatchObject({ outcome });
    }
    const timedOut = live.t.realtime.verifications.find((v) => v.callback.endsWith('/cb/slow'));
    expect(timedOut).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/timeout/) });
    expect(await activeSubscriptions(topic)).toEqual([]);
    // The redirect was not followed.
    expect(sub.verifications.filter((v) => v.id === 'moved-elsewhere')).toEqual([]);
  });
});

describe('leases', () => {
  it('default 10 days, capped at 30 days, at least a minute; an expired subscription gets nothing', async () => {
    await putCategory('leases', 'Leases');
    await ingest('Leases', 'Lease story 1');
    const topic = `${live.origin}/feeds/leases.rss`;
    await subscribe('lease-long', topic, { leaseSeconds: 90 * 24 * 3600 });
    expect(sub.verifications.at(-1)!.leaseSeconds).toBe(String(30 * 24 * 3600));
    await subscribe('lease-short', topic, { leaseSeconds: 1 });
    expect(sub.verifications.at(-1)!.leaseSeconds).toBe('60');
    expect((await activeSubscriptions(topic)).map((s) => s.leaseSeconds).sort((a, b) => a - b)).toEqual([60, 30 * 24 * 3600]);

    live.skew(61_000);
    await ingest('Leases', 'Lease story 2');
    await waitFor('the long lease to receive the push', async () => sub.accepted('lease-long').length === 1);
    await live.t.realtime.idle();
    expect(sub.accepted('lease-short')).toEqual([]);
    // The sweep removes expired subscriptions.
    await live.t.realtime.sweep();
    expect((await activeSubscriptions(topic)).map((s) => s.callback)).toEqual([sub.callbackUrl('lease-long', { host: SUBSCRIBER_HOST })]);
  });
});

describe('deliveries (§7)', () => {
  it('a subscriber that answers 500 five times then 200 receives each change once, in order', async () => {
    await putCategory('flaky', 'Flaky');
    await ingest('Flaky', 'Flaky story 0');
    const topic = `${live.origin}/feeds/flaky.json`;
    sub.setup('flaky', { responses: [500, 500, 500, 500, 500, 200] });
    await subscribe('flaky', topic);
    await ingest('Flaky', 'Flaky story A');
    // Let the first attempts fail before the second change arrives.
    await waitFor('two failed attempts', async () => sub.pushes.filter((p) => p.id === 'flaky').length >= 2);
    await ingest('Flaky', 'Flaky story B');
    await waitFor('both changes delivered', async () => sub.accepted('flaky').length === 2, 10_000);
    await live.t.realtime.idle();
    const all = sub.pushes.filter((p) => p.id === 'flaky');
    expect(all.map((p) => p.status)).toEqual([500, 500, 500, 500, 500, 200, 200]);
    const titles = sub.accepted('flaky').map((p) => (parseJsonBack(p.text).items[0] as { title: string }).title);
    expect(titles).toEqual(['Flaky story A', 'Flaky story B']);
    // Every failed attempt carried change A: B never overtook it.
    for (const p of all.slice(0, 6)) expect((parseJsonBack(p.text).items[0] as { title: string }).title).toBe('Flaky story A');
    const rows = (await listDeliveries(live.t.deps.db)).filter((d) => d.state === 'delivered' && d.attempts === 6);
    expect(rows).toHaveLength(1);
  });

  it('gives up after the last attempt and records it; the next change still goes out', async () => {
    await putCategory('broken', 'Broken');
    await ingest('Broken', 'Broken story 0');
    const topic = `${live.origin}/feeds/broken.rss`;
    sub.setup('broken', { responses: [503, 503, 503, 503, 503, 503, 503, 503, 204] });
    await subscribe('broken', topic);
    await ingest('Broken', 'Broken story 1');
    await waitFor('the delivery to be given up', async () => (await listDeliveries(live.t.deps.db)).some((d) => d.state === 'failed'), 10_000);
    const [failed] = (await listDeliveries(live.t.deps.db)).filter((d) => d.state === 'failed');
    expect(failed).toMatchObject({ attempts: 8, lastStatus: 503, lastError: expect.stringMatching(/gave up after 8 attempts/) });
    const [row] = await activeSubscriptions(topic);
    expect(row).toMatchObject({ failedDeliveries: 1, lastDeliveryStatus: 503 });
    await ingest('Broken', 'Broken story 2');
    await waitFor('the next change', async () => sub.accepted('broken').length === 1);
  });

  it('a subscriber answering 410 Gone is removed, with its pending deliveries', async () => {
    await putCategory('gone', 'Gone');
    await ingest('Gone', 'Gone story 0');
    const topic = `${live.origin}/feeds/gone.atom`;
    sub.setup('gone', { responses: [410] });
    await subscribe('gone', topic);
    expect(await activeSubscriptions(topic)).toHaveLength(1);
    await ingest('Gone', 'Gone story 1');
    await waitFor('the subscription to be removed', async () => (await activeSubscriptions(topic)).length === 0);
    await ingest('Gone', 'Gone story 2');
    await live.t.feeds.refresh('change');
    await live.t.realtime.idle();
    expect(sub.pushes.filter((p) => p.id === 'gone')).toHaveLength(1);
    expect(await live.t.deps.db.select().from(websubDeliveries).where(eq(websubDeliveries.state, 'pending'))).toEqual([]);
  });

  it('1,000 subscribers on one topic: concurrency bounded, each served once, feeds still served during the fan-out', async () => {
    await putCategory('crowd', 'Crowd');
    await ingest('Crowd', 'Crowd story 0');
    const topic = `${live.origin}/feeds/crowd.rss`;
    await live.t.feeds.getSnapshot('crowd', 'rss');
    const now = live.t.deps.now();
    for (let i = 0; i < 1000; i++) {
      sub.setup(`crowd-${i}`, { delayMs: 5 });
      await activateSubscription(live.t.deps.db, {
        topic,
        feedKey: 'crowd',
        format: 'rss',
        callback: sub.callbackUrl(`crowd-${i}`, { host: SUBSCRIBER_HOST }),
        secret: null,
        leaseSeconds: 3600,
        now,
      });
    }
    const started = Date.now();
    await ingest('Crowd', 'Crowd story 1');
    // Serving during the fan-out: feed GETs through the real server (fast path and router).
    const latencies: number[] = [];
    while (sub.pushes.filter((p) => p.id.startsWith('crowd-')).length < 1000 && Date.now() - started < 60_000) {
      const t0 = performance.now();
      const res = await fetch(`${live.origin}/feeds/world.rss`);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 25));
    }
    await live.t.realtime.idle();
    const crowd = sub.pushes.filter((p) => p.id.startsWith('crowd-'));
    expect(crowd).toHaveLength(1000);
    expect(new Set(crowd.map((p) => p.id)).size).toBe(1000);
    expect(sub.peakInFlight()).toBeLessThanOrEqual(8);
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length / 2)]!;
    const max = latencies.at(-1)!;
    console.log(`1,000 deliveries in ${Date.now() - started} ms; ${latencies.length} feed GETs meanwhile: p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    expect(latencies.length).toBeGreaterThan(0);
    expect(max, 'a feed GET during the fan-out (generous bound)').toBeLessThan(2000);
  }, 120_000);

  it('a restart in the middle of deliveries: nothing lost, nothing sent twice to a subscriber that answered 2xx', async () => {
    await putCategory('restart', 'Restart');
    await ingest('Restart', 'Restart story 0');
    const topic = `${live.origin}/feeds/restart.atom`;
    await live.t.feeds.getSnapshot('restart', 'atom');
    const ids = Array.from({ length: 40 }, (_, i) => `restart-${i}`);
    for (const id of ids) {
      sub.setup(id, { delayMs: 400 });
      await activateSubscription(live.t.deps.db, {
        topic,
        feedKey: 'restart',
        format: 'atom',
        callback: sub.callbackUrl(id, { host: SUBSCRIBER_HOST }),
        secret: null,
        leaseSeconds: 3600,
        now: live.t.deps.now(),
      });
    }
    const first = live.t.realtime;
    await ingest('Restart', 'Restart story 1');
    await waitFor('some deliveries', async () => ids.some((id) => sub.accepted(id).length > 0));
    // Stop mid-way, while the next few requests wait for their answer (each takes 400 ms), with no
    // grace: those are aborted and their deliveries given back untried.
    await new Promise((r) => setTimeout(r, 150));
    await first.stop({ graceMs: 0 });
    const answeredBefore = ids.filter((id) => sub.accepted(id).length > 0);
    expect(answeredBefore.length).toBeGreaterThan(0);
    expect(answeredBefore.length).toBeLessThan(ids.length);
    await waitFor('the subscriber to see the aborted requests', async () => sub.aborted.some((a) => a.id.startsWith('restart-')));
    const pending = (await listDeliveries(live.t.deps.db)).filter((d) => d.state === 'pending');
    expect(pending.length).toBe(ids.length - answeredBefore.length);

    // A new instance over the same database picks the rest up at start.
    const second = new Realtime(live.t.deps, live.t.feeds);
    second.start();
    try {
      await waitFor('every subscriber served', async () => ids.every((id) => sub.accepted(id).length > 0), 20_000);
      await second.idle();
      for (const id of ids) expect(sub.accepted(id), id).toHaveLength(1);
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describe('external hubs (WEBSUB_HUBS)', () => {
  it('are advertised beside ours and pinged with hub.mode=publish&hub.url=<topic> once per change', async () => {
    const pings: URLSearchParams[] = [];
    const external = await import('node:http').then(
      (http) =>
        new Promise<{ url: string; close(): Promise<void> }>((resolve) => {
          const server = http.createServer((req, res) => {
            let body = '';
            req.on('data', (c: Buffer) => (body += c.toString()));
            req.on('end', () => {
              if (req.headers['content-type'] === 'application/x-www-form-urlencoded') pings.push(new URLSearchParams(body));
              res.writeHead(204).end();
            });
          });
          server.listen(0, '127.0.0.1', () => {
            const port = (server.address() as { port: number }).port;
            resolve({ url: `http://127.0.0.1:${port}/hub`, close: () => new Promise((r) => server.close(() => r())) });
          });
        }),
    );
    const other = await startLiveApp({ WEBSUB_HUBS: `${external.url}, https://pubsubhubbub.example.org/` });
    try {
      await send(other.t.app, 'PUT', '/api/v1/categories/pinged', { body: { name: 'Pinged' } });
      const found = await discover(`${other.origin}/feeds/pinged.rss`);
      expect(found.hubs).toEqual([other.hub, external.url, 'https://pubsubhubbub.example.org/']);
      const rss = await parseRssBack(found.body);
      expect((rss as unknown as { atomLinks: { $: { rel: string } }[] }).atomLinks.filter((l) => l.$.rel === 'hub')).toHaveLength(3);
      // Settle what the category's creation changed (its debounced refresh renders `all`), then count afresh.
      await quiesce(other.t);
      await other.t.feeds.refresh('change');
      await other.t.realtime.sweep();
      await other.t.realtime.idle();
      pings.length = 0;
      const answer = await send(other.t.app, 'POST', '/api/v1/articles', { body: articleInput({ categories: ['Pinged'] }) });
      expect(answer.status).toBe(201);
      const expected = ['rss', 'atom', 'json'].flatMap((f) => [`${other.origin}/feeds/pinged.${f}`, `${other.origin}/feeds/all.${f}`]).sort();
      await waitFor('the pings', async () => pings.length >= expected.length);
      await other.t.realtime.idle();
      await new Promise((r) => setTimeout(r, 100));
      expect(pings.every((p) => p.get('hub.mode') === 'publish')).toBe(true);
      expect(pings.map((p) => p.get('hub.url')).sort()).toEqual(expected);
      // Another instance hearing of the same change (sync) pings nothing more: the change is recorded once.
      await other.t.realtime.feedsChanged();
      await other.t.realtime.idle();
      expect(pings).toHaveLength(expected.length);
    } finally {
      await other.close();
      await external.close();
    }
  });
});
