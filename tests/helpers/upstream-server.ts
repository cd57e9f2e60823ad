import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

/**
 * A real HTTP server on 127.0.0.1 (port 0) standing in for other publishers' feed servers.
 *
 * Routes:
 *   /fixtures/{name}          a file from tests/fixtures/upstream, with ETag + Last-Modified and 304s
 *   /gzip|br|deflate|deflate-raw/{name}   the same, compressed
 *   /bad-gzip                 Content-Encoding: gzip over bytes that are not gzip
 *   /gzip-bomb                ~50 KB of gzip that inflates to 50 MB
 *   /big, /big-declared       a 50 MB body streamed (chunked / with Content-Length), never held in memory
 *   /slowloris                headers and the start of a feed, then silence
 *   /stall                    accepts the request and never answers
 *   /redirect/{status}/{path} a redirect to /{path}
 *   /redirect-to?status=&to=  a redirect to any URL
 *   /loop/a ↔ /loop/b         a redirect loop
 *   /chain/{n}                n redirects, then the RSS fixture
 *   /no-location              a 302 without Location
 *   /status/{code}            that status; 429 and 503 carry Retry-After (503-date: an HTTP-date)
 *   /latin1-header            ISO-8859-1 bytes, charset only in Content-Type
 *   /undeclared-1252          windows-1252 bytes, no charset anywhere
 *   /auth                     requires Basic user:secret
 *   /echo                     200 with a tiny feed; the request is recorded like every other
 *   /empty                    200, a feed Content-Type and no body at all
 *   /generated/{n}            an RSS feed of n items (guid g-0 … g-{n-1}), built on the fly
 *   /slow/{ms}/{name}         the fixture after a pause of ms milliseconds
 *   /feeds/{name}             a feed set by the test with setFeed(), with an ETag and 304s
 */

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/upstream/', import.meta.url));
export const FIXED_LAST_MODIFIED = 'Mon, 03 Nov 2025 10:00:00 GMT';
export const BIG_BODY_BYTES = 50 * 1024 * 1024;

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface UpstreamServer {
  port: number;
  /** http://127.0.0.1:{port} */
  origin: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Bytes of the 50 MB body actually written before the client went away. */
  bigBytesWritten(): number;
  /** Serves `body` at /feeds/{name} from now on (ETag from the body, so a change is a 200 again). */
  setFeed(name: string, body: string, contentType?: string): void;
  /** Most requests in progress at once since the start (or the last reset): overall and per Host header. */
  peakInFlight(): { total: number; byHost: Record<string, number> };
  resetPeaks(): void;
  close(): Promise<void>;
}

export function readFixture(name: string): Buffer {
  return readFileSync(new URL(name, `file://${FIXTURES_DIR}`));
}

function contentTypeFor(name: string): string {
  // No charset on XML on purpose: the XML declaration must drive decoding (RFC 7303).
  if (name.endsWith('.json')) return 'application/feed+json';
  if (name.endsWith('.html')) return 'text/html; charset=utf-8';
  if (name.startsWith('atom')) return 'application/atom+xml';
  return 'application/rss+xml';
}

let bombCache: Promise<Buffer> | undefined;

/** 50 MB of spaces inside an XML comment, gzipped by streaming (never 50 MB in memory). */
function gzipBomb(): Promise<Buffer> {
  bombCache ??= new Promise((resolve, reject) => {
    const gzip = zlib.createGzip({ level: 9 });
    const out: Buffer[] = [];
    gzip.on('data', (c: Buffer) => out.push(c));
    gzip.on('end', () => resolve(Buffer.concat(out)));
    gzip.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, ' ');
    gzip.write('<?xml version="1.0"?><!--');
    let written = 0;
    const pump = () => {
      while (written < BIG_BODY_BYTES) {
        written += chunk.length;
        if (!gzip.write(chunk)) return void gzip.once('drain', pump);
      }
      gzip.end('--><rss version="2.0"><channel><title>bomb</title></channel></rss>');
    };
    pump();
  });
  return bombCache;
}

