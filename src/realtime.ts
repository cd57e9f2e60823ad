import type { Deps } from './deps.js';
import type { FeedRuntime } from './feed-runtime.js';
import { dropGoneSubscriber, enqueueChanges, pingHubs, sendDelivery } from './jobs/deliver-pushes.js';
import { verifyIntent, type Intent, type VerifyOutcome } from './jobs/verify-intent.js';
import { feedAudience, ReaderStats, type FeedAudience } from './reader-stats.js';
import { claimDeliveries, nextPendingAt, recordDelivery, releaseDeliveries, sweepWebsub, type ClaimedDelivery } from './storage/websub.js';

/** Intents waiting for verification at once; more are refused with 503 (the subscriber retries). */
export const MAX_PENDING_INTENTS = 1000;
const VERIFY_CONCURRENCY = 8;
/** Audience figures shown on the HTML pages are recomputed at most this often. */
const AUDIENCE_TTL_MS = 10_000;
/** Finished deliveries and unused pushes are kept this long (for inspection), then swept. */
const KEEP_FINISHED_MS = 7 * 86_400_000;

/**
 * Per-instance WebSub and reader-statistics machinery (issue 7), beside FeedRuntime:
 * - the hub's verification queue (intents accepted with 202 are verified here, a few at a time);
 * - the delivery worker: a snapshot change is turned into stored deliveries at once (enqueueChanges:
 *   exactly once across instances), then sent with bounded concurrency, in order per subscriber,
 *   retried with back-off; a periodic sweep picks up retries, other instances' leftovers and work
 *   that a stopped instance left behind;
 * - the reader-statistics recorder.
 */
export class Realtime {
  readonly readers: ReaderStats;
  private readonly intents: Intent[] = [];
  private verifying = 0;
  private readonly verifyWaiters: (() => void)[] = [];
  private readonly inFlight = new Map<number, Promise<void>>();
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private enqueueing: Promise<void> | null = null;
  private enqueueAgain: Set<string> | 'all' | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryAt = Number.POSITIVE_INFINITY;
  private readonly abort = new AbortController();
  /** Pings to external hubs in progress (best effort, not awaited by the enqueue). */
  private readonly pings = new Set<Promise<void>>();
  private started = false;
  private stopped = false;
  private audienceCache: { at: number; value: Promise<Map<string, FeedAudience>> } | null = null;
  /** Outcomes of verifications, newest last (bounded): for logs and tests. */
  readonly verifications: (VerifyOutcome & { mode: Intent['mode']; topic: string; callback: string })[] = [];

  constructor(
    private readonly deps: Deps,
    private readonly feeds: FeedRuntime,
  ) {
    this.readers = new ReaderStats(deps);
  }

  /**
   * Hooks feed changes to the delivery pipeline and starts the statistics timer. The start-up sweep
   * (work a stopped instance left) runs now unless `sweep: false`: the service runs it itself once
   * it is listening (startService).
   */
  start(options: { sweep?: boolean } = {}): void {
    if (this.started) return;
    this.started = true;
    // Every instance hears of every change (its own announce, others' through sync); enqueueing is
    // idempotent, so whichever instance gets there first records the change and sends it.
    this.feeds.onFeedsChanged((keys) => this.feedsChanged(keys));
    if (this.deps.config.STATS_ENABLED) this.readers.start();
    if (options.sweep ?? true) this.startupSweep();
  }

  /** The sweep run once at start; a failure is logged (the periodic sweep tries again). */
  startupSweep(): void {
    void this.sweep().catch((err: unknown) => this.deps.log.warn({ err }, 'websub start-up sweep failed'));
  }

