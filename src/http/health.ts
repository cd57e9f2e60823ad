import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import { pingDb } from '../storage/db.js';
import { migrationsApplied } from '../storage/migrate.js';

/** /healthz: the process answers. /readyz: the database answers and every migration is applied. */
export function createHealthRouter(deps: Deps) {
  const app = new Hono();
  app.get('/healthz', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ status: 'ok' });
  });
  app.get('/readyz', async (c) => {
    c.header('Cache-Control', 'no-store');
    let database = 'ok';
    let migrations = 'ok';
    try {
      await pingDb(deps.db);
      if (!(await migrationsApplied(deps.db))) migrations = 'pending';
    } catch (err) {
      deps.log.warn({ err }, 'readiness check failed');
      database = 'unreachable';
      migrations = 'unknown';
    }
    const ready = database === 'ok' && migrations === 'ok';
    return c.json({ status: ready ? 'ready' : 'not-ready', database, migrations }, ready ? 200 : 503);
  });
  return app;
}
