import type { Logger } from './log.js';
import type { Database } from './storage/db.js';
import { addPartnerStats, type PartnerStatsDelta } from './storage/partners.js';

/** How often counted partner requests are written (and at shutdown). */
export const PARTNER_STATS_FLUSH_MS = 5_000;
const MAX_USER_AGENT = 500;
/** Distinct (partner, feed) pairs held between flushes; beyond this a flush starts early. */
const MAX_PENDING = 10_000;

/**
 * Per partner and feed: requests, 200s, 304s, the last fetch and its user agent, counted in memory on
 * the request path (a map update) and written in batches off it: every PARTNER_STATS_FLUSH_MS, and on
 * shutdown, as one upsert that adds the counts (several instances add up correctly). A failed write
 * keeps the counts for the next flush.
 */
export class PartnerStatsRecorder {
  private pending = new Map<string, PartnerStatsDelta>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly deps: { db: Database; log: Logger; now: () => Date }) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), PARTNER_STATS_FLUSH_MS);
    this.timer.unref();
  }

  record(partnerId: string, feedPath: string, status: number, userAgent: string | undefined): void {
    if (status !== 200 && status !== 304) return;
    const key = `${partnerId} ${feedPath}`;
    let delta = this.pending.get(key);
    if (!delta) {
      delta = { partnerId, feedPath, requests: 0, okResponses: 0, notModifiedResponses: 0, lastFetchAt: this.deps.now(), lastUserAgent: null };
      this.pending.set(key, delta);
    }
    delta.requests += 1;
    if (status === 200) delta.okResponses += 1;
    else delta.notModifiedResponses += 1;
    delta.lastFetchAt = this.deps.now();
    delta.lastUserAgent = userAgent ? userAgent.slice(0, MAX_USER_AGENT) : null;
    if (this.pending.size >= MAX_PENDING) void this.flush();
  }

  /** Writes what was counted so far; resolves when it is stored (or kept for the next try). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = addPartnerStats(this.deps.db, [...batch.values()])
      .catch((err: unknown) => {
        this.deps.log.warn({ err, rows: batch.size }, 'partner stats flush failed; keeping the counts for the next one');
        for (const [key, delta] of batch) {
          const newer = this.pending.get(key);
          if (!newer) this.pending.set(key, delta);
          else {
            newer.requests += delta.requests;
            newer.okResponses += delta.okResponses;
            newer.notModifiedResponses += delta.notModifiedResponses;
          }
        }
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
