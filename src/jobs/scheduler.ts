import cron from 'node-cron';
import type { Deps } from '../deps.js';
import type { FeedRuntime } from '../feed-runtime.js';

/**
 * node-cron wiring only: each job is a plain async function elsewhere. Schedules run in UTC because
 * node-cron has open daylight-saving bugs (jobs stop or run twice at the clock change).
 */
export function startScheduler(deps: Pick<Deps, 'config' | 'log'>, feeds: FeedRuntime): { stop(): void } {
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
  ];
  return {
    stop() {
      for (const task of tasks) void task.destroy();
    },
  };
}
