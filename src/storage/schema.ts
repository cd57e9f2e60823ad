import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { Author, Enclosure } from '../domain/article-input.js';

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
