import { isIP } from 'node:net';
import { eq } from 'drizzle-orm';
import { pollSource, type PollDeps, type PollResult } from '../../src/jobs/poll-sources.js';
import { articles } from '../../src/storage/schema.js';
import { claimSource, getSource, insertSource, type NewSource, type SourceRow } from '../../src/storage/sources.js';
import type { LookupHost } from '../../src/upstream/fetch-feed.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

/**
 * The sources suite runs the real poller against the real fixture server on 127.0.0.1. Hostnames are
 * fake (*.example.test) and resolved by an injected lookup to 127.0.0.1, the one address let through
 * the SSRF guard (SOURCE_ALLOW_PRIVATE stays false): so a redirect to 10.x, or a name resolving to
 * it, is refused exactly as in production. `nxdomain.example.test` does not resolve.
 */

export const PRIVATE_HOST = 'internal.example.test';
export const MISSING_HOST = 'nxdomain.example.test';

export const fakeLookup: LookupHost = async (hostname) => {
  if (hostname === PRIVATE_HOST) return [{ address: '10.1.2.3', family: 4 }];
  if (hostname.endsWith('.example.test') && hostname !== MISSING_HOST) return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

export interface SourcesContext {
  t: TestContext;
  server: UpstreamServer;
  deps: PollDeps;
  /** http://{host}:{port}{path}; host defaults to feeds.example.test. */
  at(path: string, host?: string): string;
  addSource(url: string, overrides?: Partial<NewSource>): Promise<SourceRow>;
  /** Claims the source (as POST /poll does) and polls it. */
  poll(id: number): Promise<PollResult>;
  source(id: number): Promise<SourceRow>;
  /** Stored articles of a source, by externalId. */
  articlesOf(id: number): Promise<(typeof articles.$inferSelect)[]>;
  /** Articles changed (created or updated) as reported to onArticlesChanged. */
  changes: { sourceId: number; count: number }[];
  close(): Promise<void>;
}

export async function createSourcesContext(env: Record<string, string> = {}): Promise<SourcesContext> {
  const t = await createTestContext({ env: { SOURCE_TIMEOUT_MS: '2000', ...env } });
  const server = await startUpstreamServer();
  t.deps.upstream = { lookup: fakeLookup, allowedAddresses: ['127.0.0.1'] };
  const changes: { sourceId: number; count: number }[] = [];
  const deps: PollDeps = {
    ...t.deps,
    onArticlesChanged: ({ sourceId, count }) => {
      changes.push({ sourceId, count });
      t.feeds.requestRefresh();
    },
  };
  return {
    t,
    server,
    deps,
    changes,
    at: (path, host = 'feeds.example.test') => `http://${isIP(host) === 6 ? `[${host}]` : host}:${server.port}${path}`,
    async addSource(url, overrides = {}) {
      const row = await insertSource(
        t.deps.db,
        {
          url,
          name: 'Test source',
          categories: ['World'],
          pollIntervalSeconds: 900,
          enabled: true,
          useItemCategories: false,
          fullContent: true,
          ...overrides,
        },
        t.clock.now(),
      );
      if (!row) throw new Error(`duplicate source ${url}`);
      return row;
    },
    async poll(id) {
      const claimed = await claimSource(t.deps.db, id, { now: t.clock.now(), leaseMs: 600_000 });
      if (!claimed || claimed === 'busy') throw new Error(`cannot claim source ${id}: ${String(claimed)}`);
      return pollSource(deps, claimed);
    },
    async source(id) {
      const row = await getSource(t.deps.db, id);
      if (!row) throw new Error(`no source ${id}`);
      return row;
    },
    async articlesOf(id) {
      return t.deps.db.select().from(articles).where(eq(articles.sourceId, id)).orderBy(articles.externalId);
    },
    async close() {
      await server.close();
      await t.close();
    },
  };
}
