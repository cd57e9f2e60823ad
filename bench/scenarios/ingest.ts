import postgres from 'postgres';
import { validateArticle } from '../../src/ingest.js';
import { buildArticleGuid } from '../../src/domain/guid.js';
import { openDb } from '../../src/storage/db.js';
import { migrateDb } from '../../src/storage/migrate.js';
import { contentHash } from '../../src/storage/articles.js';
import type { NormalizedArticle } from '../../src/domain/article-input.js';
import { makeArticle, type ArticlePayload } from '../lib/articles.js';
import type { BenchContext } from '../lib/context.js';
import { articlesBody, postArticles } from '../lib/ingest-client.js';
import { createTempDatabase, postgresPostmaster } from '../lib/pg.js';
import { cpuSecondsOfGroup, cpuSecondsOfTree } from '../lib/proc.js';
import { httpRequest } from '../lib/http.js';
import { ADMIN_TOKEN, startOurService } from '../lib/service.js';
import { fmtNumber, median } from '../lib/stats.js';

export const BATCH = 500;
/** Batches each row runs before it is timed. */
const WARM_UP_BATCHES = 3;
const SECTIONS = ['World', 'Politics', 'Business', 'Technology', 'Science', 'Health', 'Sport', 'Culture', 'Local News', 'Opinion', 'Education', 'Travel'];

/**
 * `batches` batches of 500 realistic articles: ~5 KB of HTML, 2 categories, 1 author, unique ids.
 * Dated from an hour ago, a second apart, each batch older than the one before (`stepMs` > 0 makes
 * each newer).
 */
export function ingestBatches(batches: number, runId: string, dates: { from?: number; stepMs?: number } = {}): ArticlePayload[][] {
  const from = dates.from ?? Date.now() - 3_600_000;
  const stepMs = dates.stepMs ?? -1000;
  return Array.from({ length: batches }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => {
      const n = b * BATCH + i;
      const first = SECTIONS[n % SECTIONS.length]!;
      const second = SECTIONS[(n * 5 + 3) % SECTIONS.length]!;
      return makeArticle({
        seed: 200_000 + n,
        externalId: `bench-ingest-${runId}-${n}`,
        categories: first === second ? [first, SECTIONS[(n + 1) % SECTIONS.length]!] : [first, second],
        publishedAt: new Date(from + n * stepMs),
      });
    }),
  );
}

/** Normalised rows as upsertArticles would write them, for baseline D. */
function toRows(items: NormalizedArticle[], firstId: number, now: Date) {
  return items.map((a, i) => ({
    id: firstId + i,
    external_id: a.externalId,
    guid: buildArticleGuid('news.example.co.uk', now, firstId + i),
    title: a.title,
    url: a.url,
    summary: a.summary,
    content_html: a.contentHtml,
    authors: JSON.stringify(a.authors),
    category_names: JSON.stringify(a.categories.map((c) => c.name)),
    tags: JSON.stringify(a.tags),
    image_url: a.imageUrl,
    language: a.language,
    enclosures: JSON.stringify(a.enclosures),
    status: a.status,
    published_at: a.publishedAt,
    updated_at: a.updatedAt ?? a.publishedAt,
    created_at: now,
    deleted_at: null,
    content_hash: contentHash(a),
  }));
}

/**
 * Baseline D: the same normalised rows written with plain multi-row INSERTs (articles, then
 * article_categories), one transaction per batch of 500, through postgres.js into a fresh migrated
 * database. No validation, no sanitising, no upsert logic, no dirty marks: the floor of the write.
 */
async function prepareBaselineD(ctx: BenchContext, batches: ArticlePayload[][]): Promise<{ runBatch(b: number): Promise<number>; close(): Promise<void> }> {
  const db = await createTempDatabase(ctx.admin!, 'ingest_d');
  const handle = await openDb({ databaseUrl: db.url, dataDir: '', poolMax: 2 });
  try {
    await migrateDb(handle);
  } finally {
    await handle.close();
  }
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  {
    const now = new Date();
    const normalised = batches.map((batch) =>
      batch.map((p) => {
        const checked = validateArticle(p, { defaultLanguage: 'en-GB' });
        if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
        return checked.article;
      }),
    );
    const names = [...new Set(normalised.flat().flatMap((a) => a.categories.map((c) => `${c.slug}\u0000${c.name}`)))];
    const cats = await sql<{ id: number; slug: string }[]>`
      insert into categories ${sql(names.map((n) => ({ slug: n.split('\u0000')[0]!, name: n.split('\u0000')[1]! })))} returning id, slug`;
    const catId = new Map(cats.map((c) => [c.slug, c.id]));
    const rows = normalised.map((items, b) => toRows(items, 1 + b * BATCH, now));
    const links = normalised.map((items, b) =>
      items.flatMap((a, i) => a.categories.map((c) => ({ category_id: catId.get(c.slug)!, article_id: rows[b]![i]!.id, published_at: a.publishedAt, listed: true }))),
    );
    return {
      async runBatch(b: number) {
        const t = performance.now();
        await sql.begin(async (tx) => {
          await tx`insert into articles ${tx(rows[b]!)}`;
          await tx`insert into article_categories ${tx(links[b]!)}`;
        });
        return performance.now() - t;
      },
      close: () => sql.end({ timeout: 5 }),
    };
  }
}