  /**
   * Stops: no new claims; deliveries in flight get `graceMs` (default: one delivery timeout, at most
   * SHUTDOWN_TIMEOUT_MS) to finish and be recorded, then are aborted and given back untried (another
   * instance or the next start sends them). Queued intents are dropped (their subscribers will
   * retry); statistics are flushed.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.intents.length = 0;
    await this.claiming?.catch(() => {});
    await this.enqueueing?.catch(() => {});
    const graceMs = options.graceMs ?? Math.min(this.deps.config.WEBSUB_DELIVERY_TIMEOUT_MS, this.deps.config.SHUTDOWN_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.values(), ...this.pings]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    // What did not finish in time is aborted: an answer the hub did not read counts as not delivered.
    this.abort.abort();
    await Promise.allSettled([...this.inFlight.values(), ...this.pings]);
    await this.verifyIdle();
    if (this.started) await this.readers.stop();
  }

  // -------------------------------------------------------------------------------------------
  // Verification of intent
  // -------------------------------------------------------------------------------------------

  /** Queues an intent for verification; false when the queue is full. */
  requestVerification(intent: Intent): boolean {
    if (this.stopped || this.intents.length >= MAX_PENDING_INTENTS) return false;
    this.intents.push(intent);
    this.pumpVerifications();
    return true;
  }

  /** Resolves when no verification is queued or running (tests, shutdown). */
  verifyIdle(): Promise<void> {
    if (this.verifying === 0 && this.intents.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.verifyWaiters.push(resolve));
  }

  private pumpVerifications(): void {
    while (this.verifying < VERIFY_CONCURRENCY && this.intents.length > 0) {
      const intent = this.intents.shift()!;
      this.verifying += 1;
      void verifyIntent(this.deps, intent, this.abort.signal)
        .then((outcome) => {
          this.deps.metrics.websubVerifications.inc({ mode: intent.mode, outcome: outcome.outcome });
          this.verifications.push({ ...outcome, mode: intent.mode, topic: intent.topic, callback: intent.callback });
          if (this.verifications.length > 200) this.verifications.shift();
          this.deps.log.info({ mode: intent.mode, topic: intent.topic, callback: intent.callback, ...outcome }, 'websub verification');
        })
        .catch((err: unknown) => this.deps.log.error({ err }, 'websub verification failed'))
        .finally(() => {
          this.verifying -= 1;
          this.pumpVerifications();
          if (this.verifying === 0 && this.intents.length === 0) for (const w of this.verifyWaiters.splice(0)) w();
        });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Deliveries
  // -------------------------------------------------------------------------------------------

  /** Records the changes of these feeds as deliveries and starts sending them (no argument: every feed). */
  feedsChanged(feedKeys?: string[]): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.enqueueing) {
      if (!feedKeys || this.enqueueAgain === 'all') {
        this.enqueueAgain = 'all';
      } else {
        const again: Set<string> = this.enqueueAgain ?? new Set<string>();
        for (const k of feedKeys) again.add(k);
        this.enqueueAgain = again;
      }
      return this.enqueueing;
    }
    this.enqueueing = (async () => {
      let keys: string[] | undefined = feedKeys;
      for (;;) {
        try {
          const summary = await enqueueChanges(this.deps, keys);
          if (summary.deliveries > 0) this.kick();
          if (summary.changedTopics.length > 0 && this.deps.config.WEBSUB_HUBS.length > 0) {
            const ping = pingHubs(this.deps, summary.changedTopics).finally(() => this.pings.delete(ping));
            this.pings.add(ping);
          }
        } catch (err) {
          if (!this.stopped) this.deps.log.warn({ err }, 'websub enqueue failed; the sweep will retry');
        }
        const again = this.enqueueAgain;
        this.enqueueAgain = null;
        if (!again || this.stopped) break;
        keys = again === 'all' ? undefined : [...again];
      }
    })().finally(() => {
      this.enqueueing = null;
    });
    return this.enqueueing;
  }

