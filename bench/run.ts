/**
 * npm run bench [-- --quick] [--only=serve,revalidate,freshness,refresh,ingest,memory,startup]
 *               [--duration=<s>] [--runs=<n>] [--serve-db=postgres|pglite]
 *
 * Builds once, then runs each scenario of issue 4 against its baselines in the same run, prints one
 * table (median of the runs, p50/p99, ratio, target, pass/fail) and writes bench/results/<date>.json.
 * See bench/README.md.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS, type BenchContext, type BenchOptions, type ScenarioName } from './lib/context.js';
import { adminSql, dropStaleTempDatabases, postgresAvailable, ADMIN_URL } from './lib/pg.js';
import { cleanupAll, detectPlacement, installCleanupHandlers, pinSelf, run, wasInterrupted } from './lib/proc.js';
import { Report, renderTable, writeJson, type ResultRow } from './lib/report.js';
import { ROOT } from './lib/service.js';
import { pgliteTemplateDir } from '../src/storage/pglite-template.js';
import { runFreshness } from './scenarios/freshness.js';
import { runIngest } from './scenarios/ingest.js';
import { runMemory, runStartup } from './scenarios/memory.js';
import { runRefresh } from './scenarios/refresh.js';
import { runServe, startHotService } from './scenarios/serve.js';

function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg} (see bench/README.md)`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  const known = new Set(['quick', 'only', 'duration', 'runs', 'serve-db', 'connections']);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown option --${k} (known: ${[...known].join(', ')})`);
  const quick = flags.get('quick') === 'true';
  const only = new Set<ScenarioName>();
  for (const name of (flags.get('only') ?? SCENARIOS.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario ${name} (known: ${SCENARIOS.join(', ')})`);
    only.add(name as ScenarioName);
  }
  const int = (name: string, fallback: number) => {
    const v = flags.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const serveDb = flags.get('serve-db') ?? 'postgres';
  if (serveDb !== 'postgres' && serveDb !== 'pglite') throw new Error('--serve-db must be postgres or pglite');
  return {
    quick,
    only,
    durationSec: int('duration', quick ? 1 : 5),
    // Five in a full run: the serving ratios of one build moved 0.84–0.94× B between runs of three.
    runs: Math.max(3, int('runs', quick ? 3 : 5)),
    connections: int('connections', 32),
    archiveArticles: quick ? 100_000 : 1_000_000,
    archiveCategories: quick ? 100 : 1_000,
    freshnessCount: quick ? 30 : 100,
    ingestBatches: quick ? 6 : 20,
    serveDb,
    startupRuns: 3,
  };
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const placement = detectPlacement();
  const report = new Report();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const passThrough = [
    ...(options.quick ? ['--quick'] : []),
    ...process.argv.slice(2).filter((a) => /^--(duration|runs|serve-db|connections)=/.test(a)),
  ];
  const ctx: BenchContext = {
    options,
    placement,
    report,
    admin: null,
    rerun: (scenario) => `npm run bench -- --only=${scenario}${passThrough.length ? ` ${passThrough.join(' ')}` : ''}`,
    log,
  };

  log(`syndicate bench${options.quick ? ' (--quick)' : ''}: ${[...options.only].join(', ')}`);
  log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${placement.cores} cores, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}`);
  log(`placement: ${placement.description}`);
  await pinSelf(placement.loadCpu);

  const t0 = performance.now();
  const buildStarted = Date.now();
  // `npm ci` builds dist/ (the prepare script): a fresh clone need not build it twice (~20 s of a quick run).
  const build = distIsCurrent() ? null : await run('npm', ['run', 'build'], { cwd: ROOT, timeoutMs: 300_000 });
  log(build === null ? '\ndist/ is newer than src/, migrations/, scripts/ and the package files: not rebuilt' : '\nbuilding (npm run build)…');
  if (build !== null && build.code !== 0) {
    // tsc emits JavaScript even when the type check fails: a type error elsewhere does not change what
    // is measured, so go on with a loud warning; a build that emitted nothing stops the bench.
    const emitted = existsSync(join(ROOT, 'dist', 'main.js')) && statSync(join(ROOT, 'dist', 'main.js')).mtimeMs >= buildStarted - 1000;
    const errors = build.stdout.split('\n').filter((l) => /error|Error/.test(l)).slice(0, 10).join('\n    ');
    if (!emitted) throw new Error(`npm run build failed:\n${build.stdout}`);
    log(`  WARNING: npm run build exited ${build.code} (dist/ was emitted anyway; figures are for that code):\n    ${errors}`);
    report.note(`npm run build reported errors; dist/ was emitted and measured anyway: ${errors.replace(/\n\s*/g, ' | ')}`);
  }
  if (build !== null) log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  if (await postgresAvailable()) {
    ctx.admin = adminSql();
    const dropped = await dropStaleTempDatabases(ctx.admin);
    if (dropped.length) log(`  dropped ${dropped.length} temporary database(s) left by an interrupted run`);
  } else {
    log(`Postgres not reachable at ${ADMIN_URL.replace(/\/\/[^@]*@/, '//')} (set BENCH_DATABASE_URL): scenarios refresh, ingest and memory are skipped; serve uses PGlite`);
    options.serveDb = 'pglite';
  }

  const want = (s: ScenarioName) => options.only.has(s);
  let current: ScenarioName = 'serve';
  const originalAdd = report.add.bind(report);
  report.add = (row) => originalAdd({ key: row.scenario.startsWith('2 ') ? 'revalidate' : current, measured: { date: new Date().toISOString(), quick: options.quick }, ...row });
  const section = (title: string, scenario: ScenarioName) => {
    current = scenario;
    log(`\n== ${title}`);
    log(`   re-run: ${ctx.rerun(scenario)}`);
    report.commands[scenario] = ctx.rerun(scenario);
  };

  if (want('serve') || want('revalidate') || want('freshness')) {
    log(`\n== setting up the hot feed (50 articles of ~5 KB HTML through POST /api/v1/articles, ${options.serveDb})`);
    const hot = await startHotService(ctx);
    try {
      if (want('serve') || want('revalidate')) {
        section(`1/2 serve a hot feed and revalidate it: wrk -t1 -c${options.connections} -d${options.durationSec}s, ${options.runs} interleaved runs`, want('serve') ? 'serve' : 'revalidate');
        if (want('revalidate') && want('serve')) report.commands.revalidate = ctx.rerun('revalidate');
        await runServe(ctx, hot, { serve: want('serve'), revalidate: want('revalidate') });
      }
      if (want('freshness')) {
        section(`3 freshness: ${options.freshnessCount} sequential ingests, polling the feed every 5 ms`, 'freshness');
        await runFreshness(ctx, hot, options.serveDb === 'postgres' ? 'Postgres' : 'PGlite');
      }
    } finally {
      await hot.service.stop();
    }
  }
  const needsPg = (s: ScenarioName) => {
    current = s;
    if (ctx.admin) return true;
    report.add({ scenario: s, row: 'skipped: Postgres not reachable', value: NaN, unit: 'ms', runs: [], pass: null, note: 'skipped' });
    return false;
  };
  if (want('refresh') && needsPg('refresh')) {
    section(`4 refresh cost over a ${options.archiveArticles.toLocaleString('en-GB')}-article archive in ${options.archiveCategories} categories`, 'refresh');
    await runRefresh(ctx);
  }
  if (want('ingest') && needsPg('ingest')) {
    section(`5 ingest throughput: ${options.ingestBatches} batches of 500 through POST /api/v1/articles vs raw INSERTs (D)`, 'ingest');
    await runIngest(ctx);
  }
  if (want('memory') && needsPg('memory')) {
    section('6a peak memory while serving, over the large archive', 'memory');
    await runMemory(ctx);
  }
  if (want('startup')) {
    section('6b start-up on an empty PGlite data dir (first 200 from GET /feeds/all.rss, polled every 20 ms)', 'startup');
    await runStartup(ctx);
  }

  const elapsed = (performance.now() - started) / 1000;
  log(`\n== results (${options.quick ? 'quick' : 'full'} run, ${elapsed.toFixed(0)} s; ${placement.description})\n`);
  log(renderTable(report.rows));
  for (const n of report.notes) log(`\nnote: ${n}`);
  const failed = report.rows.filter((r) => r.pass === false);
  log(`\n${report.rows.filter((r) => r.pass === true).length} passed, ${failed.length} failed${failed.length ? `: ${failed.map((r) => `${r.scenario} / ${r.row}`).join('; ')}` : ''}`);
  const file = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}.json`);
  // A run of some scenarios (--only) keeps the rows of the others from the day's earlier runs.
  let kept: ResultRow[] = [];
  if (existsSync(file)) {
    try {
      const earlier = JSON.parse(readFileSync(file, 'utf8')) as { rows?: ResultRow[] };
      kept = (earlier.rows ?? []).filter((r) => r.key !== undefined && !options.only.has(r.key as ScenarioName));
    } catch {
      kept = [];
    }
  }
  writeJson(file, {
    date: new Date().toISOString(),
    quick: options.quick,
    elapsedSec: Math.round(elapsed),
    machine: { cpu: cpus()[0]?.model, cores: placement.cores, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    placement: placement.description,
    options: { ...options, only: [...options.only] },
    commands: report.commands,
    info: report.info,
    notes: report.notes,
    rows: [...kept, ...report.rows].sort((a, b) => SCENARIOS.indexOf(a.key as ScenarioName) - SCENARIOS.indexOf(b.key as ScenarioName)),
  });
  if (kept.length) log(`(kept ${kept.length} rows of earlier runs today for scenarios not run now)`);
  log(`wrote ${file}`);
}

try {
  await main();
} catch (err) {
  if (wasInterrupted()) process.stderr.write('interrupted: nothing written\n');
  else process.stderr.write(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}

/**
 * True when dist/ is what `npm run build` would write now: dist/main.js newer than every file it is
 * built from, and the PGlite template of the current migrations complete (its manifest is written last).
 */
function distIsCurrent(): boolean {
  const main = join(ROOT, 'dist', 'main.js');
  if (!existsSync(main) || !existsSync(join(pgliteTemplateDir(), 'syndicate-template.json'))) return false;
  const builtAt = statSync(main).mtimeMs;
  const newest = (path: string): number => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  const inputs = ['src', 'migrations', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
  return inputs.every((input) => !existsSync(join(ROOT, input)) || newest(join(ROOT, input)) < builtAt);
}
