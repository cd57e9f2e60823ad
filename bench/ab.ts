/**
 * A/B of builds of the service on the hot feed: CPU µs per request (the noise-robust figure, see
 * README) for each build given and for baseline B, interleaved run by run.
 *
 *   cp dist/main.js /tmp/before.js && <change> && npm run build && cp /tmp/before.js dist/before.js
 *   npx tsx bench/ab.ts dist/before.js dist/main.js [--runs=7] [--duration=3] [--kinds=200,304] [--db=postgres|pglite] [--profile] [--gc-every=20]
 *
 * Builds must sit in dist/ (they find migrations/ and node_modules/ from the package root). Each
 * build gets its own database and its own hot feed, so each is asked with its own ETag. --profile
 * writes a .cpuprofile per process under /tmp/syndicate-ab/ for bench/profile.ts-style reading.
 * This is how the fast path's per-request costs were found (metrics, reader counting, memos).
 * --gc-every=<s> forces a full collection every <s> seconds in every server, B included: V8 drops
 * optimised code at a major GC ("weak objects") and what it compiles again can be slower, so this
 * compares the servers after the same major GCs (left alone, B runs far fewer: it keeps almost
 * nothing).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchContext } from './lib/context.js';
import { adminSql } from './lib/pg.js';
import { cleanupAll, cpuSecondsOfGroup, detectPlacement, installCleanupHandlers, spawnChild, stopChild, tempDir } from './lib/proc.js';
import { ROOT } from './lib/service.js';
import { median } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';
import { HOT_PATH, startHotService, type HotService } from './scenarios/serve.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '7' },
    duration: { type: 'string', default: '3' },
    kinds: { type: 'string', default: '200,304' },
    db: { type: 'string', default: 'postgres' },
    profile: { type: 'boolean', default: false },
    'gc-every': { type: 'string', default: '0' },
  },
});
if (positionals.length === 0) {
  console.error('usage: npx tsx bench/ab.ts dist/<build>.js [dist/<other>.js …] [--runs=7] [--duration=3] [--kinds=200,304] [--db=postgres|pglite] [--profile]');
  process.exit(2);
}
installCleanupHandlers();
const runs = Number(values.runs);
const duration = Number(values.duration);
const placement = detectPlacement();
const postgres = values.db === 'postgres';
const admin = postgres ? adminSql() : null;
const gcEveryMs = Number(values['gc-every']) * 1000;
const gcArgs = gcEveryMs > 0 ? ['--expose-gc', '--import', `${pathToFileURL(join(ROOT, 'bench', 'lib', 'force-gc.mjs')).href}?every=${gcEveryMs}`] : [];
const profileArgs = (name: string) => [...gcArgs, ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=/tmp/syndicate-ab/${name.replace(/\W/g, '_')}`] : [])];
const ctx = {
  options: { serveDb: postgres ? 'postgres' : 'pglite' },
  placement,
  admin,
  log: (line: string) => console.log(line),
} as unknown as BenchContext;

console.log(placement.description);
const targets: { name: string; base: string; pgid: number; etag: string }[] = [];
let last: HotService | undefined;
for (const entry of positionals) {
  last = await startHotService(ctx, { ...(postgres ? {} : { dataDir: tempDir('ab') }), entry: join(ROOT, entry), nodeArgs: profileArgs(entry) });
  targets.push({ name: entry, base: last.service.base, pgid: last.service.child.pid!, etag: last.etag });
}
// B answers with the last build's bytes and headers.
const work = tempDir('ab-spec');
writeFileSync(join(work, 'spec.json'), JSON.stringify({ etag: last!.etag, headers200: last!.headers200, headers304: last!.headers304 }));
writeFileSync(join(work, 'body.gz'), last!.gzipBody);
const bare = spawnChild('bare', process.execPath, [...profileArgs('B'), '--import', 'tsx', join(ROOT, 'bench', 'servers', 'bare.ts')], {
  cpu: placement.serverCpu,
  cwd: ROOT,
  env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', SPEC_FILE: join(work, 'spec.json'), BODY_FILE: join(work, 'body.gz') },
});
const port = await new Promise<number>((resolve) => {
  const timer = setInterval(() => {
    for (const line of bare.output) {
      try {
        const { port } = JSON.parse(line) as { port?: number };
        if (port) {
          clearInterval(timer);
          resolve(port);
        }
      } catch {
        // not the port line
      }
    }
  }, 50);
});
targets.push({ name: 'B', base: `http://127.0.0.1:${port}`, pgid: bare.process.pid!, etag: last!.etag });

const perRequest: Record<string, number[]> = {};
for (let run = 0; run < runs; run++) {
  for (const kind of values.kinds!.split(',')) {
    for (const target of targets) {
      const headers: Record<string, string> = { 'Accept-Encoding': 'gzip' };
      if (kind === '304') headers['If-None-Match'] = target.etag;
      const before = await cpuSecondsOfGroup(target.pgid);
      const result = await runWrk({ url: `${target.base}${HOT_PATH}`, durationSec: duration, connections: 32, headers, cpu: placement.loadCpu });
      const cpu = (await cpuSecondsOfGroup(target.pgid)) - before;
      (perRequest[`${kind} ${target.name}`] ??= []).push((cpu * 1e6) / (result.requestsPerSec * duration));
    }
  }
}
for (const [key, samples] of Object.entries(perRequest)) {
  console.log(`${key.padEnd(40)} CPU µs/request: median ${median(samples).toFixed(2)}  (${samples.map((v) => v.toFixed(1)).join(' ')})`);
}
await stopChild(bare);
await cleanupAll();
await admin?.end();
process.exit(0);
