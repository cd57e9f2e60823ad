import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHttpServer } from './http/server.js';
import { getRequestListener } from '@hono/node-server';
import { createFastFeedListener } from './http/fast-feeds.js';
import { createApp, type App } from './app.js';
import type { Config } from './config.js';
import type { Deps } from './deps.js';
import type { Logger } from './log.js';
import { FeedRuntime } from './feed-runtime.js';
import { startScheduler } from './jobs/scheduler.js';
import { createMetrics } from './metrics.js';
import { openDb } from './storage/db.js';
import { Realtime } from './realtime.js';
import { migrateDb } from './storage/migrate.js';

/** How long after listening the cron schedules and the WebSub start-up sweep begin. */
export const BACKGROUND_START_DELAY_MS = 1_000;

export interface Service {
  deps: Deps;
  feeds: FeedRuntime;
  /** WebSub hub, deliveries and reader statistics. */
  realtime: Realtime;
  app: App;
  server: Server;
  /** The port actually bound (PORT=0 picks a free one). */
  port: number;
  /** Stops accepting, finishes in-flight requests (up to SHUTDOWN_TIMEOUT_MS), closes the database. */
  stop(): Promise<void>;
}

/**
 * Everything `npm start` does, as a function: open the database, migrate, build the app, listen.
 * Tests and benchmarks start real instances through it.
 */
export async function startService(config: Config, log: Logger, overrides: Partial<Pick<Deps, 'now' | 'fetch' | 'upstream'>> = {}): Promise<Service> {
  const startedAt = performance.now();
  const dbHandle = await openDb({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    pgliteSharedBuffers: config.PGLITE_SHARED_BUFFERS,
  });
  try {
    // A data dir just copied from the build's template holds exactly these migrations already.
    if (!dbHandle.fromTemplate) await migrateDb(dbHandle);
  } catch (err) {
    await dbHandle.close();
    throw err;
  }
  const deps: Deps = {
    config,
    db: dbHandle.db,
    dbHandle,
    log,
    now: overrides.now ?? (() => new Date()),
    fetch: overrides.fetch ?? globalThis.fetch,
    metrics: createMetrics(),
    ...(overrides.upstream ? { upstream: overrides.upstream } : {}),
  };
  const feeds = new FeedRuntime(deps);
  await feeds.start();
  const realtime = new Realtime(deps, feeds);
  realtime.start({ sweep: false });
  const app = createApp(deps, feeds, realtime);
  const listener = createFastFeedListener(
    feeds,
    { ...deps, ...(config.STATS_ENABLED ? { readers: realtime.readers } : {}) },
    getRequestListener(app.fetch),
  );
  const server = createHttpServer(listener, config);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // Background work starts once the service answers: the WebSub start-up sweep and creating the cron
  // schedules cost ~0.3 s of one core before the first feed on an empty PGlite data dir (decision
  // 0011), and neither is due sooner (the first cron tick is at the next boundary; the sweep
  // repeats every WEBSUB_SWEEP_CRON). Requests that write still run their own follow-up work.
  let scheduler: { stop(): Promise<void> } | null = null;
  const background = setTimeout(() => {
    scheduler = startScheduler(deps, feeds, realtime);
    realtime.startupSweep();
  }, BACKGROUND_START_DELAY_MS);
  log.info(
    {
      port,
      database: dbHandle.kind,
      dataDir: dbHandle.kind === 'pglite' ? config.DATA_DIR : undefined,
      fromTemplate: dbHandle.fromTemplate || undefined,
      startupMs: Math.round(performance.now() - startedAt),
    },
    'listening',
  );

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      clearTimeout(background);
      log.info('shutting down: no new connections, finishing in-flight requests');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn('shutdown timeout: closing remaining connections');
          if ('closeAllConnections' in server) server.closeAllConnections();
          resolve();
        }, config.SHUTDOWN_TIMEOUT_MS);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        // Idle keep-alive sockets would hold close() open until they time out.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
      await scheduler?.stop();
      await realtime.stop();
      await feeds.stop();
      await dbHandle.close();
      log.info('stopped');
    })();
    return stopping;
  };
  return { deps, feeds, realtime, app, server, port, stop };
}
