import { isIP } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeBody,
  fetchFeed,
  FEED_ACCEPT,
  parseRetryAfter,
  type FetchFeedOptions,
  type LookupHost,
} from '../../src/upstream/fetch-feed.js';
import { BIG_BODY_BYTES, FIXED_LAST_MODIFIED, readFixture, startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

/**
 * Every test talks to the local server on 127.0.0.1. Hostnames are fake (.test) and resolved by an
 * injected lookup; the guard stays strict (allowPrivate false) and only 127.0.0.1 itself is allowed,
 * so anything else private, including other loopback addresses, must be refused.
 */

let server: UpstreamServer;

const HOSTS: Record<string, string> = {
  'feeds.example.test': '127.0.0.1',
  'other.example.test': '127.0.0.1',
  'internal.example.test': '10.1.2.3',
  'loopback2.example.test': '127.0.0.2',
  'mapped.example.test': '::ffff:127.0.0.1',
};

function fakeLookup(hosts: Record<string, string | string[]> = HOSTS): LookupHost {
  return async (hostname) => {
    const found = hosts[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return (Array.isArray(found) ? found : [found]).map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }) as const);
  };
}

function options(overrides: Partial<FetchFeedOptions> = {}): FetchFeedOptions {
  return {
    userAgent: 'syndicate-test/1.0 (+https://syndicate.example.com)',
    timeoutMs: 5_000,
    maxBytes: 1024 * 1024,
    maxRedirects: 5,
    allowPrivate: false,
    allowedAddresses: ['127.0.0.1'],
    lookup: fakeLookup(),
    ...overrides,
  };
}

const at = (path: string, host = 'feeds.example.test') => `http://${host}:${server.port}${path}`;

beforeAll(async () => {
  server = await startUpstreamServer();
});

afterAll(async () => {
  await server.close();
});

describe('fetchFeed: success and conditional GET', () => {
  it('fetches a fixture, sending the feed Accept header, UA and compression list, to the vetted address', async () => {
    const out = await fetchFeed(at('/fixtures/rss2-full.xml'), options());
    expect(out.kind).toBe('ok');
    if (out.kind !== 'ok') return;
    expect(out.status).toBe(200);
    expect(out.body).toBe(readFixture('rss2-full.xml').toString('utf8'));
    expect(out.contentType).toBe('application/rss+xml');
    expect(out.etag).toMatch(/^".+"$/);
    expect(out.lastModified).toBe(FIXED_LAST_MODIFIED);
    expect(out.finalUrl).toBe(at('/fixtures/rss2-full.xml'));
    expect(out.permanentRedirectTo).toBeUndefined();

    const seen = server.requests.at(-1)!;
    expect(seen.headers.host).toBe(`feeds.example.test:${server.port}`); // Host stays the hostname
    expect(seen.headers.accept).toBe(FEED_ACCEPT);
    expect(seen.headers['accept-encoding']).toBe('gzip, br, deflate');
    expect(seen.headers['user-agent']).toBe('syndicate-test/1.0 (+https://syndicate.example.com)');
    expect(seen.headers['if-none-match']).toBeUndefined();
  });

  it('returns not-modified for a matching ETag and for a matching Last-Modified', async () => {
    const first = await fetchFeed(at('/fixtures/atom-full.xml'), options());
    if (first.kind !== 'ok') throw new Error(`expected ok, got ${first.kind}`);

    const byEtag = await fetchFeed(at('/fixtures/atom-full.xml'), options({ etag: first.etag, lastModified: first.lastModified }));
    expect(byEtag).toEqual({ kind: 'not-modified' });
    expect(server.requests.at(-1)!.headers['if-none-match']).toBe(first.etag);
    expect(server.requests.at(-1)!.headers['if-modified-since']).toBe(FIXED_LAST_MODIFIED);

    const byDate = await fetchFeed(at('/fixtures/atom-full.xml'), options({ lastModified: FIXED_LAST_MODIFIED }));
    expect(byDate).toEqual({ kind: 'not-modified' });

    const stale = await fetchFeed(at('/fixtures/atom-full.xml'), options({ etag: '"something-else"' }));
    expect(stale.kind).toBe('ok');
  });

  it('does not send a stored validator that would break the request line', async () => {
    const out = await fetchFeed(at('/fixtures/atom-full.xml'), options({ etag: '"abc"\r\nX-Injected: 1' }));
    expect(out.kind).toBe('ok');
    expect(server.requests.at(-1)!.headers['x-injected']).toBeUndefined();
  });
});