  /** Claims and sends due deliveries until none is due or every slot is busy. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.claiming) {
      this.claimAgain = true;
      return this.claiming;
    }
    this.claiming = (async () => {
      do {
        this.claimAgain = false;
        await this.claimOnce();
      } while (this.claimAgain && !this.stopped);
    })()
      .catch((err: unknown) => {
        if (!this.stopped) this.deps.log.warn({ err }, 'websub claim failed; the sweep will retry');
      })
      .finally(() => {
        this.claiming = null;
      });
    return this.claiming;
  }

  private async claimOnce(): Promise<void> {
    const concurrency = this.deps.config.WEBSUB_DELIVERY_CONCURRENCY;
    for (;;) {
      const free = concurrency - this.inFlight.size;
      if (free <= 0 || this.stopped) return;
      const now = this.deps.now();
      // The lease outlasts one attempt: a crashed sender's deliveries become claimable after it.
      const lockedUntil = new Date(now.getTime() + this.deps.config.WEBSUB_DELIVERY_TIMEOUT_MS * 2 + 5_000);
      const claimed = await claimDeliveries(this.deps.db, { now, limit: free, lockedUntil });
      if (claimed.length === 0) return;
      for (const d of claimed) {
        const run = this.deliver(d).finally(() => {
          this.inFlight.delete(d.id);
          // A finished delivery may unblock the next one of its subscriber, or free a slot.
          void this.kick();
        });
        this.inFlight.set(d.id, run);
      }
    }
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const end = this.deps.metrics.websubDeliveryDuration.startTimer();
    try {
      const outcome = await sendDelivery(this.deps, d, this.abort.signal);
      if (outcome === null) {
        await releaseDeliveries(this.deps.db, [d.id]);
        return;
      }
      this.deps.metrics.websubDeliveries.inc({ outcome: outcome.state });
      if (outcome.state === 'gone') {
        await dropGoneSubscriber(this.deps, d);
        return;
      }
      await recordDelivery(this.deps.db, d.id, d.subscriptionId, outcome, this.deps.now());
      if (outcome.state === 'failed') this.deps.log.warn({ topic: d.topic, callback: d.callback, error: outcome.error }, 'websub delivery given up');
      if (outcome.state === 'retry') this.scheduleRetry(outcome.nextAttemptAt);
    } catch (err) {
      // Storage failed mid-way: the lease runs out and another attempt happens then.
      if (!this.stopped) this.deps.log.error({ err, delivery: d.id }, 'websub delivery bookkeeping failed');
    } finally {
      end();
    }
  }

  /** Wakes this instance when its earliest retry is due (the sweep is the fallback). */
  private scheduleRetry(at: Date): void {
    const when = at.getTime();
    if (this.stopped || when >= this.retryAt) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = when;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = Number.POSITIVE_INFINITY;
      void this.kick().then(() => this.rearm());
    }, Math.max(0, when - this.deps.now().getTime()));
    this.retryTimer.unref();
  }

  private async rearm(): Promise<void> {
    if (this.stopped) return;
    const next = await nextPendingAt(this.deps.db).catch(() => null);
    if (next) this.scheduleRetry(next);
  }

  /**
   * The periodic job (WEBSUB_SWEEP_CRON, and once at start): records changes no instance recorded
   * (one that stopped between writing a snapshot and enqueueing), deletes expired subscriptions and
   * old finished deliveries, then sends whatever is due.
   */
  async sweep(): Promise<{ expired: number }> {
    if (this.stopped) return { expired: 0 };
    await this.feedsChanged();
    const now = this.deps.now();
    const swept = await sweepWebsub(this.deps.db, { now, keepFinishedUntil: new Date(now.getTime() - KEEP_FINISHED_MS) });
    await this.kick();
    await this.rearm();
    return swept;
  }

  /** Resolves when nothing is being enqueued, claimed or sent by this instance (tests). */
  async idle(): Promise<void> {
    for (;;) {
      const pending = [this.enqueueing, this.claiming, ...this.inFlight.values(), ...this.pings].filter((p): p is Promise<void> => p !== null);
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /** Deliveries being sent by this instance right now. */
  get deliveriesInFlight(): number {
    return this.inFlight.size;
  }

  // -------------------------------------------------------------------------------------------
  // Audience
  // -------------------------------------------------------------------------------------------

  /** Audience per feed, recomputed at most every 10 s (for the HTML pages). */
  audience(): Promise<Map<string, FeedAudience>> {
    const now = Date.now();
    if (!this.audienceCache || now - this.audienceCache.at > AUDIENCE_TTL_MS) {
      const value = feedAudience(this.deps.db, this.deps.now());
      value.catch(() => {
        this.audienceCache = null;
      });
      this.audienceCache = { at: now, value };
    }
    return this.audienceCache.value;
  }
}
