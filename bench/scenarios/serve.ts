import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { feedSiteFromConfig } from '../../src/feed-runtime.js';
import { loadConfig } from '../../src/config.js';
import { buildFeedDocument, type FeedArticle } from '../../src/domain/feed-builder.js';
import type { ArticleJson } from '../../src/http/article-json.js';
import { HOT_SLUG, hotArticles } from '../lib/articles.js';
import type { BenchContext } from '../lib/context.js';
import { httpRequest, waitFor } from '../lib/http.js';
import { postArticles } from '../lib/ingest-client.js';
import { createTempDatabase } from '../lib/pg.js';
import { cpuSecondsOfGroup, spawnChild, stopChild, tempDir, type Child } from '../lib/proc.js';
import { ADMIN_TOKEN, ROOT, serviceEnv, startOurService, type RunningService } from '../lib/service.js';
import { fmtBytes, fmtMs, fmtNumber, median } from '../lib/stats.js';
import { runWrk, wrkCommandLine, type WrkOptions, type WrkResult } from '../lib/wrk.js';
import { findNginx, startNginx } from '../servers/nginx.js';

export const HOT_PATH = `/feeds/${HOT_SLUG}.rss`;
/** Headers every server adds by itself, left out when copying ours to the baselines. */
const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

export interface HotService {
  service: RunningService;
  /** What the service answers for the hot feed with Accept-Encoding: gzip. */
  gzipBody: Buffer;
  identityBody: Buffer;
  etag: string;
  headers200: [string, string][];
  headers304: [string, string][];
}

/**
 * Starts our service on its own database (a fresh Postgres database, or an empty PGlite data dir),
 * ingests the 50 hot articles through the API, waits until their feed is rendered and in memory.
 */
