import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { hotArticles } from '../lib/articles.js';
import { ensureArchive } from '../lib/archive.js';
import type { BenchContext } from '../lib/context.js';
import { freePort, httpRequest, waitFor } from '../lib/http.js';
import { postArticles } from '../lib/ingest-client.js';
import { memoryOf, removeTempDir, spawnChild, stopChild, tempDir } from '../lib/proc.js';
import { ROOT, serviceEnv, startOurService } from '../lib/service.js';
import { fmtMs, median } from '../lib/stats.js';
import { runWrk, wrkCommandLine } from '../lib/wrk.js';
import { renderStaleFeeds } from './refresh.js';
import { HOT_PATH } from './serve.js';

const MB = 1024 * 1024;

/**
 * Scenario 6a: peak RSS (VmHWM) of the service while it serves scenario 1's load over the large
 * Postgres archive, then while it serves every category feed at random (the snapshot cache is
 * bounded: FEED_CACHE_MAX_BYTES, 64 MB by default).
 */
export async function runMemory(ctx: BenchContext): Promise<void> {
  const { options, placement, report } = ctx;
  const archive = await ensureArchive(ctx, options.archiveArticles, options.archiveCategories);
  await renderStaleFeeds(ctx, archive);
  const service = await startOurService({ cpu: placement.serverCpu, databaseUrl: archive.url });
  try {
    const pid = service.child.pid;
    const atStart = await memoryOf(pid);
    // The hot feed inside the archive (idempotent: the same articles are "unchanged" on later runs).
    const articles = hotArticles(new Date(Date.UTC(2026, 0, 1)));
    await postArticles(service.base, articles);
    const oldest = articles[articles.length - 1]!.title;
    await waitFor(
      async () => {
        const res = await httpRequest(`${service.base}${HOT_PATH}`);
        return res.status === 200 && res.body.includes(oldest) ? true : null;
      },
      { everyMs: 50, timeoutMs: 60_000, what: 'the hot feed in the archive' },
    );
    const hotRuns: number[] = [];
    const hotRss: number[] = [];
    const wrkHot = { url: `${service.base}${HOT_PATH}`, durationSec: options.durationSec, connections: options.connections, headers: { 'Accept-Encoding': 'gzip' }, cpu: placement.loadCpu };
    ctx.log(`  wrk: ${wrkCommandLine(wrkHot)}`);
    for (let i = 0; i < options.runs; i++) {
      const r = await runWrk(wrkHot);
      const m = await memoryOf(pid);
      hotRuns.push(r.requestsPerSec);
      hotRss.push((m?.hwm ?? NaN) / MB);
      ctx.log(`    run ${i + 1}: ${Math.round(r.requestsPerSec)} req/s, VmHWM ${((m?.hwm ?? NaN) / MB).toFixed(1)} MB, VmRSS ${((m?.rss ?? NaN) / MB).toFixed(1)} MB`);
    }
    const peakHot = Math.max(...hotRss);
    report.add({
      scenario: '6 memory (peak RSS, VmHWM)',
      row: `serving the hot feed, ${options.archiveArticles.toLocaleString('en-GB')}-article archive`,
      value: peakHot,
      unit: 'MB',
      runs: hotRss.map((v) => Math.round(v * 10) / 10),
      ratio: peakHot / 200,
      ratioLabel: 'of 200 MB',
      target: '≤ 200 MB',
      pass: peakHot <= 200,
      note: `RSS at start ${((atStart?.rss ?? NaN) / MB).toFixed(1)} MB; ${Math.round(median(hotRuns))} req/s`,
    });

    // Every category feed at random: the bounded snapshot cache under churn (memory hits and DB loads).
    const dir = tempDir('wrk');
    const script = join(dir, 'random-feeds.lua');
    writeFileSync(
      script,
      `-- GET a random category feed of the archive
local n = ${options.archiveCategories}
math.randomseed(42)
request = function()
  return wrk.format("GET", string.format("/feeds/section-%04d.rss", math.random(1, n)), { ["Accept-Encoding"] = "gzip" })
end
`,
    );
    // At least 3 s in a full run (1,000 feeds to touch); --quick keeps its own 1 s (a reference row).
    const wrkAll = { url: service.base, durationSec: options.quick ? options.durationSec : Math.max(options.durationSec, 3), connections: options.connections, headers: {}, cpu: placement.loadCpu, script };
    ctx.log(`  wrk: ${wrkCommandLine(wrkAll)}`);
    const allRuns: number[] = [];
    const allRss: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const r = await runWrk(wrkAll);
      const m = await memoryOf(pid);
      allRuns.push(r.requestsPerSec);
      allRss.push((m?.hwm ?? NaN) / MB);
      ctx.log(`    run ${i + 1}: ${Math.round(r.requestsPerSec)} req/s (p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}, ${r.errors} errors), VmHWM ${((m?.hwm ?? NaN) / MB).toFixed(1)} MB`);
    }
    removeTempDir(dir);
    const peakAll = Math.max(...allRss);
    report.add({
      scenario: '6 memory (peak RSS, VmHWM)',
      row: `then every category feed at random (${options.archiveCategories} feeds)`,
      value: peakAll,
      unit: 'MB',
      runs: allRss.map((v) => Math.round(v * 10) / 10),
      // Beyond the issue's scenario (its target is the hot feed above): a reference for FEED_CACHE_MAX_BYTES.
      pass: null,
      note: `${Math.round(median(allRuns))} req/s; reference row, no target`,
    });
  } finally {
    await service.stop();
  }
}

