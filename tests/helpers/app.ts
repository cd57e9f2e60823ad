import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Deps } from '../../src/deps.js';
import { FeedRuntime } from '../../src/feed-runtime.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { Realtime } from '../../src/realtime.js';
import { createTestDb, type TestDb } from './db.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghijklmnop';
export const BASE_URL = 'https://news.example.co.uk';

/** A controllable clock: tests move time explicitly; nothing sleeps. */
export function createClock(start = '2026-11-29T09:00:00.000Z') {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set(iso: string) {
      current = new Date(iso).getTime();
    },
    advance(ms: number) {
      current += ms;
    },
  };
}

export interface TestContext {
  app: App;
  deps: Deps;
  db: TestDb;
  clock: ReturnType<typeof createClock>;
  config: Config;
  feeds: FeedRuntime;
  /** WebSub hub, deliveries and reader statistics (started; stopped by close()). */
  realtime: Realtime;
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ ADMIN_TOKEN, PUBLIC_BASE_URL: BASE_URL, LOG_LEVEL: 'silent', ...env });
}

/** The real app over a fresh migrated database (PGlite or Postgres per the environment). */
export async function createTestContext(options: { env?: Record<string, string>; now?: () => Date } = {}): Promise<TestContext> {
  const db = await createTestDb();
  const config = testConfig(options.env);
  const clock = createClock();
  const deps: Deps = {
    config,
    db: db.handle.db,
    dbHandle: db.handle,
    log: createLogger('silent'),
    // A test that needs time to pass by itself (retries, leases) passes the real clock.
    now: options.now ?? clock.now,
    fetch: globalThis.fetch,
    metrics: createMetrics(),
  };
  const feeds = new FeedRuntime(deps);
  await feeds.start();
  const realtime = new Realtime(deps, feeds);
  realtime.start();
  const app = createApp(deps, feeds, realtime);
  return {
    app,
    deps,
    db,
    clock,
    config,
    feeds,
    realtime,
    async close() {
      await realtime.stop();
      await feeds.stop();
      await db.close();
    },
  };
}

/** JSON request helper for app.request(). */
export function jsonRequest(method: string, body: unknown, token: string | null = ADMIN_TOKEN, headers: Record<string, string> = {}): RequestInit {
  const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  return { method, headers: h, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

export function authHeaders(token: string = ADMIN_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
