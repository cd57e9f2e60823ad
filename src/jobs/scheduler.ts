import cron from 'node-cron';
import type { Deps } from '../deps.js';
import type { FeedRuntime } from '../feed-runtime.js';
import { pollDueSources } from './poll-sources.js';
import type { Realtime } from '../realtime.js';

/**
 * node-cron wiring only: each job is a plain async function elsewhere. Schedules run in UTC because
 * node-cron has open daylight-saving bugs (jobs stop or run twice at the clock change).
 */
export function startScheduler(
  deps: Pick<Deps, 'config' | 'log' | 'db' | 'now' | 'metrics' | 'upstream'>,
  feeds: FeedRuntime,
  realtime?: Realtime,
): { stop(): Promise<void> } {
  const stopping = new AbortController();
  let sourceTick: Promise<unknown> | null = null;
  const tasks = [
    cron.schedule(
      deps.config.FEED_REFRESH_CRON,
      async () => {
        try {
          await feeds.tick();
        } catch (err) {
          deps.log.error({ err }, 'feed refresh tick failed');
        }
      },
      { name: 'refresh-feeds', timezone: 'UTC', noOverlap: true },
    ),
    // Every instance runs this tick: claiming with FOR UPDATE SKIP LOCKED shares the due sources out,
    // so no leader is needed. noOverlap: a slow tick (many sources on one host) is not doubled here.
    cron.schedule(
      deps.config.SOURCE_POLL_CRON,
      async () => {
        if (stopping.signal.aborted) return;
        sourceTick = pollDueSources({ ...deps, onArticlesChanged: () => feeds.requestRefresh() }, { signal: stopping.signal });
        try {
          await sourceTick;
        } catch (err) {
          deps.log.error({ err }, 'source poll tick failed');
        } finally {
          sourceTick = null;
        }
      },
      { name: 'poll-sources', timezone: 'UTC', noOverlap: true },
    ),
  ];
  if (realtime) {
    // Every instance sweeps: claims are shared out with SKIP LOCKED, enqueueing is idempotent.
    tasks.push(
      cron.schedule(
        deps.config.WEBSUB_SWEEP_CRON,
        async () => {
          if (stopping.signal.aborted) return;
          try {
            await realtime.sweep();
          } catch (err) {
            deps.log.error({ err }, 'websub sweep failed');
          }
        },
        { name: 'websub-sweep', timezone: 'UTC', noOverlap: true },
      ),
    );
  }
  return {
    /**
     * Stops the schedules; a source tick in progress starts no further polls (its unstarted claims
     * are released for other instances) and is awaited up to SHUTDOWN_TIMEOUT_MS, so the database
     * is not closed under a poll that is storing.
     */
    async stop() {
      for (const task of tasks) void task.destroy();
      stopping.abort();
      if (!sourceTick) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sourceTick.catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deps.config.SHUTDOWN_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