/** Time from spawning `command` on `dataDir` to the first 200 from GET /feeds/all.rss (polled every 20 ms). */
async function timeStart(ctx: BenchContext, label: string, command: string, args: string[], dataDir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawnChild(label, command, args, { cpu: ctx.placement.serverCpu, cwd: ROOT, env: serviceEnv({ dataDir, port }) });
  try {
    await waitFor(
      async () => {
        if (child.process.exitCode !== null) throw new Error('exited');
        const res = await httpRequest(`http://127.0.0.1:${port}/feeds/all.rss`, { keepAlive: false, timeoutMs: 2000 });
        return res.status === 200 ? true : null;
      },
      { everyMs: 20, timeoutMs: 120_000, what: `${label} to answer GET /feeds/all.rss` },
    );
    return performance.now() - started;
  } catch (err) {
    throw new Error(`${String(err)}\n${child.output.slice(-15).join('\n')}`);
  } finally {
    await stopChild(child);
  }
}

/**
 * Scenario 6b: start-up on an empty PGlite data dir, with `npm start` (what the README says) and with
 * `node dist/main.js`, and the second start on the data dir the first one made.
 */
export async function runStartup(ctx: BenchContext): Promise<void> {
  const { options, report } = ctx;
  const rows: Record<string, number[]> = { npm: [], node: [], again: [] };
  // --quick times the target row only (three starts, as a full run's three of each row would take).
  const references = !options.quick;
  for (let i = 0; i < options.startupRuns; i++) {
    const a = tempDir('start');
    rows.npm!.push(await timeStart(ctx, 'npm start', 'npm', ['start', '--silent'], a));
    removeTempDir(a);
    if (!references) {
      ctx.log(`    start ${i + 1}: npm start ${fmtMs(rows.npm!.at(-1))}`);
      continue;
    }
    const b = tempDir('start');
    rows.node!.push(await timeStart(ctx, 'node dist/main.js', process.execPath, [join(ROOT, 'dist', 'main.js')], b));
    rows.again!.push(await timeStart(ctx, 'node dist/main.js (existing dir)', process.execPath, [join(ROOT, 'dist', 'main.js')], b));
    removeTempDir(b);
    ctx.log(`    start ${i + 1}: npm start ${fmtMs(rows.npm!.at(-1))}, node dist/main.js ${fmtMs(rows.node!.at(-1))}, again on its data dir ${fmtMs(rows.again!.at(-1))}`);
  }
  const scenario = '6 start-up to first GET /feeds/all.rss';
  const add = (row: string, values: number[], withTarget: boolean) =>
    report.add({
      scenario,
      row: `${row}${values.length < 3 ? ` (${values.length} run${values.length > 1 ? 's' : ''})` : ''}`,
      value: median(values),
      unit: 'ms',
      runs: values.map((v) => Math.round(v)),
      ...(withTarget ? { ratio: median(values) / 2000, ratioLabel: 'of 2 s', target: '≤ 2 s', pass: median(values) <= 2000 } : { pass: null }),
    });
  add('npm start, empty PGlite data dir', rows.npm!, true);
  if (!references) return;
  add('node dist/main.js, empty PGlite data dir', rows.node!, false);
  add('node dist/main.js, existing data dir', rows.again!, false);
}
