import cron from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { BACKGROUND_START_DELAY_MS, startService, type Service } from '../../src/service.js';
import { testConfig } from '../helpers/app.js';
import { TEST_DATABASE_URL, createTestDb, type TestDb } from '../helpers/db.js';
import { counterValue, waitFor } from '../helpers/feeds.js';

/**
 * The cron schedules and the WebSub start-up sweep begin BACKGROUND_START_DELAY_MS after the service
 * listens (decision 0011): they must still begin, and a service stopped before then must stop cleanly
 * without starting them.
 */

let db: TestDb | undefined;
let service: Service | undefined;

async function start(): Promise<Service> {
  db = await createTestDb();
  // Every second, so the first tick after the schedules exist comes within a second.
  const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: 'memory://', FEED_REFRESH_CRON: '* * * * * *' };
  if (TEST_DATABASE_URL) env.DATABASE_URL = db.url!;
  service = await startService(testConfig(env), createLogger('silent'));
  return service;
}

afterEach(async () => {
  vi.restoreAllMocks();
  await service?.stop();
  await db?.close();
  service = undefined;
  db = undefined;
});

describe('background work after listening', () => {
  it('the cron schedules are created only after the delay, and then the refresh schedule ticks', async () => {
    const schedule = vi.spyOn(cron, 'schedule');
    const s = await start();
    const startedAt = performance.now();
    expect(schedule, 'no schedule exists yet when the service answers').not.toHaveBeenCalled();
    const ticks = () => counterValue(s.deps.metrics.refreshTicks, { trigger: 'cron' });
    expect(await ticks()).toBe(0);
    await waitFor('a cron refresh tick', async () => (await ticks()) > 0, 10_000);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(BACKGROUND_START_DELAY_MS);
  }, 20_000);

  it('a service stopped before the delay stops cleanly and never creates its schedules', async () => {
    const schedule = vi.spyOn(cron, 'schedule');
    const s = await start();
    await s.stop();
    await new Promise((r) => setTimeout(r, BACKGROUND_START_DELAY_MS + 500));
    expect(schedule).not.toHaveBeenCalled();
  }, 20_000);
});
