import { CHANGE_DEBOUNCE_MS } from '../../src/feed-runtime.js';
import { HOT_CATEGORY, makeArticle } from '../lib/articles.js';
import type { BenchContext } from '../lib/context.js';
import { httpRequest } from '../lib/http.js';
import { postArticles } from '../lib/ingest-client.js';
import { fmtMs, median, percentile } from '../lib/stats.js';
import { HOT_PATH, type HotService } from './serve.js';

const POLL_MS = 5;
const GIVE_UP_MS = 10_000;

/**
 * Scenario 3: one article at a time through POST /api/v1/articles; the time from the 2xx to the
 * article's title in the hot feed, polled every 5 ms with keep-alive and If-None-Match (as a reader
 * would: 304s until the feed changes).
 */
export async function runFreshness(ctx: BenchContext, hot: HotService, label: string): Promise<void> {
  const { options, report } = ctx;
  const base = hot.service.base;
  const url = `${base}${HOT_PATH}`;
  let etag = hot.etag;
  // The service logs every refresh run ("feeds refreshed", durationMs): how much of the wait is the
  // render-and-store itself, and how much the debounce and the rest.
  const refreshMs: number[] = [];
  let listening = true;
  hot.service.child.onLine((line) => {
    if (!listening || !line.includes('"feeds refreshed"')) return;
    try {
      const entry = JSON.parse(line) as { trigger?: string; durationMs?: number };
      if (entry.trigger === 'change' && typeof entry.durationMs === 'number') refreshMs.push(entry.durationMs);
    } catch {
      /* not JSON */
    }
  });
  const latencies: number[] = [];
  let missed = 0;
  const runId = Date.now().toString(36);
  for (let i = 0; i < options.freshnessCount; i++) {
    const title = `Breaking ${runId} number ${i} of the freshness run`;
    const article = makeArticle({ seed: 50_000 + i, externalId: `bench-fresh-${runId}-${i}`, categories: [HOT_CATEGORY], publishedAt: new Date(), titleText: title });
    await postArticles(base, article);
    const acknowledged = performance.now();
    let seenAt: number | null = null;
    while (performance.now() - acknowledged < GIVE_UP_MS) {
      const res = await httpRequest(url, { headers: { 'if-none-match': etag } });
      if (res.status === 200) {
        etag = String(res.headers.etag);
        if (res.body.includes(title)) {
          seenAt = performance.now();
          break;
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (seenAt === null) missed += 1;
    else latencies.push(seenAt - acknowledged);
  }
  listening = false;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  ctx.log(`  ${label}: ${latencies.length} articles seen, ${missed} missed (>${GIVE_UP_MS} ms); p50 ${fmtMs(p50)}, p99 ${fmtMs(p99)}, max ${fmtMs(Math.max(...latencies))}`);
  ctx.log(`  of which the refresh run itself (service log, ${refreshMs.length} runs): median ${fmtMs(median(refreshMs))}, p99 ${fmtMs(percentile(refreshMs, 99))}; the rest is the ${CHANGE_DEBOUNCE_MS} ms debounce, the reload of the snapshot into memory and polling`);
  report.info.freshness = { refreshRunMsMedian: median(refreshMs), refreshRunMsP99: percentile(refreshMs, 99), refreshRuns: refreshMs.length };
  report.add({
    scenario: '3 freshness (ingest 2xx → in feed)',
    row: `${label}, ${options.freshnessCount} ingests`,
    value: median(latencies),
    unit: 'ms',
    p50Ms: p50,
    p99Ms: p99,
    runs: latencies.map((l) => Math.round(l * 10) / 10),
    ratio: p99 / 1000,
    ratioLabel: 'p99/1 s',
    target: 'p99 ≤ 1 s',
    pass: missed === 0 && p99 <= 1000,
    note: `${missed ? `${missed} never appeared within ${GIVE_UP_MS} ms; ` : ''}refresh run median ${fmtMs(median(refreshMs))}`,
  });
}
