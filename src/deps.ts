import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Database, DbHandle } from './storage/db.js';
import type { LookupHost } from './upstream/fetch-feed.js';

/**
 * Everything a handler or job needs, passed explicitly (no module singletons): tests swap the clock,
 * the network and the database without patching modules.
 */
export interface Deps {
  config: Config;
  db: Database;
  dbHandle: DbHandle;
  log: Logger;
  metrics: Metrics;
  /** The clock. Feeds never read it for their content; it stamps ingest and schedules jobs. */
  now: () => Date;
  fetch: typeof fetch;
  /**
   * Seams for the source poller's own HTTP client (it cannot use `fetch`: it pins vetted addresses):
   * name resolution, and exact addresses let through the SSRF guard. Tests and benchmarks only.
   */
  upstream?: { lookup?: LookupHost; allowedAddresses?: readonly string[] };
}
