/**
 * Baseline C: what a hand-rolled feed script does. A plain node:http server that renders the feed on
 * every request with the project's real RSS renderer (dist/render/rss.js) from the same FeedDocument
 * (read once at start from DOC_FILE), then hashes it for an ETag and gzips it. A matching
 * If-None-Match gets a 304, after the render (the script has to render to know the ETag).
 *
 * Env: DOC_FILE, DIST_DIR, PORT (0: any). Prints {"port": n} once listening.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FeedDocument } from '../../src/domain/feed-document.js';

type RssModule = typeof import('../../src/render/rss.js');
const { renderRss } = (await import(pathToFileURL(join(process.env.DIST_DIR!, 'render', 'rss.js')).href)) as RssModule;
const gzipAsync = promisify(gzip);

/** JSON has no dates: revive the FeedDocument's. */
function reviveDocument(raw: FeedDocument): FeedDocument {
  return {
    ...raw,
    updated: new Date(raw.updated),
    items: raw.items.map((item) => ({ ...item, publishedAt: new Date(item.publishedAt), updatedAt: new Date(item.updatedAt) })),
  };
}

const doc = reviveDocument(JSON.parse(readFileSync(process.env.DOC_FILE!, 'utf8')) as FeedDocument);

const server = createServer((req, res) => {
  void (async () => {
    const xml = Buffer.from(renderRss(doc), 'utf8');
    const etag = `"${createHash('sha256').update(xml).digest('base64url').slice(0, 27)}"`;
    const common = { ETag: etag, 'Cache-Control': 'public, max-age=60', Vary: 'Accept-Encoding' };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, common);
      res.end();
      return;
    }
    const gz = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const out = gz ? await gzipAsync(xml) : xml;
    res.writeHead(200, { ...common, 'Content-Type': 'application/rss+xml; charset=utf-8', 'Content-Length': String(out.byteLength), ...(gz ? { 'Content-Encoding': 'gzip' } : {}) });
    res.end(out);
  })().catch((err: unknown) => {
    res.writeHead(500);
    res.end(String(err));
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
