/**
 * Baseline B: the runtime's own limit. A bare node:http server answering every request with the same
 * bytes and headers our service sends (from memory), and with 304 when If-None-Match equals the ETag.
 * No routing, no negotiation, no metrics: what any Node framework can at best reach.
 *
 * Env: SPEC_FILE (JSON: { etag, headers200: [name, value][], headers304: [name, value][] }),
 * BODY_FILE (the gzip body), PORT (0: any). Prints {"port": n} once listening.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const spec = JSON.parse(readFileSync(process.env.SPEC_FILE!, 'utf8')) as { etag: string; headers200: [string, string][]; headers304: [string, string][] };
const body = readFileSync(process.env.BODY_FILE!);
const headers200 = spec.headers200.flat();
const headers304 = spec.headers304.flat();
const etag = spec.etag;

const server = createServer((req, res) => {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers304);
    res.end();
    return;
  }
  res.writeHead(200, headers200);
  res.end(body);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
