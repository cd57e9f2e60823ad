import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  jitter,
  JITTER_FRACTION,
  MAX_BACKOFF_SECONDS,
  MAX_RETRY_AFTER_SECONDS,
  scheduleNextPoll,
  type ScheduleInput,
} from '../../src/domain/source-schedule.js';

const now = new Date('2026-11-29T09:00:00Z');
const input = (overrides: Partial<ScheduleInput> = {}): ScheduleInput => ({
  now,
  intervalSeconds: 900,
  outcome: 'ok',
  previousFailures: 0,
  jitterSeed: 7,
  ...overrides,
});
const secondsUntil = (d: Date) => (d.getTime() - now.getTime()) / 1000;

describe('scheduleNextPoll', () => {
  it('200 and 304: the interval, failures reset however many there were', () => {
    for (const outcome of ['ok', 'not-modified'] as const) {
      const d = scheduleNextPoll(input({ outcome, previousFailures: 6 }));
      expect(secondsUntil(d.nextPollAt)).toBe(900);
      expect(d).toMatchObject({ consecutiveFailures: 0, enabled: true, retryAfterUntil: null });
    }
  });

  it('failures back off exponentially (interval × 2^failures), with at most 10 % jitter', () => {
    const waits = [0, 1, 2, 3, 4].map((previousFailures) =>
      secondsUntil(scheduleNextPoll(input({ outcome: 'error', previousFailures })).nextPollAt),
    );
    waits.forEach((wait, i) => {
      const base = 900 * 2 ** (i + 1);
      expect(wait).toBeGreaterThanOrEqual(base);
      expect(wait).toBeLessThanOrEqual(Math.min(base * (1 + JITTER_FRACTION), MAX_BACKOFF_SECONDS));
    });
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1]!);
    expect(scheduleNextPoll(input({ outcome: 'error', previousFailures: 2 })).consecutiveFailures).toBe(3);
  });

  it('caps the back-off at 24 h, even after very many failures', () => {
    for (const previousFailures of [7, 20, 1000]) {
      expect(secondsUntil(scheduleNextPoll(input({ outcome: 'error', previousFailures })).nextPollAt)).toBe(MAX_BACKOFF_SECONDS);
    }
  });

  it('the jitter is deterministic per source and spreads sources apart', () => {
    expect(backoffSeconds(900, 2, 1)).toBe(backoffSeconds(900, 2, 1));
    const spread = new Set(Array.from({ length: 50 }, (_, id) => backoffSeconds(900, 2, id)));
    expect(spread.size).toBeGreaterThan(40);
    for (let id = 0; id < 200; id++) {
      const j = jitter(id, 3);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(1);
    }
  });

  it('429/503: never sooner than Retry-After, and at least the back-off', () => {
    const long = scheduleNextPoll(input({ outcome: 'rate-limited', retryAfterSeconds: 7200 }));
    expect(secondsUntil(long.nextPollAt)).toBe(7200);
    expect(long.retryAfterUntil!.toISOString()).toBe('2026-11-29T11:00:00.000Z');
    expect(long.consecutiveFailures).toBe(1);

    const short = scheduleNextPoll(input({ outcome: 'rate-limited', retryAfterSeconds: 120 }));
    expect(secondsUntil(short.nextPollAt)).toBeGreaterThanOrEqual(1800);
    expect(secondsUntil(short.retryAfterUntil!)).toBe(120);
  });

  it('a Retry-After of years is honoured only up to 7 days; none at all is plain back-off', () => {
    const huge = scheduleNextPoll(input({ outcome: 'rate-limited', retryAfterSeconds: 10 * 365 * 86400 }));
    expect(secondsUntil(huge.nextPollAt)).toBe(MAX_RETRY_AFTER_SECONDS);
    const none = scheduleNextPoll(input({ outcome: 'rate-limited' }));
    expect(none.retryAfterUntil).toBeNull();
    expect(secondsUntil(none.nextPollAt)).toBeGreaterThanOrEqual(1800);
  });

  it('410 disables the source', () => {
    expect(scheduleNextPoll(input({ outcome: 'gone' }))).toMatchObject({ enabled: false, consecutiveFailures: 1 });
  });

  it('an interval under the 60 s minimum is treated as 60 s', () => {
    expect(secondsUntil(scheduleNextPoll(input({ intervalSeconds: 5 })).nextPollAt)).toBe(60);
  });
});
