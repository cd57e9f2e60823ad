import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { Author, Enclosure } from '../domain/article-input.js';

/** bytea as a Node Buffer/Uint8Array on both drivers. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const categories = pgTable('categories', {
  id: serial('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  createdAt: tz('created_at').notNull().defaultNow(),
  /** When the category's own metadata (name, description) last changed: part of its feeds' content. */
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

export const articles = pgTable(
  'articles',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    externalId: text('external_id').notNull().unique(),
    /** tag: URI fixed at creation; never changes whatever is edited. */
    guid: text('guid').notNull().unique(),
    title: text('title').notNull(),
    url: text('url').notNull(),
    summary: text('summary'),
    contentHtml: text('content_html'),
    authors: jsonb('authors').$type<Author[]>().notNull().default([]),
    /** Category names as given (display order); the join table holds the links. */
    categoryNames: jsonb('category_names').$type<string[]>().notNull().default([]),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    imageUrl: text('image_url'),
    language: text('language').notNull(),
    enclosures: jsonb('enclosures').$type<Enclosure[]>().notNull().default([]),
    status: text('status', { enum: ['published', 'draft'] }).notNull().default('published'),
    publishedAt: tz('published_at').notNull(),
    updatedAt: tz('updated_at').notNull(),
    createdAt: tz('created_at').notNull(),
    /** Set on retraction: the row stays for tombstones, the article leaves every feed. */
    deletedAt: tz('deleted_at'),
    /** sha256 of the normalised content: an unchanged re-ingest writes nothing and touches no feed. */
    contentHash: text('content_hash').notNull(),
  },
  (t) => [
    // Serves /feeds/all and the API listing: newest first, scanned backwards.
    index('articles_listed_published_idx')
      .on(t.publishedAt, t.id)
      .where(sql`${t.status} = 'published' and ${t.deletedAt} is null`),
    index('articles_published_idx').on(t.publishedAt, t.id),
  ],
);

export const articleCategories = pgTable(
  'article_categories',
  {
    categoryId: integer('category_id')
      .notNull()
      .references(() => categories.id, { onDelete: 'cascade' }),
    articleId: bigint('article_id', { mode: 'number' })
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    /** Denormalised sort key: "latest N in a category" is an index range scan, not a join over the archive. */
    publishedAt: tz('published_at').notNull(),
    /** Published and not deleted (drafts and retractions never appear in feeds). */
    listed: boolean('listed').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.categoryId, t.articleId] }),
    index('article_categories_listed_idx')
      .on(t.categoryId, t.publishedAt, t.articleId)
      .where(sql`${t.listed}`),
    index('article_categories_article_idx').on(t.articleId),
  ],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    scopes: text('scopes').array().notNull(),
    /** sha256 of the secret (hex). The secret is high-entropy random, so a fast hash is enough. */
    tokenHash: text('token_hash').notNull(),
    /** First characters of the secret, to tell tokens apart in listings. */
    prefix: text('prefix').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastUsedAt: tz('last_used_at'),
    revokedAt: tz('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash)],
);

/**
 * One row per feed (a category's, or `all`): what changed, what was last rendered, when a scheduled
 * article becomes due. A refresh tick reads only this table when nothing changed.
 */
export const feedState = pgTable(
  'feed_state',
  {
    /** `all` or a category slug (slugs never change; names do). */
    feedKey: text('feed_key').primaryKey(),
    categoryId: integer('category_id').references(() => categories.id, { onDelete: 'cascade' }),
    /** Bumped in the same transaction as every change to the feed's content. */
    version: bigint('version', { mode: 'number' }).notNull().default(1),
    /** The version the current snapshots were rendered from (0: never rendered). */
    renderedVersion: bigint('rendered_version', { mode: 'number' }).notNull().default(0),
    /** Earliest publishedAt of a scheduled (future) article in this feed: the feed changes then. */
    nextDueAt: tz('next_due_at'),
    /** Hash of the rendered content (without its `updated` date): an identical re-render writes nothing. */
    contentDigest: text('content_digest'),
    /** The feed's `updated` / lastBuildDate: the newest change to its content, never "now" per request. */
    contentUpdatedAt: tz('content_updated_at'),
    /** The date in the feed's tag: URI id. */
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [index('feed_state_category_idx').on(t.categoryId)],
);

/** Orders snapshot writes across instances (feed_snapshots.seq). */
export const feedSnapshotSeq = pgSequence('feed_snapshot_seq');

/** Pre-rendered bytes of each feed × format, served as they are (compressed once, at render). */
export const feedSnapshots = pgTable(
  'feed_snapshots',
  {
    feedKey: text('feed_key')
      .notNull()
      .references(() => feedState.feedKey, { onDelete: 'cascade' }),
    format: text('format', { enum: ['rss', 'atom', 'json'] }).notNull(),
    body: bytea('body').notNull(),
    bodyGzip: bytea('body_gzip').notNull(),
    bodyBrotli: bytea('body_br').notNull(),
    /** Strong validator of the identity body; the gzip and br variants append -gz / -br. */
    etag: text('etag').notNull(),
    lastModified: tz('last_modified').notNull(),
    itemCount: integer('item_count').notNull(),
    generatedAt: tz('generated_at').notNull(),
    /** feed_state.version this was rendered from; a slower, older render never overwrites a newer one. */
    sourceVersion: bigint('source_version', { mode: 'number' }).notNull(),
    /** Global change counter: instances fetch what changed since the last number they saw. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.feedKey, t.format] }), index('feed_snapshots_seq_idx').on(t.seq)],
);