/** An RSS 2.0 document of `count` items, newest first, dated a minute apart before 2025-11-03 10:00 UTC. */
export function generatedRss(count: number, prefix = 'g'): string {
  const items: string[] = [];
  const start = Date.UTC(2025, 10, 3, 10, 0, 0);
  for (let i = 0; i < count; i++) {
    const date = new Date(start - i * 60_000).toUTCString();
    items.push(`<item><guid isPermaLink="false">${prefix}-${i}</guid><title>Generated item ${i}</title><link>https://generated.example.com/${prefix}/${i}</link><pubDate>${date}</pubDate><description>Item number ${i}.</description></item>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Generated</title><link>https://generated.example.com/</link><description>Generated items</description>${items.join('')}</channel></rss>`;
}

export async function startUpstreamServer(): Promise<UpstreamServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const feeds = new Map<string, { body: Buffer; contentType: string; etag: string }>();
  let bigWritten = 0;
  const inFlight = { total: 0, byHost: new Map<string, number>() };
  let peaks = { total: 0, byHost: {} as Record<string, number> };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    requests.push({ path: url.pathname + url.search, headers: req.headers });
    const host = req.headers.host ?? '';
    inFlight.total += 1;
    inFlight.byHost.set(host, (inFlight.byHost.get(host) ?? 0) + 1);
    peaks.total = Math.max(peaks.total, inFlight.total);
    peaks.byHost[host] = Math.max(peaks.byHost[host] ?? 0, inFlight.byHost.get(host)!);
    res.once('close', () => {
      inFlight.total -= 1;
      inFlight.byHost.set(host, inFlight.byHost.get(host)! - 1);
    });
    void route(url, req, res).catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });

  async function route(url: URL, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = url.pathname;
    let m: RegExpExecArray | null;

    if ((m = /^\/fixtures\/([\w.-]+)$/.exec(path))) return serveFixture(m[1]!, req, res);

    if ((m = /^\/(gzip|br|deflate|deflate-raw)\/([\w.-]+)$/.exec(path))) {
      const body = readFixture(m[2]!);
      const encoded =
        m[1] === 'gzip' ? zlib.gzipSync(body) : m[1] === 'br' ? zlib.brotliCompressSync(body) : m[1] === 'deflate' ? zlib.deflateSync(body) : zlib.deflateRawSync(body);
      res.writeHead(200, { 'Content-Type': contentTypeFor(m[2]!), 'Content-Encoding': m[1] === 'deflate-raw' ? 'deflate' : m[1]! });
      return void res.end(encoded);
    }

    if (path === '/bad-gzip') {
      res.writeHead(200, { 'Content-Type': 'application/rss+xml', 'Content-Encoding': 'gzip' });
      return void res.end(Buffer.from('this is not gzip at all, just text pretending'));
    }

    if (path === '/gzip-bomb') {
      const bomb = await gzipBomb();
      res.writeHead(200, { 'Content-Type': 'application/rss+xml', 'Content-Encoding': 'gzip', 'Content-Length': bomb.length });
      return void res.end(bomb);
    }

    if (path === '/big' || path === '/big-declared') {
      res.writeHead(200, {
        'Content-Type': 'application/rss+xml',
        ...(path === '/big-declared' ? { 'Content-Length': BIG_BODY_BYTES } : {}),
      });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < BIG_BODY_BYTES && !res.destroyed) {
          sent += chunk.length;
          bigWritten = sent;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      return pump();
    }

    if (path === '/slowloris') {
      res.writeHead(200, { 'Content-Type': 'application/rss+xml' });
      res.write('<?xml version="1.0"?><rss version="2.0"><channel><title>slow');
      return; // and never another byte
    }

    if (path === '/stall') return;

    if ((m = /^\/redirect\/(\d{3})\/(.*)$/.exec(path))) {
      res.writeHead(Number(m[1]), { Location: `/${m[2]!}${url.search}` });
      return void res.end();
    }

    if (path === '/redirect-to') {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { Location: url.searchParams.get('to') ?? '/' });
      return void res.end();
    }

    if (path === '/loop/a' || path === '/loop/b') {
      res.writeHead(302, { Location: path === '/loop/a' ? '/loop/b' : '/loop/a' });
      return void res.end();
    }

    if ((m = /^\/chain\/(\d+)$/.exec(path))) {
      const n = Number(m[1]);
      res.writeHead(302, { Location: n <= 1 ? '/fixtures/rss2-full.xml' : `/chain/${n - 1}` });
      return void res.end();
    }

    if (path === '/no-location') {
      res.writeHead(302);
      return void res.end();
    }

    if ((m = /^\/status\/(\d{3})(-date)?$/.exec(path))) {
      const status = Number(m[1]);
      const headers: Record<string, string> = { 'Content-Type': 'text/plain' };
      if (status === 429) headers['Retry-After'] = m[2] ? 'Mon, 03 Nov 2025 10:02:00 GMT' : '120';
      if (status === 503 && m[2]) headers['Retry-After'] = 'Mon, 03 Nov 2025 10:02:00 GMT';
      res.writeHead(status, headers);
      return void res.end(`status ${status}`);
    }

    if (path === '/latin1-header') {
      const xml = '<?xml version="1.0"?><rss version="2.0"><channel><title>Crème brûlée</title><link>https://latin1.example.com/</link></channel></rss>';
      res.writeHead(200, { 'Content-Type': 'application/rss+xml; charset=ISO-8859-1' });
      return void res.end(Buffer.from(xml, 'latin1'));
    }

    if (path === '/undeclared-1252') {
      const xml = '<rss version="2.0"><channel><title>“Smart quotes” — café</title><link>https://cp1252.example.com/</link></channel></rss>';
      // The windows-1252 bytes for “ ” — é (0x93 0x94 0x97 0xE9): invalid as UTF-8.
      const cp1252 = Buffer.from(
        xml.replace(/[“”—é]/g, (c) => ({ '“': '\x93', '”': '\x94', '—': '\x97', é: '\xe9' })[c]!),
        'latin1',
      );
      res.writeHead(200, { 'Content-Type': 'application/rss+xml' });
      return void res.end(cp1252);
    }

    if (path === '/auth') {
      const expected = `Basic ${Buffer.from('user:secret').toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="feeds"' });
        return void res.end();
      }
      return serveFixture('rss2-full.xml', req, res);
    }

    if (path === '/echo') return serveFixture('rss-no-version.xml', req, res);

    if (path === '/empty') {
      res.writeHead(200, { 'Content-Type': 'application/rss+xml', 'Content-Length': 0 });
      return void res.end();
    }

    if ((m = /^\/generated\/(\d+)$/.exec(path))) {
      const body = generatedRss(Number(m[1]), url.searchParams.get('prefix') ?? 'g');
      res.writeHead(200, { 'Content-Type': 'application/rss+xml; charset=utf-8' });
      return void res.end(body);
    }

    if ((m = /^\/slow\/(\d+)\/([\w.-]+)$/.exec(path))) {
      const name = m[2]!;
      await new Promise((resolve) => setTimeout(resolve, Number(m![1])));
      return serveFixture(name, req, res);
    }

    if ((m = /^\/feeds\/([\w.-]+)$/.exec(path))) {
      const feed = feeds.get(m[1]!);
      if (!feed) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        return void res.end('no such feed');
      }
      if (req.headers['if-none-match'] === feed.etag) {
        res.writeHead(304, { ETag: feed.etag });
        return void res.end();
      }
      res.writeHead(200, { 'Content-Type': feed.contentType, ETag: feed.etag, 'Content-Length': feed.body.length });
      return void res.end(feed.body);
    }

    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  }

  function serveFixture(name: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    let body: Buffer;
    try {
      body = readFixture(name);
    } catch {
      res.writeHead(404);
      return void res.end();
    }
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    const validators = { ETag: etag, 'Last-Modified': FIXED_LAST_MODIFIED };
    if (req.headers['if-none-match'] === etag || (!req.headers['if-none-match'] && req.headers['if-modified-since'] === FIXED_LAST_MODIFIED)) {
      res.writeHead(304, validators);
      return void res.end();
    }
    res.writeHead(200, { ...validators, 'Content-Type': contentTypeFor(name), 'Content-Length': body.length });
    res.end(body);
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    bigBytesWritten: () => bigWritten,
    setFeed(name, body, contentType = 'application/rss+xml; charset=utf-8') {
      const bytes = Buffer.from(body, 'utf8');
      feeds.set(name, { body: bytes, contentType, etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"` });
    },
    peakInFlight: () => ({ total: peaks.total, byHost: { ...peaks.byHost } }),
    resetPeaks() {
      peaks = { total: 0, byHost: {} };
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Stalled routes never end on their own: cut their sockets so close() returns.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
