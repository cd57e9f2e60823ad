import { z } from 'zod';
import { EPISODE_TYPES, type EpisodeInfo } from './podcast.js';

/**
 * The shape an article arrives in, from the CMS API and (after mapping) from upstream feeds.
 * This schema checks shape and formats only; normalizeArticle() cleans the values and applies the
 * rules that depend on the cleaned text (title length after whitespace collapsing, for example).
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** True for an RFC 3339 date-time with an explicit offset that names a real instant (no 2025-02-30). */
export function isRfc3339WithOffset(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return false;
  const offset = m[8]!;
  if (offset.length === 6) {
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(4, 6));
    if (oh > 23 || om > 59) return false;
  }
  return !Number.isNaN(Date.parse(value.replace(/t/, 'T').replace(/z$/, 'Z')));
}

/** True for an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname } = new URL(value);
  return (protocol === 'http:' || protocol === 'https:') && hostname.length > 0;
}

export const dateTimeSchema = z
  .string()
  .refine(isRfc3339WithOffset, { message: 'must be an RFC 3339 date-time with an offset, e.g. 2026-11-29T08:00:00Z' });

export const httpUrlSchema = z
  .string()
  .max(2048)
  .refine((v) => isHttpUrl(v.trim()), { message: 'must be an absolute http(s) URL' });

export const authorSchema = z.object({
  name: z.string().max(500),
  email: z.string().max(320).optional(),
  url: httpUrlSchema.optional(),
});

export const enclosureSchema = z.object({
  url: httpUrlSchema,
  type: z
    .string()
    .regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i, { message: 'must be a MIME type such as audio/mpeg' }),
  length: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  durationSeconds: z.number().int().min(0).optional(),
});

export const ARTICLE_STATUSES = ['published', 'draft'] as const;

/** Episode details, used when the article is filed in a podcast category (Apple: non-zero integers). */
export const episodeInfoSchema = z.object({
  episode: z.number().int().min(1).max(1_000_000).optional(),
  season: z.number().int().min(1).max(1_000_000).optional(),
  episodeType: z.enum(EPISODE_TYPES).optional(),
  explicit: z.boolean().optional(),
});

/** Raw limits bound the work normalisation does; the published limits are checked after cleaning. */
export const articleInputSchema = z.object({
  externalId: z.string().min(1).max(200),
  title: z.string().max(10_000),
  url: httpUrlSchema,
  summary: z.string().max(100_000).nullish(),
  contentHtml: z.string().max(1_048_576, { message: 'must be at most 1 MB' }).nullish(),
  authors: z.array(authorSchema).max(50).default([]),
  categories: z.array(z.string().min(1).max(200)).min(1, { message: 'must name at least one category' }).max(50),
  tags: z.array(z.string().max(200)).max(100).default([]),
  publishedAt: dateTimeSchema,
  updatedAt: dateTimeSchema.nullish(),
  imageUrl: httpUrlSchema.nullish(),
  language: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, { message: 'must be a BCP 47 language tag such as en-GB' })
    .nullish(),
  enclosures: z.array(enclosureSchema).max(20).default([]),
  status: z.enum(ARTICLE_STATUSES).default('published'),
  podcast: episodeInfoSchema.nullish(),
});

export type ArticleInput = z.infer<typeof articleInputSchema>;

export interface Author {
  name: string;
  email?: string;
  url?: string;
}

export interface Enclosure {
  url: string;
  type: string;
  length: number;
  durationSeconds?: number;
}

export interface CategoryRef {
  name: string;
  slug: string;
}

/** An article after normalizeArticle(): every string clean, every URL absolute, every date UTC. */
export interface NormalizedArticle {
  externalId: string;
  title: string;
  url: string;
  summary: string | null;
  contentHtml: string | null;
  authors: Author[];
  categories: CategoryRef[];
  tags: string[];
  publishedAt: Date;
  /** null when the input gave none: storage decides (publishedAt on create, stamped on a changed update). */
  updatedAt: Date | null;
  imageUrl: string | null;
  language: string;
  enclosures: Enclosure[];
  status: (typeof ARTICLE_STATUSES)[number];
  /** Episode details (podcast categories); null or absent when none were given. */
  podcast?: EpisodeInfo | null;
}

export interface FieldError {
  /** JSON-pointer-like dotted path, e.g. `articles.3.title` or `categories`. */
  path: string;
  message: string;
}

export type NormalizeResult = { ok: true; article: NormalizedArticle } | { ok: false; errors: FieldError[] };