describe('fetchFeed: content encodings', () => {
  it.each(['gzip', 'br', 'deflate', 'deflate-raw'])('decodes %s', async (coding) => {
    const out = await fetchFeed(at(`/${coding}/rss2-full.xml`), options());
    expect(out.kind).toBe('ok');
    if (out.kind === 'ok') expect(out.body).toBe(readFixture('rss2-full.xml').toString('utf8'));
  });

  it('reports a body that is not what Content-Encoding says as a decoding error', async () => {
    const out = await fetchFeed(at('/bad-gzip'), options());
    expect(out).toMatchObject({ kind: 'error', code: 'decoding' });
  });

  it('stops a gzip bomb at maxBytes of decompressed output, with bounded memory', async () => {
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 2);
    const out = await fetchFeed(at('/gzip-bomb'), options({ maxBytes: 1024 * 1024 }));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    expect(out).toMatchObject({ kind: 'error', code: 'too-large' });
    // Buffering the whole 50 MB would show here; what we hold is maxBytes plus a few zlib chunks.
    expect(peak - before).toBeLessThan(20 * 1024 * 1024);
  });
});

describe('fetchFeed: size and time limits', () => {
  it('cuts a 50 MB streamed body off just past maxBytes', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const out = await fetchFeed(at('/big'), options({ maxBytes: 1024 * 1024 }));
    expect(out).toMatchObject({ kind: 'error', code: 'too-large' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20 * 1024 * 1024);
    // The server could only push what fits in socket buffers before we hung up.
    await new Promise((r) => setTimeout(r, 50));
    expect(server.bigBytesWritten()).toBeLessThan(BIG_BODY_BYTES / 2);
  });

  it('refuses a declared Content-Length over maxBytes without reading the body', async () => {
    const out = await fetchFeed(at('/big-declared'), options({ maxBytes: 1024 * 1024 }));
    expect(out).toMatchObject({ kind: 'error', code: 'too-large' });
  });

  it('times out a server that sends headers and then stalls (slowloris)', async () => {
    const started = Date.now();
    const out = await fetchFeed(at('/slowloris'), options({ timeoutMs: 500 }));
    expect(out).toMatchObject({ kind: 'error', code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out a server that never answers', async () => {
    const started = Date.now();
    const out = await fetchFeed(at('/stall'), options({ timeoutMs: 500 }));
    expect(out).toMatchObject({ kind: 'error', code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('counts DNS resolution inside the timeout', async () => {
    const slowDns: LookupHost = () => new Promise(() => {});
    const out = await fetchFeed(at('/fixtures/rss2-full.xml'), options({ timeoutMs: 300, lookup: slowDns }));
    expect(out).toMatchObject({ kind: 'error', code: 'timeout' });
  });
});

describe('fetchFeed: redirects', () => {
  it('follows a 301 and reports where the subscription should move', async () => {
    const out = await fetchFeed(at('/redirect/301/fixtures/rss2-full.xml'), options());
    expect(out).toMatchObject({
      kind: 'ok',
      finalUrl: at('/fixtures/rss2-full.xml'),
      permanentRedirectTo: at('/fixtures/rss2-full.xml'),
    });
  });

  it('follows a 302 without suggesting a move', async () => {
    const out = await fetchFeed(at('/redirect/302/fixtures/rss2-full.xml'), options());
    expect(out.kind).toBe('ok');
    if (out.kind === 'ok') {
      expect(out.finalUrl).toBe(at('/fixtures/rss2-full.xml'));
      expect(out.permanentRedirectTo).toBeUndefined();
    }
  });

  it('takes only the leading run of permanent redirects: 308 then 307', async () => {
    const out = await fetchFeed(at('/redirect/308/redirect/307/fixtures/rss2-full.xml'), options());
    expect(out).toMatchObject({ kind: 'ok', permanentRedirectTo: at('/redirect/307/fixtures/rss2-full.xml') });
  });

  it('reports a permanent redirect on a 304 too', async () => {
    const first = await fetchFeed(at('/fixtures/rss2-full.xml'), options());
    if (first.kind !== 'ok') throw new Error('expected ok');
    const out = await fetchFeed(at('/redirect/301/fixtures/rss2-full.xml'), options({ etag: first.etag }));
    expect(out).toEqual({ kind: 'not-modified', permanentRedirectTo: at('/fixtures/rss2-full.xml') });
  });

  it('detects a redirect loop', async () => {
    const out = await fetchFeed(at('/loop/a'), options({ maxRedirects: 20 }));
    expect(out).toMatchObject({ kind: 'error', code: 'too-many-redirects' });
    if (out.kind === 'error') expect(out.message).toMatch(/loop/);
  });

  it('allows exactly maxRedirects redirects', async () => {
    expect((await fetchFeed(at('/chain/5'), options({ maxRedirects: 5 }))).kind).toBe('ok');
    expect(await fetchFeed(at('/chain/6'), options({ maxRedirects: 5 }))).toMatchObject({ kind: 'error', code: 'too-many-redirects' });
    expect(await fetchFeed(at('/chain/1'), options({ maxRedirects: 0 }))).toMatchObject({ kind: 'error', code: 'too-many-redirects' });
  });

  it('reports a redirect without Location', async () => {
    expect(await fetchFeed(at('/no-location'), options())).toMatchObject({ kind: 'error', code: 'http-status', status: 302 });
  });

  it('refuses a redirect to a non-http scheme', async () => {
    const to = encodeURIComponent('file:///etc/passwd');
    expect(await fetchFeed(at(`/redirect-to?status=302&to=${to}`), options())).toMatchObject({ kind: 'error', code: 'bad-url' });
  });
});

describe('fetchFeed: SSRF guard', () => {
  it.each([
    ['a hostname resolving to a private address', 'http://internal.example.test:PORT/fixtures/rss2-full.xml'],
    ['a hostname resolving to another loopback address', 'http://loopback2.example.test:PORT/fixtures/rss2-full.xml'],
    ['a hostname resolving to an IPv4-mapped loopback', 'http://mapped.example.test:PORT/fixtures/rss2-full.xml'],
    ['a literal private IP', 'http://127.0.0.2:PORT/fixtures/rss2-full.xml'],
    ['a hex IPv4 literal', 'http://0x7f000002:PORT/fixtures/rss2-full.xml'],
    ['a short IPv4 literal', 'http://127.2:PORT/fixtures/rss2-full.xml'],
    ['an IPv4-mapped IPv6 literal', 'http://[::ffff:127.0.0.1]:PORT/fixtures/rss2-full.xml'],
    ['an IPv6 loopback literal', 'http://[::1]:PORT/fixtures/rss2-full.xml'],
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/'],
  ])('refuses a redirect to %s, after allowing the first hop', async (_label, target) => {
    const before = server.requests.length;
    const to = encodeURIComponent(target.replace('PORT', String(server.port)));
    const out = await fetchFeed(at(`/redirect-to?status=302&to=${to}`), options());
    expect(out).toMatchObject({ kind: 'error', code: 'forbidden-address' });
    // The first hop reached the server; the refused target never did.
    expect(server.requests.length).toBe(before + 1);
  });

  it('refuses a forbidden first hop before connecting', async () => {
    const before = server.requests.length;
    const out = await fetchFeed(at('/fixtures/rss2-full.xml', 'internal.example.test'), options());
    expect(out).toMatchObject({ kind: 'error', code: 'forbidden-address' });
    if (out.kind === 'error') expect(out.message).toContain('10.1.2.3');
    expect(server.requests.length).toBe(before);
  });

  it('refuses a host when any of its addresses is forbidden', async () => {
    const lookup = fakeLookup({ 'mixed.example.test': ['127.0.0.1', '10.0.0.5'] });
    const out = await fetchFeed(at('/fixtures/rss2-full.xml', 'mixed.example.test'), options({ lookup }));
    expect(out).toMatchObject({ kind: 'error', code: 'forbidden-address' });
  });

  it('resolves once per hop and connects to the vetted address (no rebinding window)', async () => {
    const answers = ['127.0.0.1', '10.9.9.9'];
    const calls: string[] = [];
    const rebinding: LookupHost = async (hostname) => {
      calls.push(hostname);
      const address = answers[Math.min(calls.length - 1, answers.length - 1)]!;
      return [{ address, family: 4 }];
    };
    const ok = await fetchFeed(at('/fixtures/rss2-full.xml', 'rebind.example.test'), options({ lookup: rebinding }));
    expect(ok.kind).toBe('ok');
    expect(calls).toEqual(['rebind.example.test']); // the socket did not ask DNS again

    // A second hop to the same name resolves again, gets the private answer, and is refused.
    calls.length = 0;
    const redirected = await fetchFeed(at('/redirect/302/fixtures/rss2-full.xml', 'rebind.example.test'), options({
      lookup: async (hostname) => {
        calls.push(hostname);
        return [{ address: calls.length === 1 ? '127.0.0.1' : '10.9.9.9', family: 4 }];
      },
    }));
    expect(redirected).toMatchObject({ kind: 'error', code: 'forbidden-address' });
    expect(calls).toHaveLength(2);
  });

  it('uses the system resolver by default, and refuses localhost', async () => {
    const out = await fetchFeed(`http://localhost:${server.port}/fixtures/rss2-full.xml`, {
      ...options(),
      lookup: undefined,
      allowedAddresses: [],
    });
    expect(out).toMatchObject({ kind: 'error', code: 'forbidden-address' });
  });

  it('reaches a private host when allowPrivate is set', async () => {
    const out = await fetchFeed(`http://127.0.0.1:${server.port}/fixtures/rss2-full.xml`, options({ allowPrivate: true, allowedAddresses: [] }));
    expect(out.kind).toBe('ok');
  });
});

describe('fetchFeed: status outcomes', () => {
  const now = () => new Date('2025-11-03T10:00:00Z');

  it('410 is gone', async () => {
    expect(await fetchFeed(at('/status/410'), options())).toEqual({ kind: 'gone' });
  });

  it('429 with Retry-After in seconds', async () => {
    expect(await fetchFeed(at('/status/429'), options({ now }))).toEqual({ kind: 'rate-limited', status: 429, retryAfterSeconds: 120 });
  });

  it('429 and 503 with Retry-After as an HTTP-date, against the injected clock', async () => {
    expect(await fetchFeed(at('/status/429-date'), options({ now }))).toEqual({ kind: 'rate-limited', status: 429, retryAfterSeconds: 120 });
    expect(await fetchFeed(at('/status/503-date'), options({ now }))).toEqual({ kind: 'rate-limited', status: 503, retryAfterSeconds: 120 });
  });

  it('503 without Retry-After is an outage, 500 and 404 are http-status errors', async () => {
    expect(await fetchFeed(at('/status/503'), options())).toMatchObject({ kind: 'error', code: 'http-status', status: 503 });
    expect(await fetchFeed(at('/status/500'), options())).toMatchObject({ kind: 'error', code: 'http-status', status: 500 });
    expect(await fetchFeed(at('/nope'), options())).toMatchObject({ kind: 'error', code: 'http-status', status: 404 });
  });
});

describe('fetchFeed: errors never throw', () => {
  it('an unresolvable host is a dns error', async () => {
    const out = await fetchFeed('http://nonexistent.invalid/feed.xml', options());
    expect(out).toMatchObject({ kind: 'error', code: 'dns' });
    if (out.kind === 'error') expect(out.message).toContain('nonexistent.invalid');
  });

  it.each(['not a url', 'ftp://feeds.example.test/feed.xml', 'file:///etc/passwd', 'javascript:alert(1)', ''])(
    '%j is a bad-url',
    async (url) => {
      expect(await fetchFeed(url, options())).toMatchObject({ kind: 'error', code: 'bad-url' });
    },
  );

  it('a refused connection is a connection error', async () => {
    // Port 1 on 127.0.0.1: nothing listens there.
    const out = await fetchFeed('http://feeds.example.test:1/feed.xml', options());
    expect(out).toMatchObject({ kind: 'error', code: 'connection' });
  });

  it('TLS against a plain HTTP server is a tls error', async () => {
    const out = await fetchFeed(`https://feeds.example.test:${server.port}/fixtures/rss2-full.xml`, options());
    expect(out).toMatchObject({ kind: 'error', code: 'tls' });
  });
});

describe('fetchFeed: credentials', () => {
  it('sends URL credentials as Basic auth and never returns them', async () => {
    const out = await fetchFeed(`http://user:secret@feeds.example.test:${server.port}/auth`, options());
    expect(out.kind).toBe('ok');
    if (out.kind === 'ok') {
      expect(out.finalUrl).toBe(at('/auth'));
      expect(JSON.stringify(out)).not.toContain('secret');
    }
  });

  it('does not forward credentials to another origin on redirect', async () => {
    const to = encodeURIComponent(at('/echo', 'other.example.test'));
    const out = await fetchFeed(`http://user:secret@feeds.example.test:${server.port}/redirect-to?status=302&to=${to}`, options());
    expect(out.kind).toBe('ok');
    const last = server.requests.at(-1)!;
    expect(last.headers.host).toBe(`other.example.test:${server.port}`);
    expect(last.headers.authorization).toBeUndefined();
  });

  it('strips credentials from error messages', async () => {
    for (const url of ['http://user:secret@nonexistent.invalid/feed', `http://user:secret@feeds.example.test:${server.port}/status/500`, 'http://user:secret@exa mple.com/']) {
      const out = await fetchFeed(url, options());
      expect(out.kind).toBe('error');
      expect(JSON.stringify(out)).not.toContain('secret');
    }
  });
});

describe('fetchFeed: character sets', () => {
  it('honours the XML declaration when the header has no charset', async () => {
    const out = await fetchFeed(at('/fixtures/rss-iso-8859-1-declared.xml'), options());
    expect(out.kind).toBe('ok');
    if (out.kind === 'ok') expect(out.body).toContain('Smörgåsbord à la française');
  });

  it('honours charset in Content-Type', async () => {
    const out = await fetchFeed(at('/latin1-header'), options());
    if (out.kind !== 'ok') throw new Error('expected ok');
    expect(out.body).toContain('Crème brûlée');
  });

  it('reads undeclared bytes that are not UTF-8 as windows-1252', async () => {
    const out = await fetchFeed(at('/undeclared-1252'), options());
    if (out.kind !== 'ok') throw new Error('expected ok');
    expect(out.body).toContain('“Smart quotes” — café');
  });
});

describe('decodeBody', () => {
  const utf8 = (s: string) => new TextEncoder().encode(s);

  it('defaults to UTF-8 and strips a BOM', () => {
    expect(decodeBody(utf8('\uFEFF<rss>é</rss>'), null)).toBe('<rss>é</rss>');
  });

  it('prefers the BOM over a wrong header', () => {
    expect(decodeBody(utf8('\uFEFFé'), 'text/xml; charset=iso-8859-1')).toBe('é');
  });

  it('prefers the header over the XML declaration (RFC 7303)', () => {
    const bytes = utf8('<?xml version="1.0" encoding="iso-8859-1"?><a>é</a>');
    expect(decodeBody(bytes, 'application/xml; charset="utf-8"')).toContain('<a>é</a>');
  });

  it('reads windows-1252 and iso-8859-1 labels', () => {
    const bytes = Buffer.from([0x93, 0x41, 0x94, 0xe9]);
    expect(decodeBody(bytes, 'text/xml; charset=windows-1252')).toBe('“A”é');
    expect(decodeBody(bytes, 'text/xml; charset=ISO-8859-1')).toBe('“A”é');
  });

  it('ignores an unknown charset label', () => {
    expect(decodeBody(utf8('é'), 'text/xml; charset=x-made-up')).toBe('é');
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2025-11-03T10:00:00Z');
  it('reads seconds, HTTP-dates, and ignores junk', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 3600 ', now)).toBe(3600);
    expect(parseRetryAfter('Mon, 03 Nov 2025 10:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Mon, 03 Nov 2025 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
