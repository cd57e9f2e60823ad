/**
 * npm run bench:profile is not a script (package.json is not ours to change); run it as
 *   npx tsx bench/profile.ts [--scenario=serve|revalidate|ingest] [--duration=10] [--batches=4]
 *
 * Starts our service under `node --cpu-prof` (pinned like the bench), drives one load, stops it
 * and prints where the CPU time went: self time by function, and by file (node internals, our
 * code, dependencies). The .cpuprofile is kept (path printed) for Chrome DevTools / speedscope.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import type { BenchContext } from './lib/context.js';
import { SCENARIOS } from './lib/context.js';
import { adminSql, postgresAvailable } from './lib/pg.js';
import { cleanupAll, detectPlacement, installCleanupHandlers, pinSelf, run } from './lib/proc.js';
import { Report } from './lib/report.js';
import { ROOT } from './lib/service.js';
import { runWrk } from './lib/wrk.js';
import { HOT_PATH, startHotService } from './scenarios/serve.js';
import { ingestBatches } from './scenarios/ingest.js';
import { postArticles } from './lib/ingest-client.js';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

// dist/main.js is one esbuild bundle; without its source map every frame would read "dist/main.js".
const sourceMaps = new Map<string, SourceMap | null>();
function originalUrl(url: string, line: number, column: number): string {
  if (!url.startsWith('file://') || !url.endsWith('.js')) return url;
  const mapFile = `${url.slice('file://'.length)}.map`;
  if (!sourceMaps.has(mapFile)) sourceMaps.set(mapFile, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : null);
  const entry = sourceMaps.get(mapFile)?.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined;
  if (!entry?.originalSource) return url;
  const source = entry.originalSource.replace(/^(\.\.\/)+/, `file://${ROOT}/`).replace(/^file:\/\/.*?\/node_modules\//, `file://${ROOT}/node_modules/`);
  return `${source}#${(entry.originalLine ?? 0) + 1}`;
}

export function summariseProfile(file: string, top = 30): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] };
  const total = profile.samples.length;
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    const frame = node.callFrame as ProfileNode['callFrame'] & { columnNumber?: number };
    const mapped = originalUrl(frame.url, frame.lineNumber, frame.columnNumber ?? 0);
    const [mappedUrl, mappedLine] = mapped.split('#');
    if (mappedLine) frame.lineNumber = Number(mappedLine) - 1;
    const url = mappedUrl!.replace(`file://${ROOT}/`, '');
    const name = `${node.callFrame.functionName || '(anonymous)'}  ${url ? `${url}:${node.callFrame.lineNumber + 1}` : ''}`;
    self.set(name, (self.get(name) ?? 0) + hits);
    const group = !url
      ? node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : '(native/builtin)'
      : url.startsWith('node:') ? url : url.includes('node_modules/') ? `node_modules/${url.split('node_modules/')[1]!.split('/').slice(0, url.includes('node_modules/@') ? 2 : 1).join('/')}` : url;
    byFile.set(group, (byFile.get(group) ?? 0) + hits);
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
  const lines = [`${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`, '', 'self time by function:'];
  for (const [name, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(n)}  ${name}`);
  lines.push('', 'self time by file / package:');
  for (const [name, n] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`  ${pct(n)}  ${name}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const flags = new Map(process.argv.slice(2).map((a) => /^--([a-z-]+)=?(.*)$/.exec(a)!.slice(1, 3) as [string, string]));
  const scenario = flags.get('scenario') || 'serve';
  const duration = Number(flags.get('duration') || 10);
  const placement = detectPlacement();
  await pinSelf(placement.loadCpu);
  const build = await run('npm', ['run', 'build'], { cwd: ROOT, timeoutMs: 300_000 });
  if (build.code !== 0) console.log(`npm run build exited ${build.code} (dist/ emitted anyway)`);
  const ctx: BenchContext = {
    options: {
      quick: true, only: new Set(SCENARIOS), durationSec: duration, runs: 1, connections: 32, archiveArticles: 0, archiveCategories: 0,
      freshnessCount: 0, ingestBatches: Number(flags.get('batches') || 4), serveDb: (await postgresAvailable()) ? 'postgres' : 'pglite', startupRuns: 1,
    },
    placement,
    report: new Report(),
    admin: null,
    rerun: () => '',
    log: (l) => console.log(l),
  };
  if (ctx.options.serveDb === 'postgres') ctx.admin = adminSql();
  const dir = join(tmpdir(), `syndicate-profile-${scenario}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const hot = await startHotService(ctx, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  try {
    if (scenario === 'ingest') {
      for (const batch of ingestBatches(ctx.options.ingestBatches, Date.now().toString(36))) await postArticles(hot.service.base, batch);
    } else {
      const headers: Record<string, string> = { 'Accept-Encoding': 'gzip', ...(scenario === 'revalidate' ? { 'If-None-Match': hot.etag } : {}) };
      const r = await runWrk({ url: `${hot.service.base}${HOT_PATH}`, durationSec: duration, connections: 32, headers, cpu: placement.loadCpu });
      console.log(`${Math.round(r.requestsPerSec)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
    }
  } finally {
    await hot.service.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  console.log(`\nprofile: ${join(dir, file)}\n`);
  console.log(summariseProfile(join(dir, file)));
}

if (process.argv[1]?.endsWith('profile.ts')) {
  try {
    await main();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    await cleanupAll();
  }
}
