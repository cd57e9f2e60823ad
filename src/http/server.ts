import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../config.js';

/**
 * The HTTP server of the service (and of the tests that run it over real sockets).
 *
 * Node closes an idle keep-alive connection after 5 s by default. Clients reuse idle connections for
 * about as long (undici: 4 s, on a coarse timer) and CDNs and load balancers for longer (often 60 s),
 * so the server's close races the client's next request, which then fails with a reset or a broken
 * pipe. The server must be the side that waits longest: HTTP_KEEP_ALIVE_TIMEOUT_MS (65 s). The header
 * timeout stays above it, as Node requires for reused connections.
 */
export function createHttpServer(listener: RequestListener, config: Pick<Config, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'>): Server {
  const server = createServer(listener);
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = Math.max(server.headersTimeout, config.HTTP_KEEP_ALIVE_TIMEOUT_MS + 1000);
  return server;
}
