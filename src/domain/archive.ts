/**
 * RFC 5005 archived feeds, by calendar month (UTC): month arithmetic, the links between archive
 * documents, and when a month's document may be cached as immutable. Pure: `now` is always passed in.
 *
 * The model (docs/decisions/0004-on-demand-feed-views.md):
 * - Every month from the month of a feed's first article to the current month has a document at
 *   /feeds/{key}/archive/{YYYY}-{MM}.{fmt}; months before or after that range do not exist (404).
 * - Archive documents link to the neighbouring calendar months (prev-archive / next-archive) and to
 *   the live feed (current). Neighbours are calendar months, even empty ones, so a document's links
 *   depend only on its own month and the first month: a sealed month never changes because a later
 *   month got its first article.
 * - The live feed links prev-archive to the newest complete month that has articles, or, when the
 *   live feed does not itself hold every article of its newest month, to that month's document (an
 *   archive in progress), so walking prev-archive from the live feed reaches every article. The link
 *   is derived from the feed's content, never the clock (see livePrevArchive).
 */

export interface Month {
  year: number;
  /** 1–12 */
  month: number;
}

const MONTH_TEXT = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** "2026-10" → { year: 2026, month: 10 }; null for anything else (years 1000–9999). */
export function parseMonth(text: string): Month | null {
  const m = MONTH_TEXT.exec(text);
  if (!m || Number(m[1]) < 1000) return null;
  return { year: Number(m[1]), month: Number(m[2]) };
}

export function formatMonth(m: Month): string {
  return `${String(m.year).padStart(4, '0')}-${String(m.month).padStart(2, '0')}`;
}

export function monthOf(date: Date): Month {
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 };
}

/** The first instant of the month (UTC). */
export function monthStart(m: Month): Date {
  return new Date(Date.UTC(m.year, m.month - 1, 1));
}

/** The first instant after the month (the next month's start). */
export function monthEnd(m: Month): Date {
  return new Date(Date.UTC(m.year, m.month, 1));
}

export function addMonths(m: Month, n: number): Month {
  const index = m.year * 12 + (m.month - 1) + n;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

export function compareMonths(a: Month, b: Month): number {
  return a.year * 12 + a.month - (b.year * 12 + b.month);
}

/**
 * The month an archive document may be requested for: from the month of the first (visible)
 * article to the current month of `viewNow`; null outside (no such document).
 */
export function archiveMonthExists(month: Month, firstPublishedAt: Date | null, viewNow: Date): boolean {
  if (!firstPublishedAt) return false;
  return compareMonths(month, monthOf(firstPublishedAt)) >= 0 && compareMonths(month, monthOf(viewNow)) <= 0;
}

/** An archive document's neighbours: calendar months within [first month, current month]. */
export function archiveNeighbours(month: Month, firstPublishedAt: Date, viewNow: Date): { prev: Month | null; next: Month | null } {
  const prev = addMonths(month, -1);
  const next = addMonths(month, 1);
  return {
    prev: compareMonths(prev, monthOf(firstPublishedAt)) >= 0 ? prev : null,
    next: compareMonths(next, monthOf(viewNow)) <= 0 ? next : null,
  };
}

/**
 * The live feed's prev-archive, from its content alone (so its bytes do not change while its content
 * does not): with M the month of its newest item, the month M itself when the live feed is full and
 * its oldest item is from M (it may not hold every article of M), else the newest earlier month that
 * has articles (`newestBeforeNewestMonth`: the newest publication before M), else none. Either way a
 * reader walking prev-archive from the live feed meets every article. While articles keep coming this
 * is the newest complete month; after a month ends and before the next month's first article it still
 * names the month before (the live feed then holds all of the month that ended).
 */
export function livePrevArchive(input: {
  /** The live feed's items, newest first. */
  items: readonly { publishedAt: Date }[];
  limit: number;
  newestBeforeNewestMonth: Date | null;
}): Month | null {
  const newest = input.items[0];
  const oldest = input.items[input.items.length - 1];
  if (!newest || !oldest) return null;
  const newestMonth = monthOf(newest.publishedAt);
  if (input.items.length >= input.limit && oldest.publishedAt.getTime() >= monthStart(newestMonth).getTime()) return newestMonth;
  return input.newestBeforeNewestMonth ? monthOf(input.newestBeforeNewestMonth) : null;
}

/**
 * How long an archive month must have been quiet (no article in it created, edited or retracted,
 * and the month over) before its document is served as immutable. Corrections cluster in the hours
 * after publication; a day of quiet keeps them out of year-long caches.
 */
export const ARCHIVE_SETTLE_MS = 24 * 3600_000;

/**
 * The instant from which a month's archive document is served with `immutable` caching: a day
 * (ARCHIVE_SETTLE_MS) after the later of the month's end (as the reader sees it: + embargo) and the
 * newest change to anything in it. A change after that instant (a late correction) moves it: the
 * document goes back to normal caching until it has been quiet for a day again.
 */
export function archiveSealedFrom(month: Month, lastChangeAt: Date | null, embargoMs: number): Date {
  const end = monthEnd(month).getTime() + embargoMs;
  return new Date(Math.max(end, lastChangeAt?.getTime() ?? 0) + ARCHIVE_SETTLE_MS);
}

export const IMMUTABLE_CACHE_CONTROL_SECONDS = 31_536_000;
