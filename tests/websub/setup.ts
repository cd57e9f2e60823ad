import type { RequestListener, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createFastFeedListener } from '../../src/http/fast-feeds.js';
import { createHttpServer } from '../../src/http/server.js';
import { loadConfig } from '../../src/config.js';
import type { LookupHost } from '../../src/upstream/fetch-feed.js';
import { createTestContext, type TestContext } from '../helpers/app.js';

/**
 * The real app behind a real HTTP server on 127.0.0.1 (the same listener stack as `npm start`: fast
 * path, then Hono), with PUBLIC_BASE_URL set to that server, so feed URLs, topics and the hub URL a
 * subscriber discovers are all reachable. Runs on the real clock (plus a skew a test can add to
 * jump ahead): deliveries retry on timers.
 *
 * Callbacks use fake host names resolved by an injected lookup: *.example.test → 127.0.0.1, the one
 * address let through the SSRF guard; internal.example.test → 10.1.2.3. WEBSUB_ALLOW_PRIVATE stays
 * false, so the guard refuses everything else exactly as in production.
 */

export const SUBSCRIBER_HOST = 'subscriber.example.test';
export const PRIVATE_HOST = 'internal.example.test';

export const fakeLookup: LookupHost = async (hostname) => {
  if (hostname === PRIVATE_HOST) return [{ address: '10.1.2.3', family: 4 }];
  if (hostname.endsWith('.example.test')) return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

export interface LiveApp {
  t: TestContext;
  /** http://127.0.0.1:{port} = PUBLIC_BASE_URL. */
  origin: string;
  hub: string;
  server: Server;
  /** Moves the app's clock (deps.now) ahead of real time. */
  skew(ms: number): void;
  close(): Promise<void>;
}

export async function startLiveApp(env: Record<string, string> = {}): Promise<LiveApp> {
  let handler: RequestListener = (_req, res) => res.writeHead(503).end();
  // The service's own server settings (its keep-alive timeout among them); the app's config comes later.
  const server = createHttpServer((req, res) => handler(req, res), loadConfig({}));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let skew = 0;
  const t = await createTestContext({
    env: {
      PUBLIC_BASE_URL: origin,
      WEBSUB_VERIFY_TIMEOUT_MS: '1000',
      WEBSUB_DELIVERY_TIMEOUT_MS: '2000',
      WEBSUB_RETRY_BASE_MS: '20',
      STATS_FLUSH_INTERVAL_MS: '60000',
      ...env,
    },
    now: () => new Date(Date.now() + skew),
  });
  t.deps.upstream = { lookup: fakeLookup, allowedAddresses: ['127.0.0.1'] };
  handler = createFastFeedListener(t.feeds, { ...t.deps, readers: t.realtime.readers }, getRequestListener(t.app.fetch));
  return {
    t,
    origin,
    hub: `${origin}/websub`,
    server,
    skew: (ms) => {
      skew += ms;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    },
  };
}