/** POST /api/v1/feeds/refresh: re-renders every feed and answers when done. */
async function refreshAll(base: string): Promise<void> {
  const res = await httpRequest(`${base}/api/v1/feeds/refresh`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, timeoutMs: 120_000 });
  if (res.status !== 200) throw new Error(`refresh answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
}

/**
 * Scenario 5: articles/s through POST /api/v1/articles in batches of 500 (the service as a pinned
 * child on a fresh Postgres database), against baseline D.
 */
export async function runIngest(ctx: BenchContext): Promise<void> {
  const { options, report } = ctx;
  const batches = ingestBatches(options.ingestBatches, Date.now().toString(36));
  const bodyBytes = JSON.stringify({ articles: batches[0] }).length;
  ctx.log(`  ${options.ingestBatches} batches of ${BATCH} articles (${(bodyBytes / 1024 / 1024).toFixed(1)} MB of JSON per batch)`);

  const db = await createTempDatabase(ctx.admin!, 'ingest');
  const service = await startOurService({ cpu: ctx.placement.serverCpu, databaseUrl: db.url });
  // Warm-up batches, dated after the measured ones (30 minutes ago and back): once they are in, the
  // feeds' newest items are all newer than anything measured below, so no measured batch changes a
  // feed. D gets the same number of warm-up batches of its own rows (not counted).
  const warmUp = ingestBatches(WARM_UP_BATCHES, `warm${Date.now().toString(36)}`, { from: Date.now() - 1_800_000 });
  const baselineD = await prepareBaselineD(ctx, [...ingestBatches(WARM_UP_BATCHES, `dwarm${Date.now().toString(36)}`, { from: Date.now() - 1_800_000 }), ...batches]);
  // Every body is built before the first request. Building 20 batches takes seconds of this process's
  // one thread, during which it cannot see the service close idle keep-alive connections (after 5 s):
  // the next request would be written into a closed socket (EPIPE). Bodies are serialised before any
  // clock starts, as D's rows are built before its clock starts: the client's JSON.stringify of
  // 2.7 MB is not the service's time.
  const bodies = batches.map((batch) => articlesBody(batch));
  // The two reference rows take 4 batches each in --quick (its budget is 2 minutes on a slow day).
  const referenceBatches = options.quick ? Math.min(4, options.ingestBatches) : options.ingestBatches;
  const concurrent = ingestBatches(referenceBatches, `par${Date.now().toString(36)}`).map((batch) => articlesBody(batch));
  // Dated from 20 minutes ago on, a tenth of a second apart: newer than the warm-up, each batch newer
  // than the last, none in the future (a future article is scheduled, not listed).
  const newest = ingestBatches(referenceBatches, `new${Date.now().toString(36)}`, { from: Date.now() - 1_200_000, stepMs: 100 }).map((batch) => articlesBody(batch));
  const ours: number[] = [];
  const d: number[] = [];
  // CPU seconds of the service and of Postgres (all its processes: D's batches are outside these
  // windows) over our timed requests: what an article costs each, and so the ceiling of one core.
  const postmaster = await postgresPostmaster(ctx.admin!);
  const cpu = { service: 0, postgres: 0, postgresD: 0 };
  const cpuNow = async () => ({ service: await cpuSecondsOfGroup(service.child.pid), postgres: postmaster ? await cpuSecondsOfTree(postmaster) : 0 });
  let inFlight2 = 0;
  const newestFirst: number[] = [];
  let phase = 'warm-up';
  try {
    // Warm-up, not counted: the batches (JIT, first categories, connection pool), then the first
    // render of the twelve new category feeds, waited for. That render happens once in a feed's
    // life (1.7 s here, cold) and would otherwise overlap the first measured batches. The row with
    // every batch the newest, below, is the case where each batch changes the feeds.
    for (const batch of warmUp) await postArticles(service.base, batch);
    await refreshAll(service.base);
    for (let b = 0; b < WARM_UP_BATCHES; b++) await baselineD.runBatch(b);
    // Interleaved, batch by batch: a noisy moment hits both rows.
    phase = 'one batch at a time';
    for (let b = 0; b < batches.length; b++) {
      const before = await cpuNow();
      const t = performance.now();
      await postArticles(service.base, bodies[b]!);
      ours.push(performance.now() - t);
      const after = await cpuNow();
      cpu.service += after.service - before.service;
      cpu.postgres += after.postgres - before.postgres;
      d.push(await baselineD.runBatch(WARM_UP_BATCHES + b));
      cpu.postgresD += (await cpuNow()).postgres - after.postgres;
    }
    // Two batches in flight (a CMS importing with two workers): the service validates and sanitises
    // one while Postgres writes the other. Reported beside the sequential row, not instead of it.
    phase = 'two batches in flight';
    const started = performance.now();
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < concurrent.length) await postArticles(service.base, concurrent[next++]!);
      }),
    );
    inFlight2 = (concurrent.length * BATCH) / ((performance.now() - started) / 1000);
    // Every batch the newest (a CMS pushing new articles): each one changes the twelve feeds, and
    // the refreshes that follow re-render them on the service's core while the next batches arrive.
    phase = 'each batch the newest';
    for (const body of newest) {
      const t = performance.now();
      await postArticles(service.base, body);
      newestFirst.push(performance.now() - t);
    }
  } catch (err) {
    // The service's own account of a failed request (a crash, a 5xx) is in its log, not in the client's error.
    const log = service.child.output.slice(-20).join('\n');
    throw new Error(`${phase}: ${err instanceof Error ? err.message : String(err)}\n  the service's last log lines:\n${log}`, { cause: err });
  } finally {
    await service.stop();
    await baselineD.close();
  }
  const rate = (ms: number[]) => (ms.length * BATCH) / (ms.reduce((s, v) => s + v, 0) / 1000);
  const perBatchRate = (ms: number[]) => ms.map((v) => Math.round(BATCH / (v / 1000)));
  const oursRate = rate(ours);
  const dRate = rate(d);
  ctx.log(`  ours: ${fmtNumber(oursRate)} articles/s (per batch: ${perBatchRate(ours).join(', ')}); D: ${fmtNumber(dRate)} articles/s (per batch: ${perBatchRate(d).join(', ')})`);
  const scenario = '5 ingest (batches of 500)';
  report.add({ scenario, row: 'D raw multi-row INSERT (postgres.js)', value: median(perBatchRate(d)), unit: 'articles/s', runs: perBatchRate(d), pass: null });
  const oursMedian = median(perBatchRate(ours));
  report.add({ scenario, row: 'ours POST /api/v1/articles', value: oursMedian, unit: 'articles/s', runs: perBatchRate(ours), target: '≥ 5,000/s', pass: oursMedian >= 5000 });
  const ratio = oursMedian / median(perBatchRate(d));
  report.add({ scenario, row: 'ours vs D', value: oursMedian, unit: 'articles/s', runs: perBatchRate(ours), ratio, ratioLabel: 'of D', target: '≥ 0.3× D', pass: ratio >= 0.3 });
  const articles = ours.length * BATCH;
  const serviceUs = (cpu.service * 1e6) / articles;
  const postgresUs = (cpu.postgres * 1e6) / articles;
  const postgresDUs = (cpu.postgresD * 1e6) / articles;
  const wallUs = ours.reduce((s, v) => s + v, 0) * 1000 / articles;
  ctx.log(`  per article, one batch at a time: ${wallUs.toFixed(0)} µs wall; CPU ${serviceUs.toFixed(0)} µs in the service${postmaster ? `, ${postgresUs.toFixed(0)} µs in Postgres (D's rows: ${postgresDUs.toFixed(0)} µs)` : ' (Postgres not on this machine: not read)'}`);
  report.add({
    scenario,
    row: 'ours: service CPU per article',
    value: serviceUs,
    unit: 'µs CPU/article',
    runs: [Math.round(serviceUs)],
    pass: null,
    note: `the service's one core caps it at ${fmtNumber(1e6 / serviceUs)} articles/s; ${postmaster ? `Postgres ${postgresUs.toFixed(0)} µs/article (D's rows ${postgresDUs.toFixed(0)}), ` : ''}wall ${wallUs.toFixed(0)} µs/article; reference row`,
  });
  report.add({ scenario, row: 'ours POST, 2 batches in flight', value: Math.round(inFlight2), unit: 'articles/s', runs: [Math.round(inFlight2)], ratio: inFlight2 / median(perBatchRate(d)), ratioLabel: 'of D', pass: null, note: 'capacity with two concurrent clients; reference row' });
  report.add({ scenario, row: 'ours POST, each batch the newest', value: median(perBatchRate(newestFirst)), unit: 'articles/s', runs: perBatchRate(newestFirst), ratio: median(perBatchRate(newestFirst)) / median(perBatchRate(d)), ratioLabel: 'of D', pass: null, note: 'every batch changes the feeds, which re-render meanwhile; reference row' });
  report.info.ingest = { batches: options.ingestBatches, batchSize: BATCH, jsonBytesPerBatch: bodyBytes, oursTotalRate: oursRate, dTotalRate: dRate };
}
