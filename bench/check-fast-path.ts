/**
 * npx tsx bench/check-fast-path.ts
 *
 * Checks that the hot path (src/http/fast-feeds.ts) answers exactly as the router does: the same
 * status, headers (but Date and X-Request-Id) and body length for GET and HEAD over every mix of
 * Accept-Encoding, If-None-Match and If-Modified-Since below, asked twice (the second answer comes
 * from its per-snapshot memo). `?limit=50` (the default limit) sends the same request through the
 * router. Then it checks that /metrics counts every fast-path request. Exits 1 on any difference.
 */
import { httpRequest } from './lib/http.js';
import { adminSql, postgresAvailable } from './lib/pg.js';
import { cleanupAll, detectPlacement, installCleanupHandlers, run } from './lib/proc.js';
import { Report } from './lib/report.js';
import { ROOT } from './lib/service.js';
import type { BenchContext } from './lib/context.js';
import { SCENARIOS } from './lib/context.js';
import { HOT_PATH, startHotService } from './scenarios/serve.js';

async function main(): Promise<number> {
  installCleanupHandlers();
  await run('npm', ['run', 'build'], { cwd: ROOT, timeoutMs: 300_000 });
  const pg = await postgresAvailable();
  const ctx: BenchContext = {
    options: { quick: true, only: new Set(SCENARIOS), durationSec: 1, runs: 1, connections: 1, archiveArticles: 0, archiveCategories: 0, freshnessCount: 0, ingestBatches: 0, serveDb: pg ? 'postgres' : 'pglite', startupRuns: 0 },
    placement: detectPlacement(),
    report: new Report(),
    admin: pg ? adminSql() : null,
    rerun: () => '',
    log: (l) => console.log(l),
  };
  const hot = await startHotService(ctx);
  try {
    const base = hot.service.base;
    const etagGz = hot.etag;
    const etagIdentity = etagGz.replace(/-gz"$/, '"');
    const lastModified = String((await httpRequest(base + HOT_PATH)).headers['last-modified']);
    const encodings = [undefined, 'gzip', 'br', 'gzip, deflate, br', 'gzip;q=0', 'identity', '*', 'x-gzip', 'br;q=0, gzip', ''];
    const etags = [undefined, etagGz, etagIdentity, `W/${etagGz}`, '*', '"nope"', '', `"x", ${etagGz}`];
    const dates = [undefined, lastModified, 'Sun, 01 Jan 2000 00:00:00 GMT', 'garbage', ''];
    const norm = (r: Awaited<ReturnType<typeof httpRequest>>) =>
      JSON.stringify({
        status: r.status,
        headers: r.rawHeaders.filter(([k]) => !/^(date|x-request-id|connection|keep-alive)$/i.test(k)).map(([k, v]) => [k.toLowerCase(), v]).sort(),
        bytes: r.body.length,
      });
    let compared = 0;
    let fastRequests = 0;
    let differences = 0;
    for (const method of ['GET', 'HEAD']) {
      for (const ae of encodings) {
        for (const inm of etags) {
          for (const ims of dates) {
            const headers: Record<string, string> = {};
            if (ae !== undefined) headers['accept-encoding'] = ae;
            if (inm !== undefined) headers['if-none-match'] = inm;
            if (ims !== undefined) headers['if-modified-since'] = ims;
            for (let repeat = 0; repeat < 2; repeat++) {
              const fast = await httpRequest(base + HOT_PATH, { method, headers });
              const routed = await httpRequest(`${base}${HOT_PATH}?limit=50`, { method, headers });
              fastRequests += 1;
              compared += 1;
              if (norm(fast) !== norm(routed) || !fast.headers['x-request-id']) {
                differences += 1;
                if (differences <= 5) console.log(`DIFFERENT: ${method} ${JSON.stringify(headers)}\n  fast:   ${norm(fast)}\n  router: ${norm(routed)}`);
              }
            }
          }
        }
      }
    }
    const echoed = await httpRequest(base + HOT_PATH, { headers: { 'x-request-id': 'check-123' } });
    fastRequests += 1;
    if (echoed.headers['x-request-id'] !== 'check-123') {
      differences += 1;
      console.log('X-Request-Id not echoed');
    }
    const metrics = (await httpRequest(`${base}/metrics`)).body.toString('utf8');
    const counted = metrics
      .split('\n')
      .filter((l) => l.startsWith('syndicate_http_requests_total{') && l.includes('route="/feeds/:file"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    // The bench's own set-up requests also took the fast path, so at least this many.
    if (counted < fastRequests) {
      differences += 1;
      console.log(`/metrics counted ${counted} fast-path requests, expected at least ${fastRequests}`);
    }
    console.log(`${compared} request shapes compared (fast path vs router): ${differences} differences; /metrics counts ${counted} fast-path requests`);
    return differences === 0 ? 0 : 1;
  } finally {
    await hot.service.stop();
    await ctx.admin?.end();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
