/**
 * When a source is polled next, decided from the outcome of the poll that just ended. Pure: the
 * clock comes in as `now`, the jitter from the source id.
 */

export const DEFAULT_POLL_INTERVAL_SECONDS = 900;
export const MIN_POLL_INTERVAL_SECONDS = 60;
/** Longest we wait after failures (the back-off cap). */
export const MAX_BACKOFF_SECONDS = 24 * 60 * 60;
/**
 * Longest Retry-After we honour. Longer than the back-off cap on purpose (the upstream asked), but
 * bounded: a hostile or broken "come back in ten years" must not lose the source for good.
 */
export const MAX_RETRY_AFTER_SECONDS = 7 * 24 * 60 * 60;
/** Back-off delays are stretched by up to this fraction, so sources failing together spread out. */
export const JITTER_FRACTION = 0.1;

export type PollOutcomeKind = 'ok' | 'not-modified' | 'rate-limited' | 'gone' | 'error';

export interface ScheduleInput {
  now: Date;
  intervalSeconds: number;
  outcome: PollOutcomeKind;
  /** Failures in a row before this poll. */
  previousFailures: number;
  /** From Retry-After on a 429 or 503. */
  retryAfterSeconds?: number | undefined;
  /** Seeds the jitter (the source id): one source and failure count always wait the same time. */
  jitterSeed: number;
}

export interface ScheduleDecision {
  nextPollAt: Date;
  consecutiveFailures: number;
  /** False after a 410: the feed is gone and the source is disabled. */
  enabled: boolean;
  /** When the upstream's Retry-After ends, or null. */
  retryAfterUntil: Date | null;
}

/**
 * - 200 and 304: the interval; failures reset (recovery is immediate).
 * - errors: interval × 2^failures (so the first failure waits twice the interval), plus up to 10 %
 *   deterministic jitter, capped at 24 h.
 * - 429 / 503 with Retry-After: a failure as above, but never sooner than Retry-After (capped at 7 days).
 * - 410: disabled.
 */
export function scheduleNextPoll(input: ScheduleInput): ScheduleDecision {
  const { now, outcome } = input;
  const interval = Math.max(MIN_POLL_INTERVAL_SECONDS, input.intervalSeconds);
  const at = (seconds: number) => new Date(now.getTime() + Math.round(seconds * 1000));

  if (outcome === 'ok' || outcome === 'not-modified') {
    return { nextPollAt: at(interval), consecutiveFailures: 0, enabled: true, retryAfterUntil: null };
  }
  const failures = input.previousFailures + 1;
  if (outcome === 'gone') {
    return { nextPollAt: at(interval), consecutiveFailures: failures, enabled: false, retryAfterUntil: null };
  }
  let delay = backoffSeconds(interval, failures, input.jitterSeed);
  let retryAfterUntil: Date | null = null;
  if (outcome === 'rate-limited' && input.retryAfterSeconds !== undefined && Number.isFinite(input.retryAfterSeconds)) {
    const retryAfter = Math.min(Math.max(0, input.retryAfterSeconds), MAX_RETRY_AFTER_SECONDS);
    retryAfterUntil = at(retryAfter);
    delay = Math.max(delay, retryAfter);
  }
  return { nextPollAt: at(delay), consecutiveFailures: failures, enabled: true, retryAfterUntil };
}

/** interval × 2^failures stretched by the jitter, at most MAX_BACKOFF_SECONDS. */
export function backoffSeconds(intervalSeconds: number, failures: number, jitterSeed: number): number {
  // 2^30 × 60 s is far past the cap already; a bounded exponent keeps the arithmetic finite.
  const base = intervalSeconds * 2 ** Math.min(Math.max(failures, 0), 30);
  return Math.min(base * (1 + JITTER_FRACTION * jitter(jitterSeed, failures)), MAX_BACKOFF_SECONDS);
}

/** A number in [0, 1) from the seed and the attempt (an integer hash: the same inputs, the same number). */
export function jitter(seed: number, attempt: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(attempt | 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 2 ** 32;
}