export async function startHotService(ctx: BenchContext, options: { databaseUrl?: string; dataDir?: string; nodeArgs?: string[]; entry?: string } = {}): Promise<HotService> {
  let { databaseUrl, dataDir } = options;
  if (!databaseUrl && !dataDir) {
    if (ctx.options.serveDb === 'postgres' && ctx.admin) databaseUrl = (await createTempDatabase(ctx.admin, `serve${Math.random().toString(36).slice(2, 8)}`)).url;
    else dataDir = tempDir('pglite');
  }
  const service = await startOurService({ cpu: ctx.placement.serverCpu, databaseUrl, dataDir, nodeArgs: options.nodeArgs, entry: options.entry });
  ctx.log(`  our service: pid ${service.child.pid}, ${service.base}, ${databaseUrl ? 'Postgres' : `PGlite (${dataDir})`}`);
  const articles = hotArticles(new Date());
  await postArticles(service.base, articles);
  const oldestTitle = articles[articles.length - 1]!.title;
  // The refresh after a change is debounced: wait for the rendered feed to hold all 50.
  await waitFor(
    async () => {
      const res = await httpRequest(`${service.base}${HOT_PATH}`);
      return res.status === 200 && res.body.includes(oldestTitle) ? true : null;
    },
    { everyMs: 50, timeoutMs: 60_000, what: 'the hot feed to be rendered' },
  );
  const gz = await httpRequest(`${service.base}${HOT_PATH}`, { headers: { 'accept-encoding': 'gzip' } });
  const identity = await httpRequest(`${service.base}${HOT_PATH}`);
  const etag = String(gz.headers.etag);
  const notModified = await httpRequest(`${service.base}${HOT_PATH}`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': etag } });
  if (gz.headers['content-encoding'] !== 'gzip' || notModified.status !== 304) throw new Error(`unexpected answers from our service: ${gz.status} ${String(gz.headers['content-encoding'])}, ${notModified.status}`);
  const keep = (raw: [string, string][]) => raw.filter(([k]) => !TRANSPORT_HEADERS.has(k.toLowerCase()));
  return { service, gzipBody: gz.body, identityBody: identity.body, etag, headers200: keep(gz.rawHeaders), headers304: keep(notModified.rawHeaders) };
}

/** Starts one of bench/servers/*.ts as a pinned child and waits for the port it prints. */
async function startNodeServer(ctx: BenchContext, name: string, script: string, env: Record<string, string>): Promise<{ child: Child; base: string }> {
  const child = spawnChild(name, process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'servers', script)], {
    cpu: ctx.placement.serverCpu,
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', ...env },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${child.output.join('\n')}`)), 30_000);
    child.onLine((line) => {
      const m = /^\{"port":(\d+)\}$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void child.exited.then((code) => reject(new Error(`${name} exited (${code}):\n${child.output.join('\n')}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

/** The same FeedDocument our service rendered, rebuilt from the stored articles (for baseline C). */
async function hotFeedDocument(base: string) {
  const res = await httpRequest(`${base}/api/v1/articles?category=${HOT_SLUG}&limit=50`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (res.status !== 200) throw new Error(`listing articles answered ${res.status}`);
  const { items } = JSON.parse(res.body.toString('utf8')) as { items: ArticleJson[] };
  const articles: FeedArticle[] = items.map((a) => ({
    guid: a.guid,
    url: a.url,
    title: a.title,
    summary: a.summary,
    contentHtml: a.contentHtml,
    publishedAt: new Date(a.publishedAt),
    updatedAt: new Date(a.updatedAt),
    authors: a.authors,
    categories: a.categories,
    tags: a.tags,
    imageUrl: a.imageUrl,
    enclosures: a.enclosures,
    language: a.language,
  }));
  const config = loadConfig(serviceEnv({}));
  const newest = new Date(Math.max(...articles.map((a) => a.updatedAt.getTime())));
  const category = { slug: HOT_SLUG, name: articles[0]?.categories[0]?.name ?? HOT_SLUG, description: null, updatedAt: newest };
  return buildFeedDocument({ site: feedSiteFromConfig(config), feedKey: HOT_SLUG, feedCreatedAt: newest, category, items: articles, updated: newest });
}

interface ServeRow {
  key: 'A' | 'B' | 'C' | 'ours';
  label: string;
  base: string;
  etag: string;
  /** Process group of the server (its CPU time is read from /proc). */
  pgid: number;
  stop(): Promise<void>;
}

interface Measured extends WrkResult {
  /** Server CPU (user + system) per request, µs. */
  cpuUsPerRequest: number;
}

/**
 * One figure from a server's slices of a run: requests over the time they took, CPU per request over
 * all of them, and the median of the slices' percentiles (wrk's percentiles do not add up).
 */
function combine(parts: Measured[]): Measured {
  if (parts.length === 1) return parts[0]!;
  const requests = parts.reduce((sum, p) => sum + p.requests, 0);
  const seconds = parts.reduce((sum, p) => sum + p.requests / p.requestsPerSec, 0);
  const cpuUs = parts.reduce((sum, p) => sum + p.cpuUsPerRequest * p.requests, 0);
  return {
    ...parts[parts.length - 1]!,
    requests,
    requestsPerSec: requests / seconds,
    p50Ms: median(parts.map((p) => p.p50Ms)),
    p75Ms: median(parts.map((p) => p.p75Ms)),
    p90Ms: median(parts.map((p) => p.p90Ms)),
    p99Ms: median(parts.map((p) => p.p99Ms)),
    errors: parts.reduce((sum, p) => sum + p.errors, 0),
    cpuUsPerRequest: cpuUs / Math.max(1, requests),
    raw: parts.map((p) => p.raw).join('\n'),
  };
}

/** Waits (at most 3 s) until no server under test used more than 2 ms of CPU in the last 100 ms. */
async function settle(rows: ServeRow[]): Promise<void> {
  const total = async () => {
    let sum = 0;
    for (const row of rows) sum += await cpuSecondsOfGroup(row.pgid);
    return sum;
  };
  const deadline = performance.now() + 3000;
  let last = await total();
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await total();
    if (now - last <= 0.002) return;
    last = now;
  }
}

async function probe(row: ServeRow, ctx: BenchContext): Promise<{ gzipBytes: number; identityBytes: number }> {
  const res = await httpRequest(`${row.base}${HOT_PATH}`, { headers: { 'accept-encoding': 'gzip' } });
  if (res.status !== 200 || res.headers['content-encoding'] !== 'gzip') throw new Error(`${row.label}: expected a gzip 200, got ${res.status} ${String(res.headers['content-encoding'])}`);
  row.etag = String(res.headers.etag);
  const nm = await httpRequest(`${row.base}${HOT_PATH}`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': row.etag } });
  if (nm.status !== 304) throw new Error(`${row.label}: expected 304 for If-None-Match ${row.etag}, got ${nm.status}`);
  const sizes = { gzipBytes: res.body.byteLength, identityBytes: gunzipSync(res.body).byteLength };
  ctx.log(`  ${row.label.padEnd(34)} ${row.base}  gzip ${fmtBytes(sizes.gzipBytes)} (identity ${fmtBytes(sizes.identityBytes)}), ETag ${row.etag}`);
  return sizes;
}

/**
 * Scenarios 1 and 2: the hot feed served by nginx (A), a bare node:http server (B), a
 * render-per-request server (C) and ours, for 200s and for 304s, rows interleaved run by run.
 */
export async function runServe(ctx: BenchContext, hot: HotService, which: { serve: boolean; revalidate: boolean }): Promise<void> {
  const { options, placement, report } = ctx;
  const rows: ServeRow[] = [];
  const work = tempDir('serve');
  try {
    // A: nginx.
    const nginx = findNginx();
    if (!nginx) {
      ctx.log('  nginx not installed: apt-get install nginx — skipping baseline A');
      report.note('nginx not installed: apt-get install nginx — baseline A skipped');
    } else {
      const extra = hot.headers200.filter(([k]) => !['content-type', 'content-length', 'content-encoding', 'etag', 'last-modified', 'vary'].includes(k.toLowerCase()));
      const a = await startNginx({ binary: nginx, cpu: placement.serverCpu, path: HOT_PATH, identity: hot.identityBody, gzip: hot.gzipBody, headers: extra });
      rows.push({ key: 'A', label: 'A nginx gzip_static (reference)', base: a.base, etag: '', pgid: a.child.pid, stop: a.stop });
    }
    // B: bare node:http, same bytes and headers.
    writeFileSync(join(work, 'spec.json'), JSON.stringify({ etag: hot.etag, headers200: hot.headers200, headers304: hot.headers304 }));
    writeFileSync(join(work, 'body.gz'), hot.gzipBody);
    const b = await startNodeServer(ctx, 'bare', 'bare.ts', { SPEC_FILE: join(work, 'spec.json'), BODY_FILE: join(work, 'body.gz') });
    rows.push({ key: 'B', label: 'B bare node:http, bytes in memory', base: b.base, etag: '', pgid: b.child.pid, stop: () => stopChild(b.child) });
    // C: render per request.
    writeFileSync(join(work, 'doc.json'), JSON.stringify(await hotFeedDocument(hot.service.base)));
    const c = await startNodeServer(ctx, 'render', 'render.ts', { DOC_FILE: join(work, 'doc.json'), DIST_DIR: join(ROOT, 'dist') });
    rows.push({ key: 'C', label: 'C node:http render per request', base: c.base, etag: '', pgid: c.child.pid, stop: () => stopChild(c.child) });
    rows.push({ key: 'ours', label: 'ours GET /feeds/{slug}.rss', base: hot.service.base, etag: '', pgid: hot.service.child.pid, stop: async () => {} });

    for (const row of rows) await probe(row, ctx);

    const wrkOptions = (row: ServeRow, conditional: boolean): WrkOptions => ({
      url: `${row.base}${HOT_PATH}`,
      durationSec: options.durationSec,
      connections: options.connections,
      headers: conditional ? { 'Accept-Encoding': 'gzip', 'If-None-Match': row.etag } : { 'Accept-Encoding': 'gzip' },
      cpu: placement.loadCpu,
    });
    const kinds = [...(which.serve ? [false] : []), ...(which.revalidate ? [true] : [])];
    // Warm-up (JIT, connection pools), not recorded.
    for (const row of rows) for (const conditional of kinds) await runWrk({ ...wrkOptions(row, conditional), durationSec: 1 });
    ctx.log(`  wrk: ${wrkCommandLine(wrkOptions(rows[rows.length - 1]!, false))}`);
    if (which.revalidate) ctx.log(`  wrk (revalidate): ${wrkCommandLine(wrkOptions(rows[rows.length - 1]!, true))}`);

    const results = new Map<string, Measured[]>();
    const record = (row: ServeRow, conditional: boolean, r: Measured, note = '') => {
      if (r.errors > 0) ctx.log(`    ${row.label}: ${r.errors} errors (non-2xx/3xx or socket)`);
      const key = `${row.key}:${conditional}`;
      results.set(key, [...(results.get(key) ?? []), r]);
      ctx.log(`    run ${results.get(key)!.length} ${conditional ? '304' : '200'} ${row.label.padEnd(34)} ${fmtNumber(r.requestsPerSec).padStart(8)} req/s  p50 ${fmtMs(r.p50Ms)}  p99 ${fmtMs(r.p99Ms)}  ${r.transferPerSec}/s  CPU ${r.cpuUsPerRequest.toFixed(1)} µs/req${note}`);
    };
    const measure = async (row: ServeRow, conditional: boolean, durationSec: number): Promise<Measured> => {
      const cpuBefore = await cpuSecondsOfGroup(row.pgid);
      const w = await runWrk({ ...wrkOptions(row, conditional), durationSec });
      return { ...w, cpuUsPerRequest: ((await cpuSecondsOfGroup(row.pgid)) - cpuBefore) * 1e6 / Math.max(1, w.requests) };
    };
    // Ours and B, the pair a target compares, share each run in alternating 1 s slices. This VM
    // switches between a fast and a slow state for seconds at a time (both servers' CPU per 304 read
    // ~20 or ~27 µs, run by run): with one 5 s run each, back to back, one server often got the fast
    // state and the other the slow one, and a pair's ratio read 0.65 or 1.4. Slices give both the same mix.
    const slices = Math.max(1, Math.round(options.durationSec));
    if (slices > 1) ctx.log(`  ours and B: ${slices} alternating 1 s slices each per run (wrk -d1s), summed`);
    const measurePair = async (pair: ServeRow[], conditional: boolean) => {
      const parts = new Map<ServeRow, Measured[]>(pair.map((row) => [row, []]));
      for (let i = 0; i < slices; i++) {
        for (const row of i % 2 === 0 ? pair : [...pair].reverse()) {
          await settle(rows);
          parts.get(row)!.push(await measure(row, conditional, slices > 1 ? 1 : options.durationSec));
        }
      }
      for (const row of pair) record(row, conditional, combine(parts.get(row)!), slices > 1 ? ` (${slices} slices)` : '');
    };

    for (let run = 0; run < options.runs; run++) {
      // Rotate the order run by run, so no row always goes first; ours and B, the pair a target
      // compares, always run together (in alternating order), so a slow spell of the machine
      // tends to fall on both.
      const others = rows.filter((r) => r.key !== 'ours' && r.key !== 'B');
      const pair = rows.filter((r) => r.key === 'ours' || r.key === 'B');
      if (run % 2 === 1) pair.reverse();
      const units: ServeRow[][] = [...others.map((r) => [r]), pair];
      const order = units.map((_, i) => units[(i + run) % units.length]!);
      for (const conditional of kinds) {
        for (const unit of order) {
          if (unit.length > 1) {
            await measurePair(unit, conditional);
            continue;
          }
          // C keeps rendering the requests in flight when wrk stops; no run starts on a busy core.
          await settle(rows);
          record(unit[0]!, conditional, await measure(unit[0]!, conditional, options.durationSec));
        }
      }
    }

    for (const conditional of kinds) {
      const scenario = conditional ? '2 revalidate (304)' : '1 serve hot feed (200 gzip)';
      const get = (key: ServeRow['key']) => results.get(`${key}:${conditional}`);
      const ours = get('ours')!;
      // Ratios within the same run, then the median of those.
      const ratioTo = (key: ServeRow['key']) => {
        const base = get(key);
        return base ? median(ours.map((r, i) => r.requestsPerSec / base[i]!.requestsPerSec)) : NaN;
      };
      // The same comparison by server CPU per request (theirs / ours): it hardly moves with load from
      // other processes, where requests/s does.
      const cpuRatioTo = (key: ServeRow['key']) => {
        const base = get(key);
        return base ? median(ours.map((r, i) => base[i]!.cpuUsPerRequest / r.cpuUsPerRequest)) : NaN;
      };
      for (const row of rows) {
        const rs = get(row.key)!;
        const common = {
          scenario,
          row: row.key === 'ours' ? 'ours' : row.label,
          value: median(rs.map((r) => r.requestsPerSec)),
          unit: 'req/s' as const,
          p50Ms: median(rs.map((r) => r.p50Ms)),
          p99Ms: median(rs.map((r) => r.p99Ms)),
          runs: rs.map((r) => Math.round(r.requestsPerSec)),
          cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
          pass: null,
          ...(rs.some((r) => r.errors > 0) ? { note: `${rs.reduce((s, r) => s + r.errors, 0)} errors` } : {}),
        };
        if (row.key !== 'ours') {
          report.add(common);
          continue;
        }
        const b = ratioTo('B');
        report.add({ ...common, row: 'ours vs B', ratio: b, ratioLabel: 'of B', target: '≥ 0.85× B', pass: b >= 0.85 });
        if (!conditional) {
          const c = ratioTo('C');
          report.add({ ...common, row: 'ours vs C', ratio: c, ratioLabel: 'of C', target: '≥ 50× C', pass: c >= 50 });
        }
        if (get('A')) report.add({ ...common, row: 'ours vs A (reference)', ratio: ratioTo('A'), ratioLabel: 'of A', pass: null });
        report.add({
          ...common,
          row: 'ours vs B by CPU/request (noise-robust)',
          value: common.cpuUsPerRequest,
          unit: 'µs CPU/req',
          ratio: cpuRatioTo('B'),
          ratioLabel: 'B/ours',
          pass: null,
          note: `B ${get('B') ? median(get('B')!.map((r) => r.cpuUsPerRequest)).toFixed(1) : '?'} µs/req`,
        });
      }
    }
    report.info.serve = { connections: options.connections, durationSec: options.durationSec, runs: options.runs, gzipBytes: hot.gzipBody.byteLength, identityBytes: hot.identityBody.byteLength };
  } finally {
    for (const row of rows) await row.stop();
  }
}
